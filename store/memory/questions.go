package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/questions"
)

// QuestionAnswers is an in-memory questions.AnswerStore.
type QuestionAnswers struct {
	mu   sync.Mutex
	recs map[string]questions.Record
}

var _ questions.AnswerStore = (*QuestionAnswers)(nil)

// NewQuestionAnswers returns an empty store. Records never expire, so opts is unused;
// it is taken for uniformity with the other stores.
func NewQuestionAnswers(opts Options) *QuestionAnswers {
	_ = opts
	return &QuestionAnswers{recs: make(map[string]questions.Record)}
}

func copyQuestionRecord(r questions.Record) questions.Record {
	out := r
	out.Answers = make([]questions.SealedAnswer, len(r.Answers))
	for i, a := range r.Answers {
		a.Sealed = append([]byte(nil), a.Sealed...)
		out.Answers[i] = a
	}
	return out
}

// Get returns a copy of the subscriber's record.
func (s *QuestionAnswers) Get(ctx context.Context, subscriber string) (questions.Record, error) {
	if err := ctx.Err(); err != nil {
		return questions.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[subscriber]
	if !ok {
		return questions.Record{}, questions.ErrNotFound
	}
	return copyQuestionRecord(r), nil
}

// Put stores a copy of rec if it is the next version.
func (s *QuestionAnswers) Put(ctx context.Context, rec questions.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.recs[rec.Subscriber]
	switch {
	case !ok && rec.Version != 1:
		return fmt.Errorf("%w: no record, so the version must be 1 (got %d)", questions.ErrConflict, rec.Version)
	case ok && rec.Version != cur.Version+1:
		return fmt.Errorf("%w: stored version is %d, so the next is %d (got %d)", questions.ErrConflict, cur.Version, cur.Version+1, rec.Version)
	}
	s.recs[rec.Subscriber] = copyQuestionRecord(rec)
	return nil
}

// Delete removes the subscriber's record if it is at version.
func (s *QuestionAnswers) Delete(ctx context.Context, subscriber string, version uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.recs[subscriber]
	switch {
	case !ok:
		return questions.ErrNotFound
	case cur.Version != version:
		return fmt.Errorf("%w: stored version is %d, not %d", questions.ErrConflict, cur.Version, version)
	}
	delete(s.recs, subscriber)
	return nil
}

// QuestionAttempts is an in-memory questions.AttemptStore.
type QuestionAttempts struct {
	mu       sync.Mutex
	attempts map[string][]time.Time
}

var _ questions.AttemptStore = (*QuestionAttempts)(nil)

// NewQuestionAttempts returns an empty store. Windows are measured from the times
// passed to Charge, so opts is unused; it is taken for uniformity.
func NewQuestionAttempts(opts Options) *QuestionAttempts {
	_ = opts
	return &QuestionAttempts{attempts: make(map[string][]time.Time)}
}

// Charge records an attempt at at if fewer than limit were recorded after at-window.
func (s *QuestionAttempts) Charge(ctx context.Context, subscriber string, at time.Time, window time.Duration, limit int) (int, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cutoff := at.Add(-window)
	kept := s.attempts[subscriber][:0]
	for _, t := range s.attempts[subscriber] {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	n := len(kept)
	if n >= limit {
		s.attempts[subscriber] = kept
		return n, false, nil
	}
	s.attempts[subscriber] = append(kept, at)
	return n + 1, true, nil
}

// Refund removes one attempt recorded at exactly at.
func (s *QuestionAttempts) Refund(ctx context.Context, subscriber string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.attempts[subscriber]
	for i, t := range list {
		if t.Equal(at) {
			s.attempts[subscriber] = append(list[:i], list[i+1:]...)
			break
		}
	}
	return nil
}

// Clear forgets every attempt of subscriber.
func (s *QuestionAttempts) Clear(ctx context.Context, subscriber string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.attempts, subscriber)
	return nil
}
