package otp_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

var (
	phone = otp.Destination{Channel: otp.ChannelSMS, Address: "+12015550123"}
	email = otp.Destination{Channel: otp.ChannelEmail, Address: "alice@example.com"}
)

type codesEnv struct {
	clk   *fakeclock.Clock
	store *memory.OTP
	rec   *notify.Recorder
	codes *otp.Codes
}

func newCodes(t *testing.T, cfg otp.CodeConfig) codesEnv {
	t.Helper()
	clk := storetest.NewClock()
	store := memory.NewOTP(memory.Options{Now: clk.Now})
	rec := &notify.Recorder{}
	if cfg.HashKey == nil {
		cfg.HashKey = testkey.New("otp")
	}
	cfg.Now = clk.Now
	if len(cfg.Budgets.HomeRegions) == 0 && !cfg.Budgets.AnyCountry {
		cfg.Budgets.HomeRegions = []string{"US"} // the test numbers are American
	}
	codes, err := otp.NewCodes(cfg, store, store, rec)
	require.NoError(t, err)
	return codesEnv{clk, store, rec, codes}
}

func (e codesEnv) issue(t *testing.T, sub string, p otp.Purpose, d otp.Destination) otp.Issued {
	t.Helper()
	iss, err := e.codes.Issue(context.Background(), otp.IssueRequest{Subscriber: sub, Purpose: p, Destination: d})
	require.NoError(t, err)
	return iss
}

func verifyReq(iss otp.Issued, sub string, p otp.Purpose, d otp.Destination, code string) otp.VerifyRequest {
	return otp.VerifyRequest{ChallengeID: iss.ChallengeID, Subscriber: sub, Purpose: p, Destination: d, Code: code}
}

// wrong returns a code of the same length that is not code.
func wrong(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestCodesIssueAndVerify(t *testing.T) {
	ctx := context.Background()
	e := newCodes(t, otp.CodeConfig{})
	iss := e.issue(t, "alice", otp.PurposeSignIn, phone)
	assert.Len(t, iss.Code, 6)
	assert.Len(t, iss.ChallengeID, 32)
	assert.Equal(t, storetest.Epoch.Add(10*time.Minute), iss.ExpiresAt)

	// Only a keyed hash is stored: the challenge carries neither code nor address.
	c, err := e.store.BeginAttempt(ctx, iss.ChallengeID)
	require.NoError(t, err)
	assert.Len(t, c.Hash, 32)
	assert.NotContains(t, string(c.Hash), iss.Code)

	typed := iss.Code[:3] + " " + iss.Code[3:]
	v, err := e.codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, phone, typed))
	require.NoError(t, err)
	assert.Equal(t, otp.Verified{ChallengeID: iss.ChallengeID, Subscriber: "alice", Purpose: otp.PurposeSignIn, Channel: otp.ChannelSMS, VerifiedAt: storetest.Epoch}, v)

	_, err = e.codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, phone, iss.Code))
	assert.ErrorIs(t, err, otp.ErrReplay, "a code is accepted once")
}

func TestCodesBinding(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		req  func(iss otp.Issued) otp.VerifyRequest
	}{
		{"other purpose", func(iss otp.Issued) otp.VerifyRequest {
			return verifyReq(iss, "alice", otp.PurposeSIMSwap, phone, iss.Code)
		}},
		{"other destination", func(iss otp.Issued) otp.VerifyRequest {
			return verifyReq(iss, "alice", otp.PurposeSignIn, otp.Destination{Channel: otp.ChannelSMS, Address: "+12015550199"}, iss.Code)
		}},
		{"other channel, same address", func(iss otp.Issued) otp.VerifyRequest {
			return verifyReq(iss, "alice", otp.PurposeSignIn, otp.Destination{Channel: otp.ChannelVoice, Address: phone.Address}, iss.Code)
		}},
		{"other subscriber", func(iss otp.Issued) otp.VerifyRequest {
			return verifyReq(iss, "mallory", otp.PurposeSignIn, phone, iss.Code)
		}},
		{"wrong code", func(iss otp.Issued) otp.VerifyRequest {
			return verifyReq(iss, "alice", otp.PurposeSignIn, phone, wrong(iss.Code))
		}},
		{"unknown challenge", func(iss otp.Issued) otp.VerifyRequest {
			r := verifyReq(iss, "alice", otp.PurposeSignIn, phone, iss.Code)
			r.ChallengeID = "00000000000000000000000000000000"
			return r
		}},
		{"empty challenge", func(iss otp.Issued) otp.VerifyRequest {
			r := verifyReq(iss, "alice", otp.PurposeSignIn, phone, iss.Code)
			r.ChallengeID = ""
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCodes(t, otp.CodeConfig{})
			iss := e.issue(t, "alice", otp.PurposeSignIn, phone)
			_, err := e.codes.Verify(ctx, tt.req(iss))
			// Exactly the same error value for all of them: nothing to tell them apart.
			assert.Equal(t, otp.ErrInvalidCode, err)
			// The right request still works afterwards.
			_, err = e.codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, phone, iss.Code))
			assert.NoError(t, err)
		})
	}
}

