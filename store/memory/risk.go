package memory

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/risk"
)

var (
	_ risk.ProfileStore = (*RiskProfiles)(nil)
	_ risk.GlobalStore  = (*RiskGlobal)(nil)
)

// RiskProfiles is an in-memory risk.ProfileStore. Each profile is a fixed-size value
// (see risk.Profile), so memory grows with the number of subscribers only; provisional
// profiles (not risk.Profile.Established: what strangers' attempts create) are bounded
// by PruneProfiles, which the risk service calls with its Config.MaxStrangers.
type RiskProfiles struct {
	mu sync.RWMutex
	m  map[string]*risk.Profile
	// strangers lists the provisional profiles' subscribers in the order they were last
	// stored, least recent first; byName finds a subscriber's element. Established
	// profiles are not in it, so they cost nothing extra and are never pruned.
	strangers list.List
	byName    map[string]*list.Element
	// spare is the profile an update last replaced, reused by the next update so that
	// updating a known subscriber does not allocate a new Profile (about 6.8 KB).
	spare *risk.Profile
}

// NewRiskProfiles returns an empty store. Options are accepted for symmetry: profiles
// expire only through PruneProfiles, with the times the risk service passes in.
func NewRiskProfiles(Options) *RiskProfiles {
	return &RiskProfiles{m: map[string]*risk.Profile{}, byName: map[string]*list.Element{}}
}

// Len returns how many profiles the store holds, established and provisional.
func (s *RiskProfiles) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

// LoadProfile implements risk.ProfileStore.
func (s *RiskProfiles) LoadProfile(ctx context.Context, subscriber string, dst *risk.Profile) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.m[subscriber]
	if !ok {
		return risk.ErrNotFound
	}
	*dst = *p
	return nil
}

// UpdateProfile implements risk.ProfileStore. fn runs under the store's lock, on a copy
// that replaces the stored profile only if fn succeeds; fn must not keep the pointer.
func (s *RiskProfiles) UpdateProfile(ctx context.Context, subscriber string, fn func(*risk.Profile) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.spare
	if next == nil {
		next = new(risk.Profile)
	}
	s.spare = nil
	p, ok := s.m[subscriber]
	if ok {
		*next = *p
	} else {
		*next = risk.Profile{}
	}
	if err := fn(next); err != nil {
		s.spare = next
		return err
	}
	s.m[subscriber] = next
	if ok {
		s.spare = p
	}
	el, listed := s.byName[subscriber]
	switch {
	case next.Established() && listed:
		s.strangers.Remove(el)
		delete(s.byName, subscriber)
	case next.Established():
	case listed:
		s.strangers.MoveToBack(el)
	default:
		s.byName[subscriber] = s.strangers.PushBack(subscriber)
	}
	return nil
}

// PruneProfiles implements risk.ProfileStore. Provisional profiles are kept in the order
// they were last stored, so pruning takes them from the front: it stops at the first
// one seen at or after seenBefore once at most keep remain, in time proportional to what
// it deletes.
func (s *RiskProfiles) PruneProfiles(ctx context.Context, seenBefore time.Time, keep int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for el := s.strangers.Front(); el != nil; el = s.strangers.Front() {
		sub := el.Value.(string)
		if s.strangers.Len() <= max(keep, 0) && !s.m[sub].LastSeen().Before(seenBefore) {
			break
		}
		s.strangers.Remove(el)
		delete(s.byName, sub)
		delete(s.m, sub)
		n++
	}
	return n, nil
}

// RiskGlobal is an in-memory risk.GlobalStore with exact counts. It keeps one counter per
// distinct feature value ever seen, so its memory grows with the population's variety
// (distinct IP addresses mostly); a carrier-scale deployment would use a sketch.
type RiskGlobal struct {
	mu          sync.RWMutex
	subscribers uint64
	logins      uint64
	total       [risk.NumFeatures]uint64
	counts      [risk.NumFeatures]map[uint64]uint64
}

// NewRiskGlobal returns an empty store. Options are accepted for symmetry; no count expires.
func NewRiskGlobal(Options) *RiskGlobal {
	g := &RiskGlobal{}
	for i := range g.counts {
		g.counts[i] = map[uint64]uint64{}
	}
	return g
}

// GlobalStats implements risk.GlobalStore.
func (g *RiskGlobal) GlobalStats(ctx context.Context, keys *risk.Keys) (risk.GlobalStats, error) {
	var st risk.GlobalStats
	if err := ctx.Err(); err != nil {
		return st, err
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	st.Subscribers, st.Logins, st.Total = g.subscribers, g.logins, g.total
	for f, k := range keys {
		st.Distinct[f] = uint64(len(g.counts[f]))
		if k != 0 {
			st.Count[f] = g.counts[f][k]
		}
	}
	return st, nil
}

// AddLogin implements risk.GlobalStore.
func (g *RiskGlobal) AddLogin(ctx context.Context, keys *risk.Keys, firstLogin bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.logins++
	if firstLogin {
		g.subscribers++
	}
	for f, k := range keys {
		if k != 0 {
			g.total[f]++
			g.counts[f][k]++
		}
	}
	return nil
}
