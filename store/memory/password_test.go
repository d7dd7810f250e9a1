package memory_test

import (
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/password"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

func TestPasswordCredentials(t *testing.T) {
	storetest.TestPasswordCredentials(t, func(t *testing.T, now func() time.Time) password.CredentialStore {
		return memory.NewPassword(memory.Options{Now: now})
	})
}

func TestPasswordAttempts(t *testing.T) {
	storetest.TestPasswordAttempts(t, func(t *testing.T, now func() time.Time) password.AttemptStore {
		return memory.NewPasswordAttempts(memory.Options{Now: now})
	})
}

func TestPasswordAttemptsBounded(t *testing.T) {
	for _, capacity := range []int{1, 2, 64} {
		storetest.TestPasswordAttemptsBounded(t, capacity, func(t *testing.T, now func() time.Time) password.AttemptStore {
			return memory.NewPasswordAttemptsCapacity(memory.Options{Now: now}, capacity)
		})
	}
}
