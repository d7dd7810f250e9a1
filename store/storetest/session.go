package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/session"
)

// TestSessionStore is the conformance suite for session.Store. newStore must return a
// fresh, empty store that measures expiry with now.
func TestSessionStore(t *testing.T, newStore func(t *testing.T, now func() time.Time) session.Store) {
	t.Helper()
	ctx := context.Background()
	setup := func(t *testing.T) (*Clock, session.Store) {
		t.Helper()
		clock := NewClock()
		return clock, newStore(t, clock.Now)
	}
	mustCreate := func(t *testing.T, st session.Store, r session.Record) {
		t.Helper()
		if err := st.Create(ctx, r); err != nil {
			t.Fatalf("Create(%s): %v", r.ID, err)
		}
	}

	t.Run("CreateGet", func(t *testing.T) {
		_, st := setup(t)
		r := sessionRecord("alice", "s1")
		r.SecondFactorAt = Epoch
		mustCreate(t, st, r)
		got, err := st.Get(ctx, r.Hash)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if !sameRecord(got, r) {
			t.Fatalf("Get returned %+v, want %+v", got, r)
		}
		if _, err := st.Get(ctx, sessionHash("nobody")); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Get(unknown) = %v, want ErrNotFound", err)
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		_, st := setup(t)
		r := sessionRecord("alice", "s1")
		mustCreate(t, st, r)
		sameID := sessionRecord("alice", "s1")
		sameID.Hash = sessionHash("other")
		if err := st.Create(ctx, sameID); !errors.Is(err, session.ErrConflict) {
			t.Errorf("Create(same ID) = %v, want ErrConflict", err)
		}
		sameHash := sessionRecord("bob", "s2")
		sameHash.Hash = r.Hash
		if err := st.Create(ctx, sameHash); !errors.Is(err, session.ErrConflict) {
			t.Errorf("Create(same hash) = %v, want ErrConflict", err)
		}
		if got, err := st.Get(ctx, r.Hash); err != nil || got.Subscriber != "alice" {
			t.Errorf("original session changed by a conflicting Create: %+v, %v", got, err)
		}
	})

	t.Run("Touch", func(t *testing.T) {
		clock, st := setup(t)
		r := sessionRecord("alice", "s1")
		r.PasswordAt = Epoch
		mustCreate(t, st, r)
		clock.Advance(50 * time.Minute)
		now := clock.Now()
		ip := netip.MustParseAddr("198.51.100.9")
		if err := st.Touch(ctx, r.ID, session.Touch{SeenAt: now, IP: ip, IdleExpiresAt: now.Add(time.Hour), SecondFactorAt: now}); err != nil {
			t.Fatalf("Touch: %v", err)
		}
		got, err := st.Get(ctx, r.Hash)
		if err != nil {
			t.Fatalf("Get after Touch: %v", err)
		}
		if !got.LastSeenAt.Equal(now) || got.LastIP != ip || !got.IdleExpiresAt.Equal(now.Add(time.Hour)) {
			t.Errorf("Touch not applied: %+v", got.Session)
		}
		if !got.SecondFactorAt.Equal(now) {
			t.Errorf("SecondFactorAt = %v, want %v", got.SecondFactorAt, now)
		}
		if !got.PasswordAt.Equal(Epoch) {
			t.Errorf("a zero Touch.PasswordAt overwrote PasswordAt: %v", got.PasswordAt)
		}
		// The touch moved the idle deadline: the session outlives the original one.
		clock.Advance(30 * time.Minute)
		if _, err := st.Get(ctx, r.Hash); err != nil {
			t.Errorf("Get after the old idle deadline but before the new one: %v", err)
		}
		if err := st.Touch(ctx, "nope", session.Touch{SeenAt: now}); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Touch(unknown) = %v, want ErrNotFound", err)
		}
	})

	t.Run("IdleExpiry", func(t *testing.T) {
		clock, st := setup(t)
		r := sessionRecord("alice", "s1") // idle deadline Epoch+1h
		mustCreate(t, st, r)
		clock.Advance(time.Hour - time.Second)
		if _, err := st.Get(ctx, r.Hash); err != nil {
			t.Fatalf("Get one second before the idle deadline: %v", err)
		}
		clock.Advance(time.Second)
		checkGone(t, st, r)
	})

	t.Run("AbsoluteExpiry", func(t *testing.T) {
		clock, st := setup(t)
		r := sessionRecord("alice", "s1")
		r.IdleExpiresAt = r.ExpiresAt.Add(time.Hour) // only the absolute deadline applies
		mustCreate(t, st, r)
		clock.Advance(24*time.Hour - time.Second)
		if _, err := st.Get(ctx, r.Hash); err != nil {
			t.Fatalf("Get one second before the absolute deadline: %v", err)
		}
		clock.Advance(time.Second)
		checkGone(t, st, r)
	})

	t.Run("ListIsolation", func(t *testing.T) {
		_, st := setup(t)
		for _, r := range []session.Record{sessionRecord("alice", "a1"), sessionRecord("alice", "a2"), sessionRecord("bob", "b1")} {
			mustCreate(t, st, r)
		}
		if got := listIDs(t, st, "alice"); fmt.Sprint(got) != "[a1 a2]" {
			t.Errorf("List(alice) = %v, want [a1 a2]", got)
		}
		if got := listIDs(t, st, "bob"); fmt.Sprint(got) != "[b1]" {
			t.Errorf("List(bob) = %v, want [b1]", got)
		}
		if got := listIDs(t, st, "carol"); len(got) != 0 {
			t.Errorf("List(carol) = %v, want none", got)
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		_, st := setup(t)
		a, b := sessionRecord("alice", "a1"), sessionRecord("bob", "b1")
		mustCreate(t, st, a)
		mustCreate(t, st, b)
		if err := st.Revoke(ctx, "alice", "b1"); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Revoke of another subscriber's session = %v, want ErrNotFound", err)
		}
		if _, err := st.Get(ctx, b.Hash); err != nil {
			t.Errorf("bob's session was hurt by alice's revoke: %v", err)
		}
		errs := ExactlyOnce(t, Contenders, func(int) error { return st.Revoke(ctx, "alice", "a1") })
		for _, err := range errs {
			if !errors.Is(err, session.ErrNotFound) {
				t.Errorf("losing Revoke = %v, want ErrNotFound", err)
			}
		}
		checkGone(t, st, a)
	})

	t.Run("RevokeAll", func(t *testing.T) {
		clock, st := setup(t)
		alice := map[string]session.Record{}
		for _, id := range []string{"a1", "a2", "a3", "a4"} {
			alice[id] = sessionRecord("alice", id)
			mustCreate(t, st, alice[id])
		}
		stale := sessionRecord("alice", "a5")
		stale.IdleExpiresAt = Epoch.Add(time.Minute)
		mustCreate(t, st, stale)
		b := sessionRecord("bob", "b1")
		mustCreate(t, st, b)
		clock.Advance(2 * time.Minute) // a5 has expired: it is not counted

		var (
			mu    sync.Mutex
			total int
			wg    sync.WaitGroup
		)
		for range Contenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := st.RevokeAll(ctx, "alice", "a2")
				if err != nil {
					t.Errorf("RevokeAll: %v", err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		if total != 3 {
			t.Errorf("concurrent RevokeAll calls revoked %d sessions in total, want 3", total)
		}
		if got := listIDs(t, st, "alice"); fmt.Sprint(got) != "[a2]" {
			t.Errorf("after RevokeAll(except a2): List(alice) = %v, want [a2]", got)
		}
		// Revoked means the token no longer finds the session, not just that List
		// stops showing it.
		for _, id := range []string{"a1", "a3", "a4"} {
			checkGone(t, st, alice[id])
		}
		if _, err := st.Get(ctx, alice["a2"].Hash); err != nil {
			t.Errorf("the spared session a2: %v", err)
		}
		if _, err := st.Get(ctx, b.Hash); err != nil {
			t.Errorf("bob's session was hurt by alice's RevokeAll: %v", err)
		}
		n, err := st.RevokeAll(ctx, "alice", "")
		if err != nil || n != 1 {
			t.Errorf("RevokeAll(no exception) = %d, %v; want 1, nil", n, err)
		}
		if got := listIDs(t, st, "alice"); len(got) != 0 {
			t.Errorf("after RevokeAll: List(alice) = %v, want none", got)
		}
		checkGone(t, st, alice["a2"])
		// A session created after RevokeAll is unaffected.
		late := sessionRecord("alice", "a6")
		mustCreate(t, st, late)
		if _, err := st.Get(ctx, late.Hash); err != nil {
			t.Errorf("session created after RevokeAll: %v", err)
		}
	})

	t.Run("ClearProofs", func(t *testing.T) {
		clock, st := setup(t)
		r := sessionRecord("alice", "s1")
		r.SecondFactorAt, r.PasswordAt = Epoch, Epoch
		mustCreate(t, st, r)
		other := sessionRecord("alice", "s2")
		other.SecondFactorAt = Epoch
		mustCreate(t, st, other)
		if err := st.ClearProofs(ctx, "bob", r.ID); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("ClearProofs(another subscriber's session) = %v, want ErrNotFound", err)
		}
		if got, _ := st.Get(ctx, r.Hash); !got.SecondFactorAt.Equal(Epoch) {
			t.Errorf("ClearProofs by another subscriber cleared alice's proofs: %+v", got)
		}
		if err := st.ClearProofs(ctx, "alice", r.ID); err != nil {
			t.Fatalf("ClearProofs: %v", err)
		}
		got, err := st.Get(ctx, r.Hash)
		if err != nil {
			t.Fatalf("Get after ClearProofs: %v", err)
		}
		want := r
		want.SecondFactorAt, want.PasswordAt = time.Time{}, time.Time{}
		if !sameRecord(got, want) {
			t.Errorf("after ClearProofs: %+v, want %+v (only the proof times cleared)", got, want)
		}
		if got, _ := st.Get(ctx, other.Hash); !got.SecondFactorAt.Equal(Epoch) {
			t.Errorf("ClearProofs(s1) cleared s2's proofs: %+v", got)
		}
		now := Epoch.Add(time.Minute)
		if err := st.Touch(ctx, r.ID, session.Touch{SeenAt: now, IP: r.IP, IdleExpiresAt: now.Add(time.Hour), PasswordAt: now}); err != nil {
			t.Fatalf("Touch after ClearProofs: %v", err)
		}
		if got, _ := st.Get(ctx, r.Hash); !got.PasswordAt.Equal(now) {
			t.Errorf("a proof after ClearProofs was not recorded: %+v", got)
		}
		if err := st.ClearProofs(ctx, "alice", "nope"); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("ClearProofs(unknown) = %v, want ErrNotFound", err)
		}
		clock.Advance(25 * time.Hour)
		if err := st.ClearProofs(ctx, "alice", r.ID); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("ClearProofs(expired) = %v, want ErrNotFound", err)
		}
	})
}

