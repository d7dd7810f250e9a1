package password_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/carrierguard/carrierguard/password"
)

// FuzzCheck feeds arbitrary strings, Unicode included, through the full local policy
// check (with zxcvbn). Properties: it never panics; it fails only with an input error,
// exactly when the input is empty, oversize or invalid UTF-8; the length is the NFC
// code point count; and checking the NFC form gives the same verdict (idempotence).
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"", "a", "violet tractor humming 42 lanterns", "Password2024!", "P@ssw0rd",
		"e\u0301e\u0301e\u0301", "żółć gęślą jaźń", "パスワード123456", "👨‍👩‍👧 family 2026",
		"\x00\x01\x7f", "\xff\xfe", "qwertyuiop", "abcabcabcabc", "ǅǅǅǅǅ", "\u0130stanbul",
		"ﬁﬁﬁﬁﬁﬁﬁﬁﬁﬁﬁﬁ", "\u212b\u212b\u212b",
	} {
		f.Add(s)
	}
	c, err := password.NewChecker(password.CheckerConfig{ContextWords: []string{"acme"}})
	if err != nil {
		f.Fatal(err)
	}
	sub := password.Subject{Name: "Zoë Ångström", Email: "zoe@example.com", Phone: "+44 20 7946 0958"}
	f.Fuzz(func(t *testing.T, s string) {
		res, err := c.Check(context.Background(), s, sub)
		invalid := s == "" || len(s) > password.MaxBytes || !utf8.ValidString(s)
		if invalid {
			if !errors.Is(err, password.ErrEmpty) && !errors.Is(err, password.ErrTooLong) && !errors.Is(err, password.ErrInvalidUTF8) {
				t.Fatalf("invalid input %q: got %v, want an input error", s, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("valid input %q: %v", s, err)
		}
		nfc := norm.NFC.String(s)
		if res.Length != utf8.RuneCountInString(nfc) {
			t.Fatalf("Length %d, want %d code points", res.Length, utf8.RuneCountInString(nfc))
		}
		if res.Strength < 0 || res.Strength > 4 {
			t.Fatalf("strength %d out of range", res.Strength)
		}
		if len(nfc) > password.MaxBytes {
			return // NFC grew the input past the limit; the second check would refuse it
		}
		again, err := c.Check(context.Background(), nfc, sub)
		if err != nil || !slices.Equal(again.Reasons(), res.Reasons()) {
			t.Fatalf("NFC form judged differently: %v vs %v (%v)", again.Reasons(), res.Reasons(), err)
		}
	})
}
