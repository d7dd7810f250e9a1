package memory_test

import (
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

func TestProtectionProbes(t *testing.T) {
	storetest.TestProtectionProbes(t, func(t *testing.T, now func() time.Time) protection.ProbeStore {
		return memory.NewProtection(memory.Options{Now: now})
	})
}
