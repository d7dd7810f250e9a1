package protection_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
)

var pinKey = testkey.New("protection")

type fixture struct {
	svc   *protection.Service
	clock *fakeclock.Clock
	rec   *notify.Recorder
	store *memory.Protection
}

func newFixture(t *testing.T, mutate ...func(*protection.Config)) *fixture {
	t.Helper()
	f := &fixture{clock: fakeclock.New(t0), rec: &notify.Recorder{}}
	f.store = memory.NewProtection(memory.Options{Now: f.clock.Now})
	cfg := protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: f.clock.Now}
	for _, m := range mutate {
		m(&cfg)
	}
	svc, err := protection.New(cfg, protection.Stores{Flags: f.store, History: f.store, PINs: f.store}, f.rec)
	require.NoError(t, err)
	f.svc = svc
	return f
}

func (f *fixture) strongApp() protection.Request {
	now := f.clock.Now()
	// A code for each step-up purpose, so that one request does for every action.
	return protection.Request{Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: append([]protection.Evidence{
		session(now), {Kind: protection.EvidencePassword, ObtainedAt: now}}, codesForEverything(now)...)}
}

func TestNewValidates(t *testing.T) {
	st := memory.NewProtection(memory.Options{})
	stores := protection.Stores{Flags: st, History: st, PINs: st}
	tests := []struct {
		name   string
		cfg    protection.Config
		stores protection.Stores
		pub    notify.Publisher
		want   string
	}{
		{"no PIN key", protection.Config{}, stores, &notify.Recorder{}, "Config.PINKey is required"},
		{"short PIN key", protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: []byte("short")}, stores, &notify.Recorder{}, "Config.PINKey must be at least 32"},
		{"placeholder PIN key", protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: make([]byte, 32)}, stores, &notify.Recorder{}, "Config.PINKey: keyring: key material is not random"},
		{"PIN too short", protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, PINDigits: 4}, stores, &notify.Recorder{}, "Config.PINDigits must be at least 6"},
		{"cooling-off too short", protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, CoolingOff: time.Minute}, stores, &notify.Recorder{}, "Config.CoolingOff is 1m0s"},
		{"lockout longer than the PIN", protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, PINTTL: time.Hour, PINLockout: 2 * time.Hour}, stores, &notify.Recorder{}, "Config.PINLockout is 2h0m0s"},
		{"negative lockout", protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, PINLockout: -time.Hour}, stores, &notify.Recorder{}, "PINLockout"},
		{"no stores", protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey}, protection.Stores{}, &notify.Recorder{}, "Stores.Flags"},
		{"no publisher", protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey}, stores, nil, "notify.Publisher is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := protection.New(tt.cfg, tt.stores, tt.pub)
			require.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestFlagLifecycle(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	sub := notify.Actor{Kind: notify.ActorSubscriber}

	// On: immediate, free, from any authenticated channel, notified.
	require.NoError(t, f.svc.EnableFlag(ctx, "alice", protection.NeverSIMSwap, protection.ChannelChat, sub))
	st, err := f.svc.Flags(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, protection.NeverSIMSwap, st.On)
	e, ok := f.rec.Last(notify.ProtectionFlagEnabled)
	require.True(t, ok)
	assert.Equal(t, "never_sim_swap", e.Attributes["flag"])
	assert.Equal(t, "chat", e.Channel)
	// Enabling again changes nothing and says nothing.
	require.NoError(t, f.svc.EnableFlag(ctx, "alice", protection.NeverSIMSwap, protection.ChannelApp, sub))
	assert.Len(t, f.rec.Events(), 1)

	// Off needs the strongest evidence: a session alone steps up, a phone call is denied.
	weak := protection.Request{Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: []protection.Evidence{session(t0)}}
	d, at, err := f.svc.RequestFlagDisable(ctx, "alice", protection.NeverSIMSwap, weak, sub)
	require.NoError(t, err)
	assert.Equal(t, protection.StepUp, d.Outcome)
	assert.True(t, at.IsZero())
	d, _, err = f.svc.RequestFlagDisable(ctx, "alice", protection.NeverSIMSwap,
		protection.Request{Channel: protection.ChannelPhone, Risk: protection.RiskLow, Evidence: []protection.Evidence{emailCode(t0)}}, sub)
	require.NoError(t, err)
	assert.Equal(t, protection.Deny, d.Outcome)
	_, ok = f.rec.Last(notify.ProtectionFlagDisableRequested)
	assert.False(t, ok, "a refused disable must not be announced as requested")

	// Strong evidence: scheduled after the 24 h cooling-off.
	d, at, err = f.svc.RequestFlagDisable(ctx, "alice", protection.NeverSIMSwap, f.strongApp(), sub)
	require.NoError(t, err)
	require.Equal(t, protection.Allow, d.Outcome)
	assert.Equal(t, t0.Add(24*time.Hour), at)
	e, ok = f.rec.Last(notify.ProtectionFlagDisableRequested)
	require.True(t, ok)
	assert.Equal(t, at.Format(time.RFC3339), e.Attributes["effective_at"])
	_, _, err = f.svc.RequestFlagDisable(ctx, "alice", protection.NeverSIMSwap, f.strongApp(), sub)
	assert.ErrorIs(t, err, protection.ErrDisablePending)

	// Still on during the cooling-off: SIM swaps in the app stay denied.
	f.clock.Advance(23 * time.Hour)
	st, err = f.svc.Flags(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, protection.NeverSIMSwap, st.On)
	pending, ok := st.Pending(protection.NeverSIMSwap)
	require.True(t, ok)
	assert.Equal(t, at, pending.DisableAt)
	req := f.strongApp()
	req.Action = protection.ActionSIMSwap
	d, err = f.svc.Decide(ctx, "alice", req)
	require.NoError(t, err)
	assert.Equal(t, protection.Deny, d.Outcome)
	assert.True(t, d.Reasons.Has(protection.ReasonFlagNeverSIMSwap))

	// The subscriber cancels: the flag stays on, even after the original time.
	require.NoError(t, f.svc.CancelFlagDisable(ctx, "alice", protection.NeverSIMSwap, protection.ChannelApp, sub))
	_, ok = f.rec.Last(notify.ProtectionFlagDisableCancelled)
	assert.True(t, ok)
	assert.ErrorIs(t, f.svc.CancelFlagDisable(ctx, "alice", protection.NeverSIMSwap, protection.ChannelApp, sub), protection.ErrNotFound)
	f.clock.Advance(2 * time.Hour)
	st, err = f.svc.Flags(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, protection.NeverSIMSwap, st.On)

	// Requested again, and this time the cooling-off runs out: off on the next read.
	_, at, err = f.svc.RequestFlagDisable(ctx, "alice", protection.NeverSIMSwap, f.strongApp(), sub)
	require.NoError(t, err)
	f.clock.Set(at.Add(-time.Nanosecond))
	st, _ = f.svc.Flags(ctx, "alice")
	assert.Equal(t, protection.NeverSIMSwap, st.On)
	f.clock.Set(at)
	st, err = f.svc.Flags(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, protection.Flags(0), st.On)
	e, ok = f.rec.Last(notify.ProtectionFlagDisabled)
	require.True(t, ok)
	assert.Equal(t, notify.ActorSystem, e.Actor.Kind)
	assert.Equal(t, at, e.Time)
	// Read again: the event is not repeated.
	_, _ = f.svc.Flags(ctx, "alice")
	assert.Equal(t, 1, countType(f.rec, notify.ProtectionFlagDisabled))

	assert.Equal(t, []notify.Type{
		notify.ProtectionFlagEnabled, notify.ProtectionFlagDisableRequested, notify.ProtectionFlagDisableCancelled,
		notify.ProtectionFlagDisableRequested, notify.ProtectionFlagDisabled,
	}, f.rec.Types())
}

