package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/password"
)

// Password is an in-memory password.CredentialStore.
type Password struct {
	mu      sync.Mutex
	records map[string]password.Record
}

// PasswordAttempts is an in-memory password.AttemptStore.
type PasswordAttempts struct {
	mu       sync.Mutex
	attempts map[string]password.Attempts
}

var (
	_ password.CredentialStore = (*Password)(nil)
	_ password.AttemptStore    = (*PasswordAttempts)(nil)
)

// NewPassword returns an empty credential store. Records never expire, so Options
// is accepted for uniformity only.
func NewPassword(Options) *Password {
	return &Password{records: map[string]password.Record{}}
}

// NewPasswordAttempts returns an empty attempt store. Counts never expire (only Reset
// clears them), so Options is accepted for uniformity only.
func NewPasswordAttempts(Options) *PasswordAttempts {
	return &PasswordAttempts{attempts: map[string]password.Attempts{}}
}

func copyRecord(r password.Record) password.Record {
	r.History = slices.Clone(r.History)
	return r
}

// Get implements password.CredentialStore.
func (s *Password) Get(ctx context.Context, subscriber string) (password.Record, error) {
	if err := ctx.Err(); err != nil {
		return password.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[subscriber]
	if !ok {
		return password.Record{}, password.ErrNotFound
	}
	return copyRecord(r), nil
}

// Set implements password.CredentialStore.
func (s *Password) Set(ctx context.Context, subscriber, prev, next string, changedAt time.Time, keep int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[subscriber]
	switch {
	case prev == "" && ok:
		return password.ErrExists
	case prev == "":
		s.records[subscriber] = password.Record{Hash: next, ChangedAt: changedAt}
		return nil
	case !ok:
		return password.ErrNotFound
	case r.Hash != prev:
		return password.ErrConflict
	}
	history := append([]string{r.Hash}, r.History...)
	if len(history) > max(keep, 0) {
		history = history[:max(keep, 0)]
	}
	s.records[subscriber] = password.Record{Hash: next, ChangedAt: changedAt, History: history}
	return nil
}

// Rehash implements password.CredentialStore.
func (s *Password) Rehash(ctx context.Context, subscriber, prev, next string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[subscriber]
	switch {
	case !ok:
		return password.ErrNotFound
	case r.Hash != prev:
		return password.ErrConflict
	}
	r.Hash = next
	s.records[subscriber] = r
	return nil
}

// MarkCompromised implements password.CredentialStore.
func (s *Password) MarkCompromised(ctx context.Context, subscriber string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[subscriber]
	if !ok {
		return password.ErrNotFound
	}
	r.MustChange = true
	s.records[subscriber] = r
	return nil
}

// ClaimNotice implements password.CredentialStore.
func (s *Password) ClaimNotice(ctx context.Context, subscriber, notice string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[subscriber]
	if !ok {
		return false, password.ErrNotFound
	}
	if r.Notice == notice {
		return false, nil
	}
	r.Notice = notice
	s.records[subscriber] = r
	return true, nil
}

// Failures implements password.AttemptStore.
func (s *PasswordAttempts) Failures(ctx context.Context, key string) (password.Attempts, error) {
	if err := ctx.Err(); err != nil {
		return password.Attempts{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[key], nil
}

// AddFailure implements password.AttemptStore.
func (s *PasswordAttempts) AddFailure(ctx context.Context, key string, limit int, at time.Time) (password.Attempts, error) {
	if err := ctx.Err(); err != nil {
		return password.Attempts{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.attempts[key]
	if a.Failures >= limit {
		return a, password.ErrFailureLimit
	}
	a.Failures++
	a.Last = at
	s.attempts[key] = a
	return a, nil
}

// Reset implements password.AttemptStore.
func (s *PasswordAttempts) Reset(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.attempts, key)
	return nil
}
