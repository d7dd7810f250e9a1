package memory_test

import (
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

func TestOTPChallenges(t *testing.T) {
	storetest.TestOTPChallenges(t, func(t *testing.T, now func() time.Time) otp.ChallengeStore {
		return memory.NewOTP(memory.Options{Now: now})
	})
}

func TestOTPRates(t *testing.T) {
	storetest.TestOTPRates(t, func(t *testing.T, now func() time.Time) otp.RateStore {
		return memory.NewOTP(memory.Options{Now: now})
	})
}

func TestOTPAuthenticators(t *testing.T) {
	storetest.TestOTPAuthenticators(t, func(t *testing.T, now func() time.Time) otp.AuthenticatorStore {
		return memory.NewOTP(memory.Options{Now: now})
	})
}