func countType(r *notify.Recorder, t notify.Type) int {
	n := 0
	for _, typ := range r.Types() {
		if typ == t {
			n++
		}
	}
	return n
}

func TestEnableCancelsPendingDisable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	require.NoError(t, f.svc.EnableFlag(ctx, "alice", protection.NoPortOut, protection.ChannelApp, notify.Actor{}))
	_, _, err := f.svc.RequestFlagDisable(ctx, "alice", protection.NoPortOut, f.strongApp(), notify.Actor{})
	require.NoError(t, err)
	require.NoError(t, f.svc.EnableFlag(ctx, "alice", protection.NoPortOut, protection.ChannelApp, notify.Actor{}))
	f.clock.Advance(48 * time.Hour)
	st, err := f.svc.Flags(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, protection.NoPortOut, st.On)
	assert.Equal(t, 1, countType(f.rec, notify.ProtectionFlagDisableCancelled))
}

func TestApplyDue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *protection.Config) { c.CoolingOff = 2 * time.Hour })
	for _, s := range []string{"a", "b"} {
		require.NoError(t, f.svc.EnableFlag(ctx, s, protection.AccountLockdown, protection.ChannelApp, notify.Actor{}))
	}
	// Lockdown itself makes turning it off need a store visit.
	store := protection.Request{Channel: protection.ChannelStore, Risk: protection.RiskLow, Evidence: []protection.Evidence{
		{Kind: protection.EvidenceGovernmentID, ObtainedAt: t0}, emailCodeFor(otp.PurposeAccountChange, t0)}}
	d, _, err := f.svc.RequestFlagDisable(ctx, "a", protection.AccountLockdown, f.strongApp(), notify.Actor{})
	require.NoError(t, err)
	assert.Equal(t, protection.Deny, d.Outcome)
	d, at, err := f.svc.RequestFlagDisable(ctx, "a", protection.AccountLockdown, store, notify.Actor{Kind: notify.ActorAgent, ID: "store-17"})
	require.NoError(t, err)
	require.Equal(t, protection.Allow, d.Outcome)
	assert.Equal(t, t0.Add(2*time.Hour), at)

	n, err := f.svc.ApplyDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	f.clock.Advance(2 * time.Hour)
	n, err = f.svc.ApplyDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	e, ok := f.rec.Last(notify.ProtectionFlagDisabled)
	require.True(t, ok)
	assert.Equal(t, "a", e.Subscriber)
	st, _ := f.svc.Flags(ctx, "b")
	assert.Equal(t, protection.AccountLockdown, st.On)
}

