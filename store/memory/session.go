package memory

import (
	"context"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/session"
)

// Session is the in-memory session.Store.
type Session struct {
	now    func() time.Time
	mu     sync.Mutex
	byID   map[string]*session.Record
	byHash map[session.TokenHash]string
	bySub  map[string]map[string]struct{}
	// creates counts Create calls; every sessionSweepEvery of them, expired sessions nobody
	// presents again are dropped, so abandoned sessions do not pile up.
	creates int
	// pending are the pending sign-ins (session.PendingStore), by ID.
	pending map[string]session.Pending
}

const sessionSweepEvery = 1024

var (
	_ session.Store    = (*Session)(nil)
	_ session.Tokens   = (*Session)(nil)
	_ session.Registry = (*Session)(nil)
)

// NewSession returns an empty in-memory session store.
func NewSession(opts Options) *Session {
	return &Session{
		now:    opts.clock(),
		byID:   make(map[string]*session.Record),
		byHash: make(map[session.TokenHash]string),
		bySub:  make(map[string]map[string]struct{}),
	}
}

func live(r *session.Record, now time.Time) bool {
	return now.Before(r.ExpiresAt) && now.Before(r.IdleExpiresAt)
}

// drop deletes r; the caller holds mu.
func (s *Session) drop(r *session.Record) {
	delete(s.byID, r.ID)
	delete(s.byHash, r.Hash)
	if ids := s.bySub[r.Subscriber]; ids != nil {
		delete(ids, r.ID)
		if len(ids) == 0 {
			delete(s.bySub, r.Subscriber)
		}
	}
}

// Create implements session.Tokens.
func (s *Session) Create(ctx context.Context, r session.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[r.ID]; ok {
		return session.ErrConflict
	}
	if _, ok := s.byHash[r.Hash]; ok {
		return session.ErrConflict
	}
	if s.creates++; s.creates%sessionSweepEvery == 0 {
		now := s.now()
		for _, old := range s.byID {
			if !live(old, now) {
				s.drop(old)
			}
		}
	}
	rec := r
	s.byID[r.ID] = &rec
	s.byHash[r.Hash] = r.ID
	ids := s.bySub[r.Subscriber]
	if ids == nil {
		ids = make(map[string]struct{})
		s.bySub[r.Subscriber] = ids
	}
	ids[r.ID] = struct{}{}
	return nil
}

// Get implements session.Tokens.
func (s *Session) Get(ctx context.Context, h session.TokenHash) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byHash[h]
	if !ok {
		return session.Record{}, session.ErrNotFound
	}
	r := s.byID[id]
	if !live(r, now) {
		s.drop(r)
		return session.Record{}, session.ErrNotFound
	}
	return *r, nil
}

// Touch implements session.Tokens.
func (s *Session) Touch(ctx context.Context, id string, t session.Touch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok {
		return session.ErrNotFound
	}
	if !live(r, now) {
		s.drop(r)
		return session.ErrNotFound
	}
	r.LastSeenAt, r.LastIP, r.IdleExpiresAt = t.SeenAt, t.IP, t.IdleExpiresAt
	if !t.SecondFactorAt.IsZero() {
		r.SecondFactorAt = t.SecondFactorAt
	}
	if !t.PasswordAt.IsZero() {
		r.PasswordAt = t.PasswordAt
	}
	return nil
}

// List implements session.Registry.
func (s *Session) List(ctx context.Context, subscriber string) ([]session.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []session.Record
	for id := range s.bySub[subscriber] {
		r := s.byID[id]
		if !live(r, now) {
			s.drop(r)
			continue
		}
		out = append(out, *r)
	}
	return out, nil
}

// Revoke implements session.Registry.
func (s *Session) Revoke(ctx context.Context, subscriber, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok || r.Subscriber != subscriber {
		return session.ErrNotFound
	}
	s.drop(r)
	if !live(r, now) {
		return session.ErrNotFound
	}
	return nil
}

// RevokeAll implements session.Registry.
func (s *Session) RevokeAll(ctx context.Context, subscriber, except string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id := range s.bySub[subscriber] {
		if id == except {
			continue
		}
		r := s.byID[id]
		if live(r, now) {
			n++
		}
		s.drop(r)
	}
	return n, nil
}

// ClearProofs implements session.Registry.
func (s *Session) ClearProofs(ctx context.Context, subscriber, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok || r.Subscriber != subscriber {
		return session.ErrNotFound
	}
	if !live(r, now) {
		s.drop(r)
		return session.ErrNotFound
	}
	r.SecondFactorAt, r.PasswordAt = time.Time{}, time.Time{}
	return nil
}

var _ session.PendingStore = (*Session)(nil)

// PutPending implements session.PendingStore. Expired pending sign-ins are dropped on
// the way.
func (s *Session) PutPending(ctx context.Context, p session.Pending, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = make(map[string]session.Pending)
	}
	if _, ok := s.pending[p.ID]; ok {
		return session.ErrConflict
	}
	if len(s.pending)%64 == 0 {
		for id, q := range s.pending {
			if !q.ExpiresAt.After(now) {
				delete(s.pending, id)
			}
		}
	}
	s.pending[p.ID] = p
	return nil
}

// GetPending implements session.PendingStore.
func (s *Session) GetPending(ctx context.Context, id string) (session.Pending, error) {
	if err := ctx.Err(); err != nil {
		return session.Pending{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[id]
	if !ok {
		return session.Pending{}, session.ErrNotFound
	}
	return p, nil
}

// TakePending implements session.PendingStore.
func (s *Session) TakePending(ctx context.Context, id string) (session.Pending, error) {
	if err := ctx.Err(); err != nil {
		return session.Pending{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[id]
	if !ok {
		return session.Pending{}, session.ErrNotFound
	}
	delete(s.pending, id)
	return p, nil
}

// DeletePending implements session.PendingStore.
func (s *Session) DeletePending(ctx context.Context, subscriber string, until time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, p := range s.pending {
		if p.Subscriber == subscriber && !p.PasswordAt.After(until) {
			delete(s.pending, id)
			n++
		}
	}
	return n, nil
}
