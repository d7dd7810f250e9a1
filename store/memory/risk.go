package memory

import (
	"context"
	"sync"

	"github.com/carrierguard/carrierguard/risk"
)

var (
	_ risk.ProfileStore = (*RiskProfiles)(nil)
	_ risk.GlobalStore  = (*RiskGlobal)(nil)
)

// RiskProfiles is an in-memory risk.ProfileStore. Each profile is a fixed-size value
// (see risk.Profile), so memory grows with the number of subscribers only.
type RiskProfiles struct {
	mu sync.RWMutex
	m  map[string]*risk.Profile
	// spare is the profile an update last replaced, reused by the next update so that
	// updating a known subscriber does not allocate a new Profile (about 6.7 KB).
	spare *risk.Profile
}

// NewRiskProfiles returns an empty store. Options are accepted for symmetry; profiles
// do not expire.
func NewRiskProfiles(Options) *RiskProfiles {
	return &RiskProfiles{m: map[string]*risk.Profile{}}
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
	return nil
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