func TestSIMSwapFlow(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const number = "+1 (555) 010-4477"
	cr := protection.ChangeRequest{Subscriber: "alice", Number: number, Kind: protection.ChangeSIMSwap,
		Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: []protection.Evidence{session(t0)}}

	res, err := f.svc.RequestSIMChange(ctx, cr)
	require.NoError(t, err)
	assert.Equal(t, protection.StepUp, res.Decision.Outcome)
	require.NotEmpty(t, res.RequestID)
	assert.Equal(t, []notify.Type{notify.SIMSwapRequested}, f.rec.Types(), "the request is announced at once; a step-up adds nothing")
	e, _ := f.rec.Last(notify.SIMSwapRequested)
	assert.Equal(t, "•••• 4477", e.Attributes["number"])
	assert.Equal(t, "physical", e.Attributes["sim"])
	assert.NotContains(t, e.Attributes["number"], "555")

	// Completing before approval fails.
	assert.ErrorIs(t, f.svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{}), protection.ErrNotApproved)

	// Continue with a fresh code.
	f.clock.Advance(time.Minute)
	cr.RequestID = res.RequestID
	cr.Evidence = append(cr.Evidence, emailCode(f.clock.Now()))
	res2, err := f.svc.RequestSIMChange(ctx, cr)
	require.NoError(t, err)
	assert.Equal(t, protection.Allow, res2.Decision.Outcome)
	assert.Equal(t, res.RequestID, res2.RequestID)
	require.NoError(t, f.svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{Kind: notify.ActorSystem, ID: "provisioning"}))
	assert.ErrorIs(t, f.svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{}), protection.ErrNotApproved)
	assert.Equal(t, []notify.Type{notify.SIMSwapRequested, notify.SIMSwapApproved, notify.SIMSwapCompleted}, f.rec.Types())

	// A resumed request must be pending, and for the same subscriber.
	cr.Subscriber = "mallory"
	_, err = f.svc.RequestSIMChange(ctx, cr)
	assert.ErrorIs(t, err, protection.ErrInvalidRequest)

	// The history holds every step with its evidence.
	hist, err := f.svc.SIMChangeHistory(ctx, number, time.Time{})
	require.NoError(t, err)
	var statuses []protection.ChangeStatus
	for _, h := range hist {
		statuses = append(statuses, h.Status)
		assert.Equal(t, "+15550104477", h.Number)
		assert.Equal(t, protection.ChannelApp, h.Channel)
	}
	assert.Equal(t, []protection.ChangeStatus{protection.StatusRequested, protection.StatusPending,
		protection.StatusApproving, protection.StatusApproved, protection.StatusCompleted}, statuses)
	assert.Equal(t, kS|kC, hist[2].Evidence)
	assert.Equal(t, kS|kC, hist[3].Evidence)
	assert.Equal(t, "system:provisioning", hist[4].Actor)

	// Queries twofactor and a CAMARA SIM Swap API use.
	var checker protection.SIMChangeChecker = f.svc
	last, err := checker.LastSIMChange(ctx, "+15550104477")
	require.NoError(t, err)
	assert.Equal(t, t0.Add(time.Minute), last)
	f.clock.Advance(5 * time.Hour)
	changed, err := checker.SIMChangedWithin(ctx, "+15550104477", 6*time.Hour)
	require.NoError(t, err)
	assert.True(t, changed)
	changed, err = checker.SIMChangedWithin(ctx, "+15550104477", 4*time.Hour)
	require.NoError(t, err)
	assert.False(t, changed)
	_, err = checker.LastSIMChange(ctx, "+15550109999")
	assert.ErrorIs(t, err, protection.ErrNotFound)
	_, err = checker.LastSIMChange(ctx, "5550104477")
	assert.ErrorIs(t, err, protection.ErrInvalidNumber)

	// An SMS code sent to the swapped number does not count for the next week.
	req := protection.Request{Action: protection.ActionChangeShippingAddress, Channel: protection.ChannelApp, Risk: protection.RiskLow,
		Evidence: []protection.Evidence{session(f.clock.Now()), {Kind: protection.EvidenceContactCode, ObtainedAt: f.clock.Now(),
			Contact: protection.ContactSMS, Destination: "+15550104477", Purpose: otp.PurposeAccountChange, FactorAddedAt: established}}}
	d, err := f.svc.Decide(ctx, "alice", req)
	require.NoError(t, err)
	assert.Equal(t, protection.StepUp, d.Outcome)
	assert.True(t, d.Reasons.Has(protection.ReasonContactSIMChanged))
	assert.Equal(t, protection.SIMStatusUnknown, req.Evidence[1].SIM, "Decide must not modify the caller's evidence")
	f.clock.Advance(7 * 24 * time.Hour)
	req.Evidence = []protection.Evidence{session(f.clock.Now()), {Kind: protection.EvidenceContactCode, ObtainedAt: f.clock.Now(),
		Contact: protection.ContactSMS, Destination: "+15550104477", Purpose: otp.PurposeAccountChange, FactorAddedAt: established}}
	d, err = f.svc.Decide(ctx, "alice", req)
	require.NoError(t, err)
	assert.Equal(t, protection.Allow, d.Outcome)
}

