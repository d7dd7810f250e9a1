package password

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxBytes is the largest password, in bytes of UTF-8 before normalisation, that any
// method accepts. Longer input is refused with ErrTooLong before any work is done.
const MaxBytes = 1024

// Normalize validates a password and returns its NFC normalisation, the form that is
// measured, checked and hashed. It returns ErrEmpty, ErrTooLong or ErrInvalidUTF8 for
// input that cannot be a password. Nothing is trimmed, truncated or case-folded:
// spaces and every printable character are part of the password.
func Normalize(password string) (string, error) {
	switch {
	case password == "":
		return "", ErrEmpty
	case len(password) > MaxBytes:
		return "", ErrTooLong
	case !utf8.ValidString(password):
		return "", ErrInvalidUTF8
	}
	if norm.NFC.IsNormalString(password) {
		return password, nil
	}
	return norm.NFC.String(password), nil
}
