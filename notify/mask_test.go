package notify_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"

	"github.com/carrierguard/carrierguard/notify"
)

func TestMask(t *testing.T) {
	emails := map[string]string{
		"alice@example.com": "a•••@example.com",
		"É@x.fr":            "É•••@x.fr",
		"a@b":               "a•••@b",
		"@example.com":      "•••",
		"alice@":            "•••",
		"no-at-sign":        "•••",
		"":                  "•••",
	}
	for in, want := range emails {
		assert.Equal(t, want, notify.MaskEmail(in), in)
	}
	phones := map[string]string{
		"+15551234567":    "•••• 4567",
		"+1 (555) 123-45": "•••• 2345",
		"1234":            "••••",
		"":                "••••",
		"push-token-abcd": "•••• abcd",
	}
	for in, want := range phones {
		assert.Equal(t, want, notify.MaskPhone(in), in)
	}
	assert.Equal(t, "a•••@example.com", notify.Recipient{Channel: notify.ChannelEmail, Address: "alice@example.com"}.Masked())
	assert.Equal(t, "•••• 4567", notify.Recipient{Channel: notify.ChannelSMS, Address: "+15551234567"}.Masked())
}

// FuzzMask: masking never reveals more than the first character of an email local part
// or the last four letters or digits of a phone number, and is idempotent.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"alice@example.com", "+15551234567", "", "@", "a@b@c", "•••• 1234", "é@é", "\xff@x", "12345678901234567890"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := notify.MaskEmail(s)
		if at := strings.LastIndexByte(s, '@'); at > 0 && at < len(s)-1 {
			domain := s[at:]
			first := string([]rune(s)[:1])
			if m != first+"•••"+domain && m != "•••"+domain {
				t.Fatalf("MaskEmail(%q) = %q, want first character, ••• and the domain", s, m)
			}
		} else if m != "•••" {
			t.Fatalf("MaskEmail(%q) = %q, want ••• for a non-address", s, m)
		}

		p := notify.MaskPhone(s)
		rest, ok := strings.CutPrefix(p, "••••")
		if !ok {
			t.Fatalf("MaskPhone(%q) = %q does not start with ••••", s, p)
		}
		var kept int
		for _, r := range rest {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				kept++
			}
		}
		if kept != 0 && kept != 4 {
			t.Fatalf("MaskPhone(%q) = %q keeps %d characters", s, p, kept)
		}
		if pp := notify.MaskPhone(p); pp != p {
			t.Fatalf("MaskPhone not idempotent: %q -> %q -> %q", s, p, pp)
		}
	})
}
