package memory_test

import (
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

func TestProtectionFlags(t *testing.T) {
	storetest.TestProtectionFlags(t, func(t *testing.T, now func() time.Time) protection.FlagStore {
		return memory.NewProtection(memory.Options{Now: now})
	})
}

func TestProtectionHistory(t *testing.T) {
	storetest.TestProtectionHistory(t, func(t *testing.T, now func() time.Time) protection.HistoryStore {
		return memory.NewProtection(memory.Options{Now: now})
	})
}

func TestProtectionPINs(t *testing.T) {
	storetest.TestProtectionPINs(t, func(t *testing.T, now func() time.Time) protection.PINStore {
		return memory.NewProtection(memory.Options{Now: now})
	})
}
