package storetest

import (
	"context"
	"errors"
	"fmt"
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
// subscribers and purposes, and that concurrent reservations never exceed the cap.
func TestOTPRates(t *testing.T, newStore func(t *testing.T, now func() time.Time) otp.RateStore) {
	ctx := context.Background()
	lim := otp.RateLimits{MinInterval: 30 * time.Second, PerHour: 3, MaxFailures: 4, FailureCooldown: 15 * time.Minute}
	alice := otp.RateKey{Subscriber: "alice", Purpose: otp.PurposeSignIn}
	throttled := func(t *testing.T, err error, reason otp.ThrottleReason, retry time.Duration, what string) {
		t.Helper()
		wantThrottled(t, err, otp.ErrThrottled, func(e *otp.ThrottleError) (otp.ThrottleReason, time.Duration) { return e.Reason, e.RetryAfter }, reason, retry, what)
	}

	t.Run("interval and hourly cap", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		if err := s.ReserveIssue(ctx, alice, lim); err != nil {
			t.Fatalf("first issue: %v", err)
		}
		clk.Advance(10 * time.Second)
		throttled(t, s.ReserveIssue(ctx, alice, lim), otp.ThrottleInterval, 20*time.Second, "issue after 10s")
		clk.Advance(20 * time.Second)
		for i := 2; i <= 3; i++ {
			if err := s.ReserveIssue(ctx, alice, lim); err != nil {
				t.Fatalf("issue %d: %v", i, err)
			}
			clk.Advance(time.Minute)
		}
		// Issued at 0s, 30s, 90s; now 150s.
		throttled(t, s.ReserveIssue(ctx, alice, lim), otp.ThrottleHourly, time.Hour-150*time.Second, "fourth issue in an hour")
		clk.Advance(time.Hour - 150*time.Second)
		if err := s.ReserveIssue(ctx, alice, lim); err != nil {
			t.Errorf("issue once the first left the hour: %v", err)
		}
		// Other subscribers and purposes are unaffected.
		if err := s.ReserveIssue(ctx, otp.RateKey{Subscriber: "bob", Purpose: otp.PurposeSignIn}, lim); err != nil {
			t.Errorf("bob: %v", err)
		}
		if err := s.ReserveIssue(ctx, otp.RateKey{Subscriber: "alice", Purpose: otp.PurposeSIMSwap}, lim); err != nil {
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
		if err := s.ReserveIssue(ctx, alice, lim); err != nil {
			t.Fatalf("issue below the failure limit: %v", err)
		}
		if err := s.RecordFailure(ctx, alice); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		throttled(t, s.ReserveIssue(ctx, alice, lim), otp.ThrottleFailures, 14*time.Minute, "issue at the failure limit")
		if err := s.ReserveIssue(ctx, otp.RateKey{Subscriber: "bob", Purpose: otp.PurposeSignIn}, lim); err != nil {
			t.Errorf("bob is not limited by alice's failures: %v", err)
		}
		clk.Advance(14 * time.Minute)
		if err := s.ReserveIssue(ctx, alice, lim); err != nil {
			t.Fatalf("issue after the cooldown: %v", err)
		}
		// Issuing did not reset anything below the limit: count again from the cooldown.
		for range lim.MaxFailures {
			if err := s.RecordFailure(ctx, alice); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(time.Minute)
		throttled(t, s.ReserveIssue(ctx, alice, lim), otp.ThrottleFailures, 14*time.Minute, "issue at the limit again")
		if err := s.ResetFailures(ctx, alice); err != nil {
			t.Fatal(err)
		}
		if err := s.ReserveIssue(ctx, alice, lim); err != nil {
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
				if err := s.ReserveIssue(ctx, alice, otp.RateLimits{MaxFailures: lim.MaxFailures, FailureCooldown: time.Minute}); err != nil {
					t.Fatalf("issue after %d failures: %v", i+1, err)
				}
			}
		}
		throttled(t, s.ReserveIssue(ctx, alice, lim), otp.ThrottleFailures, 15*time.Minute, "issue after failures spread over issues")
	})

	t.Run("concurrent reservations respect the cap", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		burst := otp.RateLimits{PerHour: 3}
		errs := make(chan error, Contenders)
		start := make(chan struct{})
		for range Contenders {
			go func() { <-start; errs <- s.ReserveIssue(ctx, alice, burst) }()
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
}

// TestOTPAuthenticators checks an otp.AuthenticatorStore: pending replacement, refusal to
// overwrite a confirmed record, the monotonic step (replay protection) under Contenders
// goroutines, confirmation, ID binding, deletion and isolation.
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
		if err := s.AdvanceAuthenticator(ctx, "alice", "e2", 11, Epoch.Add(time.Hour)); err != nil {
			t.Fatalf("later step: %v", err)
		}
		got, _ = s.GetAuthenticator(ctx, "alice")
		if !got.ConfirmedAt.Equal(Epoch) || got.LastStep != 11 {
			t.Errorf("a later confirmation time must not move ConfirmedAt: %+v", got)
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