func TestPhoneSIMSwapDeniedAndRecorded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	res, err := f.svc.RequestSIMChange(ctx, protection.ChangeRequest{Subscriber: "alice", Number: "+15550104477",
		Kind: protection.ChangeESIMTransfer, Channel: protection.ChannelPhone, Actor: notify.Actor{Kind: notify.ActorAgent, ID: "agent-9"},
		Risk: protection.RiskLow, Evidence: []protection.Evidence{emailCode(t0), {Kind: protection.EvidenceSecurityQuestions, ObtainedAt: t0}}})
	require.NoError(t, err)
	assert.Equal(t, protection.Deny, res.Decision.Outcome)
	assert.Equal(t, []notify.Type{notify.SIMSwapRequested, notify.SIMSwapDenied}, f.rec.Types())
	e, _ := f.rec.Last(notify.SIMSwapDenied)
	assert.Equal(t, "esim", e.Attributes["sim"])
	assert.Contains(t, e.Attributes["reasons"], "sim_change_channel")
	assert.Equal(t, "agent-9", e.Actor.ID)
	hist, err := f.svc.SIMChangeHistory(ctx, "+15550104477", time.Time{})
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.Equal(t, protection.StatusDenied, hist[1].Status)
	assert.Equal(t, "agent:agent-9", hist[1].Actor)
	assert.Equal(t, kC|kQ, hist[1].Evidence, "the record keeps the evidence that was given, even when denied")
}

func TestPortOutWithPIN(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)

	// Issuing needs a session and a code, and is announced.
	req := f.strongApp()
	pin, d, err := f.svc.IssueTransferPIN(ctx, "alice", req, notify.Actor{})
	require.NoError(t, err)
	require.Equal(t, protection.Allow, d.Outcome)
	assert.Regexp(t, regexp.MustCompile(`^[0-9]{6}$`), pin)
	e, ok := f.rec.Last(notify.TransferPINIssued)
	require.True(t, ok)
	assert.Equal(t, t0.Add(7*24*time.Hour).Format(time.RFC3339), e.Attributes["expires_at"])
	for k, v := range e.Attributes {
		assert.NotContains(t, v, pin, "attribute %s carries the PIN", k)
	}
	_, d, err = f.svc.IssueTransferPIN(ctx, "alice", protection.Request{Channel: protection.ChannelPhone, Risk: protection.RiskLow}, notify.Actor{})
	require.NoError(t, err)
	assert.Equal(t, protection.Deny, d.Outcome, "no PIN over the phone")

	// The new carrier presents it; it works once.
	ev, err := f.svc.VerifyTransferPIN(ctx, "alice", pin)
	require.NoError(t, err)
	assert.Equal(t, protection.EvidenceTransferPIN, ev.Kind)
	_, err = f.svc.VerifyTransferPIN(ctx, "alice", pin)
	assert.ErrorIs(t, err, protection.ErrNotFound)

	res, err := f.svc.RequestSIMChange(ctx, protection.ChangeRequest{Subscriber: "alice", Number: "+15550104477",
		Kind: protection.ChangePortOut, Channel: protection.ChannelPartner, Actor: notify.Actor{Kind: notify.ActorSystem, ID: "npac"},
		Risk: protection.RiskLow, Evidence: []protection.Evidence{ev}})
	require.NoError(t, err)
	assert.Equal(t, protection.Allow, res.Decision.Outcome)
	require.NoError(t, f.svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{Kind: notify.ActorSystem, ID: "npac"}))
	types := f.rec.Types()
	assert.Equal(t, []notify.Type{notify.PortOutRequested, notify.PortOutApproved, notify.PortOutCompleted}, types[len(types)-3:])
}

