package memory_test

import (
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

func TestOTPBudgets(t *testing.T) {
	storetest.TestOTPBudgets(t, func(t *testing.T, now func() time.Time) otp.BudgetStore {
		return memory.NewOTP(memory.Options{Now: now})
	})
}
