package notify

import (
	"context"
	"slices"
	"sync"
)

// Publisher accepts account events for delivery.
//
// Publish must be safe for concurrent use and must not retain e.Attributes after it
// returns (copy it). It returns an error only if the event was not accepted; callers treat
// that as a failure of the operation that caused it, so a change is never made silently.
type Publisher interface {
	Publish(ctx context.Context, e Event) error
}

// PublisherFunc adapts a function to the Publisher interface.
type PublisherFunc func(ctx context.Context, e Event) error

// Publish calls f(ctx, e).
func (f PublisherFunc) Publish(ctx context.Context, e Event) error { return f(ctx, e) }

// Recorder is a Publisher that keeps every valid event in memory, for tests and
// development. The zero value is ready to use and it is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []Event
	// Err, if set, is returned by Publish instead of recording, to test failure paths.
	Err error
}

var _ Publisher = (*Recorder)(nil)

// Publish validates e and records a copy of it.
func (r *Recorder) Publish(ctx context.Context, e Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := e.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Err != nil {
		return r.Err
	}
	if e.Attributes != nil {
		attrs := make(map[string]string, len(e.Attributes))
		for k, v := range e.Attributes {
			attrs[k] = v
		}
		e.Attributes = attrs
	}
	r.events = append(r.events, e)
	return nil
}

// Events returns a copy of the recorded events in publication order.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Types returns the types of the recorded events in publication order.
func (r *Recorder) Types() []Type {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Type, len(r.events))
	for i, e := range r.events {
		out[i] = e.Type
	}
	return out
}

// Last returns the most recent event of type t, if any.
func (r *Recorder) Last(t Type) (Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if r.events[i].Type == t {
			return r.events[i], true
		}
	}
	return Event{}, false
}

// Reset forgets every recorded event.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.events = nil
	r.mu.Unlock()
}