func TestTransferPINLimits(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *protection.Config) { c.PINMaxFailures = 3; c.PINDigits = 8 })
	pin, _, err := f.svc.IssueTransferPIN(ctx, "alice", f.strongApp(), notify.Actor{})
	require.NoError(t, err)
	require.Len(t, pin, 8)
	wrong := "00000000"
	if wrong == pin {
		wrong = "11111111"
	}
	_, err = f.svc.VerifyTransferPIN(ctx, "bob", pin)
	assert.ErrorIs(t, err, protection.ErrNotFound, "a PIN is bound to its subscriber")
	for range 2 {
		_, err = f.svc.VerifyTransferPIN(ctx, "alice", wrong)
		assert.ErrorIs(t, err, protection.ErrPINMismatch)
		assert.NotContains(t, err.Error(), wrong)
	}
	// Re-issuing does not reset the failures.
	pin, _, err = f.svc.IssueTransferPIN(ctx, "alice", f.strongApp(), notify.Actor{})
	require.NoError(t, err)
	_, err = f.svc.VerifyTransferPIN(ctx, "alice", strings.Repeat("9", 100))
	assert.ErrorIs(t, err, protection.ErrPINMismatch)
	assert.ErrorIs(t, err, protection.ErrPINLocked, "the third wrong PIN in a row locks")
	_, err = f.svc.VerifyTransferPIN(ctx, "alice", pin)
	assert.ErrorIs(t, err, protection.ErrPINLocked)
	e, ok := f.rec.Last(notify.Lockout)
	require.True(t, ok, "a transfer-PIN lockout is announced: someone may be trying to port the number out")
	assert.Equal(t, "transfer_pin", e.Attributes["locked"])
	assert.Equal(t, t0.Add(time.Hour).Format(time.RFC3339), e.Attributes["until"])

	// The subscriber is not stuck for the PIN's 7 days: after passing the policy again
	// they get a new PIN at once, usable when the one-hour lockout ends.
	f.clock.Advance(10 * time.Minute)
	pin, d, err := f.svc.IssueTransferPIN(ctx, "alice", f.strongApp(), notify.Actor{})
	require.NoError(t, err)
	require.Equal(t, protection.Allow, d.Outcome)
	require.NotEmpty(t, pin)
	e, _ = f.rec.Last(notify.TransferPINIssued)
	assert.Equal(t, t0.Add(time.Hour).Format(time.RFC3339), e.Attributes["usable_from"])
	_, err = f.svc.VerifyTransferPIN(ctx, "alice", pin)
	assert.ErrorIs(t, err, protection.ErrPINLocked, "re-issuing does not lift the lockout")
	f.clock.Set(t0.Add(time.Hour))
	// And the count carried over: the budget is the next 3 wrong PINs, not a fresh one.
	if wrong == pin {
		wrong = "22222222"
	}
	for range 2 {
		_, err = f.svc.VerifyTransferPIN(ctx, "alice", wrong)
		require.ErrorIs(t, err, protection.ErrPINMismatch)
		require.NotErrorIs(t, err, protection.ErrPINLocked)
	}
	_, err = f.svc.VerifyTransferPIN(ctx, "alice", pin)
	require.NoError(t, err, "the new PIN works once the lockout has ended")
	_, err = f.svc.VerifyTransferPIN(ctx, "alice", pin)
	assert.ErrorIs(t, err, protection.ErrNotFound)
}

