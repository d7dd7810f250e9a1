package memory

import (
	"context"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/status"
)

// Status is the in-memory status.VerificationStore.
type Status struct {
	now      func() time.Time
	mu       sync.Mutex
	address  map[string]string      // by subscriber: the address of record
	links    map[string]status.Link // by subscriber: at most one pending link each
	byHash   map[status.LinkHash]string
	verified map[string]status.Verification
	sent     map[string]sendLog // by subscriber; Reset leaves it alone
	reserves int                // ReserveLink calls, to pace sweeps of sent
}

// statusSweepEvery is how many ReserveLink calls pass between sweeps of send logs that
// no longer count toward any limit.
const statusSweepEvery = 256

var _ status.VerificationStore = (*Status)(nil)

// NewStatus returns an empty in-memory verification store.
func NewStatus(opts Options) *Status {
	return &Status{
		now:      opts.clock(),
		address:  make(map[string]string),
		links:    make(map[string]status.Link),
		byHash:   make(map[status.LinkHash]string),
		verified: make(map[string]status.Verification),
		sent:     make(map[string]sendLog),
	}
}

// dropLink removes the subscriber's pending link; the caller holds mu.
func (s *Status) dropLink(subscriber string) {
	if old, ok := s.links[subscriber]; ok {
		delete(s.byHash, old.Hash)
		delete(s.links, subscriber)
	}
}

// ReserveLink implements status.VerificationStore.
func (s *Status) ReserveLink(ctx context.Context, subscriber string, lim status.ResendLimits) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now() // read under mu, so that every log stays in time order
	if s.reserves++; s.reserves%statusSweepEvery == 0 {
		for sub, l := range s.sent {
			if l.forget(now) {
				delete(s.sent, sub)
			} else {
				s.sent[sub] = l
			}
		}
	}
	log := s.sent[subscriber]
	wait, hourly := log.reserve(now, lim.MinInterval, lim.PerHour, "")
	s.sent[subscriber] = log
	if wait == 0 {
		return nil
	}
	reason := status.ThrottleInterval
	if hourly {
		reason = status.ThrottleHourly
	}
	return &status.ThrottleError{Reason: reason, RetryAfter: retryAfter(wait)}
}

// PutLink implements status.VerificationStore.
func (s *Status) PutLink(ctx context.Context, l status.Link) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if addr, ok := s.address[l.Subscriber]; ok && addr != l.Email {
		return status.ErrAddressChanged
	}
	s.address[l.Subscriber] = l.Email
	s.dropLink(l.Subscriber)
	if other, ok := s.byHash[l.Hash]; ok { // a colliding hash never survives as someone else's link
		s.dropLink(other)
	}
	s.links[l.Subscriber] = l
	s.byHash[l.Hash] = l.Subscriber
	return nil
}

// ConsumeLink implements status.VerificationStore.
func (s *Status) ConsumeLink(ctx context.Context, h status.LinkHash, verifiedAt time.Time) (status.Link, error) {
	if err := ctx.Err(); err != nil {
		return status.Link{}, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.byHash[h]
	if !ok {
		return status.Link{}, status.ErrNotFound
	}
	l := s.links[sub]
	if s.address[sub] != l.Email { // ResetAddress drops such links; checked anyway, as the contract promises
		return status.Link{}, status.ErrNotFound
	}
	if !now.Before(l.ExpiresAt) {
		return l, status.ErrExpired
	}
	s.dropLink(sub)
	s.verified[sub] = status.Verification{Email: l.Email, VerifiedAt: verifiedAt}
	return l, nil
}

// Verification implements status.VerificationStore.
func (s *Status) Verification(ctx context.Context, subscriber string) (status.Verification, error) {
	if err := ctx.Err(); err != nil {
		return status.Verification{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.verified[subscriber]
	if !ok {
		return status.Verification{}, status.ErrNotFound
	}
	return v, nil
}

// ResetAddress implements status.VerificationStore.
func (s *Status) ResetAddress(ctx context.Context, subscriber, email string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.address[subscriber] = email
	s.dropLink(subscriber)
	delete(s.verified, subscriber)
	return nil
}
