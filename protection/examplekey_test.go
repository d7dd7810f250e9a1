package protection_test

import (
	"log"

	"github.com/carrierguard/carrierguard/keyring"
)

// exampleKey stands in for a key from configuration or a KMS, made once with
// keyring.GenerateKey. Placeholders such as 32 copies of "k" are refused by New.
func exampleKey() []byte {
	k, err := keyring.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	return k
}
