// Package testkey gives tests deterministic secret keys that look random, so that they
// pass keyring.CheckKeyMaterial the way a production key from keyring.GenerateKey does.
// Tests must not use placeholders such as bytes.Repeat([]byte{7}, 32): the constructors
// refuse them, as they would refuse the same mistake in a carrier's configuration.
package testkey

import (
	"crypto/sha256"
	"fmt"

	"github.com/carrierguard/carrierguard/keyring"
)

// New returns a 32-byte key derived from label: the same label gives the same key,
// different labels give unrelated keys. It panics if the key would fail
// keyring.CheckKeyMaterial, which for a SHA-256 output does not happen in practice.
func New(label string) []byte {
	sum := sha256.Sum256([]byte("carrierguard test key\x00" + label))
	if err := keyring.CheckKeyMaterial(sum[:]); err != nil {
		panic(fmt.Sprintf("testkey: key for %q: %v", label, err))
	}
	return sum[:]
}
