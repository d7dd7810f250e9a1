package memory

import (
	"context"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/notify"
)

// Notify is the in-memory notify.Outbox. Claims are serialised by one mutex, so no two
// claims ever hold the same message. Sent and abandoned messages are kept for Lookup
// for the life of the process.
type Notify struct {
	now func() time.Time
	mu  sync.Mutex
	// msgs holds every message by ID; pending lists the IDs that may still be claimed, in
	// enqueue order.
	msgs    map[string]*notify.Message
	pending []string
}

var _ notify.Outbox = (*Notify)(nil)

// NewNotify returns an empty in-memory outbox.
func NewNotify(opts Options) *Notify {
	return &Notify{now: opts.clock(), msgs: make(map[string]*notify.Message)}
}

// Enqueue stores msgs as pending; IDs already stored are skipped.
func (s *Notify) Enqueue(ctx context.Context, msgs []notify.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The stored copies share one array, allocated once per call rather than once per
	// message. Messages are never deleted, so no copy outlives the others.
	var own []notify.Message
	for _, m := range msgs {
		if _, ok := s.msgs[m.ID]; ok {
			continue
		}
		if own == nil {
			own = make([]notify.Message, 0, len(msgs))
		}
		m.State, m.Attempts, m.Lease, m.LeaseUntil, m.LastError = notify.StatePending, 0, "", time.Time{}, ""
		own = append(own, m)
		s.msgs[m.ID] = &own[len(own)-1]
		s.pending = append(s.pending, m.ID)
	}
	return nil
}

// Claim leases up to max due messages to token.
func (s *Notify) Claim(ctx context.Context, token string, max int, lease time.Duration) ([]notify.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []notify.Message
	kept := s.pending[:0]
	for _, id := range s.pending {
		m := s.msgs[id]
		if m.State != notify.StatePending {
			continue // final: drop from the pending list
		}
		kept = append(kept, id)
		if len(out) >= max || m.NextAttempt.After(now) || (m.Lease != "" && m.LeaseUntil.After(now)) {
			continue
		}
		m.Lease, m.LeaseUntil = token, now.Add(lease)
		m.Attempts++
		out = append(out, *m)
	}
	clear(s.pending[len(kept):])
	s.pending = kept
	return out, nil
}

// Complete records the outcome of a claimed message.
func (s *Notify) Complete(ctx context.Context, id, token string, o notify.Outcome) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.msgs[id]
	if !ok {
		return notify.ErrNotFound
	}
	// An expired lease may still complete as long as no other claim has taken the
	// message: recording the outcome then avoids a needless second send.
	if m.State != notify.StatePending || token == "" || m.Lease != token {
		return notify.ErrLeaseLost
	}
	m.Lease, m.LeaseUntil = "", time.Time{}
	switch o.State {
	case notify.StateSent, notify.StateAbandoned:
		m.State = o.State
	default:
		m.State = notify.StatePending
		if o.Release {
			m.Attempts--
		} else {
			m.NextAttempt = o.RetryAt
		}
	}
	if o.Error != "" {
		m.LastError = o.Error
	}
	return nil
}

// Lookup returns a copy of the stored message.
func (s *Notify) Lookup(ctx context.Context, id string) (notify.Message, error) {
	if err := ctx.Err(); err != nil {
		return notify.Message{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.msgs[id]
	if !ok {
		return notify.Message{}, notify.ErrNotFound
	}
	return *m, nil
}
