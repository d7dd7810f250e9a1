package notify_test

import (
	"context"
	"errors"
	"sync"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/notify"
)

// recorder is a Sender that honours idempotency keys the way a good gateway does: a key it
// has seen is acknowledged without delivering again. It counts calls and deliveries.
type recorder struct {
	mu        sync.Mutex
	delivered map[string]notify.Delivery
	order     []string
	calls     map[string]int
	// fail, if set, decides the outcome of each call before delivery.
	fail func(d notify.Delivery) error
}

func newRecorder() *recorder {
	return &recorder{delivered: map[string]notify.Delivery{}, calls: map[string]int{}}
}

func (r *recorder) Send(_ context.Context, d notify.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[d.IdempotencyKey]++
	if r.fail != nil {
		if err := r.fail(d); err != nil {
			return err
		}
	}
	if _, dup := r.delivered[d.IdempotencyKey]; !dup {
		r.delivered[d.IdempotencyKey] = d
		r.order = append(r.order, d.IdempotencyKey)
	}
	return nil
}

func (r *recorder) Delivered() map[string]notify.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]notify.Delivery, len(r.delivered))
	for k, v := range r.delivered {
		out[k] = v
	}
	return out
}

func (r *recorder) Calls(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[key]
}

func (r *recorder) TotalCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		n += c
	}
	return n
}

// directory serves profiles from a map.
func directory(profiles map[string]notify.Profile) notify.Directory {
	return notify.DirectoryFunc(func(_ context.Context, sub string) (notify.Profile, error) {
		p, ok := profiles[sub]
		if !ok {
			return notify.Profile{}, notify.ErrNotFound
		}
		return p, nil
	})
}

// failingOutbox wraps an Outbox and fails Enqueue.
type failingOutbox struct{ notify.Outbox }

func (failingOutbox) Enqueue(context.Context, []notify.Message) error {
	return errors.New("database is down")
}

// zeroRand is a deterministic Rand: jitter 0.
type zeroRand struct{}

func (zeroRand) Read(b []byte) (int, error) { clear(b); return len(b), nil }

func newClock() *fakeclock.Clock { return fakeclock.New(t0) }

// ids returns the message IDs of event e for the recipients.
func ids(eventID string, rs ...notify.Recipient) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = notify.MessageID(eventID, r)
	}
	return out
}
