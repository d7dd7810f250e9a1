package protection_test

import (
	"context"
	"log"

	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/protection"
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

// twoFactorOn stands in for the subscriber's 2FA state, which production code reads
// from the twofactor service (pass the *twofactor.Service, or a TwoFactorStateFunc over
// its TwoFactorEnabled): here every subscriber has 2FA on.
var twoFactorOn = protection.TwoFactorStateFunc(func(context.Context, string) (bool, error) { return true, nil })

// factorsOnFile stands in for protection.FactorsFromTwoFactor over the twofactor
// service, which tells a re-decided approval whether each factor its evidence came
// from is still on the account: here none is ever removed.
var factorsOnFile = protection.FactorCheckerFunc(func(context.Context, string, protection.Evidence) (bool, error) { return true, nil })
