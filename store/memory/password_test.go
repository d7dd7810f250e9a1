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