// sessionHash is a deterministic token hash for suite records.
func sessionHash(seed string) session.TokenHash { return sha256.Sum256([]byte("token:" + seed)) }

// sessionRecord is a session created at Epoch with a 1 h idle and 24 h absolute deadline.
func sessionRecord(subscriber, id string) session.Record {
	ip := netip.MustParseAddr("192.0.2.1")
	return session.Record{
		Hash: sessionHash(id),
		Session: session.Session{
			ID: id, Subscriber: subscriber, Device: "device-" + id, UserAgent: "suite/1.0",
			IP: ip, LastIP: ip, CreatedAt: Epoch, LastSeenAt: Epoch,
			IdleExpiresAt: Epoch.Add(time.Hour), ExpiresAt: Epoch.Add(24 * time.Hour),
		},
	}
}

func sameRecord(a, b session.Record) bool {
	x, y := a.Session, b.Session
	return a.Hash == b.Hash && x.ID == y.ID && x.Subscriber == y.Subscriber && x.Device == y.Device &&
		x.UserAgent == y.UserAgent && x.IP == y.IP && x.LastIP == y.LastIP &&
		x.CreatedAt.Equal(y.CreatedAt) && x.LastSeenAt.Equal(y.LastSeenAt) &&
		x.IdleExpiresAt.Equal(y.IdleExpiresAt) && x.ExpiresAt.Equal(y.ExpiresAt) &&
		x.SecondFactorAt.Equal(y.SecondFactorAt) && x.PasswordAt.Equal(y.PasswordAt)
}