func TestCodesMalformedIsNotAnAttempt(t *testing.T) {
	ctx := context.Background()
	e := newCodes(t, otp.CodeConfig{MaxAttempts: 1})
	iss := e.issue(t, "alice", otp.PurposeSignIn, phone)
	for _, in := range []string{"12a456", "12345", "1234567", ""} {
		_, err := e.codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, phone, in))
		assert.ErrorIs(t, err, otp.ErrMalformedCode, "%q", in)
	}
	_, err := e.codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, phone, "１２３４５６"[:0]+fullWidth(iss.Code)))
	assert.NoError(t, err, "full-width digits are the same code")
}

func fullWidth(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		out = append(out, r-'0'+'０')
	}
	return string(out)
}

func TestCodesExpiry(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		cfg  otp.CodeConfig
		dest otp.Destination
		ttl  time.Duration
	}{
		{"sms default", otp.CodeConfig{}, phone, 10 * time.Minute},
		{"sms configured", otp.CodeConfig{TTL: 5 * time.Minute}, phone, 5 * time.Minute},
		{"email follows TTL", otp.CodeConfig{TTL: 5 * time.Minute}, email, 5 * time.Minute},
		{"email configured", otp.CodeConfig{EmailTTL: 30 * time.Minute}, email, 30 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCodes(t, tt.cfg)
			iss := e.issue(t, "alice", otp.PurposeSignIn, tt.dest)
			assert.Equal(t, storetest.Epoch.Add(tt.ttl), iss.ExpiresAt)
			e.clk.Advance(tt.ttl)
			_, err := e.codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, tt.dest, iss.Code))
			assert.ErrorIs(t, err, otp.ErrExpired)

			iss = e.issue(t, "bob", otp.PurposeSignIn, tt.dest)
			e.clk.Advance(tt.ttl - time.Second)
			_, err = e.codes.Verify(ctx, verifyReq(iss, "bob", otp.PurposeSignIn, tt.dest, iss.Code))
			assert.NoError(t, err, "valid until the end of its TTL")
		})
	}
}

func TestCodesAttemptLimit(t *testing.T) {
	ctx := context.Background()
	e := newCodes(t, otp.CodeConfig{})
	iss := e.issue(t, "alice", otp.PurposeSignIn, phone)
	bad := verifyReq(iss, "alice", otp.PurposeSignIn, phone, wrong(iss.Code))
	for i := range 5 {
		_, err := e.codes.Verify(ctx, bad)
		require.Equal(t, otp.ErrInvalidCode, err, "attempt %d", i+1)
	}
	assert.Equal(t, []notify.Type{notify.SuspiciousActivity}, e.rec.Types(), "the fifth wrong code is reported once")
	ev, _ := e.rec.Last(notify.SuspiciousActivity)
	assert.Equal(t, "alice", ev.Subscriber)
	assert.Equal(t, "otp_attempts_exhausted", ev.Attributes["reason"])

	_, err := e.codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, phone, iss.Code))
	assert.ErrorIs(t, err, otp.ErrAttemptsExhausted, "the right code is dead too")
	assert.Len(t, e.rec.Events(), 1)
}

// 64 goroutines submit the same correct code: exactly one succeeds.
func TestCodesConcurrentCorrect(t *testing.T) {
	ctx := context.Background()
	e := newCodes(t, otp.CodeConfig{})
	iss := e.issue(t, "alice", otp.PurposeSignIn, phone)
	req := verifyReq(iss, "alice", otp.PurposeSignIn, phone, iss.Code)
	for _, err := range storetest.ExactlyOnce(t, storetest.Contenders, func(int) error {
		_, err := e.codes.Verify(ctx, req)
		return err
	}) {
		if !errors.Is(err, otp.ErrReplay) && !errors.Is(err, otp.ErrAttemptsExhausted) {
			t.Errorf("losing submission: %v", err)
		}
	}
}

