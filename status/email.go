package status

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// ErrInvalidEmail is returned for an address that is not a plain, deliverable-looking
// email address.
var ErrInvalidEmail = errors.New("status: invalid email address")

// maxEmailLen is the longest address SMTP can carry (RFC 5321 path limit less brackets).
const maxEmailLen = 254

// NormalizeEmail checks that s is a bare address ("user@example.com", no display name,
// comments or brackets, at most 254 bytes, an ASCII domain with a dot: international
// domains in their xn-- form) and returns it with the domain lowercased, the form links
// are bound to and compared in. It is idempotent.
func NormalizeEmail(s string) (string, error) {
	if len(s) > maxEmailLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidEmail, maxEmailLen)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", fmt.Errorf("%w: want user@domain", ErrInvalidEmail)
	}
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if err := checkDomain(domain); err != nil {
		return "", err
	}
	out := local + "@" + domain
	addr, err := mail.ParseAddress(out)
	if err != nil || addr.Name != "" || addr.Address != out {
		return "", fmt.Errorf("%w: want a bare address such as user@example.com", ErrInvalidEmail)
	}
	return out, nil
}

func checkDomain(d string) error {
	if !strings.Contains(d, ".") {
		return fmt.Errorf("%w: domain %q has no dot", ErrInvalidEmail, d)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%w: domain %q is malformed", ErrInvalidEmail, d)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("%w: domain must be ASCII letters, digits and hyphens (use the xn-- form)", ErrInvalidEmail)
			}
		}
	}
	return nil
}

// MaskEmail returns the display form used in events and messages: the first character
// of the local part, then "•••", then the domain ("a•••@example.com").
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return "•••"
	}
	r, _ := utf8.DecodeRuneInString(email)
	return string(r) + "•••" + email[at:]
}
