package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/otp"
)

func challenge(id, subscriber string, now time.Time, maxAttempts int) otp.Challenge {
	return otp.Challenge{
		ID: id, Subscriber: subscriber, Purpose: otp.PurposeSignIn, Channel: otp.ChannelSMS,
		Hash: []byte("0123456789abcdef0123456789abcdef"), CreatedAt: now,
		ExpiresAt: now.Add(10 * time.Minute), MaxAttempts: maxAttempts,
	}
}

func wantErr(t *testing.T, got, want error, what string) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Errorf("%s: got error %v, want %v", what, got, want)
	}
}

// TestOTPChallenges checks an otp.ChallengeStore: creation and lookup, attempt counting,
// single use, expiry, deletion, and atomicity of BeginAttempt and ConsumeChallenge under
// Contenders goroutines.
func TestOTPChallenges(t *testing.T, newStore func(t *testing.T, now func() time.Time) otp.ChallengeStore) {
	ctx := context.Background()

	t.Run("missing", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		_, err := s.BeginAttempt(ctx, "nope")
		wantErr(t, err, otp.ErrNotFound, "BeginAttempt on unknown ID")
		wantErr(t, s.ConsumeChallenge(ctx, "nope"), otp.ErrNotFound, "ConsumeChallenge on unknown ID")
		wantErr(t, s.DeleteChallenge(ctx, "nope"), otp.ErrNotFound, "DeleteChallenge on unknown ID")
	})

	t.Run("round trip and attempts", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		in := challenge("c1", "alice", clk.Now(), 3)
		if err := s.CreateChallenge(ctx, in); err != nil {
			t.Fatalf("CreateChallenge: %v", err)
		}
		for i := 1; i <= 3; i++ {
			got, err := s.BeginAttempt(ctx, "c1")
			if err != nil {
				t.Fatalf("BeginAttempt %d: %v", i, err)
			}
			if got.Attempts != i {
				t.Errorf("BeginAttempt %d: Attempts = %d, want %d", i, got.Attempts, i)
			}
			if got.ID != in.ID || got.Subscriber != in.Subscriber || got.Purpose != in.Purpose ||
				got.Channel != in.Channel || string(got.Hash) != string(in.Hash) ||
				!got.ExpiresAt.Equal(in.ExpiresAt) || got.MaxAttempts != in.MaxAttempts {
				t.Errorf("BeginAttempt returned %+v, want the stored %+v", got, in)
			}
		}
		_, err := s.BeginAttempt(ctx, "c1")
		wantErr(t, err, otp.ErrAttemptsExhausted, "fourth attempt of three")
		// An attempt already begun may still consume.
		if err := s.ConsumeChallenge(ctx, "c1"); err != nil {
			t.Errorf("ConsumeChallenge after the last attempt: %v", err)
		}
	})

	t.Run("single use", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		if err := s.CreateChallenge(ctx, challenge("c1", "alice", clk.Now(), 5)); err != nil {
			t.Fatal(err)
		}
		if err := s.ConsumeChallenge(ctx, "c1"); err != nil {
			t.Fatalf("first ConsumeChallenge: %v", err)
		}
		wantErr(t, s.ConsumeChallenge(ctx, "c1"), otp.ErrReplay, "second ConsumeChallenge")
		_, err := s.BeginAttempt(ctx, "c1")
		wantErr(t, err, otp.ErrReplay, "BeginAttempt after consumption")
	})

	t.Run("expiry", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		if err := s.CreateChallenge(ctx, challenge("c1", "alice", clk.Now(), 5)); err != nil {
			t.Fatal(err)
		}
		clk.Advance(10*time.Minute - time.Nanosecond)
		if _, err := s.BeginAttempt(ctx, "c1"); err != nil {
			t.Fatalf("BeginAttempt just before expiry: %v", err)
		}
		clk.Advance(time.Nanosecond)
		_, err := s.BeginAttempt(ctx, "c1")
		wantErr(t, err, otp.ErrExpired, "BeginAttempt at ExpiresAt")
		if err := s.ConsumeChallenge(ctx, "c1"); !errors.Is(err, otp.ErrExpired) && !errors.Is(err, otp.ErrNotFound) {
			t.Errorf("ConsumeChallenge after expiry: got %v, want ErrExpired or ErrNotFound", err)
		}
	})

	t.Run("delete and isolation", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		for _, c := range []otp.Challenge{challenge("a", "alice", clk.Now(), 5), challenge("b", "bob", clk.Now(), 5)} {
			if err := s.CreateChallenge(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteChallenge(ctx, "a"); err != nil {
			t.Fatalf("DeleteChallenge: %v", err)
		}
		_, err := s.BeginAttempt(ctx, "a")
		wantErr(t, err, otp.ErrNotFound, "BeginAttempt after delete")
		got, err := s.BeginAttempt(ctx, "b")
		if err != nil || got.Subscriber != "bob" || got.Attempts != 1 {
			t.Errorf("other challenge disturbed: %+v, %v", got, err)
		}
	})

	t.Run("concurrent consume", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		if err := s.CreateChallenge(ctx, challenge("c1", "alice", clk.Now(), 5)); err != nil {
			t.Fatal(err)
		}
		for _, err := range ExactlyOnce(t, Contenders, func(int) error { return s.ConsumeChallenge(ctx, "c1") }) {
			wantErr(t, err, otp.ErrReplay, "losing ConsumeChallenge")
		}
	})

	t.Run("concurrent attempts never exceed the limit", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		if err := s.CreateChallenge(ctx, challenge("c1", "alice", clk.Now(), 5)); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, Contenders)
		start := make(chan struct{})
		for range Contenders {
			go func() {
				<-start
				_, err := s.BeginAttempt(ctx, "c1")
				errs <- err
			}()
		}
		close(start)
		var ok int
		for range Contenders {
			err := <-errs
			if err == nil {
				ok++
			} else {
				wantErr(t, err, otp.ErrAttemptsExhausted, "BeginAttempt beyond the limit")
			}
		}
		if ok != 5 {
			t.Errorf("%d of %d concurrent attempts began, want exactly 5", ok, Contenders)
		}
	})
}