// 64 goroutines guess at once, one of them right: no more than MaxAttempts guesses are
// ever compared (a right guess arriving after the limit is refused), and if the right one
// got in, the code is consumed and everyone after sees ErrReplay.
func TestCodesConcurrentGuessesRespectLimit(t *testing.T) {
	ctx := context.Background()
	e := newCodes(t, otp.CodeConfig{})
	iss := e.issue(t, "alice", otp.PurposeSignIn, phone)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		compared int
		success  int
		start    = make(chan struct{})
	)
	for i := range storetest.Contenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			code := wrong(iss.Code)
			if i == storetest.Contenders-1 {
				code = iss.Code
			}
			_, err := e.codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, phone, code))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				success++
				compared++
			case errors.Is(err, otp.ErrInvalidCode):
				compared++
			case errors.Is(err, otp.ErrAttemptsExhausted), errors.Is(err, otp.ErrReplay):
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.LessOrEqual(t, compared, 5, "guesses compared")
	assert.LessOrEqual(t, success, 1, "successes")
	if success == 0 {
		assert.Equal(t, 5, compared, "without a success, exactly MaxAttempts guesses are compared")
	}
}

func TestCodesResendThrottling(t *testing.T) {
	ctx := context.Background()
	e := newCodes(t, otp.CodeConfig{MinResendInterval: time.Minute, HourlyLimit: 3})
	req := otp.IssueRequest{Subscriber: "alice", Purpose: otp.PurposeSignIn, Destination: phone}
	_, err := e.codes.Issue(ctx, req)
	require.NoError(t, err)
	e.clk.Advance(20 * time.Second)
	_, err = e.codes.Issue(ctx, req)
	var te *otp.ThrottleError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, otp.ErrThrottled)
	assert.Equal(t, otp.ThrottleInterval, te.Reason)
	assert.Equal(t, 40*time.Second, te.RetryAfter)

	// Another purpose or subscriber is not throttled by this one.
	_, err = e.codes.Issue(ctx, otp.IssueRequest{Subscriber: "alice", Purpose: otp.PurposePortOut, Destination: phone})
	assert.NoError(t, err)
	_, err = e.codes.Issue(ctx, otp.IssueRequest{Subscriber: "bob", Purpose: otp.PurposeSignIn, Destination: phone})
	assert.NoError(t, err)

	for range 2 {
		e.clk.Advance(time.Minute)
		_, err = e.codes.Issue(ctx, req)
		require.NoError(t, err)
	}
	e.clk.Advance(time.Minute)
	_, err = e.codes.Issue(ctx, req)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, otp.ThrottleHourly, te.Reason)
}

// Wrong codes count across codes: asking for a new code does not reset the count.
func TestCodesFailuresSurviveNewCodes(t *testing.T) {
	ctx := context.Background()
	e := newCodes(t, otp.CodeConfig{MaxFailures: 6, HourlyLimit: 10})
	var last otp.Issued
	for i := range 3 {
		last = e.issue(t, "alice", otp.PurposeSignIn, phone)
		for range 2 {
			_, err := e.codes.Verify(ctx, verifyReq(last, "alice", otp.PurposeSignIn, phone, wrong(last.Code)))
			require.Equal(t, otp.ErrInvalidCode, err, "round %d", i)
		}
		e.clk.Advance(time.Minute)
	}
	_, err := e.codes.Issue(ctx, otp.IssueRequest{Subscriber: "alice", Purpose: otp.PurposeSignIn, Destination: phone})
	var te *otp.ThrottleError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, otp.ThrottleFailures, te.Reason)

	// The live code still has attempts left; a success resets the count.
	_, err = e.codes.Verify(ctx, verifyReq(last, "alice", otp.PurposeSignIn, phone, last.Code))
	require.NoError(t, err)
	e.issue(t, "alice", otp.PurposeSignIn, phone)
}

