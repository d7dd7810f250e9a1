package memory

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// A flood of invented subscribers (sign-in attempts for email addresses nobody has)
// leaves the attempt store at its capacity, with every real subscriber's count intact.
func TestPasswordAttemptsStayUnderCapUnderAFlood(t *testing.T) {
	const (
		capacity = 4096
		invented = 100_000
	)
	ctx := context.Background()
	s := NewPasswordAttemptsCapacity(Options{}, capacity)
	epoch := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.AddFailure(ctx, "s:owner", 100, epoch, time.Time{}); err != nil {
		t.Fatal(err)
	}
	peak := 0
	for i := range invented {
		at := epoch.Add(time.Duration(i) * time.Millisecond)
		sub := "unknown_" + strconv.Itoa(i)
		// As password.Service records a stranger: the subscriber key and its client key.
		if _, err := s.AddFailure(ctx, "s:"+sub, 100, at, at.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddFailure(ctx, "c:"+strconv.Itoa(len(sub))+":"+sub+":198.51.100.7", 10, at, at.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		peak = max(peak, len(s.attempts))
		if len(s.expiring) > capacity {
			t.Fatalf("after %d strangers the heap holds %d keys, capacity %d", i+1, len(s.expiring), capacity)
		}
		s.mu.Unlock()
	}
	if peak > capacity+1 {
		t.Fatalf("the store held up to %d keys for %d invented subscribers; want at most %d strangers and the owner", peak, invented, capacity)
	}
	if a, _ := s.Failures(ctx, "s:owner"); a.Failures != 1 {
		t.Fatalf("the owner's count was evicted: %+v", a)
	}
	// Once they have expired, the next failure sweeps them all.
	later := epoch.Add(48 * time.Hour)
	if _, err := s.AddFailure(ctx, "s:late", 100, later, later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.attempts); n != 2 {
		t.Fatalf("after every stranger expired the store holds %d keys, want 2 (owner, late)", n)
	}
}
