package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/protection"
)

// AgentCases is the in-memory agent.CaseStore.
type AgentCases struct {
	mu    sync.Mutex
	cases map[string]agent.Case
}

var _ agent.CaseStore = (*AgentCases)(nil)

// NewAgentCases returns an empty in-memory case store. Cases expire only when the core
// says so (agent.Cases sweeps with DeleteExpiredCases); Options is taken for symmetry
// with the other stores and its clock is not read.
func NewAgentCases(Options) *AgentCases { return &AgentCases{cases: make(map[string]agent.Case)} }

// CreateCase implements agent.CaseStore.
func (s *AgentCases) CreateCase(ctx context.Context, c agent.Case) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cases[c.ID]; ok {
		return agent.ErrCaseExists
	}
	c.Evidence = slices.Clone(c.Evidence)
	s.cases[c.ID] = c
	return nil
}

// Case implements agent.CaseStore.
func (s *AgentCases) Case(ctx context.Context, id string) (agent.Case, error) {
	if err := ctx.Err(); err != nil {
		return agent.Case{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases[id]
	if !ok {
		return agent.Case{}, agent.ErrNotFound
	}
	c.Evidence = slices.Clone(c.Evidence)
	return c, nil
}

// AddEvidence implements agent.CaseStore.
func (s *AgentCases) AddEvidence(ctx context.Context, id string, ev protection.Evidence, max int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases[id]
	switch {
	case !ok:
		return agent.ErrNotFound
	case len(c.Evidence) >= max:
		return agent.ErrEvidenceFull
	}
	// A new backing array: copies handed out earlier never see the append.
	c.Evidence = append(slices.Clip(c.Evidence), ev)
	s.cases[id] = c
	return nil
}

// DeleteCase implements agent.CaseStore.
func (s *AgentCases) DeleteCase(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cases[id]; !ok {
		return agent.ErrNotFound
	}
	delete(s.cases, id)
	return nil
}

// DeleteExpiredCases implements agent.CaseStore.
func (s *AgentCases) DeleteExpiredCases(ctx context.Context, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, c := range s.cases {
		if !c.Expires.After(now) {
			delete(s.cases, id)
			n++
		}
	}
	return n, nil
}
