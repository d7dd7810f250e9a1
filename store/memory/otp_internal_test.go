package memory

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/otp"
)

// Reservations and destinations are forgotten once they leave the hour, so a store
// that has seen many numbers does not keep every one of them. The sweep changes no
// limit: a reservation still inside the hour can be released, and releasing a swept
// one gives back nothing.
func TestOTPSweepsOldIssues(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	s := NewOTP(Options{Now: clock.Now})
	lim := otp.RateLimits{PerHour: 1, DestinationPerHour: 1}
	res := func(id string, i int) otp.Reservation {
		return otp.Reservation{ID: id, Key: otp.RateKey{Subscriber: fmt.Sprint("sub", i), Purpose: otp.PurposeSignIn},
			Destination: fmt.Sprint("dest", i)}
	}
	reserve := func(id string, i int) error { return s.ReserveIssue(ctx, res(id, i), lim) }
	mustReserve := func(id string, i int) {
		t.Helper()
		if err := reserve(id, i); err != nil {
			t.Fatalf("ReserveIssue(%s): %v", id, err)
		}
	}
	throttled := func(err error, want otp.ThrottleReason) bool {
		var te *otp.ThrottleError
		return errors.As(err, &te) && te.Reason == want
	}

	for i := range otpSweepEvery - 2 {
		mustReserve(fmt.Sprint("r", i), i)
	}
	const late = otpSweepEvery // subscriber and destination of a reservation made later
	clock.Advance(30 * time.Minute)
	mustReserve("late", late)
	if len(s.reserved) != otpSweepEvery-1 || len(s.dests) != otpSweepEvery-1 {
		t.Fatalf("before the sweep: %d reservations, %d destinations", len(s.reserved), len(s.dests))
	}
	clock.Advance(30 * time.Minute)
	mustReserve("sweeper", late+1) // the sweep runs before this one is recorded
	if len(s.reserved) != 2 || len(s.dests) != 2 {
		t.Errorf("after the sweep: %d reservations, %d destinations; want 2 and 2 (the late one and the new one)", len(s.reserved), len(s.dests))
	}

	// The late reservation, half an hour old, still counts and can still be released.
	if err := reserve("late-2", late); !throttled(err, otp.ThrottleHourly) {
		t.Fatalf("a second issue inside the hour: %v, want the hourly limit", err)
	}
	if err := s.ReleaseIssue(ctx, "late"); err != nil {
		t.Fatal(err)
	}
	mustReserve("late-2", late)

	// r0 was swept. sub0 and dest0 use their hour again; releasing r0 (an unknown ID
	// now, which is no error) must not give that back.
	mustReserve("r0-again", 0)
	if err := s.ReleaseIssue(ctx, "r0"); err != nil {
		t.Errorf("ReleaseIssue of a swept reservation: %v", err)
	}
	if err := reserve("r0-third", 0); !throttled(err, otp.ThrottleHourly) {
		t.Errorf("after releasing a swept reservation: %v, want the hourly limit still", err)
	}
	other := res("other-to-dest0", 0)
	other.Key.Subscriber = "someone else"
	if err := s.ReserveIssue(ctx, other, lim); !throttled(err, otp.ThrottleDestination) {
		t.Errorf("after releasing a swept reservation: %v, want the destination limit still", err)
	}
}
