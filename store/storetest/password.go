package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/password"
)

// TestPasswordCredentials checks a password.CredentialStore: sentinels, create and
// change with history trimming, compare-and-swap under contention, rehash, compromise
// marking, single-claim notices, copies and isolation between subscribers.
func TestPasswordCredentials(t *testing.T, newStore func(t *testing.T, now func() time.Time) password.CredentialStore) {
	ctx := context.Background()
	t.Run("missing", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		if _, err := s.Get(ctx, "nobody"); !errors.Is(err, password.ErrNotFound) {
			t.Errorf("Get: got %v, want ErrNotFound", err)
		}
		if err := s.Set(ctx, "nobody", "h0", "h1", Epoch, 4); !errors.Is(err, password.ErrNotFound) {
			t.Errorf("Set with prev: got %v, want ErrNotFound", err)
		}
		if err := s.Rehash(ctx, "nobody", "h0", "h1"); !errors.Is(err, password.ErrNotFound) {
			t.Errorf("Rehash: got %v, want ErrNotFound", err)
		}
		if err := s.MarkCompromised(ctx, "nobody"); !errors.Is(err, password.ErrNotFound) {
			t.Errorf("MarkCompromised: got %v, want ErrNotFound", err)
		}
		if _, err := s.ClaimNotice(ctx, "nobody", "n"); !errors.Is(err, password.ErrNotFound) {
			t.Errorf("ClaimNotice: got %v, want ErrNotFound", err)
		}
	})
	t.Run("create, change, history", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		mustSet(t, s, "alice", "", "h1", Epoch, 2)
		if err := s.Set(ctx, "alice", "", "other", Epoch, 2); !errors.Is(err, password.ErrExists) {
			t.Fatalf("second create: got %v, want ErrExists", err)
		}
		r := mustGet(t, s, "alice")
		if r.Hash != "h1" || !r.ChangedAt.Equal(Epoch) || len(r.History) != 0 || r.MustChange || r.Notice != "" {
			t.Fatalf("after create: %+v", r)
		}
		if err := s.Set(ctx, "alice", "stale", "h2", Epoch, 2); !errors.Is(err, password.ErrConflict) {
			t.Fatalf("Set with wrong prev: got %v, want ErrConflict", err)
		}
		if r := mustGet(t, s, "alice"); r.Hash != "h1" {
			t.Fatalf("failed Set changed the record: %+v", r)
		}
		for i, h := range []string{"h2", "h3", "h4"} {
			mustSet(t, s, "alice", []string{"h1", "h2", "h3"}[i], h, Epoch.Add(time.Duration(i+1)*time.Hour), 2)
		}
		r = mustGet(t, s, "alice")
		if r.Hash != "h4" || !r.ChangedAt.Equal(Epoch.Add(3*time.Hour)) {
			t.Fatalf("after changes: %+v", r)
		}
		if len(r.History) != 2 || r.History[0] != "h3" || r.History[1] != "h2" {
			t.Fatalf("History = %q, want [h3 h2] (newest first, cut to keep)", r.History)
		}
		mustSet(t, s, "alice", "h4", "h5", Epoch, 0)
		if r := mustGet(t, s, "alice"); len(r.History) != 0 {
			t.Fatalf("keep 0 left History %q", r.History)
		}
	})
	t.Run("copies", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		mustSet(t, s, "alice", "", "h1", Epoch, 3)
		mustSet(t, s, "alice", "h1", "h2", Epoch, 3)
		r := mustGet(t, s, "alice")
		r.History[0] = "mutated"
		if r := mustGet(t, s, "alice"); r.History[0] != "h1" {
			t.Fatalf("store shares History with callers: %q", r.History)
		}
	})
	t.Run("rehash", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		mustSet(t, s, "alice", "", "h1", Epoch, 3)
		mustSet(t, s, "alice", "h1", "h2", Epoch.Add(time.Hour), 3)
		if err := s.MarkCompromised(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if err := s.Rehash(ctx, "alice", "h1", "x"); !errors.Is(err, password.ErrConflict) {
			t.Fatalf("Rehash with wrong prev: got %v, want ErrConflict", err)
		}
		if err := s.Rehash(ctx, "alice", "h2", "h2'"); err != nil {
			t.Fatal(err)
		}
		r := mustGet(t, s, "alice")
		if r.Hash != "h2'" || !r.ChangedAt.Equal(Epoch.Add(time.Hour)) || !r.MustChange || len(r.History) != 1 || r.History[0] != "h1" {
			t.Fatalf("Rehash changed more than the hash: %+v", r)
		}
	})
	t.Run("compromise and notices", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		mustSet(t, s, "alice", "", "h1", Epoch, 3)
		if err := s.MarkCompromised(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if !mustGet(t, s, "alice").MustChange {
			t.Fatal("MarkCompromised did not set MustChange")
		}
		for _, c := range []struct {
			notice string
			want   bool
		}{{"a", true}, {"a", false}, {"b", true}, {"b", false}} {
			got, err := s.ClaimNotice(ctx, "alice", c.notice)
			if err != nil || got != c.want {
				t.Fatalf("ClaimNotice(%q) = %v, %v; want %v", c.notice, got, err, c.want)
			}
		}
		if _, err := s.ClaimNotice(ctx, "alice", ""); err != nil {
			t.Fatalf("clearing a notice: %v", err)
		}
		if got, _ := s.ClaimNotice(ctx, "alice", "b"); !got {
			t.Fatal("a cleared notice cannot be claimed again")
		}
		mustSet(t, s, "alice", "h1", "h2", Epoch, 3)
		r := mustGet(t, s, "alice")
		if r.MustChange || r.Notice != "" {
			t.Fatalf("Set did not clear MustChange and Notice: %+v", r)
		}
		if got, _ := s.ClaimNotice(ctx, "alice", "b"); !got {
			t.Fatal("a notice claimed before a change cannot be claimed after it")
		}
	})
	t.Run("isolation", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		mustSet(t, s, "alice", "", "ha", Epoch, 3)
		mustSet(t, s, "bob", "", "hb", Epoch, 3)
		if err := s.MarkCompromised(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClaimNotice(ctx, "alice", "n"); err != nil {
			t.Fatal(err)
		}
		r := mustGet(t, s, "bob")
		if r.Hash != "hb" || r.MustChange || r.Notice != "" {
			t.Fatalf("bob affected by alice: %+v", r)
		}
		if err := s.Set(ctx, "bob", "ha", "x", Epoch, 3); !errors.Is(err, password.ErrConflict) {
			t.Fatalf("alice's hash accepted as bob's prev: %v", err)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		errs := ExactlyOnce(t, Contenders, func(i int) error {
			return s.Set(ctx, "alice", "", "first", Epoch, 3)
		})
		for _, err := range errs {
			if !errors.Is(err, password.ErrExists) {
				t.Fatalf("losing create: got %v, want ErrExists", err)
			}
		}
		errs = ExactlyOnce(t, Contenders, func(i int) error {
			return s.Set(ctx, "alice", "first", "second", Epoch, 3)
		})
		for _, err := range errs {
			if !errors.Is(err, password.ErrConflict) {
				t.Fatalf("losing change: got %v, want ErrConflict", err)
			}
		}
		if r := mustGet(t, s, "alice"); len(r.History) != 1 {
			t.Fatalf("History after one change = %q", r.History)
		}
		errNotFirst := errors.New("not first")
		ExactlyOnce(t, Contenders, func(i int) error {
			ok, err := s.ClaimNotice(ctx, "alice", "rotation")
			if err != nil {
				return err
			}
			if !ok {
				return errNotFirst
			}
			return nil
		})
	})
}

