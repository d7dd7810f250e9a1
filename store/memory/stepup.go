package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/stepup"
)

// StepUp is the in-memory stepup.Store: each session's proofs, one per slot. One mutex
// serialises every operation.
type StepUp struct {
	mu    sync.Mutex
	bySes map[string][]stepup.Record
	swept time.Time // when PutProof last dropped expired records (the core's time)
}

var _ stepup.Store = (*StepUp)(nil)

// NewStepUp returns an empty store. Records expire by the times the core passes in;
// Options is taken for symmetry with the other stores and its clock is not read.
func NewStepUp(Options) *StepUp { return &StepUp{bySes: make(map[string][]stepup.Record)} }

func cloneRecord(r stepup.Record) stepup.Record {
	r.Proof.Tag = slices.Clone(r.Proof.Tag)
	return r
}

// PutProof implements stepup.Store. Expired records of every session are dropped on
// the way, at most once a minute of the core's time.
func (s *StepUp) PutProof(ctx context.Context, r stepup.Record, max int, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.swept) >= time.Minute || now.Before(s.swept) {
		for id, list := range s.bySes {
			list = slices.DeleteFunc(list, func(q stepup.Record) bool { return !q.ExpiresAt.After(now) })
			if len(list) == 0 {
				delete(s.bySes, id)
			} else {
				s.bySes[id] = list
			}
		}
		s.swept = now
	}
	list := s.bySes[r.Session]
	replaced := false
	for i, q := range list {
		if q.Slot == r.Slot {
			if !q.Proof.At.After(r.Proof.At) {
				list[i] = cloneRecord(r)
			}
			replaced = true
			break
		}
	}
	if !replaced {
		list = append(list, cloneRecord(r))
	}
	for max > 0 && len(list) > max {
		oldest := 0
		for i, q := range list {
			if q.Proof.At.Before(list[oldest].Proof.At) {
				oldest = i
			}
		}
		list = slices.Delete(list, oldest, oldest+1)
	}
	s.bySes[r.Session] = list
	return nil
}

// Proofs implements stepup.Store.
func (s *StepUp) Proofs(ctx context.Context, sessionID string) ([]stepup.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.bySes[sessionID]
	out := make([]stepup.Record, 0, len(list))
	for _, r := range list {
		out = append(out, cloneRecord(r))
	}
	return out, nil
}

// DeleteSession implements stepup.Store.
func (s *StepUp) DeleteSession(ctx context.Context, sessionID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bySes, sessionID)
	return nil
}

// DeleteSubscriber implements stepup.Store.
func (s *StepUp) DeleteSubscriber(ctx context.Context, subscriber string, at time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, list := range s.bySes {
		before := len(list)
		list = slices.DeleteFunc(list, func(q stepup.Record) bool {
			return q.Proof.Subscriber == subscriber && !q.Proof.At.After(at)
		})
		n += before - len(list)
		if len(list) == 0 {
			delete(s.bySes, id)
		} else {
			s.bySes[id] = list
		}
	}
	return n, nil
}