func checkGone(t *testing.T, st session.Store, r session.Record) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Get(ctx, r.Hash); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get(%s) = %v, want ErrNotFound", r.ID, err)
	}
	if err := st.Touch(ctx, r.ID, session.Touch{SeenAt: Epoch}); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Touch(%s) = %v, want ErrNotFound", r.ID, err)
	}
	for _, id := range listIDs(t, st, r.Subscriber) {
		if id == r.ID {
			t.Errorf("List(%s) still includes %s", r.Subscriber, r.ID)
		}
	}
}

func listIDs(t *testing.T, st session.Store, subscriber string) []string {
	t.Helper()
	recs, err := st.List(context.Background(), subscriber)
	if err != nil {
		t.Fatalf("List(%s): %v", subscriber, err)
	}
	ids := make([]string, 0, len(recs))
	for _, r := range recs {
		if r.Subscriber != subscriber {
			t.Errorf("List(%s) returned %s's session %s", subscriber, r.Subscriber, r.ID)
		}
		ids = append(ids, r.ID)
	}
	sort.Strings(ids)
	return ids
}

// TestSessionPending checks a session.PendingStore: put, get and the ID conflict, a
// take that works once even when 64 goroutines race for it, deletion of a subscriber's
// pending sign-ins up to a time, and that a put at a time when a record is still live
// keeps it.
func TestSessionPending(t *testing.T, newStore func(t *testing.T) session.PendingStore) {
	ctx := context.Background()
	pend := func(id, sub string, at time.Time) session.Pending {
		return session.Pending{ID: id, Subscriber: sub, Device: "dev-" + sub, PasswordAt: at, ExpiresAt: at.Add(10 * time.Minute)}
	}
	s := newStore(t)
	if _, err := s.GetPending(ctx, "nope"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("GetPending of an unknown ID: %v, want ErrNotFound", err)
	}
	if _, err := s.TakePending(ctx, "nope"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("TakePending of an unknown ID: %v, want ErrNotFound", err)
	}
	a := pend("a", "alice", Epoch)
	if err := s.PutPending(ctx, a, Epoch); err != nil {
		t.Fatalf("PutPending: %v", err)
	}
	if err := s.PutPending(ctx, pend("a", "mallory", Epoch), Epoch); !errors.Is(err, session.ErrConflict) {
		t.Errorf("PutPending of a taken ID: %v, want ErrConflict", err)
	}
	if got, err := s.GetPending(ctx, "a"); err != nil || got != a {
		t.Errorf("GetPending = %+v, %v; want %+v", got, err, a)
	}
	// A put at a time when a is live keeps it.
	if err := s.PutPending(ctx, pend("b", "bob", Epoch.Add(5*time.Minute)), Epoch.Add(5*time.Minute)); err != nil {
		t.Fatalf("PutPending b: %v", err)
	}
	if _, err := s.GetPending(ctx, "a"); err != nil {
		t.Errorf("a live pending sign-in went: %v", err)
	}
	if got, err := s.TakePending(ctx, "a"); err != nil || got != a {
		t.Errorf("TakePending = %+v, %v; want %+v", got, err, a)
	}
	if _, err := s.GetPending(ctx, "a"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("after TakePending, GetPending: %v, want ErrNotFound", err)
	}

	// Taken once, whatever the race.
	if err := s.PutPending(ctx, pend("race", "alice", Epoch), Epoch); err != nil {
		t.Fatalf("PutPending race: %v", err)
	}
	ExactlyOnce(t, Contenders, func(int) error { _, err := s.TakePending(ctx, "race"); return err })

	// DeletePending: the subscriber's, up to until (included); nobody else's.
	for _, p := range []session.Pending{pend("c1", "carol", Epoch), pend("c2", "carol", Epoch.Add(time.Minute)),
		pend("c3", "carol", Epoch.Add(2*time.Minute)), pend("d1", "dave", Epoch)} {
		if err := s.PutPending(ctx, p, Epoch); err != nil {
			t.Fatalf("PutPending %s: %v", p.ID, err)
		}
	}
	n, err := s.DeletePending(ctx, "carol", Epoch.Add(time.Minute))
	if err != nil || n != 2 {
		t.Errorf("DeletePending = %d, %v; want 2", n, err)
	}
	for id, want := range map[string]bool{"c1": false, "c2": false, "c3": true, "d1": true, "b": true} {
		_, err := s.GetPending(ctx, id)
		if got := err == nil; got != want {
			t.Errorf("after DeletePending, %s present = %v, want %v", id, got, want)
		}
	}
}