// TestPasswordAttempts checks a password.AttemptStore: zero state for unknown keys,
// counting with the time of the last failure, the limit (also under contention), reset,
// isolation between keys, and expiry measured against the times passed in. See also
// TestPasswordAttemptsBounded.
func TestPasswordAttempts(t *testing.T, newStore func(t *testing.T, now func() time.Time) password.AttemptStore) {
	ctx := context.Background()
	t.Run("count, limit, reset", func(t *testing.T) {
		clock := NewClock()
		s := newStore(t, clock.Now)
		if a, err := s.Failures(ctx, "k"); err != nil || a.Failures != 0 {
			t.Fatalf("unknown key: %+v, %v", a, err)
		}
		for i := 1; i <= 3; i++ {
			clock.Advance(time.Minute)
			a, err := s.AddFailure(ctx, "k", 3, clock.Now(), time.Time{})
			if err != nil || a.Failures != i || !a.Last.Equal(clock.Now()) {
				t.Fatalf("AddFailure %d: %+v, %v", i, a, err)
			}
		}
		last := clock.Now()
		clock.Advance(time.Minute)
		a, err := s.AddFailure(ctx, "k", 3, clock.Now(), time.Time{})
		if !errors.Is(err, password.ErrFailureLimit) || a.Failures != 3 {
			t.Fatalf("AddFailure past limit: %+v, %v; want 3 and ErrFailureLimit", a, err)
		}
		if a, _ := s.Failures(ctx, "k"); a.Failures != 3 || !a.Last.Equal(last) {
			t.Fatalf("refused AddFailure changed the state: %+v", a)
		}
		clock.Advance(1000 * time.Hour)
		if a, _ := s.Failures(ctx, "k"); a.Failures != 3 {
			t.Fatalf("failures expired with time: %+v", a)
		}
		if err := s.Reset(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.Failures(ctx, "k"); a.Failures != 0 {
			t.Fatalf("after Reset: %+v", a)
		}
		if err := s.Reset(ctx, "never-seen"); err != nil {
			t.Fatalf("Reset of an unknown key: %v", err)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		exp := Epoch.Add(time.Hour)
		a, err := s.AddFailure(ctx, "k", 3, Epoch, exp)
		if err != nil || a.Failures != 1 || !a.Expires.Equal(exp) {
			t.Fatalf("AddFailure with expiry: %+v, %v", a, err)
		}
		if a, _ := s.Failures(ctx, "k"); !a.Expires.Equal(exp) || a.Failures != 1 {
			t.Fatalf("Failures does not return Expires: %+v", a)
		}
		// Each failure moves the expiry.
		exp2 := Epoch.Add(90 * time.Minute)
		if a, err := s.AddFailure(ctx, "k", 3, Epoch.Add(30*time.Minute), exp2); err != nil || a.Failures != 2 || !a.Expires.Equal(exp2) {
			t.Fatalf("second AddFailure: %+v, %v", a, err)
		}
		if _, err := s.AddFailure(ctx, "k", 3, Epoch.Add(31*time.Minute), exp2); err != nil {
			t.Fatal(err)
		}
		// At the limit, but expired by the time of the next failure: it starts again.
		a, err = s.AddFailure(ctx, "k", 3, exp2, exp2.Add(time.Hour))
		if err != nil || a.Failures != 1 || !a.Last.Equal(exp2) {
			t.Fatalf("AddFailure at the expiry: %+v, %v; want a fresh count of 1", a, err)
		}
		// A failure without an expiry makes the key permanent.
		if _, err := s.AddFailure(ctx, "k", 3, exp2, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if a, err := s.AddFailure(ctx, "k", 3, exp2.Add(1000*time.Hour), time.Time{}); err != nil || a.Failures != 3 || !a.Expires.IsZero() {
			t.Fatalf("a key made permanent expired: %+v, %v", a, err)
		}
	})
	t.Run("isolation", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		if _, err := s.AddFailure(ctx, "a", 10, Epoch, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.Failures(ctx, "b"); a.Failures != 0 {
			t.Fatalf("key b sees key a's failures: %+v", a)
		}
		if err := s.Reset(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.Failures(ctx, "a"); a.Failures != 1 {
			t.Fatalf("Reset(b) touched a: %+v", a)
		}
	})
	t.Run("concurrent limit", func(t *testing.T) {
		const limit = 10
		s := newStore(t, NewClock().Now)
		var ok atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range Contenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := s.AddFailure(ctx, "k", limit, Epoch, Epoch.Add(time.Hour))
				switch {
				case err == nil:
					ok.Add(1)
				case !errors.Is(err, password.ErrFailureLimit):
					t.Errorf("AddFailure: %v", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if ok.Load() != limit {
			t.Fatalf("%d of %d concurrent AddFailure calls succeeded with limit %d", ok.Load(), Contenders, limit)
		}
		if a, _ := s.Failures(ctx, "k"); a.Failures != limit {
			t.Fatalf("count = %d, want %d", a.Failures, limit)
		}
	})
}

// TestPasswordAttemptsBounded checks that a password.AttemptStore holding at most
// capacity keys with an expiry stays bounded under a flood of strangers: keys without an
// expiry (real subscribers' counts) are never evicted, the keys that expire soonest go
// first, and the newest stranger is kept. newStore must return a fresh store with that
// capacity.
func TestPasswordAttemptsBounded(t *testing.T, capacity int, newStore func(t *testing.T, now func() time.Time) password.AttemptStore) {
	ctx := context.Background()
	s := newStore(t, NewClock().Now)
	for i := range 3 {
		for range i + 1 {
			if _, err := s.AddFailure(ctx, fmt.Sprintf("s:owner-%d", i), 100, Epoch, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A long-lived client count, then a flood of short-lived strangers.
	if _, err := s.AddFailure(ctx, "c:owner-0:203.0.113.9", 10, Epoch, Epoch.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	flood := 4*capacity + 10
	for i := range flood {
		at := Epoch.Add(time.Duration(i) * time.Millisecond)
		if _, err := s.AddFailure(ctx, fmt.Sprintf("s:stranger-%d", i), 100, at, at.Add(24*time.Hour)); err != nil {
			t.Fatalf("stranger %d: %v", i, err)
		}
	}
	for i := range 3 {
		if a, _ := s.Failures(ctx, fmt.Sprintf("s:owner-%d", i)); a.Failures != i+1 {
			t.Errorf("owner-%d's count was evicted by strangers: %+v", i, a)
		}
	}
	if a, _ := s.Failures(ctx, "c:owner-0:203.0.113.9"); a.Failures != 1 && capacity > 1 {
		t.Errorf("a client count that expires in 30 days went before strangers that expire in a day: %+v", a)
	}
	if a, _ := s.Failures(ctx, fmt.Sprintf("s:stranger-%d", flood-1)); a.Failures != 1 {
		t.Errorf("the newest stranger was not kept: %+v", a)
	}
	if a, _ := s.Failures(ctx, "s:stranger-0"); a.Failures != 0 {
		t.Errorf("the oldest of %d strangers is still held with capacity %d: %+v", flood, capacity, a)
	}
	held := 0
	for i := range flood {
		if a, _ := s.Failures(ctx, fmt.Sprintf("s:stranger-%d", i)); a.Failures > 0 {
			held++
		}
	}
	if held > capacity {
		t.Errorf("%d strangers held, capacity %d", held, capacity)
	}
}

func mustSet(t *testing.T, s password.CredentialStore, sub, prev, next string, at time.Time, keep int) {
	t.Helper()
	if err := s.Set(context.Background(), sub, prev, next, at, keep); err != nil {
		t.Fatalf("Set(%s, %s -> %s): %v", sub, prev, next, err)
	}
}

func mustGet(t *testing.T, s password.CredentialStore, sub string) password.Record {
	t.Helper()
	r, err := s.Get(context.Background(), sub)
	if err != nil {
		t.Fatalf("Get(%s): %v", sub, err)
	}
	return r
}