func TestRevokeTransferPIN(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	assert.ErrorIs(t, f.svc.RevokeTransferPIN(ctx, "alice"), protection.ErrNotFound)
	assert.ErrorIs(t, f.svc.RevokeTransferPIN(ctx, ""), protection.ErrInvalidRequest)
	pin, _, err := f.svc.IssueTransferPIN(ctx, "alice", f.strongApp(), notify.Actor{})
	require.NoError(t, err)
	before := len(f.rec.Events())
	require.NoError(t, f.svc.RevokeTransferPIN(ctx, "alice"))
	assert.Len(t, f.rec.Events(), before, "revoking only tightens and is not announced")
	_, err = f.svc.VerifyTransferPIN(ctx, "alice", pin)
	assert.ErrorIs(t, err, protection.ErrNotFound)
	assert.ErrorIs(t, f.svc.RevokeTransferPIN(ctx, "alice"), protection.ErrNotFound)
}

// recordingPINs captures what the service stores.
type recordingPINs struct {
	protection.PINStore
	put []protection.TransferPIN
}

func (r *recordingPINs) PutPIN(ctx context.Context, p protection.TransferPIN) (protection.TransferPIN, error) {
	r.put = append(r.put, p)
	return r.PINStore.PutPIN(ctx, p)
}

func TestTransferPINStoredHashed(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	st := memory.NewProtection(memory.Options{})
	pins := &recordingPINs{PINStore: st}
	// A fixed random source: the first 8 bytes decide the PIN.
	svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: clk.Now, Rand: bytes.NewReader(bytes.Repeat([]byte{0x01}, 64))},
		protection.Stores{Flags: st, History: st, PINs: pins}, &notify.Recorder{})
	require.NoError(t, err)
	req := protection.Request{Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: []protection.Evidence{session(t0), emailCodeFor(otp.PurposePortOut, t0)}}
	pin, _, err := svc.IssueTransferPIN(ctx, "alice", req, notify.Actor{})
	require.NoError(t, err)
	assert.Equal(t, "065793", pin, "0x010101 drawn below 10^6: zero-padded to 6 digits")
	require.Len(t, pins.put, 1)
	assert.Len(t, pins.put[0].Hash, 32)
	assert.False(t, bytes.Contains(pins.put[0].Hash, []byte(pin)))
	assert.Equal(t, t0.Add(7*24*time.Hour), pins.put[0].ExpiresAt)
}

func TestTransferPINUniform(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var counts [10]int
	const n = 300
	for range n {
		pin, _, err := f.svc.IssueTransferPIN(ctx, "alice", f.strongApp(), notify.Actor{})
		require.NoError(t, err)
		for _, c := range pin {
			counts[c-'0']++
		}
	}
	// 1800 digits: each should appear about 180 times; 100..260 is > 6 sigma wide.
	for d, c := range counts {
		assert.True(t, c > 100 && c < 260, "digit %d appeared %d times in %d PINs", d, c, n)
	}
}

