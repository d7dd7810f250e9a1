package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/keyring"
)

// FuzzOpen checks that Open never panics and never opens anything but the exact values
// the keyring sealed with the same associated data.
func FuzzOpen(f *testing.F) {
	kr, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{
		{ID: 1, Secret: testkey.New("fuzz 1")},
		{ID: 2, Secret: testkey.New("fuzz 2")},
	}, Primary: 2, Rand: rand.NewChaCha8([32]byte{})}) // deterministic: every fuzz worker seals the same seeds
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	ad := []byte("fuzz")
	genuine := make(map[string]string)
	for _, pt := range []string{"", "a", "totp seed 0123456789"} {
		s, err := kr.Seal(ctx, []byte(pt), ad)
		if err != nil {
			f.Fatal(err)
		}
		genuine[string(s)] = pt
		f.Add(s, ad)
		f.Add(s[:len(s)-1], ad)
		f.Add(s, []byte("other"))
	}
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1, 0, 0, 0, 2}, ad)
	f.Fuzz(func(t *testing.T, sealed, assoc []byte) {
		pt, err := kr.Open(ctx, sealed, assoc)
		if err != nil {
			if !errors.Is(err, keyring.ErrOpen) {
				t.Fatalf("error %v does not wrap ErrOpen", err)
			}
			return
		}
		want, ok := genuine[string(sealed)]
		if !ok || !bytes.Equal(assoc, ad) || string(pt) != want {
			t.Fatalf("opened forged input %x with ad %q", sealed, assoc)
		}
	})
}
