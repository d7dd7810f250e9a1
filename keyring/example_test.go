package keyring_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"log"
	"strings"

	"github.com/carrierguard/carrierguard/keyring"
)

// Keys come from configuration; a value sealed under the old key still opens after a
// new key becomes primary, and Reseal moves it over.
func Example_rotation() {
	ctx := context.Background()
	k1 := "1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	k2 := "2:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("K", 32)))

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
