package memory_test

import (
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/status"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

func TestStatusVerifications(t *testing.T) {
	storetest.TestStatusVerifications(t, func(t *testing.T, now func() time.Time) status.VerificationStore {
		return memory.NewStatus(memory.Options{Now: now})
	})
}
