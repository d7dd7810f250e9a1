package status_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/status"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

// requireThrottled checks that err is a *ThrottleError with this reason and wait.
func requireThrottled(t *testing.T, err error, reason status.ThrottleReason, retry time.Duration, msg string) {
	t.Helper()
	var te *status.ThrottleError
	require.ErrorAs(t, err, &te, msg)
	require.ErrorIs(t, err, status.ErrThrottled, msg)
	assert.Equal(t, reason, te.Reason, msg)
	assert.Equal(t, retry, te.RetryAfter, msg)
}

// TestSendLinkThrottle walks one subscriber through the default limits (one link a
// minute, five an hour) on the fake clock: the interval, the hourly cap, the window
// sliding, and refusals that change nothing.
func TestSendLinkThrottle(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	var pending status.LinkToken
	var replaced []string
	for _, step := range []struct {
		at     time.Duration // since epoch
		reason status.ThrottleReason
		retry  time.Duration
		why    string
	}{
		{0, "", 0, "first link"},
		{20 * time.Second, status.ThrottleInterval, 40 * time.Second, "20 s after a link"},
		{59 * time.Second, status.ThrottleInterval, time.Second, "a second early"},
		{time.Minute, "", 0, "a minute after the last link: refusals were not counted"},
		{2 * time.Minute, "", 0, "third"},
		{3 * time.Minute, "", 0, "fourth"},
		{4 * time.Minute, "", 0, "fifth"},
		{5 * time.Minute, status.ThrottleHourly, 55 * time.Minute, "sixth in an hour"},
		{59*time.Minute + 59*time.Second, status.ThrottleHourly, time.Second, "a second before the first leaves the hour"},
		{time.Hour, "", 0, "the first link left the hour"},
		{time.Hour + 30*time.Second, status.ThrottleInterval, 30 * time.Second, "the interval still holds"},
		{time.Hour + time.Minute, "", 0, "the second link left the hour"},
	} {
		f.clock.Set(epoch.Add(step.at))
		link, err := f.svc.SendLink(ctx, "alice", "alice@example.com")
		if step.reason == "" {
			require.NoError(t, err, step.why)
			if pending.Token != "" {
				replaced = append(replaced, pending.Token)
			}
			pending = link
			continue
		}
		requireThrottled(t, err, step.reason, step.retry, step.why)
		assert.Zero(t, link, step.why)
	}
	for _, tok := range replaced {
		_, err := f.svc.Verify(ctx, tok)
		assert.Equal(t, status.ErrInvalidLink, err, "a sent link replaces the one before")
	}
	_, err := f.svc.Verify(ctx, pending.Token)
	assert.NoError(t, err, "refused resends left the last link working")
}

func TestSendLinkThrottleConfig(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{MinResendInterval: 10 * time.Second, HourlyLimit: 2})
	_, err := f.svc.SendLink(ctx, "alice", "alice@example.com")
	require.NoError(t, err)
	f.clock.Advance(5 * time.Second)
	_, err = f.svc.SendLink(ctx, "alice", "alice@example.com")
	requireThrottled(t, err, status.ThrottleInterval, 5*time.Second, "configured interval")
	f.clock.Advance(5 * time.Second)
	_, err = f.svc.SendLink(ctx, "alice", "alice@example.com")
	require.NoError(t, err)
	f.clock.Advance(10 * time.Second)
	_, err = f.svc.SendLink(ctx, "alice", "alice@example.com")
	requireThrottled(t, err, status.ThrottleHourly, time.Hour-20*time.Second, "configured hourly limit")
	_, err = f.svc.SendLink(ctx, "bob", "bob@example.com")
	assert.NoError(t, err, "limits are per subscriber")
}

// Many requests racing for one subscriber get one link between them.
func TestSendLinkThrottleConcurrent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	links := make([]status.LinkToken, storetest.Contenders)
	errs := storetest.ExactlyOnce(t, storetest.Contenders, func(i int) error {
		var err error
		links[i], err = f.svc.SendLink(ctx, "alice", "alice@example.com")
		return err
	})
	for _, err := range errs {
		assert.ErrorIs(t, err, status.ErrThrottled)
	}
	for _, l := range links {
		if l.Token != "" {
			_, err := f.svc.Verify(ctx, l.Token)
			assert.NoError(t, err, "the one link sent is the pending one")
		}
	}
}

// ChangeEmail mails a link too, so it counts towards the limits and obeys them; the
// change itself still happens when the link is refused, and it never lifts the limits.
func TestChangeEmailThrottle(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	first, err := f.svc.SendLink(ctx, "alice", "alice@example.com")
	require.NoError(t, err)

	f.clock.Advance(10 * time.Second)
	link, err := f.svc.ChangeEmail(ctx, "alice", "alice@new.example", status.By{})
	requireThrottled(t, err, status.ThrottleInterval, 50*time.Second, "ChangeEmail 10 s after a link")
	assert.Zero(t, link)
	ev, ok := f.rec.Last(notify.EmailChanged)
	require.True(t, ok, "the change happened and the subscriber is told")
	assert.Equal(t, "a•••@new.example", ev.Attributes["email"])
	_, err = f.svc.Verify(ctx, first.Token)
	assert.Equal(t, status.ErrInvalidLink, err, "the link for the old address is gone")

	f.clock.Advance(50 * time.Second)
	link, err = f.svc.SendLink(ctx, "alice", "alice@new.example")
	require.NoError(t, err, "resend once RetryAfter has passed")

	f.clock.Advance(time.Second)
	_, err = f.svc.SendLink(ctx, "alice", "alice@new.example")
	requireThrottled(t, err, status.ThrottleInterval, 59*time.Second, "ChangeEmail's Reset kept the history")
	_, err = f.svc.Verify(ctx, link.Token)
	require.NoError(t, err)
}

// An attacker with a session alternates ChangeEmail and SendLink at a victim's address
// once a minute for an hour: five links reach it, as with SendLink alone.
func TestChangeEmailIsNoBypass(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	sent := 0
	for i := range 60 {
		var err error
		if i%2 == 0 {
			_, err = f.svc.ChangeEmail(ctx, "mallory", "victim@example.com", status.By{})
		} else {
			_, err = f.svc.SendLink(ctx, "mallory", "victim@example.com")
		}
		switch {
		case err == nil:
			sent++
		case !errors.Is(err, status.ErrThrottled):
			t.Fatalf("call %d: %v", i, err)
		}
		f.clock.Advance(time.Minute)
	}
	assert.Equal(t, status.DefaultHourlyLimit, sent)
}

// failingReserve is a store whose resend history is unavailable.
type failingReserve struct{ *memory.Status }

func (failingReserve) ReserveLink(context.Context, string, status.ResendLimits) error {
	return errors.New("database down")
}

// A store error fails closed: no link is issued, and it is not mistaken for throttling.
func TestSendLinkReserveFailure(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	src := status.Sources{TwoFactor: f.src, Questions: f.src, Password: f.src}
	svc, err := status.New(status.Config{Now: f.clock.Now}, failingReserve{f.store}, src, f.rec)
	require.NoError(t, err)
	link, err := svc.SendLink(ctx, "alice", "alice@example.com")
	require.Error(t, err)
	assert.NotErrorIs(t, err, status.ErrThrottled)
	assert.Contains(t, err.Error(), "database down")
	assert.Zero(t, link)
}