func TestCodesRevoke(t *testing.T) {
	ctx := context.Background()
	e := newCodes(t, otp.CodeConfig{})
	iss := e.issue(t, "alice", otp.PurposeSignIn, phone)
	require.NoError(t, e.codes.Revoke(ctx, iss.ChallengeID))
	require.NoError(t, e.codes.Revoke(ctx, iss.ChallengeID), "revoking twice is fine")
	_, err := e.codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, phone, iss.Code))
	assert.Equal(t, otp.ErrInvalidCode, err)
}

// A code that was never delivered gives back what it took from the resend limits; a
// revoked one (it may have been delivered) does not. Neither touches the failure count.
func TestCodesUndelivered(t *testing.T) {
	ctx := context.Background()
	throttledBy := func(t *testing.T, err error, reason otp.ThrottleReason) {
		t.Helper()
		var te *otp.ThrottleError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, reason, te.Reason)
	}
	req := otp.IssueRequest{Subscriber: "alice", Purpose: otp.PurposeSignIn, Destination: phone}

	t.Run("limits are given back", func(t *testing.T) {
		e := newCodes(t, otp.CodeConfig{MinResendInterval: time.Minute, HourlyLimit: 2, DestinationHourlyLimit: 2})
		for range 5 { // more than both hourly limits, faster than the interval
			iss := e.issue(t, "alice", otp.PurposeSignIn, phone)
			require.NoError(t, e.codes.Undelivered(ctx, iss.ChallengeID))
			require.NoError(t, e.codes.Undelivered(ctx, iss.ChallengeID), "a second call is a no-op")
			_, err := e.codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, phone, iss.Code))
			assert.Equal(t, otp.ErrInvalidCode, err, "the undelivered code is gone")
			e.clk.Advance(time.Second)
		}
		require.NoError(t, e.codes.Undelivered(ctx, "never-issued"))
		// The limits are whole: two codes, a minute apart, then the hourly limit.
		e.issue(t, "alice", otp.PurposeSignIn, phone)
		_, err := e.codes.Issue(ctx, req)
		throttledBy(t, err, otp.ThrottleInterval)
		e.clk.Advance(time.Minute)
		e.issue(t, "alice", otp.PurposeSignIn, phone)
		e.clk.Advance(time.Minute)
		_, err = e.codes.Issue(ctx, req)
		throttledBy(t, err, otp.ThrottleHourly)
	})

	t.Run("the destination's count is given back", func(t *testing.T) {
		e := newCodes(t, otp.CodeConfig{DestinationHourlyLimit: 1})
		iss := e.issue(t, "bob", otp.PurposeContactVerification, phone)
		require.NoError(t, e.codes.Undelivered(ctx, iss.ChallengeID))
		e.issue(t, "carol", otp.PurposeContactVerification, phone)
	})

	t.Run("revoke gives nothing back", func(t *testing.T) {
		e := newCodes(t, otp.CodeConfig{})
		iss := e.issue(t, "alice", otp.PurposeSignIn, phone)
		require.NoError(t, e.codes.Revoke(ctx, iss.ChallengeID))
		_, err := e.codes.Issue(ctx, req)
		throttledBy(t, err, otp.ThrottleInterval)
	})

	t.Run("failures stay", func(t *testing.T) {
		e := newCodes(t, otp.CodeConfig{MaxFailures: 2})
		iss := e.issue(t, "alice", otp.PurposeSignIn, phone)
		for range 2 {
			_, err := e.codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, phone, wrong(iss.Code)))
			require.Equal(t, otp.ErrInvalidCode, err)
		}
		require.NoError(t, e.codes.Undelivered(ctx, iss.ChallengeID))
		_, err := e.codes.Issue(ctx, req)
		throttledBy(t, err, otp.ThrottleFailures)
	})
}

// rateSpy records the reservations a Codes makes.
type rateSpy struct {
	*memory.OTP
	mu  sync.Mutex
	res []otp.Reservation
}

func (s *rateSpy) ReserveIssue(ctx context.Context, r otp.Reservation, l otp.RateLimits) error {
	s.mu.Lock()
	s.res = append(s.res, r)
	s.mu.Unlock()
	return s.OTP.ReserveIssue(ctx, r, l)
}

