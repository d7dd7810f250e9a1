package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"
)

var errGone = errors.New("gone")

// takeOnce is a correct single-use item; racyTake is the classic check-then-act bug.
type takeOnce struct {
	mu    sync.Mutex
	taken bool
}

func (o *takeOnce) take() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.taken {
		return errGone
	}
	o.taken = true
	return nil
}

func TestExactlyOnce(t *testing.T) {
	var item takeOnce
	failures := ExactlyOnce(t, Contenders, func(int) error { return item.take() })
	if len(failures) != Contenders-1 {
		t.Fatalf("got %d failures", len(failures))
	}
	for _, err := range failures {
		if !errors.Is(err, errGone) {
			t.Fatalf("unexpected error %v", err)
		}
	}
}

// recordingTB captures Errorf so the harness itself can be shown to fail.
type recordingTB struct {
	testing.TB
	failed bool
}

func (r *recordingTB) Errorf(string, ...any) { r.failed = true }
func (r *recordingTB) Helper()               {}

func TestExactlyOnceDetectsDoubleSpend(t *testing.T) {
	rec := &recordingTB{TB: t}
	ExactlyOnce(rec, 8, func(int) error { return nil }) // every caller "wins"
	if !rec.failed {
		t.Fatal("ExactlyOnce accepted 8 successes")
	}
	rec = &recordingTB{TB: t}
	ExactlyOnce(rec, 8, func(int) error { return errGone }) // nobody wins
	if !rec.failed {
		t.Fatal("ExactlyOnce accepted 0 successes")
	}
}

func TestClock(t *testing.T) {
	c := NewClock()
	if !c.Now().Equal(Epoch) {
		t.Fatalf("clock starts at %v", c.Now())
	}
	c.Advance(90 * time.Second)
	if got := c.Now().Sub(Epoch); got != 90*time.Second {
		t.Fatalf("advanced %v", got)
	}
}
