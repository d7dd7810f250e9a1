package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/status"
)

// Send logs are forgotten once they leave the hour, so a store that has sent links to
// many subscribers does not keep a log for every one of them; a log that still counts
// survives the sweep and still limits its subscriber.
func TestStatusSweepsOldSendLogs(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	s := NewStatus(Options{Now: clock.Now})
	lim := status.ResendLimits{MinInterval: time.Minute, PerHour: 5}
	reserve := func(sub string) error { return s.ReserveLink(ctx, sub, lim) }
	for i := range statusSweepEvery - 2 {
		if err := reserve(fmt.Sprint("sub", i)); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Hour)
	if err := reserve("recent"); err != nil { // call statusSweepEvery-1, in the new hour
		t.Fatal(err)
	}
	if len(s.sent) != statusSweepEvery-1 {
		t.Fatalf("before the sweep: %d send logs, want %d", len(s.sent), statusSweepEvery-1)
	}
	clock.Advance(time.Second)
	if err := reserve("recent"); err == nil { // the sweep runs first, then this is refused
		t.Error("a subscriber whose log survived the sweep was not limited")
	}
	if len(s.sent) != 1 {
		t.Errorf("after the sweep: %d send logs, want 1 (only the recent subscriber's)", len(s.sent))
	}
}
