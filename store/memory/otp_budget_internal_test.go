package memory

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/otp"
)

// A flood from ever-new clients leaves the budget store flat: a client key exists only
// while one of its sends can still count, and the global budget bounds how many can, so
// the store holds at most Global sends per window however many clients it has seen.
func TestOTPBudgetsStayBoundedUnderRotation(t *testing.T) {
	ctx := context.Background()
	s := NewOTP(Options{Now: func() time.Time { t.Fatal("the budget store read a clock"); return time.Time{} }})
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const global = 50
	at := start
	var granted int
	for i := range 20 * otpSweepEvery {
		at = start.Add(time.Duration(i) * 2 * time.Second) // about 3 hours in all
		since := at.Add(-time.Hour)
		err := s.ReserveBudget(ctx, otp.BudgetReservation{ID: fmt.Sprint("r", i), At: at, Counters: []otp.BudgetCounter{
			{Limit: otp.BudgetClient, Key: fmt.Sprint("client/", i), Max: 5, Since: since},
			{Limit: otp.BudgetGlobal, Key: "global", Max: global, Since: since},
		}})
		switch {
		case err == nil:
			granted++
		case !errors.Is(err, otp.ErrBudgetExceeded):
			t.Fatal(err)
		}
		if len(s.budgets) > global+otpSweepEvery+1 || len(s.budgetSends) > global+otpSweepEvery {
			t.Fatalf("after %d reservations the store holds %d keys and %d sends", i+1, len(s.budgets), len(s.budgetSends))
		}
	}
	// The window slid about three times: about 3 × global granted, never more.
	if granted < 2*global || granted > 4*global {
		t.Errorf("%d sends granted over three windows of %d", granted, global)
	}
	s.mu.Lock()
	s.sweepBudgets(at.Add(time.Hour))
	s.mu.Unlock()
	if len(s.budgets) != 0 || len(s.budgetSends) != 0 {
		t.Errorf("an hour after the last send: %d keys, %d sends left", len(s.budgets), len(s.budgetSends))
	}
}
