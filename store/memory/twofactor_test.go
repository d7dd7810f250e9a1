package memory_test

import (
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
	"github.com/carrierguard/carrierguard/twofactor"
)

func TestTwoFactorContacts(t *testing.T) {
	storetest.TestTwoFactorContacts(t, func(t *testing.T, now func() time.Time) twofactor.ContactStore {
		return memory.NewTwoFactor(memory.Options{Now: now})
	})
}

func TestTwoFactorRecovery(t *testing.T) {
	storetest.TestTwoFactorRecovery(t, func(t *testing.T, now func() time.Time) twofactor.RecoveryStore {
		return memory.NewTwoFactor(memory.Options{Now: now})
	})
}

func TestTwoFactorFailures(t *testing.T) {
	storetest.TestTwoFactorFailures(t, func(t *testing.T, now func() time.Time) twofactor.FailureStore {
		return memory.NewTwoFactor(memory.Options{Now: now})
	})
}

func TestTwoFactorChallenges(t *testing.T) {
	storetest.TestTwoFactorChallenges(t, func(t *testing.T) twofactor.ChallengeStore {
		return memory.NewTwoFactor(memory.Options{})
	})
}
