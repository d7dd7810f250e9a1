package protection_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
)

// The publisher is a durable outbox: an error means the event was not recorded. A flag
// must never go off unless its "disabled" event was recorded.
func TestFlagDisabledIsAnnouncedBeforeItTakesEffect(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	require.NoError(t, f.svc.EnableFlag(ctx, "alice", protection.NeverSIMSwap, protection.ChannelApp, notify.Actor{}))
	_, at, err := f.svc.RequestFlagDisable(ctx, "alice", protection.NeverSIMSwap, f.strongApp(), notify.Actor{})
	require.NoError(t, err)
	f.clock.Set(at)

	f.rec.Err = errors.New("outbox unavailable")
	_, err = f.svc.Flags(ctx, "alice")
	require.Error(t, err)
	req := f.strongApp()
	req.Action = protection.ActionSIMSwap
	d, err := f.svc.Decide(ctx, "alice", req)
	require.Error(t, err)
	assert.Equal(t, protection.Deny, d.Outcome, "fail closed while the change cannot be announced")
	n, err := f.svc.ApplyDue(ctx)
	require.Error(t, err)
	assert.Zero(t, n)
	states, err := f.store.Flags(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, states, 1)
	assert.True(t, states[0].On, "the flag went off although the subscriber could not be told")

	// The outbox is back: the next read turns the flag off, announced once.
	f.rec.Err = nil
	st, err := f.svc.Flags(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, protection.Flags(0), st.On)
	_, _ = f.svc.Flags(ctx, "alice")
	assert.Equal(t, 1, countType(f.rec, notify.ProtectionFlagDisabled))
	e, _ := f.rec.Last(notify.ProtectionFlagDisabled)
	assert.Equal(t, at.Format(time.RFC3339), e.Attributes["effective_at"])
}

// noCancelFlags cannot cancel (a store that fails on the undo path).
type noCancelFlags struct{ protection.FlagStore }

func (noCancelFlags) CancelDisable(context.Context, string, protection.Flags) error {
	return errors.New("database is down")
}

func TestUnannouncedDisableIsNeverScheduled(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	st := memory.NewProtection(memory.Options{Now: clk.Now})
	rec := &notify.Recorder{}
	svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: clk.Now},
		protection.Stores{Flags: noCancelFlags{st}, History: st, PINs: st}, rec)
	require.NoError(t, err)
	require.NoError(t, svc.EnableFlag(ctx, "carol", protection.NoPortOut, protection.ChannelApp, notify.Actor{}))
	rec.Err = errors.New("outbox full")
	req := protection.Request{Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: []protection.Evidence{
		session(t0), emailCodeFor(otp.PurposePortOut, t0), {Kind: protection.EvidencePassword, ObtainedAt: t0}}}
	d, _, err := svc.RequestFlagDisable(ctx, "carol", protection.NoPortOut, req, notify.Actor{})
	require.Error(t, err)
	assert.Equal(t, protection.Deny, d.Outcome)
	states, err := st.Flags(ctx, "carol")
	require.NoError(t, err)
	require.Len(t, states, 1)
	assert.False(t, states[0].Pending(), "a disable the subscriber was not told about is pending")

	// Even much later the flag is on.
	rec.Err = nil
	clk.Advance(48 * time.Hour)
	flags, err := svc.Flags(ctx, "carol")
	require.NoError(t, err)
	assert.Equal(t, protection.NoPortOut, flags.On)
}

func TestRequestFlagDisableRefusesWithoutAnnouncing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, _, err := f.svc.RequestFlagDisable(ctx, "alice", protection.NoPortOut, f.strongApp(), notify.Actor{})
	assert.ErrorIs(t, err, protection.ErrFlagOff)
	require.NoError(t, f.svc.EnableFlag(ctx, "alice", protection.NoPortOut, protection.ChannelApp, notify.Actor{}))
	_, _, err = f.svc.RequestFlagDisable(ctx, "alice", protection.NoPortOut, f.strongApp(), notify.Actor{})
	require.NoError(t, err)
	_, _, err = f.svc.RequestFlagDisable(ctx, "alice", protection.NoPortOut, f.strongApp(), notify.Actor{})
	assert.ErrorIs(t, err, protection.ErrDisablePending)
	assert.Equal(t, 1, countType(f.rec, notify.ProtectionFlagDisableRequested))
}

func TestCancelAfterCoolingOffIsTooLate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	require.NoError(t, f.svc.EnableFlag(ctx, "alice", protection.NoPortOut, protection.ChannelApp, notify.Actor{}))
	_, at, err := f.svc.RequestFlagDisable(ctx, "alice", protection.NoPortOut, f.strongApp(), notify.Actor{})
	require.NoError(t, err)
	f.clock.Set(at)
	err = f.svc.CancelFlagDisable(ctx, "alice", protection.NoPortOut, protection.ChannelApp, notify.Actor{})
	assert.ErrorIs(t, err, protection.ErrNotFound)
	assert.Equal(t, []notify.Type{notify.ProtectionFlagEnabled, notify.ProtectionFlagDisableRequested, notify.ProtectionFlagDisabled},
		f.rec.Types(), "a cancel after the effective time must not follow the disabled event")
}
