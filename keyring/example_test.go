package keyring_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/carrierguard/carrierguard/keyring"
)

// Keys come from configuration; a value sealed under the old key still opens after a
// new key becomes primary, and Reseal moves it over.
func Example_rotation() {
	ctx := context.Background()
	// In production the keys come from a secret manager; each was made once with
	// keyring.GenerateKey and stored in base64.
	k1, k2 := "1:"+newKeyBase64(), "2:"+newKeyBase64()

	keys, err := keyring.ParseKeys(k1)
	if err != nil {
		log.Fatal(err)
	}
	before, err := keyring.NewLocal(keyring.Config{Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	ad := keyring.AssociatedData("totp-seed", "subscriber-42")
	sealed, err := before.Seal(ctx, []byte("JBSWY3DPEHPK3PXP"), ad)
	if err != nil {
		log.Fatal(err)
	}

	keys, err = keyring.ParseKeys(k1 + "," + k2)
	if err != nil {
		log.Fatal(err)
	}
	after, err := keyring.NewLocal(keyring.Config{Keys: keys, Primary: 2})
	if err != nil {
		log.Fatal(err)
	}
	moved, changed, err := after.Reseal(ctx, sealed, ad)
	if err != nil {
		log.Fatal(err)
	}
	id, _ := keyring.KeyID(moved)
	seed, err := after.Open(ctx, moved, ad)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(changed, id, string(seed))

	// The same value presented for another subscriber does not open.
	_, err = after.Open(ctx, moved, keyring.AssociatedData("totp-seed", "subscriber-43"))
	fmt.Println(err)
	// Output:
	// true 2 JBSWY3DPEHPK3PXP
	// keyring: cannot open sealed value: authentication failed
}

// CheckKeyMaterial catches the keys people ship by mistake: a zeroed buffer, or the
// base64 of text such as "000…", which decodes to text rather than random bytes.
func ExampleCheckKeyMaterial() {
	placeholder := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("0", 32)))
	_, err := keyring.ParseKeys("1:" + placeholder)
	fmt.Println(errors.Is(err, keyring.ErrWeakKey))

	fmt.Println(keyring.CheckKeyMaterial(make([]byte, 32)))

	key, err := keyring.GenerateKey() // what to use instead
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(keyring.CheckKeyMaterial(key))
	// Output:
	// true
	// keyring: key material is not random: every byte is the same (a placeholder such as all zeros); generate one with keyring.GenerateKey (or: head -c 32 /dev/urandom | base64) and decode it before use
	// <nil>
}

// newKeyBase64 makes a key the way an operator would, once, for configuration.
func newKeyBase64() string {
	k, err := keyring.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(k)
}