func TestHistoryRetention(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	require.NoError(t, f.svc.RecordPortIn(ctx, "alice", "+447700900123", protection.ChannelPartner))
	changed, err := f.svc.SIMChangedWithin(ctx, "+447700900123", time.Hour)
	require.NoError(t, err)
	assert.True(t, changed, "a port-in is a SIM change for the number")
	f.clock.Advance(1095 * 24 * time.Hour)
	n, err := f.svc.PurgeHistory(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "records are kept 3 years")
	f.clock.Advance(2 * 24 * time.Hour)
	n, err = f.svc.PurgeHistory(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = f.svc.LastSIMChange(ctx, "+447700900123")
	assert.ErrorIs(t, err, protection.ErrNotFound)
}

// failingFlags fails every read.
type failingFlags struct{ protection.FlagStore }

func (failingFlags) Flags(context.Context, string) ([]protection.FlagState, error) {
	return nil, errors.New("database is down")
}

// failingHistory fails the methods it is told to: AppendSIMChange for records whose
// status is in appends (every record if appends is empty and appendAll is set), and
// LastCompleted if lastCompleted is set.
type failingHistory struct {
	protection.HistoryStore
	appendAll     bool
	appends       []protection.ChangeStatus
	lastCompleted bool
}

var errHistory = errors.New("history database is down")

func (h failingHistory) AppendSIMChange(ctx context.Context, rec protection.SIMChange, prev protection.ChangeStatus) error {
	if h.appendAll || slices.Contains(h.appends, rec.Status) {
		return errHistory
	}
	return h.HistoryStore.AppendSIMChange(ctx, rec, prev)
}

func (h failingHistory) LastCompleted(ctx context.Context, number string) (protection.SIMChange, error) {
	if h.lastCompleted {
		return protection.SIMChange{}, errHistory
	}
	return h.HistoryStore.LastCompleted(ctx, number)
}

// failingPINs fails every PIN operation.
type failingPINs struct{ protection.PINStore }

var errPINs = errors.New("PIN database is down")

func (failingPINs) PutPIN(context.Context, protection.TransferPIN) (protection.TransferPIN, error) {
	return protection.TransferPIN{}, errPINs
}

func (failingPINs) ConsumePIN(context.Context, string, []byte, time.Time, protection.PINLimits) (protection.TransferPIN, error) {
	return protection.TransferPIN{}, errPINs
}

func TestFailClosed(t *testing.T) {
	ctx := context.Background()
	st := memory.NewProtection(memory.Options{})
	clk := fakeclock.New(t0)
	strong := protection.Request{Action: protection.ActionViewAccount, Channel: protection.ChannelApp, Risk: protection.RiskLow,
		Evidence: append([]protection.Evidence{session(t0)}, codesForEverything(t0)...)}

	t.Run("flag store", func(t *testing.T) {
		svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: clk.Now},
			protection.Stores{Flags: failingFlags{st}, History: st, PINs: st}, &notify.Recorder{})
		require.NoError(t, err)
		d, err := svc.Decide(ctx, "alice", strong)
		require.Error(t, err)
		assert.Equal(t, protection.Deny, d.Outcome)
		assert.True(t, d.Reasons.Has(protection.ReasonFault))
		assert.True(t, d.Reasons.Has(protection.ReasonStoreFault))
	})
	t.Run("risk assessor", func(t *testing.T) {
		svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: clk.Now, Risk: protection.RiskAssessorFunc(
			func(context.Context, string, protection.Request) (protection.RiskLevel, error) {
				return 0, errors.New("scorer timeout")
			})}, protection.Stores{Flags: st, History: st, PINs: st}, &notify.Recorder{})
		require.NoError(t, err)
		d, err := svc.Decide(ctx, "alice", strong)
		require.Error(t, err)
		assert.Equal(t, protection.Deny, d.Outcome)
		assert.True(t, d.Reasons.Has(protection.ReasonRiskFault))
	})
	t.Run("risk assessor raises the level", func(t *testing.T) {
		svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: clk.Now, Risk: protection.RiskAssessorFunc(
			func(context.Context, string, protection.Request) (protection.RiskLevel, error) {
				return protection.RiskHigh, nil
			})},
			protection.Stores{Flags: st, History: st, PINs: st}, &notify.Recorder{})
		require.NoError(t, err)
		req := strong
		req.Action = protection.ActionSIMSwap
		d, err := svc.Decide(ctx, "alice", req)
		require.NoError(t, err)
		assert.Equal(t, protection.Deny, d.Outcome)
		assert.True(t, d.Reasons.Has(protection.ReasonRiskHigh))
	})
	storeFault := func(t *testing.T, d protection.Decision, err, cause error) {
		t.Helper()
		require.ErrorIs(t, err, cause)
		assert.Equal(t, protection.Deny, d.Outcome)
		assert.True(t, d.Reasons.Has(protection.ReasonFault), "reasons %s", d.Reasons)
		assert.True(t, d.Reasons.Has(protection.ReasonStoreFault), "reasons %s", d.Reasons)
	}
	withHistory := func(t *testing.T, h protection.HistoryStore) (*protection.Service, *notify.Recorder) {
		rec := &notify.Recorder{}
		svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: clk.Now}, protection.Stores{Flags: st, History: h, PINs: st}, rec)
		require.NoError(t, err)
		return svc, rec
	}
	smsCode := protection.Evidence{Kind: protection.EvidenceContactCode, ObtainedAt: t0, Contact: protection.ContactSMS, Destination: "+15550104477",
		Purpose: otp.PurposeSIMSwap, FactorAddedAt: established}
	t.Run("SIM-status lookup of an SMS code", func(t *testing.T) {
		svc, _ := withHistory(t, failingHistory{HistoryStore: st, lastCompleted: true})
		req := strong
		req.Evidence = []protection.Evidence{session(t0), smsCode}
		d, err := svc.Decide(ctx, "alice", req)
		storeFault(t, d, err, errHistory)
	})
	t.Run("SIM-change request not recorded", func(t *testing.T) {
		svc, rec := withHistory(t, failingHistory{HistoryStore: st, appendAll: true})
		res, err := svc.RequestSIMChange(ctx, protection.ChangeRequest{Subscriber: "alice", Number: "+15550104477", Kind: protection.ChangeSIMSwap,
			Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: strong.Evidence})
		storeFault(t, res.Decision, err, errHistory)
		assert.Zero(t, countType(rec, notify.SIMSwapApproved))
		assert.ErrorIs(t, svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{}), protection.ErrNotFound)
	})
	t.Run("SIM-change approval not recorded", func(t *testing.T) {
		for _, fail := range [][]protection.ChangeStatus{
			{protection.StatusApproved},                          // the denial that withdraws it is recorded
			{protection.StatusApproved, protection.StatusDenied}, // it stays approving
		} {
			svc, rec := withHistory(t, failingHistory{HistoryStore: st, appends: fail})
			res, err := svc.RequestSIMChange(ctx, protection.ChangeRequest{Subscriber: "alice", Number: "+15550104477", Kind: protection.ChangeSIMSwap,
				Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: []protection.Evidence{session(t0), smsCode}})
			require.ErrorIs(t, err, errHistory)
			assert.Equal(t, protection.Deny, res.Decision.Outcome)
			assert.True(t, res.Decision.Reasons.Has(protection.ReasonFault))
			latest, err := st.LatestForRequest(ctx, res.RequestID)
			require.NoError(t, err)
			want := protection.StatusDenied
			if len(fail) == 2 {
				want = protection.StatusApproving
			}
			assert.Equal(t, want, latest.Status)
			assert.ErrorIs(t, svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{}), protection.ErrNotApproved)
			assert.Equal(t, []notify.Type{notify.SIMSwapRequested, notify.SIMSwapApproved, notify.SIMSwapDenied}, rec.Types(),
				"an approval announced but not recorded is withdrawn")
		}
	})
	t.Run("PIN store", func(t *testing.T) {
		rec := &notify.Recorder{}
		svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: clk.Now}, protection.Stores{Flags: st, History: st, PINs: failingPINs{st}}, rec)
		require.NoError(t, err)
		req := strong
		pin, d, err := svc.IssueTransferPIN(ctx, "alice", req, notify.Actor{})
		storeFault(t, d, err, errPINs)
		assert.Empty(t, pin)
		assert.Zero(t, countType(rec, notify.TransferPINIssued))
		ev, err := svc.VerifyTransferPIN(ctx, "alice", "123456")
		require.ErrorIs(t, err, errPINs)
		assert.Zero(t, ev, "no evidence when the PIN could not be checked")
	})
	t.Run("unpublishable SIM-change request", func(t *testing.T) {
		rec := &notify.Recorder{Err: errors.New("outbox full")}
		svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: clk.Now}, protection.Stores{Flags: st, History: st, PINs: st}, rec)
		require.NoError(t, err)
		res, err := svc.RequestSIMChange(ctx, protection.ChangeRequest{Subscriber: "alice", Number: "+15550104477", Kind: protection.ChangeSIMSwap,
			Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: strong.Evidence})
		require.Error(t, err)
		assert.Equal(t, protection.Deny, res.Decision.Outcome, "a SIM change the subscriber cannot be told about must not go ahead")
	})
	t.Run("unpublishable disable request is not scheduled", func(t *testing.T) {
		rec := &notify.Recorder{}
		svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: clk.Now}, protection.Stores{Flags: st, History: st, PINs: st}, rec)
		require.NoError(t, err)
		require.NoError(t, svc.EnableFlag(ctx, "carol", protection.NoPortOut, protection.ChannelApp, notify.Actor{}))
		rec.Err = errors.New("outbox full")
		req := strong
		req.Evidence = append(req.Evidence, protection.Evidence{Kind: protection.EvidencePassword, ObtainedAt: t0})
		d, _, err := svc.RequestFlagDisable(ctx, "carol", protection.NoPortOut, req, notify.Actor{})
		require.Error(t, err)
		assert.Equal(t, protection.Deny, d.Outcome)
		flags, err := svc.Flags(ctx, "carol")
		require.NoError(t, err)
		_, pending := flags.Pending(protection.NoPortOut)
		assert.False(t, pending)
	})
}

func TestNormalizeE164(t *testing.T) {
	good := map[string]string{
		"+15550104477":       "+15550104477",
		"+1 (555) 010-4477":  "+15550104477",
		"+44 7700.900.123":   "+447700900123",
		"+12345":             "+12345",
		"+123456789012345":   "+123456789012345",
		" +49 30 1234 5678 ": "+493012345678",
	}
	for in, want := range good {
		got, err := protection.NormalizeE164(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"", "+", "15550104477", "+05550104477", "+1234", "+1234567890123456", "+1555+0104477", "+1555a0104477", "tel:+15550104477", strings.Repeat("1", 100)} {
		_, err := protection.NormalizeE164(in)
		assert.ErrorIs(t, err, protection.ErrInvalidNumber, in)
	}
}