// TestOTPRates checks an otp.RateStore: minimum interval, sliding hourly cap, the failure
// limit and its cooldown, that issuing never resets failures, isolation between
// subscribers and purposes, the per-destination cap, releasing an issue (capacity comes
// back, other issues and failures stay), and that concurrent reservations never exceed
// the cap and race cleanly with releases.
func TestOTPRates(t *testing.T, newStore func(t *testing.T, now func() time.Time) otp.RateStore) {
	ctx := context.Background()
	lim := otp.RateLimits{MinInterval: 30 * time.Second, PerHour: 3, MaxFailures: 4, FailureCooldown: 15 * time.Minute}
	alice := otp.RateKey{Subscriber: "alice", Purpose: otp.PurposeSignIn}
	var ids atomic.Int64
	reserve := func(s otp.RateStore, key otp.RateKey, lim otp.RateLimits) error {
		return s.ReserveIssue(ctx, otp.Reservation{ID: fmt.Sprint("issue-", ids.Add(1)), Key: key}, lim)
	}
	reserveAs := func(s otp.RateStore, id string, key otp.RateKey, dest string, lim otp.RateLimits) error {
		return s.ReserveIssue(ctx, otp.Reservation{ID: id, Key: key, Destination: dest}, lim)
	}
	release := func(t *testing.T, s otp.RateStore, id string) {
		t.Helper()
		if err := s.ReleaseIssue(ctx, id); err != nil {
			t.Fatalf("ReleaseIssue(%s): %v", id, err)
		}
	}
	throttled := func(t *testing.T, err error, reason otp.ThrottleReason, retry time.Duration, what string) {
		t.Helper()
		wantThrottled(t, err, otp.ErrThrottled, func(e *otp.ThrottleError) (otp.ThrottleReason, time.Duration) { return e.Reason, e.RetryAfter }, reason, retry, what)
	}

	t.Run("interval and hourly cap", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		if err := reserve(s, alice, lim); err != nil {
			t.Fatalf("first issue: %v", err)
		}
		clk.Advance(10 * time.Second)
		throttled(t, reserve(s, alice, lim), otp.ThrottleInterval, 20*time.Second, "issue after 10s")
		clk.Advance(600 * time.Millisecond)
		throttled(t, reserve(s, alice, lim), otp.ThrottleInterval, 20*time.Second, "RetryAfter rounds up")
		clk.Advance(19*time.Second + 400*time.Millisecond)
		for i := 2; i <= 3; i++ {
			if err := reserve(s, alice, lim); err != nil {
				t.Fatalf("issue %d: %v", i, err)
			}
			clk.Advance(time.Minute)
		}
		// Issued at 0s, 30s, 90s; now 150s.
		throttled(t, reserve(s, alice, lim), otp.ThrottleHourly, time.Hour-150*time.Second, "fourth issue in an hour")
		clk.Advance(time.Hour - 150*time.Second)
		if err := reserve(s, alice, lim); err != nil {
			t.Errorf("issue once the first left the hour: %v", err)
		}
		// Other subscribers and purposes are unaffected.
		if err := reserve(s, otp.RateKey{Subscriber: "bob", Purpose: otp.PurposeSignIn}, lim); err != nil {
			t.Errorf("bob: %v", err)
		}
		if err := reserve(s, otp.RateKey{Subscriber: "alice", Purpose: otp.PurposeSIMSwap}, lim); err != nil {
			t.Errorf("alice, other purpose: %v", err)
		}
	})

	t.Run("failures", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		for range lim.MaxFailures - 1 {
			if err := s.RecordFailure(ctx, alice); err != nil {
				t.Fatal(err)
			}
		}
		if err := reserve(s, alice, lim); err != nil {
			t.Fatalf("issue below the failure limit: %v", err)
		}
		if err := s.RecordFailure(ctx, alice); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		throttled(t, reserve(s, alice, lim), otp.ThrottleFailures, 14*time.Minute, "issue at the failure limit")
		if err := reserve(s, otp.RateKey{Subscriber: "bob", Purpose: otp.PurposeSignIn}, lim); err != nil {
			t.Errorf("bob is not limited by alice's failures: %v", err)
		}
		clk.Advance(14 * time.Minute)
		if err := reserve(s, alice, lim); err != nil {
			t.Fatalf("issue after the cooldown: %v", err)
		}
		// Issuing did not reset anything below the limit: count again from the cooldown.
		for range lim.MaxFailures {
			if err := s.RecordFailure(ctx, alice); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(time.Minute)
		throttled(t, reserve(s, alice, lim), otp.ThrottleFailures, 14*time.Minute, "issue at the limit again")
		if err := s.ResetFailures(ctx, alice); err != nil {
			t.Fatal(err)
		}
		if err := reserve(s, alice, lim); err != nil {
			t.Errorf("issue after ResetFailures: %v", err)
		}
	})

	t.Run("issuing never resets failures", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		for i := range lim.MaxFailures {
			if err := s.RecordFailure(ctx, alice); err != nil {
				t.Fatal(err)
			}
			if i < lim.MaxFailures-1 {
				clk.Advance(time.Minute)
				if err := reserve(s, alice, otp.RateLimits{MaxFailures: lim.MaxFailures, FailureCooldown: time.Minute}); err != nil {
					t.Fatalf("issue after %d failures: %v", i+1, err)
				}
			}
		}
		throttled(t, reserve(s, alice, lim), otp.ThrottleFailures, 15*time.Minute, "issue after failures spread over issues")
	})

	t.Run("release restores capacity", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		if err := reserveAs(s, "a1", alice, "", lim); err != nil {
			t.Fatal(err)
		}
		clk.Advance(10 * time.Second)
		throttled(t, reserve(s, alice, lim), otp.ThrottleInterval, 20*time.Second, "issue 10s after the first")
		release(t, s, "a1")
		// With no earlier issue, there is no interval to wait.
		if err := reserveAs(s, "a2", alice, "", lim); err != nil {
			t.Fatalf("issue after the only issue was released: %v", err)
		}
		for _, id := range []string{"a3", "a4"} {
			clk.Advance(30 * time.Second)
			if err := reserveAs(s, id, alice, "", lim); err != nil {
				t.Fatalf("issue %s: %v", id, err)
			}
		}
		// a2, a3, a4 fill the hour; a4 was just issued.
		clk.Advance(30 * time.Second)
		throttled(t, reserve(s, alice, lim), otp.ThrottleHourly, time.Hour-90*time.Second, "fourth issue in an hour: a2 was at 10s, now 100s")
		release(t, s, "a4")
		if err := reserveAs(s, "a5", alice, "", lim); err != nil {
			t.Fatalf("issue after releasing the last of three: %v", err)
		}
		clk.Advance(10 * time.Second)
		throttled(t, reserve(s, alice, lim), otp.ThrottleInterval, 20*time.Second, "issue 10s after a5")
		release(t, s, "a5")
		if err := reserve(s, alice, lim); err != nil {
			t.Errorf("issue after releasing a5 (a3 was 70s ago, two in the hour): %v", err)
		}

		// Releasing the latest issue moves the interval back to the one before it.
		bob := otp.RateKey{Subscriber: "bob", Purpose: otp.PurposeSignIn}
		interval := otp.RateLimits{MinInterval: 30 * time.Second}
		if err := reserveAs(s, "b1", bob, "", interval); err != nil {
			t.Fatal(err)
		}
		clk.Advance(5 * time.Second)
		if err := reserveAs(s, "b2", bob, "", otp.RateLimits{}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(5 * time.Second)
		throttled(t, reserve(s, bob, interval), otp.ThrottleInterval, 25*time.Second, "issue 5s after b2")
		release(t, s, "b2")
		throttled(t, reserve(s, bob, interval), otp.ThrottleInterval, 20*time.Second, "issue 10s after b1, b2 released")
	})

	t.Run("release of one issue leaves others", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		bob := otp.RateKey{Subscriber: "bob", Purpose: otp.PurposeSignIn}
		burst := otp.RateLimits{PerHour: 3}
		for _, id := range []string{"a1", "a2", "a3"} {
			if err := reserveAs(s, id, alice, "", burst); err != nil {
				t.Fatal(err)
			}
		}
		if err := reserveAs(s, "b1", bob, "", otp.RateLimits{PerHour: 1}); err != nil {
			t.Fatal(err)
		}
		release(t, s, "a2")
		release(t, s, "a2") // again: a no-op, not a second refund
		release(t, s, "never-issued")
		if err := reserveAs(s, "a4", alice, "", burst); err != nil {
			t.Fatalf("issue after one of three was released: %v", err)
		}
		throttled(t, reserve(s, alice, burst), otp.ThrottleHourly, time.Hour, "a1, a3 and a4 still count")
		throttled(t, reserve(s, bob, otp.RateLimits{PerHour: 1}), otp.ThrottleHourly, time.Hour, "bob's issue is untouched by alice's release")
	})

	t.Run("release never resets failures", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		if err := reserveAs(s, "a1", alice, "", lim); err != nil {
			t.Fatal(err)
		}
		for range lim.MaxFailures {
			if err := s.RecordFailure(ctx, alice); err != nil {
				t.Fatal(err)
			}
		}
		release(t, s, "a1")
		throttled(t, reserve(s, alice, lim), otp.ThrottleFailures, 15*time.Minute, "issue after release at the failure limit")
	})

	t.Run("destination cap", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		dlim := otp.RateLimits{MinInterval: 30 * time.Second, PerHour: 5, DestinationPerHour: 2}
		sub := func(name string) otp.RateKey {
			return otp.RateKey{Subscriber: name, Purpose: otp.PurposeContactVerification}
		}
		if err := reserveAs(s, "a1", sub("alice"), "victim", dlim); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		if err := reserveAs(s, "b1", otp.RateKey{Subscriber: "bob", Purpose: otp.PurposeSignIn}, "victim", dlim); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		throttled(t, reserveAs(s, "c1", sub("carol"), "victim", dlim), otp.ThrottleDestination, time.Hour-2*time.Minute, "third code to one destination")
		// The refusal recorded nothing for carol: no interval to wait for another destination.
		if err := reserveAs(s, "c2", sub("carol"), "elsewhere", dlim); err != nil {
			t.Errorf("carol to another destination: %v", err)
		}
		// Subscriber limits are checked first: carol is now within her interval.
		throttled(t, reserveAs(s, "c3", sub("carol"), "victim", dlim), otp.ThrottleInterval, 30*time.Second, "carol again at once")
		// An empty destination counts against none.
		for i := range 3 {
			if err := reserveAs(s, fmt.Sprint("d", i), sub(fmt.Sprint("dave", i)), "", dlim); err != nil {
				t.Errorf("issue %d with no destination: %v", i, err)
			}
		}
		release(t, s, "b1")
		clk.Advance(30 * time.Second)
		if err := reserveAs(s, "c4", sub("carol"), "victim", dlim); err != nil {
			t.Fatalf("carol to the destination after bob's issue was released: %v", err)
		}
		throttled(t, reserveAs(s, "e1", sub("erin"), "victim", dlim), otp.ThrottleDestination, time.Hour-150*time.Second, "a1 and c4 fill the destination's hour")
		clk.Advance(time.Hour - 150*time.Second)
		if err := reserveAs(s, "e2", sub("erin"), "victim", dlim); err != nil {
			t.Errorf("issue once a1 left the hour: %v", err)
		}
	})

	t.Run("duplicate reservation ID", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		if err := reserveAs(s, "x", alice, "", otp.RateLimits{}); err != nil {
			t.Fatal(err)
		}
		if err := reserveAs(s, "x", otp.RateKey{Subscriber: "bob", Purpose: otp.PurposeSignIn}, "", otp.RateLimits{}); err == nil {
			t.Error("a second reservation with the same ID succeeded")
		}
	})

	t.Run("concurrent reservations respect the cap", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		burst := otp.RateLimits{PerHour: 3}
		errs := make(chan error, Contenders)
		start := make(chan struct{})
		for range Contenders {
			go func() { <-start; errs <- reserve(s, alice, burst) }()
		}
		close(start)
		var ok int
		for range Contenders {
			if err := <-errs; err == nil {
				ok++
			} else if !errors.Is(err, otp.ErrThrottled) {
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != 3 {
			t.Errorf("%d concurrent reservations succeeded, want 3", ok)
		}
	})

	t.Run("concurrent reserve and release", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		burst := otp.RateLimits{PerHour: 3, DestinationPerHour: 3}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range Contenders {
			wg.Go(func() {
				<-start
				key := otp.RateKey{Subscriber: fmt.Sprint("sub", i%2), Purpose: otp.PurposeSignIn}
				for j := range 20 {
					id := fmt.Sprintf("r%d-%d", i, j)
					err := reserveAs(s, id, key, "victim", burst)
					if err != nil && !errors.Is(err, otp.ErrThrottled) {
						t.Errorf("ReserveIssue: %v", err)
						return
					}
					if err := s.ReleaseIssue(ctx, id); err != nil {
						t.Errorf("ReleaseIssue: %v", err)
						return
					}
				}
			})
		}
		close(start)
		wg.Wait()
		// Everything was released: the destination has its whole hour again.
		var ok int
		for i := range Contenders {
			if err := reserveAs(s, fmt.Sprint("after", i), otp.RateKey{Subscriber: fmt.Sprint("sub", i), Purpose: otp.PurposeSignIn}, "victim", burst); err == nil {
				ok++
			} else if !errors.Is(err, otp.ErrThrottled) {
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != 3 {
			t.Errorf("%d reservations succeeded after every earlier one was released, want 3", ok)
		}
	})
}

// TestOTPAuthenticators checks an otp.AuthenticatorStore: pending replacement, refusal to
// overwrite a confirmed record, the monotonic step (replay protection) under Contenders
// goroutines, confirmation (once, however many race for it), ID binding, deletion and
// isolation.
func TestOTPAuthenticators(t *testing.T, newStore func(t *testing.T, now func() time.Time) otp.AuthenticatorStore) {
	ctx := context.Background()
	rec := func(id, subscriber string) otp.Authenticator {
		return otp.Authenticator{
			ID: id, Subscriber: subscriber, Kind: otp.TOTP,
			Params:       otp.Params{Algorithm: otp.SHA1, Digits: 6, Period: 30 * time.Second},
			SealedSecret: []byte("sealed-" + id), CreatedAt: Epoch, LastStep: otp.NoStep,
		}
	}

	t.Run("lifecycle", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		_, err := s.GetAuthenticator(ctx, "alice")
		wantErr(t, err, otp.ErrNotFound, "GetAuthenticator before enrollment")
		if err := s.PutAuthenticator(ctx, rec("e1", "alice")); err != nil {
			t.Fatal(err)
		}
		if err := s.PutAuthenticator(ctx, rec("e2", "alice")); err != nil {
			t.Fatalf("replacing a pending enrollment: %v", err)
		}
		got, err := s.GetAuthenticator(ctx, "alice")
		if err != nil || got.ID != "e2" || string(got.SealedSecret) != "sealed-e2" || got.Confirmed() || got.LastStep != otp.NoStep || got.Params != rec("e2", "alice").Params {
			t.Fatalf("GetAuthenticator = %+v, %v; want pending e2", got, err)
		}
		wantErr(t, s.AdvanceAuthenticator(ctx, "alice", "e1", 10, Epoch), otp.ErrNotFound, "advance with a replaced ID")
		if err := s.AdvanceAuthenticator(ctx, "alice", "e2", 10, Epoch); err != nil {
			t.Fatalf("confirming advance: %v", err)
		}
		got, _ = s.GetAuthenticator(ctx, "alice")
		if !got.ConfirmedAt.Equal(Epoch) || got.LastStep != 10 {
			t.Errorf("after confirmation: %+v", got)
		}
		wantErr(t, s.PutAuthenticator(ctx, rec("e3", "alice")), otp.ErrAlreadyEnrolled, "PutAuthenticator over a confirmed one")
		wantErr(t, s.AdvanceAuthenticator(ctx, "alice", "e2", 10, time.Time{}), otp.ErrReplay, "same step again")
		wantErr(t, s.AdvanceAuthenticator(ctx, "alice", "e2", 9, time.Time{}), otp.ErrReplay, "earlier step")
		wantErr(t, s.AdvanceAuthenticator(ctx, "alice", "e2", 11, Epoch.Add(time.Hour)), otp.ErrAlreadyEnrolled, "confirming a confirmed record")
		wantErr(t, s.AdvanceAuthenticator(ctx, "alice", "e3", 11, Epoch.Add(time.Hour)), otp.ErrNotFound, "confirming another id: the id is checked first")
		wantErr(t, s.AdvanceAuthenticator(ctx, "alice", "e2", 10, Epoch.Add(time.Hour)), otp.ErrAlreadyEnrolled, "confirming with a used step: confirmation is checked before the step")
		if err := s.AdvanceAuthenticator(ctx, "alice", "e2", 11, time.Time{}); err != nil {
			t.Fatalf("later step: %v", err)
		}
		got, _ = s.GetAuthenticator(ctx, "alice")
		if !got.ConfirmedAt.Equal(Epoch) || got.LastStep != 11 {
			t.Errorf("a refused confirmation must change nothing: %+v", got)
		}
		if _, err := s.GetAuthenticator(ctx, "bob"); !errors.Is(err, otp.ErrNotFound) {
			t.Errorf("bob sees alice's record: %v", err)
		}
		wantErr(t, s.AdvanceAuthenticator(ctx, "bob", "e2", 50, time.Time{}), otp.ErrNotFound, "advance for another subscriber")
		if err := s.DeleteAuthenticator(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.DeleteAuthenticator(ctx, "alice"), otp.ErrNotFound, "second delete")
		_, err = s.GetAuthenticator(ctx, "alice")
		wantErr(t, err, otp.ErrNotFound, "GetAuthenticator after delete")
	})

	t.Run("concurrent advance to the same step", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		if err := s.PutAuthenticator(ctx, rec("e1", "alice")); err != nil {
			t.Fatal(err)
		}
		for _, err := range ExactlyOnce(t, Contenders, func(int) error {
			return s.AdvanceAuthenticator(ctx, "alice", "e1", 100, time.Time{})
		}) {
			wantErr(t, err, otp.ErrReplay, "losing advance")
		}
	})

	t.Run("concurrent confirmations at different steps", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		if err := s.PutAuthenticator(ctx, rec("e1", "alice")); err != nil {
			t.Fatal(err)
		}
		for _, err := range ExactlyOnce(t, Contenders, func(i int) error {
			return s.AdvanceAuthenticator(ctx, "alice", "e1", int64(100+i), Epoch.Add(time.Duration(i)*time.Second))
		}) {
			wantErr(t, err, otp.ErrAlreadyEnrolled, "losing confirmation")
		}
		got, err := s.GetAuthenticator(ctx, "alice")
		if err != nil || !got.Confirmed() || !got.ConfirmedAt.Equal(Epoch.Add(time.Duration(got.LastStep-100)*time.Second)) {
			t.Errorf("after racing confirmations: %+v, %v; want the winner's step and time", got, err)
		}
	})

	t.Run("many subscribers", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		for i := range 10 {
			if err := s.PutAuthenticator(ctx, rec(fmt.Sprint("e", i), fmt.Sprint("sub", i))); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 10 {
			got, err := s.GetAuthenticator(ctx, fmt.Sprint("sub", i))
			if err != nil || got.ID != fmt.Sprint("e", i) {
				t.Errorf("sub%d: %+v, %v", i, got, err)
			}
		}
	})
}

