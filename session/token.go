package session

import (
	"encoding/hex"
	"fmt"
	"io"

	"github.com/carrierguard/carrierguard/internal/token"
)

// TokenLen is the length of a session token string: 32 random bytes (256 bits) in
// unpadded base64url, safe in cookies, headers and URLs.
const TokenLen = token.Len

// ParseToken checks that s has the shape of a session token and returns the hash a
// store looks it up by. Anything that is not exactly TokenLen canonical base64url
// characters encoding 32 bytes is rejected with ErrNotAuthenticated, the same error an
// unknown, expired or revoked token gets.
func ParseToken(s string) (TokenHash, error) {
	h, ok := token.Parse(s)
	if !ok {
		return TokenHash{}, ErrNotAuthenticated
	}
	return h, nil
}

// newToken reads a fresh token from r and returns it with its hash.
func newToken(r io.Reader) (string, TokenHash, error) {
	tok, h, err := token.New(r)
	if err != nil {
		return "", TokenHash{}, fmt.Errorf("session: reading random token: %w", err)
	}
	return tok, h, nil
}

// newID reads a random 128-bit session ID: a public handle for listing and revoking,
// not a credential.
func newID(r io.Reader) (string, error) {
	var raw [16]byte
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return "", fmt.Errorf("session: reading random ID: %w", err)
	}
	return hex.EncodeToString(raw[:]), nil
}
