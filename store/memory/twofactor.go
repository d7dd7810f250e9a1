package memory

import (
	"context"
	"crypto/subtle"
	"slices"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/twofactor"
)

// TwoFactor implements twofactor.ContactStore, twofactor.RecoveryStore,
// twofactor.FailureStore and twofactor.ChallengeStore in memory. One mutex serialises
// every operation, which is what makes the contact limit, single-use recovery codes and
// attempt counting atomic.
type TwoFactor struct {
	now func() time.Time

	mu         sync.Mutex
	states     map[string]*twofactor.State
	recovery   map[string]recoverySet
	failures   map[string]twofactor.Failures
	challenges map[string]twofactor.ChallengeBinding
	swept      time.Time // when PutChallenge last dropped expired bindings (the core's time)
}

// recoverySet is a subscriber's recovery-code hashes and when they were generated.
type recoverySet struct {
	hashes [][]byte
	at     time.Time
}

var (
	_ twofactor.ContactStore   = (*TwoFactor)(nil)
	_ twofactor.RecoveryStore  = (*TwoFactor)(nil)
	_ twofactor.FailureStore   = (*TwoFactor)(nil)
	_ twofactor.ChallengeStore = (*TwoFactor)(nil)
)

// NewTwoFactor returns an empty store.
func NewTwoFactor(opts Options) *TwoFactor {
	return &TwoFactor{
		now:        opts.clock(),
		states:     make(map[string]*twofactor.State),
		recovery:   make(map[string]recoverySet),
		failures:   make(map[string]twofactor.Failures),
		challenges: make(map[string]twofactor.ChallengeBinding),
	}
}