// Many accounts cannot have codes sent to one number without limit: the destination has
// an hourly cap of its own, across subscribers and purposes.
func TestCodesDestinationLimit(t *testing.T) {
	ctx := context.Background()
	issue := func(e codesEnv, sub string, d otp.Destination) error {
		_, err := e.codes.Issue(ctx, otp.IssueRequest{Subscriber: sub, Purpose: otp.PurposeContactVerification, Destination: d})
		return err
	}
	refusedForDestination := func(t *testing.T, err error) {
		t.Helper()
		var te *otp.ThrottleError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, otp.ThrottleDestination, te.Reason)
		assert.Equal(t, time.Hour, te.RetryAfter, "a full hour, whenever the others' codes were sent")
		assert.Equal(t, "otp: too many codes requested (destination_limit): retry after 1h0m0s", err.Error())
	}

	t.Run("default of 10", func(t *testing.T) {
		e := newCodes(t, otp.CodeConfig{})
		for i := range 10 {
			require.NoError(t, issue(e, fmt.Sprint("attacker", i), phone), "code %d", i+1)
			e.clk.Advance(time.Minute)
		}
		refusedForDestination(t, issue(e, "attacker10", phone))
		refusedForDestination(t, issue(e, "attacker0", otp.Destination{Channel: otp.ChannelVoice, Address: phone.Address}))
		require.NoError(t, issue(e, "attacker10", otp.Destination{Channel: otp.ChannelSMS, Address: "+12015550124"}), "another number")
		require.NoError(t, issue(e, "attacker11", email), "an email address")
		// The window slides: the first code leaves the hour 50 minutes from now.
		e.clk.Advance(50 * time.Minute)
		require.NoError(t, issue(e, "attacker12", phone))
		refusedForDestination(t, issue(e, "attacker13", phone))
	})

	t.Run("configured, SMS and voice together", func(t *testing.T) {
		e := newCodes(t, otp.CodeConfig{DestinationHourlyLimit: 2})
		require.NoError(t, issue(e, "alice", phone))
		require.NoError(t, issue(e, "bob", otp.Destination{Channel: otp.ChannelVoice, Address: phone.Address}))
		refusedForDestination(t, issue(e, "carol", phone))
		require.NoError(t, issue(e, "carol", email))
		require.NoError(t, issue(e, "dave", email))
		refusedForDestination(t, issue(e, "erin", email))
	})

	t.Run("the store sees a keyed hash, not the address", func(t *testing.T) {
		spy := &rateSpy{OTP: memory.NewOTP(memory.Options{})}
		keys := map[string]bool{}
		for _, hk := range [][]byte{testkey.New("otp 1"), testkey.New("otp 2")} {
			codes, err := otp.NewCodes(otp.CodeConfig{Budgets: usHome, HashKey: hk}, spy.OTP, spy, &notify.Recorder{})
			require.NoError(t, err)
			_, err = codes.Issue(ctx, otp.IssueRequest{Subscriber: fmt.Sprint("sub", hk[0]), Purpose: otp.PurposeSignIn, Destination: phone})
			require.NoError(t, err)
		}
		require.Len(t, spy.res, 2)
		for _, r := range spy.res {
			assert.Len(t, r.Destination, 64)
			assert.NotContains(t, r.Destination, "5555550123")
			keys[r.Destination] = true
		}
		assert.Len(t, keys, 2, "the key depends on HashKey")
	})
}

func TestCodesLengths(t *testing.T) {
	ctx := context.Background()
	for _, digits := range []int{6, 8, 10} {
		e := newCodes(t, otp.CodeConfig{Digits: digits})
		iss := e.issue(t, "alice", otp.PurposeSignIn, phone)
		assert.Len(t, iss.Code, digits)
		_, err := otp.NormalizeCode(iss.Code, digits)
		require.NoError(t, err)
		_, err = e.codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, phone, iss.Code))
		assert.NoError(t, err)
	}
}

// Codes are uniform over all digits: a coarse check that every digit appears in every
// position with roughly equal frequency.
func TestCodesDistribution(t *testing.T) {
	e := newCodes(t, otp.CodeConfig{HourlyLimit: 60, DestinationHourlyLimit: 60, MinResendInterval: time.Second})
	var counts [6][10]int
	const n = 3000
	for i := range n {
		if i%50 == 0 {
			e.clk.Advance(2 * time.Hour)
		}
		e.clk.Advance(time.Second)
		iss := e.issue(t, "alice", otp.PurposeSignIn, phone)
		for p, c := range iss.Code {
			counts[p][c-'0']++
		}
	}
	for p := range counts {
		for d, c := range counts[p] {
			assert.InDelta(t, n/10, c, n/10*0.35, "digit %d at position %d", d, p)
		}
	}
}

