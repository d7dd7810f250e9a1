package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/otp"
)

// Reservations and destinations are forgotten once they leave the hour, so a store
// that has seen many numbers does not keep every one of them.
func TestOTPSweepsOldIssues(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	s := NewOTP(Options{Now: clock.Now})
	reserve := func(i int) {
		t.Helper()
		res := otp.Reservation{ID: fmt.Sprint("r", i), Key: otp.RateKey{Subscriber: fmt.Sprint("sub", i), Purpose: otp.PurposeSignIn},
			Destination: fmt.Sprint("dest", i)}
		if err := s.ReserveIssue(ctx, res, otp.RateLimits{PerHour: 5, DestinationPerHour: 5}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range otpSweepEvery - 1 {
		reserve(i)
	}
	if len(s.reserved) != otpSweepEvery-1 || len(s.dests) != otpSweepEvery-1 {
		t.Fatalf("before the sweep: %d reservations, %d destinations", len(s.reserved), len(s.dests))
	}
	clock.Advance(time.Hour)
	reserve(otpSweepEvery) // the sweep runs before this one is recorded
	if len(s.reserved) != 1 || len(s.dests) != 1 {
		t.Errorf("after the sweep: %d reservations, %d destinations; want 1 and 1", len(s.reserved), len(s.dests))
	}
	// A release of a swept reservation is a no-op.
	if err := s.ReleaseIssue(ctx, "r0"); err != nil {
		t.Errorf("ReleaseIssue of a swept reservation: %v", err)
	}
}
