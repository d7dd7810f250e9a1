package twofactor

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

func TestGenerateRecoveryCode(t *testing.T) {
	counts := make(map[rune]int)
	for range 3000 {
		c, err := generateRecoveryCode(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != RecoveryCodeLength {
			t.Fatalf("code %q has length %d", c, len(c))
		}
		for _, r := range c {
			counts[r]++
		}
		if n, err := NormalizeRecoveryCode(c); err != nil || n != c {
			t.Fatalf("generated %q normalises to %q, %v", c, n, err)
		}
	}
	// 30000 draws over 30 characters: each should appear about 1000 times.
	if len(counts) != len(RecoveryAlphabet) {
		t.Fatalf("%d distinct characters, want %d", len(counts), len(RecoveryAlphabet))
	}
	for r, n := range counts {
		if n < 800 || n > 1200 {
			t.Errorf("character %q drawn %d times, want about 1000", r, n)
		}
	}
	// Bytes at or above 240 are rejected, not folded: all-0xff input never yields a code
	// character, and a short source is an error, not a panic.
	_, err := generateRecoveryCode(bytes.NewReader(bytes.Repeat([]byte{0xff}, 64)))
	if err == nil {
		t.Error("a source of only rejected bytes produced a code")
	}
	_, err = generateRecoveryCode(iotest.ErrReader(errors.New("no entropy")))
	if err == nil || !strings.Contains(err.Error(), "no entropy") {
		t.Errorf("read error = %v", err)
	}
	c, err := generateRecoveryCode(bytes.NewReader(bytes.Repeat([]byte{30 + 3}, 64))) // 33 % 30 = 3 → '5'
	if err != nil || c != strings.Repeat("5", RecoveryCodeLength) {
		t.Errorf("deterministic source gave %q, %v", c, err)
	}
}

func TestNormalizeRecoveryCode(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"ABCDE-FGHJK", "ABCDEFGHJK", ""},
		{" abcde fghjk ", "ABCDEFGHJK", ""},
		{"a-b-c-d-e-f-g-h-j-k", "ABCDEFGHJK", ""},
		{"ABCDE-FGHJ", "", "got 9"},
		{"ABCDE-FGHJKL", "", "unexpected character"}, // L is not in the alphabet
		{"ABCDE-FGHJ0", "", "unexpected character"},
		{"ＡBCDE-FGHJK", "", "unexpected character"},
		{strings.Repeat("A", 65), "", "too long"},
		{"", "", "got 0"},
	}
	for _, tt := range tests {
		got, err := NormalizeRecoveryCode(tt.in)
		if tt.err != "" {
			if !errors.Is(err, ErrMalformedRecoveryCode) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("NormalizeRecoveryCode(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestRecoveryHashBinding(t *testing.T) {
	k := bytes.Repeat([]byte{1}, 32)
	a := hashRecoveryCode(k, "alice", "ABCDEFGHJK")
	if bytes.Equal(a, hashRecoveryCode(k, "bob", "ABCDEFGHJK")) {
		t.Error("the hash does not bind the subscriber")
	}
	if bytes.Equal(hashRecoveryCode(k, "ab", "CDEFGHJKMN"), hashRecoveryCode(k, "abC", "DEFGHJKMN")) {
		t.Error("subscriber and code can bleed into each other")
	}
	if bytes.Equal(a, hashRecoveryCode(bytes.Repeat([]byte{2}, 32), "alice", "ABCDEFGHJK")) {
		t.Error("the hash does not depend on the key")
	}
}

// FuzzNormalizeRecoveryCode: never panics; output is RecoveryCodeLength characters of
// the alphabet; normalising is idempotent and survives display formatting.
func FuzzNormalizeRecoveryCode(f *testing.F) {
	for _, s := range []string{"ABCDE-FGHJK", "abcde fghjk", "ABCDE-FGHJ", "ＡBCDE-FGHJK", "\xff", "", "-----"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeRecoveryCode(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedRecoveryCode) {
				t.Fatalf("%q: error %v does not wrap ErrMalformedRecoveryCode", s, err)
			}
			return
		}
		if len(got) != RecoveryCodeLength || strings.Trim(got, RecoveryAlphabet) != "" {
			t.Fatalf("%q -> %q: not %d alphabet characters", s, got, RecoveryCodeLength)
		}
		for _, again := range []string{got, FormatRecoveryCode(got), strings.ToLower(FormatRecoveryCode(got))} {
			if n, err := NormalizeRecoveryCode(again); err != nil || n != got {
				t.Fatalf("%q -> %q, but %q -> %q, %v", s, got, again, n, err)
			}
		}
	})
}