func TestCodesBadRequests(t *testing.T) {
	ctx := context.Background()
	e := newCodes(t, otp.CodeConfig{})
	tests := map[string]otp.IssueRequest{
		"no subscriber":   {Purpose: otp.PurposeSignIn, Destination: phone},
		"no purpose":      {Subscriber: "alice", Destination: phone},
		"bad purpose":     {Subscriber: "alice", Purpose: "Sign In", Destination: phone},
		"unknown channel": {Subscriber: "alice", Purpose: otp.PurposeSignIn, Destination: otp.Destination{Channel: "fax", Address: "1"}},
		"empty address":   {Subscriber: "alice", Purpose: otp.PurposeSignIn, Destination: otp.Destination{Channel: otp.ChannelSMS}},
	}
	for name, req := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := e.codes.Issue(ctx, req)
			assert.Error(t, err)
		})
	}
	// A custom purpose in the documented alphabet is fine.
	_, err := e.codes.Issue(ctx, otp.IssueRequest{Subscriber: "alice", Purpose: "esim.transfer", Destination: phone})
	assert.NoError(t, err)
}

func TestNewCodesConfig(t *testing.T) {
	store := memory.NewOTP(memory.Options{})
	key := testkey.New("otp")
	tests := []struct {
		name  string
		cfg   otp.CodeConfig
		field string
	}{
		{"no key", otp.CodeConfig{}, "HashKey"},
		{"short key", otp.CodeConfig{HashKey: key[:16]}, "HashKey"},
		{"placeholder key", otp.CodeConfig{HashKey: make([]byte, 32)}, "CodeConfig.HashKey: keyring: key material is not random"},
		{"5 digits", otp.CodeConfig{HashKey: key, Digits: 5}, "Digits"},
		{"11 digits", otp.CodeConfig{HashKey: key, Digits: 11}, "Digits"},
		{"SMS TTL over 10 minutes", otp.CodeConfig{HashKey: key, TTL: 11 * time.Minute}, "TTL"},
		{"email TTL over an hour", otp.CodeConfig{HashKey: key, EmailTTL: 2 * time.Hour}, "EmailTTL"},
		{"failures over 100", otp.CodeConfig{HashKey: key, MaxFailures: 101}, "MaxFailures"},
		{"negative destination limit", otp.CodeConfig{HashKey: key, DestinationHourlyLimit: -1}, "DestinationHourlyLimit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := otp.NewCodes(tt.cfg, store, store, &notify.Recorder{})
			require.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
	_, err := otp.NewCodes(otp.CodeConfig{Budgets: usHome, HashKey: key}, nil, store, &notify.Recorder{})
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
	_, err = otp.NewCodes(otp.CodeConfig{Budgets: usHome, HashKey: key}, store, store, nil)
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
}

// failingStore fails one operation, to show every store error fails closed.
type failingStore struct {
	*memory.OTP
	fail string
}

var errStore = errors.New("store down")

func (f failingStore) BeginAttempt(ctx context.Context, id string) (otp.Challenge, error) {
	if f.fail == "begin" {
		return otp.Challenge{}, errStore
	}
	return f.OTP.BeginAttempt(ctx, id)
}

func (f failingStore) ConsumeChallenge(ctx context.Context, id string) error {
	if f.fail == "consume" {
		return errStore
	}
	return f.OTP.ConsumeChallenge(ctx, id)
}

func (f failingStore) RecordFailure(ctx context.Context, k otp.RateKey) error {
	if f.fail == "failure" {
		return errStore
	}
	return f.OTP.RecordFailure(ctx, k)
}

func (f failingStore) ResetFailures(ctx context.Context, k otp.RateKey) error {
	if f.fail == "reset" {
		return errStore
	}
	return f.OTP.ResetFailures(ctx, k)
}

func (f failingStore) ReserveIssue(ctx context.Context, r otp.Reservation, l otp.RateLimits) error {
	if f.fail == "reserve" {
		return errStore
	}
	return f.OTP.ReserveIssue(ctx, r, l)
}

func (f failingStore) ReleaseIssue(ctx context.Context, id string) error {
	if f.fail == "release" {
		return errStore
	}
	return f.OTP.ReleaseIssue(ctx, id)
}

func (f failingStore) CreateChallenge(ctx context.Context, c otp.Challenge) error {
	if f.fail == "create" {
		return errStore
	}
	return f.OTP.CreateChallenge(ctx, c)
}

func TestCodesFailClosed(t *testing.T) {
	ctx := context.Background()
	for _, op := range []string{"begin", "consume", "failure", "reset"} {
		for _, right := range []bool{true, false} {
			mem := memory.NewOTP(memory.Options{})
			fs := failingStore{OTP: mem}
			codes, err := otp.NewCodes(otp.CodeConfig{Budgets: usHome, HashKey: testkey.New("otp")}, &fs, &fs, &notify.Recorder{})
			require.NoError(t, err)
			iss, err := codes.Issue(ctx, otp.IssueRequest{Subscriber: "alice", Purpose: otp.PurposeSignIn, Destination: phone})
			require.NoError(t, err)
			fs.fail = op
			code := iss.Code
			if !right {
				code = wrong(code)
			}
			_, err = codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, phone, code))
			if (op == "consume" || op == "reset") && !right || op == "failure" && right {
				continue // the failing operation is not on this path
			}
			assert.ErrorIs(t, err, errStore, "%s failing, right code %v", op, right)
		}
	}
	for _, op := range []string{"reserve", "create"} {
		mem := memory.NewOTP(memory.Options{})
		fs := failingStore{OTP: mem, fail: op}
		codes, err := otp.NewCodes(otp.CodeConfig{Budgets: usHome, HashKey: testkey.New("otp")}, &fs, &fs, &notify.Recorder{})
		require.NoError(t, err)
		req := otp.IssueRequest{Subscriber: "alice", Purpose: otp.PurposeSignIn, Destination: phone}
		iss, err := codes.Issue(ctx, req)
		assert.ErrorIs(t, err, errStore, op)
		assert.Empty(t, iss.Code, "no code handed out when it was not stored")
		fs.fail = ""
		_, err = codes.Issue(ctx, req)
		assert.NoError(t, err, "%s failed: the code that was not stored does not count toward the limits", op)
	}
	// A failed create whose reservation cannot be released either reports both.
	fs := failingStore{OTP: memory.NewOTP(memory.Options{}), fail: "create"}
	codes, err := otp.NewCodes(otp.CodeConfig{Budgets: usHome, HashKey: testkey.New("otp")}, fs, failingStore{OTP: fs.OTP, fail: "release"}, &notify.Recorder{})
	require.NoError(t, err)
	_, err = codes.Issue(ctx, otp.IssueRequest{Subscriber: "alice", Purpose: otp.PurposeSignIn, Destination: phone})
	assert.ErrorIs(t, err, errStore)
	assert.ErrorContains(t, err, "releasing the reservation")
	// Undelivered reports a rate store failure.
	mem := memory.NewOTP(memory.Options{})
	codes, err = otp.NewCodes(otp.CodeConfig{Budgets: usHome, HashKey: testkey.New("otp")}, mem, failingStore{OTP: mem, fail: "release"}, &notify.Recorder{})
	require.NoError(t, err)
	iss, err := codes.Issue(ctx, otp.IssueRequest{Subscriber: "bob", Purpose: otp.PurposeSignIn, Destination: email})
	require.NoError(t, err)
	assert.ErrorIs(t, codes.Undelivered(ctx, iss.ChallengeID), errStore)
}

func TestCodesPublisherFailureFailsClosed(t *testing.T) {
	ctx := context.Background()
	e := newCodes(t, otp.CodeConfig{MaxAttempts: 1})
	e.rec.Err = errors.New("outbox down")
	iss := e.issue(t, "alice", otp.PurposeSignIn, phone)
	_, err := e.codes.Verify(ctx, verifyReq(iss, "alice", otp.PurposeSignIn, phone, wrong(iss.Code)))
	assert.ErrorIs(t, err, e.rec.Err)
}

func TestThrottleErrorMessage(t *testing.T) {
	err := error(&otp.ThrottleError{Reason: otp.ThrottleHourly, RetryAfter: 90 * time.Second})
	assert.Equal(t, "otp: too many codes requested (hourly_limit): retry after 1m30s", err.Error())
	assert.ErrorIs(t, err, otp.ErrThrottled)
	assert.NotErrorIs(t, err, otp.ErrInvalidCode)
}

// usHome is the budgets of a carrier in the United States, where the test numbers are.
var usHome = otp.SMSBudgets{HomeRegions: []string{"US"}}