// State implements twofactor.ContactStore.
func (s *TwoFactor) State(ctx context.Context, subscriber string) (twofactor.State, error) {
	if err := ctx.Err(); err != nil {
		return twofactor.State{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.states[subscriber]
	if !ok {
		return twofactor.State{}, nil
	}
	out := *st
	out.Contacts = slices.Clone(st.Contacts)
	out.Former = slices.Clone(st.Former)
	return out, nil
}

// AddContact implements twofactor.ContactStore.
func (s *TwoFactor) AddContact(ctx context.Context, c twofactor.Contact, max int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.states[c.Subscriber]
	if st == nil {
		st = &twofactor.State{}
		s.states[c.Subscriber] = st
	}
	for _, o := range st.Contacts {
		if o.Kind == c.Kind && o.Value == c.Value {
			return twofactor.ErrDuplicateContact
		}
	}
	if len(st.Contacts) >= max {
		return twofactor.ErrTooManyContacts
	}
	st.Contacts = append(st.Contacts, c)
	return nil
}

// VerifyContact implements twofactor.ContactStore.
func (s *TwoFactor) VerifyContact(ctx context.Context, subscriber, id string, at time.Time) (twofactor.Contact, error) {
	if err := ctx.Err(); err != nil {
		return twofactor.Contact{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.states[subscriber]
	if st == nil {
		return twofactor.Contact{}, twofactor.ErrNotFound
	}
	for i := range st.Contacts {
		if c := &st.Contacts[i]; c.ID == id {
			if c.VerifiedAt.IsZero() {
				c.VerifiedAt = at
			}
			return *c, nil
		}
	}
	return twofactor.Contact{}, twofactor.ErrNotFound
}

// RemoveContact implements twofactor.ContactStore.
func (s *TwoFactor) RemoveContact(ctx context.Context, subscriber, id string, at time.Time, pendingOnly bool) (twofactor.Contact, error) {
	if err := ctx.Err(); err != nil {
		return twofactor.Contact{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.states[subscriber]
	if st == nil {
		return twofactor.Contact{}, twofactor.ErrNotFound
	}
	i := slices.IndexFunc(st.Contacts, func(c twofactor.Contact) bool { return c.ID == id })
	if i < 0 {
		return twofactor.Contact{}, twofactor.ErrNotFound
	}
	c := st.Contacts[i]
	if pendingOnly && c.Verified() {
		return twofactor.Contact{}, twofactor.ErrConflict
	}
	if st.Enabled && c.Verified() {
		verified := 0
		for _, o := range st.Contacts {
			if o.Verified() {
				verified++
			}
		}
		if verified == 1 {
			return twofactor.Contact{}, twofactor.ErrLastContact
		}
	}
	st.Contacts = slices.Delete(st.Contacts, i, i+1)
	if c.Verified() {
		cutoff := s.now().Add(-twofactor.FormerRetention)
		st.Former = slices.DeleteFunc(st.Former, func(f twofactor.Contact) bool { return f.RemovedAt.Before(cutoff) })
		f := c
		f.RemovedAt = at
		st.Former = append(st.Former, f)
	}
	return c, nil
}

// SetEnabled implements twofactor.ContactStore.
func (s *TwoFactor) SetEnabled(ctx context.Context, subscriber string, on bool, at time.Time, needContact bool) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.states[subscriber]
	if st == nil {
		if !on {
			return false, nil
		}
		st = &twofactor.State{}
	}
	if st.Enabled == on {
		return false, nil
	}
	if on && needContact && !slices.ContainsFunc(st.Contacts, twofactor.Contact.Verified) {
		return false, twofactor.ErrNoSecondFactor
	}
	st.Enabled = on
	st.EnabledAt = time.Time{}
	if on {
		st.EnabledAt = at
	}
	s.states[subscriber] = st
	return true, nil
}

// ReplaceRecoveryCodes implements twofactor.RecoveryStore.
func (s *TwoFactor) ReplaceRecoveryCodes(ctx context.Context, subscriber string, hashes [][]byte, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	set := make([][]byte, len(hashes))
	for i, h := range hashes {
		set[i] = slices.Clone(h)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(set) == 0 {
		delete(s.recovery, subscriber)
		return nil
	}
	s.recovery[subscriber] = recoverySet{hashes: set, at: at}
	return nil
}

// ConsumeRecoveryCode implements twofactor.RecoveryStore. Every stored hash is compared
// in constant time, whether or not one matched earlier.
func (s *TwoFactor) ConsumeRecoveryCode(ctx context.Context, subscriber string, hash []byte) (int, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return 0, time.Time{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.recovery[subscriber]
	set := rs.hashes
	found := -1
	for i, h := range set {
		if subtle.ConstantTimeCompare(h, hash) == 1 {
			found = i
		}
	}
	if found < 0 {
		return 0, time.Time{}, twofactor.ErrNotFound
	}
	set = slices.Delete(set, found, found+1)
	if len(set) == 0 {
		delete(s.recovery, subscriber)
	} else {
		s.recovery[subscriber] = recoverySet{hashes: set, at: rs.at}
	}
	return len(set), rs.at, nil
}

// RecoveryCodesLeft implements twofactor.RecoveryStore.
func (s *TwoFactor) RecoveryCodesLeft(ctx context.Context, subscriber string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recovery[subscriber].hashes), nil
}

// PutChallenge implements twofactor.ChallengeStore. Bindings that expired before now
// are dropped on the way (at most once a minute of the core's time), so the map holds
// little beyond the live challenges.
func (s *TwoFactor) PutChallenge(ctx context.Context, b twofactor.ChallengeBinding, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.swept) >= time.Minute {
		for id, o := range s.challenges {
			if o.ExpiresAt.Before(now) {
				delete(s.challenges, id)
			}
		}
		s.swept = now
	}
	s.challenges[b.ID] = b
	return nil
}

// Challenge implements twofactor.ChallengeStore.
func (s *TwoFactor) Challenge(ctx context.Context, id string) (twofactor.ChallengeBinding, error) {
	if err := ctx.Err(); err != nil {
		return twofactor.ChallengeBinding{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.challenges[id]
	if !ok {
		return twofactor.ChallengeBinding{}, twofactor.ErrNotFound
	}
	return b, nil
}

// BeginAttempt implements twofactor.FailureStore.
func (s *TwoFactor) BeginAttempt(ctx context.Context, subscriber string, policy twofactor.LockoutPolicy) (twofactor.Failures, error) {
	if err := ctx.Err(); err != nil {
		return twofactor.Failures{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	f := s.failures[subscriber]
	if err := policy.Locked(f, now); err != nil {
		return twofactor.Failures{}, err
	}
	f.Count++
	f.Last = now
	s.failures[subscriber] = f
	return f, nil
}

// ResetFailures implements twofactor.FailureStore.
func (s *TwoFactor) ResetFailures(ctx context.Context, subscriber string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.failures, subscriber)
	return nil
}

// Failures implements twofactor.FailureStore.
func (s *TwoFactor) Failures(ctx context.Context, subscriber string) (twofactor.Failures, error) {
	if err := ctx.Err(); err != nil {
		return twofactor.Failures{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failures[subscriber], nil
}
