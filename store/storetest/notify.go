package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/notify"
)

// TestNotifyOutbox checks a notify.Outbox implementation: enqueue is idempotent by
// message ID, claims respect due times and leases, no two claims ever hold the same
// message (raced by Contenders goroutines), an expired lease is re-claimed after a
// crash, Complete enforces lease ownership, retries and releases behave as documented,
// and final messages are never claimed again. newStore must return a fresh, empty
// outbox that reads time from now.
func TestNotifyOutbox(t *testing.T, newStore func(t *testing.T, now func() time.Time) notify.Outbox) {
	ctx := context.Background()
	msg := func(event string, addr string, now time.Time) notify.Message {
		r := notify.Recipient{Channel: notify.ChannelEmail, Address: addr}
		return notify.Message{
			ID: notify.MessageID(event, r), EventID: event, Type: notify.SIMSwapRequested,
			Subscriber: "sub-" + event, Recipient: r,
			Content: notify.Content{Subject: "s", Text: "t", HTML: "<p>h</p>"},
			Created: now, State: notify.StatePending, NextAttempt: now,
		}
	}
	setup := func(t *testing.T) (notify.Outbox, *Clock) {
		clk := NewClock()
		return newStore(t, clk.Now), clk
	}
	// claimedOne returns a fresh outbox holding one message, claimed for a minute under token.
	claimedOne := func(t *testing.T, token string) (notify.Outbox, *Clock, notify.Message) {
		t.Helper()
		s, clk := setup(t)
		m := msg("e1", "a@example.com", clk.Now())
		notifyMust(t, s.Enqueue(ctx, []notify.Message{m}))
		c, err := s.Claim(ctx, token, 1, time.Minute)
		notifyMust(t, err)
		if len(c) != 1 || c[0].ID != m.ID {
			t.Fatalf("Claim of the one enqueued message returned %v", c)
		}
		return s, clk, m
	}

	t.Run("EnqueueLookupRoundTrip", func(t *testing.T) {
		s, clk := setup(t)
		m := msg("e1", "alice@example.com", clk.Now())
		m.Former = true
		if err := s.Enqueue(ctx, []notify.Message{m}); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
		got, err := s.Lookup(ctx, m.ID)
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		if got.ID != m.ID || got.EventID != m.EventID || got.Type != m.Type || got.Subscriber != m.Subscriber ||
			got.Recipient != m.Recipient || !got.Former || got.Content != m.Content || got.State != notify.StatePending ||
			got.Attempts != 0 || !got.Created.Equal(m.Created) || !got.NextAttempt.Equal(m.NextAttempt) {
			t.Errorf("Lookup = %+v, want the enqueued message %+v", got, m)
		}
		if _, err := s.Lookup(ctx, "missing"); !errors.Is(err, notify.ErrNotFound) {
			t.Errorf("Lookup(missing) = %v, want ErrNotFound", err)
		}
	})

	t.Run("EnqueueIsIdempotent", func(t *testing.T) {
		s, _, m := claimedOne(t, "tok-1")
		notifyMust(t, s.Complete(ctx, m.ID, "tok-1", notify.Outcome{State: notify.StateSent}))
		// Republishing the same event must not resurrect or duplicate the message.
		notifyMust(t, s.Enqueue(ctx, []notify.Message{m, m}))
		if got, _ := s.Lookup(ctx, m.ID); got.State != notify.StateSent {
			t.Errorf("after re-enqueue state = %s, want sent", got.State)
		}
		claimed, err := s.Claim(ctx, "tok-2", 10, time.Minute)
		notifyMust(t, err)
		if len(claimed) != 0 {
			t.Errorf("re-enqueued sent message was claimed again: %d", len(claimed))
		}
	})

	t.Run("ClaimOrderMaxAndDue", func(t *testing.T) {
		s, clk := setup(t)
		now := clk.Now()
		var msgs []notify.Message
		for i := range 5 {
			msgs = append(msgs, msg("e1", fmt.Sprintf("u%d@example.com", i), now))
		}
		later := msg("e2", "later@example.com", now)
		later.NextAttempt = now.Add(time.Hour)
		msgs = append(msgs, later)
		notifyMust(t, s.Enqueue(ctx, msgs))
		got, err := s.Claim(ctx, "a", 3, time.Minute)
		notifyMust(t, err)
		if len(got) != 3 {
			t.Fatalf("Claim(max 3) returned %d", len(got))
		}
		for i, m := range got {
			if m.ID != msgs[i].ID {
				t.Errorf("claim %d = %s, want enqueue order %s", i, m.Recipient.Address, msgs[i].Recipient.Address)
			}
			if m.Attempts != 1 || m.Lease != "a" || !m.LeaseUntil.Equal(now.Add(time.Minute)) {
				t.Errorf("claimed message: attempts %d lease %q until %v; want 1, a, %v", m.Attempts, m.Lease, m.LeaseUntil, now.Add(time.Minute))
			}
		}
		got, err = s.Claim(ctx, "b", 10, time.Minute)
		notifyMust(t, err)
		if len(got) != 2 {
			t.Errorf("second claim returned %d, want the 2 remaining due messages (not the future one)", len(got))
		}
		clk.Advance(time.Hour)
		got, err = s.Claim(ctx, "c", 10, time.Minute)
		notifyMust(t, err)
		// Leases of a and b (1 minute) have expired too, so everything is claimable.
		if len(got) != 6 {
			t.Errorf("after an hour claim returned %d, want 6 (expired leases and the due message)", len(got))
		}
	})

	t.Run("CompleteSentAndAbandonedAreFinal", func(t *testing.T) {
		s, clk := setup(t)
		a, b := msg("e1", "a@example.com", clk.Now()), msg("e1", "b@example.com", clk.Now())
		notifyMust(t, s.Enqueue(ctx, []notify.Message{a, b}))
		_, err := s.Claim(ctx, "t", 10, time.Minute)
		notifyMust(t, err)
		notifyMust(t, s.Complete(ctx, a.ID, "t", notify.Outcome{State: notify.StateSent}))
		notifyMust(t, s.Complete(ctx, b.ID, "t", notify.Outcome{State: notify.StateAbandoned, Error: "gateway said no"}))
		if got, _ := s.Lookup(ctx, a.ID); got.State != notify.StateSent || got.Lease != "" {
			t.Errorf("a = %s lease %q, want sent and no lease", got.State, got.Lease)
		}
		if got, _ := s.Lookup(ctx, b.ID); got.State != notify.StateAbandoned || got.LastError != "gateway said no" || got.Attempts != 1 {
			t.Errorf("b = %s %q attempts %d, want abandoned with the error after 1 attempt", got.State, got.LastError, got.Attempts)
		}
		if err := s.Complete(ctx, a.ID, "t", notify.Outcome{State: notify.StateSent}); !errors.Is(err, notify.ErrLeaseLost) {
			t.Errorf("completing a final message = %v, want ErrLeaseLost", err)
		}
		clk.Advance(24 * time.Hour)
		got, err := s.Claim(ctx, "u", 10, time.Minute)
		notifyMust(t, err)
		if len(got) != 0 {
			t.Errorf("final messages were claimed again: %d", len(got))
		}
		if err := s.Complete(ctx, "missing", "t", notify.Outcome{State: notify.StateSent}); !errors.Is(err, notify.ErrNotFound) {
			t.Errorf("Complete(missing) = %v, want ErrNotFound", err)
		}
	})

	t.Run("RetryAndRelease", func(t *testing.T) {
		s, clk, m := claimedOne(t, "t1")
		retryAt := clk.Now().Add(10 * time.Minute)
		notifyMust(t, s.Complete(ctx, m.ID, "t1", notify.Outcome{State: notify.StatePending, RetryAt: retryAt, Error: "503"}))
		got, _ := s.Lookup(ctx, m.ID)
		if got.State != notify.StatePending || !got.NextAttempt.Equal(retryAt) || got.LastError != "503" || got.Lease != "" {
			t.Errorf("after retry: %+v", got)
		}
		clk.Advance(9 * time.Minute)
		if c, _ := s.Claim(ctx, "t2", 1, time.Minute); len(c) != 0 {
			t.Error("a message was claimed before its retry time")
		}
		clk.Advance(time.Minute)
		c, err := s.Claim(ctx, "t3", 1, time.Minute)
		notifyMust(t, err)
		if len(c) != 1 || c[0].Attempts != 2 {
			t.Fatalf("at retry time claim = %d messages (attempts %v), want 1 with attempts 2", len(c), c)
		}
		notifyMust(t, s.Complete(ctx, m.ID, "t3", notify.Outcome{State: notify.StatePending, Release: true}))
		c, err = s.Claim(ctx, "t4", 1, time.Minute)
		notifyMust(t, err)
		if len(c) != 1 || c[0].Attempts != 2 {
			t.Errorf("after release claim = %v, want the message at once with the released attempt not counted (2)", c)
		}
	})

	t.Run("LeaseOwnership", func(t *testing.T) {
		s, _, m := claimedOne(t, "owner")
		if err := s.Complete(ctx, m.ID, "intruder", notify.Outcome{State: notify.StateSent}); !errors.Is(err, notify.ErrLeaseLost) {
			t.Errorf("Complete with another token = %v, want ErrLeaseLost", err)
		}
		if err := s.Complete(ctx, m.ID, "", notify.Outcome{State: notify.StateSent}); !errors.Is(err, notify.ErrLeaseLost) {
			t.Errorf("Complete with no token = %v, want ErrLeaseLost", err)
		}
		if c, _ := s.Claim(ctx, "other", 1, time.Minute); len(c) != 0 {
			t.Error("a leased message was claimed by a second claim")
		}
		notifyMust(t, s.Complete(ctx, m.ID, "owner", notify.Outcome{State: notify.StateSent}))
	})

	t.Run("ExpiredLeaseIsReclaimedAfterCrash", func(t *testing.T) {
		s, clk, m := claimedOne(t, "crashed")
		// The holder crashes and never completes.
		clk.Advance(59 * time.Second)
		if c, _ := s.Claim(ctx, "early", 1, time.Minute); len(c) != 0 {
			t.Error("claimed before the lease expired")
		}
		clk.Advance(time.Second)
		c, err := s.Claim(ctx, "rescuer", 1, time.Minute)
		notifyMust(t, err)
		if len(c) != 1 || c[0].ID != m.ID || c[0].Attempts != 2 {
			t.Fatalf("after expiry claim = %v, want the message with attempts 2", c)
		}
		if err := s.Complete(ctx, m.ID, "crashed", notify.Outcome{State: notify.StateSent}); !errors.Is(err, notify.ErrLeaseLost) {
			t.Errorf("the crashed claim completed a re-claimed message: %v, want ErrLeaseLost", err)
		}
		notifyMust(t, s.Complete(ctx, m.ID, "rescuer", notify.Outcome{State: notify.StateSent}))
	})

	t.Run("LeaseExclusivity", func(t *testing.T) {
		s, clk := setup(t)
		const n = 200
		var msgs []notify.Message
		for i := range n {
			msgs = append(msgs, msg(fmt.Sprint("e", i), "a@example.com", clk.Now()))
		}
		notifyMust(t, s.Enqueue(ctx, msgs))
		var (
			mu     sync.Mutex
			holder = map[string]int{}
			wg     sync.WaitGroup
			start  = make(chan struct{})
		)
		for g := range Contenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				// Bounded, so a store that hands out leased messages fails instead of
				// looping forever.
				for round := 0; round < n; round++ {
					c, err := s.Claim(ctx, fmt.Sprint("g", g, "-", round), 3, time.Hour)
					if err != nil {
						t.Errorf("Claim: %v", err)
						return
					}
					if len(c) == 0 {
						return
					}
					mu.Lock()
					for _, m := range c {
						holder[m.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(holder) != n {
			t.Errorf("%d of %d messages were claimed", len(holder), n)
		}
		for id, k := range holder {
			if k != 1 {
				t.Errorf("message %s was held by %d claims at once", id, k)
			}
		}
		// One message, many claimers: exactly one wins.
		one := msg("solo", "solo@example.com", clk.Now())
		notifyMust(t, s.Enqueue(ctx, []notify.Message{one}))
		ExactlyOnce(t, Contenders, func(i int) error {
			c, err := s.Claim(ctx, fmt.Sprint("solo-", i), 1, time.Hour)
			if err != nil {
				return err
			}
			if len(c) != 1 {
				return errors.New("nothing claimed")
			}
			return nil
		})
		// Concurrent completions by the rightful holder and intruders: only the holder wins.
		clk.Advance(2 * time.Hour)
		c, err := s.Claim(ctx, "holder", 1, time.Hour)
		notifyMust(t, err)
		if len(c) != 1 {
			t.Fatalf("re-claim after expiry returned %d", len(c))
		}
		ExactlyOnce(t, Contenders, func(i int) error {
			tok := fmt.Sprint("intruder-", i)
			if i == 0 {
				tok = "holder"
			}
			return s.Complete(ctx, c[0].ID, tok, notify.Outcome{State: notify.StateSent})
		})
	})
}

func notifyMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
