package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/questions"
)

func questionRecord(sub string, version uint64) questions.Record {
	ans := make([]questions.SealedAnswer, 3)
	for i := range ans {
		ans[i] = questions.SealedAnswer{
			QuestionID: fmt.Sprintf("q-%d", i),
			Question:   fmt.Sprintf("Question %d?", i),
			Custom:     i == 2,
			Sealed:     []byte(fmt.Sprintf("sealed-%s-%d-%d", sub, version, i)),
		}
	}
	return questions.Record{Subscriber: sub, Version: version, Answers: ans, UpdatedAt: Epoch}
}

// TestQuestionAnswers checks a questions.AnswerStore: the ErrNotFound miss, versioned
// puts with ErrConflict, copies in and out, isolation between subscribers, deletes of
// one version only, and that of many concurrent puts of the same next version exactly
// one wins.
func TestQuestionAnswers(t *testing.T, newStore func(t *testing.T, now func() time.Time) questions.AnswerStore) {
	ctx := context.Background()

	t.Run("MissIsErrNotFound", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		if _, err := s.Get(ctx, "sub-1"); !errors.Is(err, questions.ErrNotFound) {
			t.Fatalf("Get of unknown subscriber: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("PutThenGet", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		want := questionRecord("sub-1", 1)
		if err := s.Put(ctx, want); err != nil {
			t.Fatalf("Put v1: %v", err)
		}
		got, err := s.Get(ctx, "sub-1")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		assertRecord(t, got, want)
	})

	t.Run("Versions", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		if err := s.Put(ctx, questionRecord("sub-1", 2)); !errors.Is(err, questions.ErrConflict) {
			t.Fatalf("Put v2 with no record: err = %v, want ErrConflict", err)
		}
		if err := s.Put(ctx, questionRecord("sub-1", 1)); err != nil {
			t.Fatalf("Put v1: %v", err)
		}
		if err := s.Put(ctx, questionRecord("sub-1", 1)); !errors.Is(err, questions.ErrConflict) {
			t.Fatalf("second Put v1: err = %v, want ErrConflict", err)
		}
		if err := s.Put(ctx, questionRecord("sub-1", 3)); !errors.Is(err, questions.ErrConflict) {
			t.Fatalf("Put v3 over v1: err = %v, want ErrConflict", err)
		}
		v2 := questionRecord("sub-1", 2)
		if err := s.Put(ctx, v2); err != nil {
			t.Fatalf("Put v2: %v", err)
		}
		got, err := s.Get(ctx, "sub-1")
		if err != nil {
			t.Fatal(err)
		}
		assertRecord(t, got, v2)
	})

	t.Run("Copies", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		rec := questionRecord("sub-1", 1)
		want := questionRecord("sub-1", 1)
		if err := s.Put(ctx, rec); err != nil {
			t.Fatal(err)
		}
		rec.Answers[0].Sealed[0] ^= 0xff
		rec.Answers[1].QuestionID = "changed"
		got, err := s.Get(ctx, "sub-1")
		if err != nil {
			t.Fatal(err)
		}
		assertRecord(t, got, want)
		got.Answers[0].Sealed[0] ^= 0xff
		got.Answers[2].Question = "changed"
		again, err := s.Get(ctx, "sub-1")
		if err != nil {
			t.Fatal(err)
		}
		assertRecord(t, again, want)
	})

	t.Run("Isolation", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		a, b := questionRecord("sub-a", 1), questionRecord("sub-b", 1)
		if err := s.Put(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "sub-b"); !errors.Is(err, questions.ErrNotFound) {
			t.Fatalf("Get sub-b after Put sub-a: err = %v, want ErrNotFound", err)
		}
		if err := s.Put(ctx, b); err != nil {
			t.Fatalf("Put sub-b v1 beside sub-a: %v", err)
		}
		got, err := s.Get(ctx, "sub-a")
		if err != nil {
			t.Fatal(err)
		}
		assertRecord(t, got, a)
	})

	t.Run("DeleteOnlyThatVersion", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		if err := s.Delete(ctx, "sub-1", 1); !errors.Is(err, questions.ErrNotFound) {
			t.Fatalf("Delete with no record: err = %v, want ErrNotFound", err)
		}
		v1, other := questionRecord("sub-1", 1), questionRecord("sub-2", 1)
		for _, r := range []questions.Record{v1, other} {
			if err := s.Put(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		for _, v := range []uint64{0, 2} {
			if err := s.Delete(ctx, "sub-1", v); !errors.Is(err, questions.ErrConflict) {
				t.Fatalf("Delete v%d over v1: err = %v, want ErrConflict", v, err)
			}
		}
		got, err := s.Get(ctx, "sub-1")
		if err != nil {
			t.Fatalf("Get after refused deletes: %v", err)
		}
		assertRecord(t, got, v1)
		if err := s.Delete(ctx, "sub-1", 1); err != nil {
			t.Fatalf("Delete v1: %v", err)
		}
		if _, err := s.Get(ctx, "sub-1"); !errors.Is(err, questions.ErrNotFound) {
			t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
		}
		if got, err := s.Get(ctx, "sub-2"); err != nil {
			t.Fatalf("Get of another subscriber after Delete: %v", err)
		} else {
			assertRecord(t, got, other)
		}
		// A deleted record can be enrolled again from version 1.
		if err := s.Put(ctx, v1); err != nil {
			t.Fatalf("Put v1 after Delete: %v", err)
		}
	})

	t.Run("ConcurrentPutOnce", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		if err := s.Put(ctx, questionRecord("sub-1", 1)); err != nil {
			t.Fatal(err)
		}
		errs := ExactlyOnce(t, Contenders, func(int) error { return s.Put(ctx, questionRecord("sub-1", 2)) })
		for _, err := range errs {
			if !errors.Is(err, questions.ErrConflict) {
				t.Fatalf("losing Put: err = %v, want ErrConflict", err)
			}
		}
	})
}