// TestOTPBudgets checks an otp.BudgetStore: counters checked in order with the first
// full one named in a *otp.BudgetError, a refusal recording nothing, the window (a send
// at or before Since no longer counts), release (capacity comes back on every counter of
// the reservation, once, and only for it), duplicate IDs, and that Contenders concurrent
// reservations never exceed a budget and race cleanly with releases. The store must
// not read a clock: the factory is given one that fails the test when called.
func TestOTPBudgets(t *testing.T, newStore func(t *testing.T, now func() time.Time) otp.BudgetStore) {
	ctx := context.Background()
	fresh := func(t *testing.T) otp.BudgetStore {
		return newStore(t, func() time.Time {
			t.Error("a BudgetStore read its own clock: times come from the caller")
			return Epoch
		})
	}
	const window = time.Hour
	// counters: the client's budget of 2, then a global one of 3, as Codes orders them.
	counters := func(at time.Time, client string) []otp.BudgetCounter {
		since := at.Add(-window)
		return []otp.BudgetCounter{
			{Limit: otp.BudgetClient, Key: "client/" + client, Max: 2, Since: since},
			{Limit: otp.BudgetGlobal, Key: "global", Max: 3, Since: since},
		}
	}
	reserve := func(s otp.BudgetStore, id string, at time.Time, client string) error {
		return s.ReserveBudget(ctx, otp.BudgetReservation{ID: id, At: at, Counters: counters(at, client)})
	}
	refused := func(t *testing.T, err error, limit otp.BudgetLimit, what string) {
		t.Helper()
		var be *otp.BudgetError
		if !errors.As(err, &be) || !errors.Is(err, otp.ErrBudgetExceeded) || !errors.Is(err, otp.ErrThrottled) {
			t.Fatalf("%s: got %v, want a *otp.BudgetError (ErrBudgetExceeded)", what, err)
		}
		if be.Limit != limit {
			t.Errorf("%s: refused by %q, want %q", what, be.Limit, limit)
		}
	}
	ok := func(t *testing.T, err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	t.Run("counters in order", func(t *testing.T) {
		s := fresh(t)
		at := Epoch
		ok(t, reserve(s, "a1", at, "alice"), "first send for alice")
		ok(t, reserve(s, "a2", at.Add(time.Second), "alice"), "second send for alice")
		refused(t, reserve(s, "a3", at.Add(2*time.Second), "alice"), otp.BudgetClient, "third send for alice")
		// The refusal recorded nothing, not even on the global counter it passed.
		ok(t, reserve(s, "b1", at.Add(3*time.Second), "bob"), "bob while alice is refused")
		refused(t, reserve(s, "c1", at.Add(4*time.Second), "carol"), otp.BudgetGlobal, "a fourth send in all")
		// A full counter earlier in the list is named, not the later one.
		refused(t, reserve(s, "a4", at.Add(5*time.Second), "alice"), otp.BudgetClient, "alice with both full")
		// No counters at all: nothing to refuse.
		ok(t, s.ReserveBudget(ctx, otp.BudgetReservation{ID: "n1", At: at}), "a reservation with no counters")
	})

	t.Run("window", func(t *testing.T) {
		s := fresh(t)
		ok(t, reserve(s, "a1", Epoch, "alice"), "a1")
		ok(t, reserve(s, "a2", Epoch.Add(10*time.Minute), "alice"), "a2")
		// a1 is exactly one window old: at Since, it no longer counts.
		refused(t, reserve(s, "a3", Epoch.Add(window-time.Nanosecond), "alice"), otp.BudgetClient, "a1 still inside the window")
		ok(t, reserve(s, "a3", Epoch.Add(window), "alice"), "a1 at Since")
		refused(t, reserve(s, "a4", Epoch.Add(window+time.Minute), "alice"), otp.BudgetClient, "a2 and a3 in the window")
		ok(t, reserve(s, "a4", Epoch.Add(window+10*time.Minute), "alice"), "a2 left the window")
	})

	t.Run("clock skew between replicas", func(t *testing.T) {
		s := fresh(t)
		// A send recorded a little before the newest (another replica's clock) still
		// counts, and leaves the window at its own time.
		ok(t, reserve(s, "a1", Epoch.Add(time.Second), "alice"), "a1")
		ok(t, reserve(s, "a2", Epoch, "alice"), "a2, one second earlier")
		refused(t, reserve(s, "a3", Epoch.Add(2*time.Second), "alice"), otp.BudgetClient, "both count")
		ok(t, reserve(s, "a3", Epoch.Add(window), "alice"), "a2 left the window")
		refused(t, reserve(s, "a4", Epoch.Add(window+time.Millisecond), "alice"), otp.BudgetClient, "a1 is still in it")
	})

	t.Run("release", func(t *testing.T) {
		s := fresh(t)
		ok(t, reserve(s, "a1", Epoch, "alice"), "a1")
		ok(t, reserve(s, "a2", Epoch, "alice"), "a2")
		ok(t, reserve(s, "b1", Epoch, "bob"), "b1")
		refused(t, reserve(s, "c1", Epoch, "carol"), otp.BudgetGlobal, "global full")
		ok(t, s.ReleaseBudget(ctx, "a2"), "release a2")
		ok(t, s.ReleaseBudget(ctx, "a2"), "release a2 again: a no-op")
		ok(t, s.ReleaseBudget(ctx, "never"), "release an unknown ID")
		// a2 gave back one global send and one of alice's.
		ok(t, reserve(s, "a3", Epoch, "alice"), "alice after a2 was released")
		refused(t, reserve(s, "c2", Epoch, "carol"), otp.BudgetGlobal, "the second release gave nothing back")
		refused(t, reserve(s, "a4", Epoch, "alice"), otp.BudgetClient, "a1 and a3 still count")
		ok(t, s.ReleaseBudget(ctx, "b1"), "release b1")
		ok(t, reserve(s, "c3", Epoch, "carol"), "carol after b1 was released")
	})

	t.Run("duplicate ID", func(t *testing.T) {
		s := fresh(t)
		ok(t, reserve(s, "x", Epoch, "alice"), "x")
		if err := reserve(s, "x", Epoch, "bob"); err == nil || errors.Is(err, otp.ErrBudgetExceeded) {
			t.Errorf("a second reservation with the same ID: got %v, want an error that is not a refusal", err)
		}
	})

	t.Run("concurrent reservations respect the budget", func(t *testing.T) {
		s := fresh(t)
		var granted int
		for i, err := range Race(Contenders, func(i int) error { return reserve(s, fmt.Sprint("r", i), Epoch, fmt.Sprint("client", i)) }) {
			switch {
			case err == nil:
				granted++
			case !errors.Is(err, otp.ErrBudgetExceeded):
				t.Errorf("reservation %d: %v", i, err)
			}
		}
		if granted != 3 {
			t.Errorf("%d of %d concurrent reservations were granted, want exactly 3", granted, Contenders)
		}
	})

	t.Run("concurrent reserve and release", func(t *testing.T) {
		s := fresh(t)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range Contenders {
			wg.Go(func() {
				<-start
				for j := range 20 {
					id := fmt.Sprintf("r%d-%d", i, j)
					if err := reserve(s, id, Epoch, fmt.Sprint("client", i%4)); err != nil && !errors.Is(err, otp.ErrBudgetExceeded) {
						t.Errorf("ReserveBudget: %v", err)
						return
					}
					if err := s.ReleaseBudget(ctx, id); err != nil {
						t.Errorf("ReleaseBudget: %v", err)
						return
					}
				}
			})
		}
		close(start)
		wg.Wait()
		var granted int
		for i := range Contenders {
			if err := reserve(s, fmt.Sprint("after", i), Epoch, fmt.Sprint("fresh", i)); err == nil {
				granted++
			}
		}
		if granted != 3 {
			t.Errorf("%d reservations granted after every earlier one was released, want 3", granted)
		}
	})
}
