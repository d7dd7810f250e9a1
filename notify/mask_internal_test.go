package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMaskValue(t *testing.T) {
	tests := map[string]string{
		"":                                     "",
		"•••• 1234":                            "•••• 1234",
		"a•••@example.com":                     "a•••@example.com",
		"Never SIM Swap":                       "Never SIM Swap",
		"2026-11-22":                           "2026-11-22",
		"22 Nov 10:30 UTC":                     "22 Nov 10:30 UTC",
		"203.0.113.7":                          "203.0.113.7",
		"+15551234567":                         "•••• 4567",
		"call 5551234567 now":                  "call •••• 4567 now",
		"mail <bob@example.com>, please":       "mail b•••@example.com please",
		"+1-555-123-4567":                      "•••• 4567",
		"x•alice.smith@example.com":            "x•••@example.com",
		"alice•@example.com":                   "a•••@example.com",
		"•••@example.com":                      "•••@example.com",
		"to=+15551234567, retry":               "to=•••• 4567, retry",
		"number:5551234567":                    "number:•••• 4567",
		"(555)1234567":                         "•••• 4567",
		"id=0123456789abcdef0123":              "id=0123456789abcdef0123",
		"550e8400-e29b-41d4-a716-446655440000": "550e8400-e29b-41d4-a716-446655440000",
		"tel:+15551234567 or +15559876543":     "tel:•••• 4567 or •••• 6543",
	}
	for in, want := range tests {
		if got := maskValue(in); got != want {
			t.Errorf("maskValue(%q) = %q, want %q", in, got, want)
		}
	}
}

var (
	unmaskedPhone = regexp.MustCompile(`(^|\s)\+?[0-9().-]*([0-9][().-]*){10,}(\s|$)|(^|\s)\+([0-9][().-]*){7,}(\s|$)`)
	unmaskedEmail = regexp.MustCompile(`[^\s•]{2,}@`)
	// A whole run of phone characters inside a word, not glued to letters or digits.
	unmaskedPhoneInWord = regexp.MustCompile(`(^|[^\pL\pN().+-])(\+[0-9().-]*([0-9][().-]*){7,}|[0-9().-]*([0-9][().-]*){10,})($|[^\pL\pN().-])`)
)

// FuzzMaskValue: whatever a publisher puts in an attribute, the value templates see has
// no unmasked phone number or email address, and masking is idempotent.
func FuzzMaskValue(f *testing.F) {
	for _, s := range []string{"", "•••• 1234", "x•alice@example.com", "call +15551234567", "bob@example.com", "a@b c@d", "2026-11-22", "+1-555-123-4567 x", "ab@@cd", "(555)1234567", "to=+15551234567,", "x-5551234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := maskValue(s)
		for _, w := range strings.Fields(m) {
			if unmaskedEmail.MatchString(w) && !strings.Contains(w, "•") {
				t.Fatalf("maskValue(%q) = %q leaves an address in %q", s, m, w)
			}
			// Of the local part of anything address-like, at most one character shows.
			if at := strings.LastIndexByte(w, '@'); at >= 0 && utf8.RuneCountInString(strings.ReplaceAll(w[:at], "•", "")) > 1 {
				t.Fatalf("maskValue(%q) = %q shows more than one character of %q", s, m, w)
			}
			if !strings.Contains(w, "@") && unmaskedPhoneInWord.MatchString(w) {
				t.Fatalf("maskValue(%q) = %q leaves a number inside %q", s, m, w)
			}
			if unmaskedPhone.MatchString(w) {
				t.Fatalf("maskValue(%q) = %q leaves a number in %q", s, m, w)
			}
		}
		if mm := maskValue(m); mm != m {
			t.Fatalf("maskValue not idempotent: %q -> %q -> %q", s, m, mm)
		}
	})
}

// FuzzMaskFastPaths: the shortcuts that skip splitting a value into words (one word
// for maskValue, a value already on one line for oneLine) give what splitting and
// joining would.
func FuzzMaskFastPaths(f *testing.F) {
	for _, s := range []string{"", " ", "a", "a b", "a  b", " a", "a ", "a\tb", "a\u00a0b", "a\u2028b", "+15551234567", "bob@example.com", "call +15551234567 now", "x\xffy 1234567890", "bob@example.com\t+15551234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := oneLine(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Fatalf("oneLine(%q) = %q, want %q", s, got, want)
		}
		want := s
		if strings.ContainsAny(s, "@0123456789") {
			fields := strings.Fields(s)
			changed := false
			for i, w := range fields {
				if m := maskWord(w); m != w {
					fields[i], changed = m, true
				}
			}
			if changed {
				want = strings.Join(fields, " ")
			}
		}
		if got := maskValue(s); got != want {
			t.Fatalf("maskValue(%q) = %q, want %q", s, got, want)
		}
	})
}

func TestMessageIDStable(t *testing.T) {
	long := strings.Repeat("x", 300) + "@example.com"
	h := sha256.Sum256([]byte("evt-2\x00email\x00" + long))
	tests := []struct {
		event string
		r     Recipient
		want  string
	}{
		// Stored IDs must not change from one release to the next.
		{"evt-1", Recipient{Channel: ChannelSMS, Address: "+15551234567"}, "f5dc2d07a772406ac27263fda1f1f636"},
		{"", Recipient{}, "96a296d224f285c67bee93c30f8a3091"},
		{"evt-2", Recipient{Channel: ChannelEmail, Address: long}, hex.EncodeToString(h[:16])},
	}
	for _, tt := range tests {
		if got := MessageID(tt.event, tt.r); got != tt.want {
			t.Errorf("MessageID(%q, %v) = %s, want %s", tt.event, tt.r, got, tt.want)
		}
	}
}