func assertRecord(t *testing.T, got, want questions.Record) {
	t.Helper()
	if got.Subscriber != want.Subscriber || got.Version != want.Version || !got.UpdatedAt.Equal(want.UpdatedAt) || len(got.Answers) != len(want.Answers) {
		t.Fatalf("record = %s v%d at %v with %d answers, want %s v%d at %v with %d answers",
			got.Subscriber, got.Version, got.UpdatedAt, len(got.Answers), want.Subscriber, want.Version, want.UpdatedAt, len(want.Answers))
	}
	for i := range want.Answers {
		g, w := got.Answers[i], want.Answers[i]
		if g.QuestionID != w.QuestionID || g.Question != w.Question || g.Custom != w.Custom || !bytes.Equal(g.Sealed, w.Sealed) {
			t.Fatalf("answer %d = %+v, want %+v", i, g, w)
		}
	}
}

// TestQuestionAttempts checks a questions.AttemptStore: charging up to the limit, the
// sliding window measured from the times passed in, refunds, clearing, isolation, and
// that concurrent charges never exceed the limit.
func TestQuestionAttempts(t *testing.T, newStore func(t *testing.T, now func() time.Time) questions.AttemptStore) {
	ctx := context.Background()
	const window = 24 * time.Hour

	charge := func(t *testing.T, s questions.AttemptStore, sub string, at time.Time, wantN int, wantOK bool) {
		t.Helper()
		n, ok, err := s.Charge(ctx, sub, at, window, 3)
		if err != nil {
			t.Fatalf("Charge: %v", err)
		}
		if n != wantN || ok != wantOK {
			t.Fatalf("Charge at %v = (%d, %v), want (%d, %v)", at.Sub(Epoch), n, ok, wantN, wantOK)
		}
	}

	t.Run("Limit", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		charge(t, s, "sub-1", Epoch, 1, true)
		charge(t, s, "sub-1", Epoch.Add(time.Minute), 2, true)
		charge(t, s, "sub-1", Epoch.Add(2*time.Minute), 3, true)
		charge(t, s, "sub-1", Epoch.Add(3*time.Minute), 3, false)
		charge(t, s, "sub-1", Epoch.Add(4*time.Minute), 3, false)
	})

	t.Run("Window", func(t *testing.T) {
		clock := NewClock()
		s := newStore(t, clock.Now)
		charge(t, s, "sub-1", Epoch, 1, true)
		charge(t, s, "sub-1", Epoch.Add(time.Hour), 2, true)
		charge(t, s, "sub-1", Epoch.Add(2*time.Hour), 3, true)
		charge(t, s, "sub-1", Epoch.Add(window-time.Second), 3, false)
		// The first attempt leaves the window at exactly Epoch+window.
		clock.Advance(window)
		charge(t, s, "sub-1", Epoch.Add(window), 3, true)
		charge(t, s, "sub-1", Epoch.Add(window+time.Minute), 3, false)
		charge(t, s, "sub-1", Epoch.Add(3*window), 1, true)
	})

	t.Run("Refund", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		charge(t, s, "sub-1", Epoch, 1, true)
		charge(t, s, "sub-1", Epoch.Add(time.Minute), 2, true)
		if err := s.Refund(ctx, "sub-1", Epoch.Add(time.Minute)); err != nil {
			t.Fatalf("Refund: %v", err)
		}
		if err := s.Refund(ctx, "sub-1", Epoch.Add(time.Hour)); err != nil {
			t.Fatalf("Refund of nothing: %v", err)
		}
		if err := s.Refund(ctx, "sub-unknown", Epoch); err != nil {
			t.Fatalf("Refund for unknown subscriber: %v", err)
		}
		charge(t, s, "sub-1", Epoch.Add(2*time.Minute), 2, true)
	})

	t.Run("RefundOnlyOne", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		charge(t, s, "sub-1", Epoch, 1, true)
		charge(t, s, "sub-1", Epoch, 2, true)
		if err := s.Refund(ctx, "sub-1", Epoch); err != nil {
			t.Fatal(err)
		}
		charge(t, s, "sub-1", Epoch.Add(time.Minute), 2, true)
	})

	t.Run("Clear", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		for i := range 3 {
			charge(t, s, "sub-1", Epoch.Add(time.Duration(i)*time.Minute), i+1, true)
		}
		if err := s.Clear(ctx, "sub-1"); err != nil {
			t.Fatalf("Clear: %v", err)
		}
		if err := s.Clear(ctx, "sub-unknown"); err != nil {
			t.Fatalf("Clear of unknown subscriber: %v", err)
		}
		charge(t, s, "sub-1", Epoch.Add(5*time.Minute), 1, true)
	})

	t.Run("Isolation", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		for i := range 3 {
			charge(t, s, "sub-a", Epoch.Add(time.Duration(i)*time.Minute), i+1, true)
		}
		charge(t, s, "sub-b", Epoch.Add(5*time.Minute), 1, true)
		if err := s.Clear(ctx, "sub-b"); err != nil {
			t.Fatal(err)
		}
		charge(t, s, "sub-a", Epoch.Add(6*time.Minute), 3, false)
	})

	t.Run("ConcurrentChargesRespectLimit", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		var ok atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range Contenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, won, err := s.Charge(ctx, "sub-1", Epoch.Add(time.Duration(i)*time.Millisecond), window, 3)
				if err != nil {
					t.Errorf("Charge: %v", err)
				}
				if won {
					ok.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if got := ok.Load(); got != 3 {
			t.Fatalf("%d of %d concurrent charges succeeded with limit 3, want 3", got, Contenders)
		}
	})
}
