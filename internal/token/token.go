// Package token makes and parses the bearer tokens carrierguard hands out (session
// tokens, email verification links): 32 bytes from a CSPRNG written as 43 characters of
// unpadded base64url, stored and looked up only as their SHA-256.
//
// A plain hash is enough at rest because a 256-bit random token cannot be guessed from
// its hash; nothing here is a password. Parsing is strict, so every token has exactly
// one spelling and one hash.
package token

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
)

// Bytes is the entropy of a token: 256 bits.
const Bytes = 32

// Len is the length of a token string.
const Len = 43

// Hash is the SHA-256 of a token's random bytes.
type Hash = [sha256.Size]byte

// New reads a token from r and returns it with its hash.
func New(r io.Reader) (string, Hash, error) {
	var raw [Bytes]byte
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return "", Hash{}, err
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), sha256.Sum256(raw[:]), nil
}

// Parse returns the hash of s if s is a well-formed token. It reports false for
// anything that is not exactly Len canonical base64url characters.
func Parse(s string) (Hash, bool) {
	if len(s) != Len {
		return Hash{}, false
	}
	var raw [Bytes]byte
	n, err := base64.RawURLEncoding.Strict().Decode(raw[:], []byte(s))
	if err != nil || n != Bytes {
		return Hash{}, false
	}
	return sha256.Sum256(raw[:]), true
}
