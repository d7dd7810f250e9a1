package memory

import (
	"container/heap"
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

// PasswordAttempts is an in-memory password.AttemptStore. It holds at most its capacity
// of keys with an expiry (the state of strangers): to make room for another it forgets
// the one that expires soonest. Keys without an expiry are never evicted.
type PasswordAttempts struct {
	mu       sync.Mutex
	capacity int
	attempts map[string]*attemptEntry
	// expiring orders the keys with an expiry, soonest first.
	expiring attemptHeap
}

// DefaultPasswordAttemptsCapacity is how many keys with an expiry NewPasswordAttempts
// keeps: about 10 MB of strangers.
const DefaultPasswordAttemptsCapacity = 1 << 16

var (
	_ password.CredentialStore = (*Password)(nil)
	_ password.AttemptStore    = (*PasswordAttempts)(nil)
)

// NewPassword returns an empty credential store. Records never expire, so Options
// is accepted for uniformity only.
func NewPassword(Options) *Password {
	return &Password{records: map[string]password.Record{}}
}

// NewPasswordAttempts returns an empty attempt store that keeps at most
// DefaultPasswordAttemptsCapacity keys with an expiry. Expiry is measured against the
// times the Service passes in, so Options is accepted for uniformity only.
func NewPasswordAttempts(opts Options) *PasswordAttempts {
	return NewPasswordAttemptsCapacity(opts, DefaultPasswordAttemptsCapacity)
}

// NewPasswordAttemptsCapacity is NewPasswordAttempts keeping at most capacity keys
// with an expiry (at least 1).
func NewPasswordAttemptsCapacity(_ Options, capacity int) *PasswordAttempts {
	return &PasswordAttempts{capacity: max(capacity, 1), attempts: map[string]*attemptEntry{}}
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
	if e := s.attempts[key]; e != nil {
		return e.Attempts, nil
	}
	return password.Attempts{}, nil
}

// AddFailure implements password.AttemptStore.
func (s *PasswordAttempts) AddFailure(ctx context.Context, key string, limit int, at, expires time.Time) (password.Attempts, error) {
	if err := ctx.Err(); err != nil {
		return password.Attempts{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Forget what has expired by the caller's clock.
	for len(s.expiring) > 0 && !at.Before(s.expiring[0].Expires) {
		s.remove(s.expiring[0])
	}
	e := s.attempts[key]
	if e == nil {
		e = &attemptEntry{key: key, index: -1}
	}
	if e.Failures >= limit {
		return e.Attempts, password.ErrFailureLimit
	}
	e.Failures++
	e.Last, e.Expires = at, expires
	s.attempts[key] = e
	switch {
	case expires.IsZero() && e.index >= 0:
		heap.Remove(&s.expiring, e.index)
	case expires.IsZero():
	case e.index >= 0:
		heap.Fix(&s.expiring, e.index)
	default:
		// Make room by forgetting what expires soonest.
		for len(s.expiring) >= s.capacity {
			s.remove(s.expiring[0])
		}
		heap.Push(&s.expiring, e)
	}
	return e.Attempts, nil
}

// Reset implements password.AttemptStore.
func (s *PasswordAttempts) Reset(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.attempts[key]; e != nil {
		s.remove(e)
	}
	return nil
}

// remove forgets e; the caller holds mu.
func (s *PasswordAttempts) remove(e *attemptEntry) {
	delete(s.attempts, e.key)
	if e.index >= 0 {
		heap.Remove(&s.expiring, e.index)
	}
}

// attemptEntry is one key's state and its place in the expiry heap (-1: none).
type attemptEntry struct {
	password.Attempts
	key   string
	index int
}

// attemptHeap is a min-heap of entries with an expiry, by Expires.
type attemptHeap []*attemptEntry

func (h attemptHeap) Len() int           { return len(h) }
func (h attemptHeap) Less(i, j int) bool { return h[i].Expires.Before(h[j].Expires) }
func (h attemptHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *attemptHeap) Push(x any) {
	e := x.(*attemptEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *attemptHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}
