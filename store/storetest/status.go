package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/status"
)

// TestStatusVerifications is the conformance suite for status.VerificationStore.
// newStore must return a fresh, empty store that measures link expiry and the resend
// window with now.
func TestStatusVerifications(t *testing.T, newStore func(t *testing.T, now func() time.Time) status.VerificationStore) {
	t.Helper()
	ctx := context.Background()
	setup := func(t *testing.T) (*Clock, status.VerificationStore) {
		t.Helper()
		clock := NewClock()
		return clock, newStore(t, clock.Now)
	}
	put := func(t *testing.T, st status.VerificationStore, l status.Link) {
		t.Helper()
		if err := st.PutLink(ctx, l); err != nil {
			t.Fatalf("PutLink(%s): %v", l.Subscriber, err)
		}
	}
	wantVerified := func(t *testing.T, st status.VerificationStore, sub, email string, at time.Time) {
		t.Helper()
		v, err := st.Verification(ctx, sub)
		if err != nil {
			t.Fatalf("Verification(%s): %v", sub, err)
		}
		if v.Email != email || !v.VerifiedAt.Equal(at) {
			t.Fatalf("Verification(%s) = %+v, want %s at %v", sub, v, email, at)
		}
	}
	wantUnverified := func(t *testing.T, st status.VerificationStore, sub string) {
		t.Helper()
		if v, err := st.Verification(ctx, sub); !errors.Is(err, status.ErrNotFound) {
			t.Fatalf("Verification(%s) = %+v, %v; want ErrNotFound", sub, v, err)
		}
	}

	t.Run("ConsumeOnce", func(t *testing.T) {
		clock, st := setup(t)
		wantUnverified(t, st, "alice")
		l := statusLink("alice", "alice@example.com", "1")
		put(t, st, l)
		clock.Advance(time.Minute)
		at := clock.Now()
		got, err := st.ConsumeLink(ctx, l.Hash, at)
		if err != nil {
			t.Fatalf("ConsumeLink: %v", err)
		}
		if got.Subscriber != "alice" || got.Email != "alice@example.com" || got.Hash != l.Hash || !got.ExpiresAt.Equal(l.ExpiresAt) {
			t.Errorf("ConsumeLink returned %+v, want %+v", got, l)
		}
		wantVerified(t, st, "alice", "alice@example.com", at)
		if _, err := st.ConsumeLink(ctx, l.Hash, at); !errors.Is(err, status.ErrNotFound) {
			t.Errorf("second ConsumeLink = %v, want ErrNotFound", err)
		}
		if _, err := st.ConsumeLink(ctx, statusHash("never issued"), at); !errors.Is(err, status.ErrNotFound) {
			t.Errorf("ConsumeLink(unknown) = %v, want ErrNotFound", err)
		}
	})

	t.Run("ConsumeRace", func(t *testing.T) {
		_, st := setup(t)
		l := statusLink("alice", "alice@example.com", "1")
		put(t, st, l)
		errs := ExactlyOnce(t, Contenders, func(int) error {
			_, err := st.ConsumeLink(ctx, l.Hash, Epoch)
			return err
		})
		for _, err := range errs {
			if !errors.Is(err, status.ErrNotFound) {
				t.Errorf("losing ConsumeLink = %v, want ErrNotFound", err)
			}
		}
		wantVerified(t, st, "alice", "alice@example.com", Epoch)
	})

	t.Run("NewLinkReplacesOld", func(t *testing.T) {
		_, st := setup(t)
		old := statusLink("alice", "alice@example.com", "1")
		put(t, st, old)
		fresh := statusLink("alice", "alice@example.com", "2")
		put(t, st, fresh)
		if _, err := st.ConsumeLink(ctx, old.Hash, Epoch); !errors.Is(err, status.ErrNotFound) {
			t.Errorf("ConsumeLink(replaced link) = %v, want ErrNotFound", err)
		}
		wantUnverified(t, st, "alice")
		if _, err := st.ConsumeLink(ctx, fresh.Hash, Epoch); err != nil {
			t.Errorf("ConsumeLink(new link): %v", err)
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		clock, st := setup(t)
		l := statusLink("alice", "alice@example.com", "1") // expires Epoch+24h
		put(t, st, l)
		clock.Advance(24 * time.Hour)
		for range 2 { // repeat clicks keep saying "expired"
			got, err := st.ConsumeLink(ctx, l.Hash, clock.Now())
			if !errors.Is(err, status.ErrExpired) {
				t.Fatalf("ConsumeLink at ExpiresAt = %v, want ErrExpired", err)
			}
			if got.Subscriber != "alice" || got.Email != "alice@example.com" {
				t.Errorf("expired ConsumeLink returned %+v; want the link, to resend", got)
			}
		}
		wantUnverified(t, st, "alice")
		fresh := statusLink("alice", "alice@example.com", "2")
		fresh.ExpiresAt = clock.Now().Add(time.Hour)
		put(t, st, fresh)
		if _, err := st.ConsumeLink(ctx, l.Hash, clock.Now()); !errors.Is(err, status.ErrNotFound) {
			t.Errorf("expired link after a resend = %v, want ErrNotFound", err)
		}
		clock.Advance(time.Hour - time.Second)
		if _, err := st.ConsumeLink(ctx, fresh.Hash, clock.Now()); err != nil {
			t.Errorf("ConsumeLink one second before expiry: %v", err)
		}
	})

	t.Run("ReverifyNewAddress", func(t *testing.T) {
		clock, st := setup(t)
		a := statusLink("alice", "alice@example.com", "1")
		put(t, st, a)
		if _, err := st.ConsumeLink(ctx, a.Hash, Epoch); err != nil {
			t.Fatal(err)
		}
		// The first link set the address of record: a link to another address is not
		// stored until ResetAddress moves the record.
		b := statusLink("alice", "alice@example.net", "2")
		if err := st.PutLink(ctx, b); !errors.Is(err, status.ErrAddressChanged) {
			t.Fatalf("PutLink(link to another address) = %v, want ErrAddressChanged", err)
		}
		if _, err := st.ConsumeLink(ctx, b.Hash, Epoch); !errors.Is(err, status.ErrNotFound) {
			t.Errorf("ConsumeLink(refused link) = %v, want ErrNotFound", err)
		}
		wantVerified(t, st, "alice", "alice@example.com", Epoch) // a refused link changes nothing
		if err := st.ResetAddress(ctx, "alice", "alice@example.net"); err != nil {
			t.Fatal(err)
		}
		wantUnverified(t, st, "alice")
		put(t, st, b)
		clock.Advance(time.Minute)
		if _, err := st.ConsumeLink(ctx, b.Hash, clock.Now()); err != nil {
			t.Fatal(err)
		}
		wantVerified(t, st, "alice", "alice@example.net", clock.Now())
	})

	t.Run("StaleAddressNeverStored", func(t *testing.T) {
		_, st := setup(t)
		put(t, st, statusLink("alice", "alice@example.com", "1"))
		if err := st.ResetAddress(ctx, "alice", "alice@example.net"); err != nil {
			t.Fatal(err)
		}
		// A resend that read the old address before the change stores nothing...
		stale := statusLink("alice", "alice@example.com", "2")
		if err := st.PutLink(ctx, stale); !errors.Is(err, status.ErrAddressChanged) {
			t.Fatalf("PutLink(old address after ResetAddress) = %v, want ErrAddressChanged", err)
		}
		if _, err := st.ConsumeLink(ctx, stale.Hash, Epoch); !errors.Is(err, status.ErrNotFound) {
			t.Errorf("ConsumeLink(stale link) = %v, want ErrNotFound", err)
		}
		// ...and does not disturb the link to the new address.
		fresh := statusLink("alice", "alice@example.net", "3")
		put(t, st, fresh)
		if err := st.PutLink(ctx, statusLink("alice", "alice@example.com", "4")); !errors.Is(err, status.ErrAddressChanged) {
			t.Fatalf("PutLink(old address) = %v, want ErrAddressChanged", err)
		}
		if _, err := st.ConsumeLink(ctx, fresh.Hash, Epoch); err != nil {
			t.Errorf("ConsumeLink(link to the current address): %v", err)
		}
		wantVerified(t, st, "alice", "alice@example.net", Epoch)
	})

	// StaleAddressRace: resends to the old address race an email change. However they
	// interleave, no link to the old address survives the change or verifies, and the
	// address of record ends up the new one.
	t.Run("StaleAddressRace", func(t *testing.T) {
		for round := range 4 {
			_, st := setup(t)
			put(t, st, statusLink("alice", "alice@old.example", "initial"))
			stale := make([]status.Link, Contenders)
			errs := Race(Contenders, func(i int) error {
				if i == Contenders/2 {
					return st.ResetAddress(ctx, "alice", "alice@new.example")
				}
				stale[i] = statusLink("alice", "alice@old.example", fmt.Sprint(round, "-", i))
				err := st.PutLink(ctx, stale[i])
				if err != nil && !errors.Is(err, status.ErrAddressChanged) {
					return err
				}
				return nil
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("goroutine %d: %v", i, err)
				}
			}
			for i, l := range stale {
				if i == Contenders/2 {
					continue
				}
				if _, err := st.ConsumeLink(ctx, l.Hash, Epoch); !errors.Is(err, status.ErrNotFound) {
					t.Fatalf("link %d to the old address after the change: ConsumeLink = %v, want ErrNotFound", i, err)
				}
			}
			wantUnverified(t, st, "alice")
			if err := st.PutLink(ctx, statusLink("alice", "alice@old.example", "late")); !errors.Is(err, status.ErrAddressChanged) {
				t.Fatalf("PutLink(old address) after the race = %v, want ErrAddressChanged", err)
			}
			fresh := statusLink("alice", "alice@new.example", "fresh")
			put(t, st, fresh)
			if _, err := st.ConsumeLink(ctx, fresh.Hash, Epoch); err != nil {
				t.Fatalf("ConsumeLink(new address): %v", err)
			}
			wantVerified(t, st, "alice", "alice@new.example", Epoch)
		}
	})

	t.Run("Reset", func(t *testing.T) {
		_, st := setup(t)
		a := statusLink("alice", "alice@example.com", "1")
		put(t, st, a)
		if _, err := st.ConsumeLink(ctx, a.Hash, Epoch); err != nil {
			t.Fatal(err)
		}
		pending := statusLink("alice", "alice@example.com", "2")
		put(t, st, pending)
		if err := st.ResetAddress(ctx, "alice", "alice@example.com"); err != nil {
			t.Fatalf("ResetAddress: %v", err)
		}
		wantUnverified(t, st, "alice")
		if _, err := st.ConsumeLink(ctx, pending.Hash, Epoch); !errors.Is(err, status.ErrNotFound) {
			t.Errorf("ConsumeLink after ResetAddress = %v, want ErrNotFound", err)
		}
		if err := st.ResetAddress(ctx, "nobody", "nobody@example.com"); err != nil {
			t.Errorf("ResetAddress(unknown subscriber) = %v, want nil", err)
		}
		put(t, st, statusLink("nobody", "nobody@example.com", "1")) // the address it recorded
	})

	lim := status.ResendLimits{MinInterval: 30 * time.Second, PerHour: 3}
	reserve := func(t *testing.T, st status.VerificationStore, sub string, what string) {
		t.Helper()
		if err := st.ReserveLink(ctx, sub, lim); err != nil {
			t.Fatalf("%s: ReserveLink(%s) = %v, want nil", what, sub, err)
		}
	}
	throttled := func(t *testing.T, err error, reason status.ThrottleReason, retry time.Duration, what string) {
		t.Helper()
		wantThrottled(t, err, status.ErrThrottled, func(e *status.ThrottleError) (status.ThrottleReason, time.Duration) { return e.Reason, e.RetryAfter }, reason, retry, what)
	}

	t.Run("ResendLimits", func(t *testing.T) {
		clock, st := setup(t)
		reserve(t, st, "alice", "first link")
		clock.Advance(10 * time.Second)
		throttled(t, st.ReserveLink(ctx, "alice", lim), status.ThrottleInterval, 20*time.Second, "link after 10s")
		clock.Advance(600 * time.Millisecond)
		throttled(t, st.ReserveLink(ctx, "alice", lim), status.ThrottleInterval, 20*time.Second, "RetryAfter rounds up")
		clock.Advance(19*time.Second + 400*time.Millisecond)
		reserve(t, st, "alice", "link at 30s: the refusals were not counted")
		clock.Advance(time.Minute)
		reserve(t, st, "alice", "link at 90s")
		clock.Advance(time.Minute)
		// Sent at 0s, 30s, 90s; now 150s.
		throttled(t, st.ReserveLink(ctx, "alice", lim), status.ThrottleHourly, time.Hour-150*time.Second, "fourth link in an hour")
		reserve(t, st, "bob", "another subscriber")
		clock.Advance(time.Hour - 150*time.Second - time.Second)
		throttled(t, st.ReserveLink(ctx, "alice", lim), status.ThrottleHourly, time.Second, "a second before the first leaves the hour")
		clock.Advance(time.Second)
		reserve(t, st, "alice", "once the first link left the hour")
		throttled(t, st.ReserveLink(ctx, "alice", lim), status.ThrottleInterval, 30*time.Second, "the window slid by one")
		clock.Advance(30 * time.Second)
		reserve(t, st, "alice", "as the 30s link leaves the hour")
		clock.Advance(30 * time.Second)
		// Sent at 90s, 3600s, 3630s; now 3660s.
		throttled(t, st.ReserveLink(ctx, "alice", lim), status.ThrottleHourly, 30*time.Second, "the 90s link is next to leave")
		if err := st.ReserveLink(ctx, "alice", status.ResendLimits{}); err != nil {
			t.Errorf("ReserveLink with no limits = %v, want nil", err)
		}
	})

	t.Run("ResendHistorySurvivesResetAddress", func(t *testing.T) {
		clock, st := setup(t)
		reserve(t, st, "alice", "first link")
		if err := st.ResetAddress(ctx, "alice", "alice@example.net"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		throttled(t, st.ReserveLink(ctx, "alice", lim), status.ThrottleInterval, 29*time.Second, "link right after Reset")
	})

	t.Run("ResendRace", func(t *testing.T) {
		for _, tt := range []struct {
			lim  status.ResendLimits
			want int
		}{
			{status.ResendLimits{PerHour: 3}, 3},
			{status.ResendLimits{MinInterval: time.Minute, PerHour: 5}, 1},
		} {
			_, st := setup(t)
			var ok int
			for _, err := range Race(Contenders, func(int) error { return st.ReserveLink(ctx, "alice", tt.lim) }) {
				if err == nil {
					ok++
				} else if !errors.Is(err, status.ErrThrottled) {
					t.Errorf("losing ReserveLink = %v, want ErrThrottled", err)
				}
			}
			if ok != tt.want {
				t.Errorf("%+v: %d of %d concurrent ReserveLink calls succeeded, want %d", tt.lim, ok, Contenders, tt.want)
			}
		}
	})

	t.Run("Isolation", func(t *testing.T) {
		_, st := setup(t)
		a := statusLink("alice", "alice@example.com", "a")
		b := statusLink("bob", "bob@example.com", "b")
		put(t, st, a)
		put(t, st, b)
		if _, err := st.ConsumeLink(ctx, b.Hash, Epoch); err != nil {
			t.Fatal(err)
		}
		wantVerified(t, st, "bob", "bob@example.com", Epoch)
		wantUnverified(t, st, "alice")
		if err := st.ResetAddress(ctx, "bob", "bob@example.net"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ConsumeLink(ctx, a.Hash, Epoch); err != nil {
			t.Errorf("alice's link was hurt by bob's ResetAddress: %v", err)
		}
		put(t, st, statusLink("carol", "carol@example.com", "c"))
		if _, err := st.ConsumeLink(ctx, a.Hash, Epoch); !errors.Is(err, status.ErrNotFound) {
			t.Errorf("alice's used link = %v, want ErrNotFound", err)
		}
		wantVerified(t, st, "alice", "alice@example.com", Epoch)
		wantUnverified(t, st, "carol")
	})
}

func statusHash(seed string) status.LinkHash { return sha256.Sum256([]byte("link:" + seed)) }

// statusLink is a link issued at Epoch that expires 24 h later.
func statusLink(subscriber, email, seed string) status.Link {
	return status.Link{
		Subscriber: subscriber, Email: email, Hash: statusHash(subscriber + seed),
		CreatedAt: Epoch, ExpiresAt: Epoch.Add(24 * time.Hour),
	}
}
