package keyring

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Keyring seals and opens small secrets.
//
// Implementations must be safe for concurrent use. Seal must never return the same
// ciphertext twice for the same input (it is randomised), and Open must return an error
// wrapping [ErrOpen] for any input that it did not produce with the same associated
// data: tampered, truncated, foreign or sealed under a key it does not have. Neither
// method may retain the slices it is given, nor put plaintext in an error.
type Keyring interface {
	Seal(ctx context.Context, plaintext, associatedData []byte) ([]byte, error)
	Open(ctx context.Context, sealed, associatedData []byte) ([]byte, error)
}

var (
	// ErrOpen is returned (wrapped) when a sealed value cannot be opened: it was
	// tampered with, truncated, sealed for other associated data or by another keyring.
	ErrOpen = errors.New("keyring: cannot open sealed value")
	// ErrUnknownKey is returned when a sealed value names a key ID the keyring does not
	// hold. It wraps ErrOpen.
	ErrUnknownKey = fmt.Errorf("%w: unknown key ID", ErrOpen)
)

// AssociatedData joins parts into associated data that binds a sealed value to its
// context, such as AssociatedData("question-answer", subscriberID, questionID, "v1").
// Each part is length-prefixed, so ("ab", "c") and ("a", "bc") differ.
func AssociatedData(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += 4 + len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		l := len(p)
		out = append(out, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
		out = append(out, p...)
	}
	return out
}

// redact is used in error messages that might otherwise echo caller input.
func redact(s string) string {
	if len(s) > 8 {
		return s[:8] + "…"
	}
	return strings.TrimSpace(s)
}
