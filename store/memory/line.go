package memory

import (
	"context"
	"sync"

	"github.com/carrierguard/carrierguard/line"
)

// Lines is the in-memory line.Store.
type Lines struct {
	mu    sync.Mutex
	lines map[string]line.Binding // by number
}

var _ line.Store = (*Lines)(nil)

// NewLines returns an empty in-memory line store. Options is taken for symmetry with the
// other stores; bindings do not expire.
func NewLines(Options) *Lines { return &Lines{lines: make(map[string]line.Binding)} }

// Bind implements line.Store.
func (s *Lines) Bind(ctx context.Context, b line.Binding) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.lines[b.Number]; ok {
		if cur.Subscriber != b.Subscriber {
			return line.ErrTaken
		}
		return nil
	}
	s.lines[b.Number] = b
	return nil
}

// Line implements line.Store.
func (s *Lines) Line(ctx context.Context, number string) (line.Binding, error) {
	if err := ctx.Err(); err != nil {
		return line.Binding{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.lines[number]
	if !ok {
		return line.Binding{}, line.ErrNotFound
	}
	return b, nil
}

// Unbind implements line.Store.
func (s *Lines) Unbind(ctx context.Context, number, subscriber string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.lines[number]; !ok || b.Subscriber != subscriber {
		return line.ErrNotFound
	}
	delete(s.lines, number)
	return nil
}
