package protection_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 15: with 2FA off, a self-service SIM swap, eSIM transfer or port-out is held,
// even on an established contact's code sent for it: a thief with the password alone
// would otherwise need only a code to a contact he controls. Elsewhere nothing changes.
func TestTwoFactorOffHoldsSelfServiceNumberMoves(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p, err := protection.NewPolicy(protection.PolicyConfig{Now: func() time.Time { return now }})
	require.NoError(t, err)
	code := func(purpose otp.Purpose) protection.Evidence {
		return protection.Evidence{Kind: protection.EvidenceContactCode, Contact: protection.ContactEmail,
			ObtainedAt: now, Purpose: purpose, FactorAddedAt: now.AddDate(0, -6, 0)}
	}
	session := protection.Evidence{Kind: protection.EvidenceSession, ObtainedAt: now.Add(-time.Hour)}
	for _, tt := range []struct {
		name    string
		action  protection.Action
		channel protection.Channel
		ev      []protection.Evidence
		off     bool
		want    protection.Outcome
	}{
		{"SIM swap, 2FA on", protection.ActionSIMSwap, protection.ChannelApp, []protection.Evidence{session, code(otp.PurposeSIMSwap)}, false, protection.Allow},
		{"SIM swap, 2FA off", protection.ActionSIMSwap, protection.ChannelApp, []protection.Evidence{session, code(otp.PurposeSIMSwap)}, true, protection.Hold},
		{"eSIM on the web, 2FA off", protection.ActionESIMTransfer, protection.ChannelWeb, []protection.Evidence{session, code(otp.PurposeSIMSwap)}, true, protection.Hold},
		{"shipping address, 2FA off", protection.ActionChangeShippingAddress, protection.ChannelApp, []protection.Evidence{session, code(otp.PurposeAccountChange)}, true, protection.Allow},
		{"SIM swap, 2FA off, not enough evidence", protection.ActionSIMSwap, protection.ChannelApp, []protection.Evidence{session}, true, protection.StepUp},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := p.Evaluate(&protection.Request{Action: tt.action, Channel: tt.channel, Risk: protection.RiskLow,
				Evidence: tt.ev, TwoFactorOff: tt.off})
			require.NoError(t, err)
			assert.Equal(t, tt.want, d.Outcome, "%s", d.Reasons)
			if tt.want == protection.Hold {
				assert.True(t, d.Reasons.Has(protection.ReasonTwoFactorOffHold), "%s", d.Reasons)
				assert.Equal(t, now.Add(24*time.Hour), d.HoldUntil)
			}
		})
	}
}

// Service.Decide asks Config.TwoFactor, and fails closed when it cannot.
func TestDecideAsksTheTwoFactorState(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ev := []protection.Evidence{
		{Kind: protection.EvidenceSession, ObtainedAt: now.Add(-time.Hour)},
		{Kind: protection.EvidenceContactCode, Contact: protection.ContactEmail, ObtainedAt: now,
			Purpose: otp.PurposeSIMSwap, FactorAddedAt: now.AddDate(0, -6, 0)},
	}
	for _, tt := range []struct {
		name  string
		state protection.TwoFactorStateFunc
		want  protection.Outcome
	}{
		{"on", func(context.Context, string) (bool, error) { return true, nil }, protection.Allow},
		{"off", func(context.Context, string) (bool, error) { return false, nil }, protection.Hold},
		{"unknown", func(context.Context, string) (bool, error) { return false, errors.New("store down") }, protection.Deny},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := memory.NewProtection(memory.Options{Now: func() time.Time { return now }})
			svc, err := protection.New(protection.Config{PINKey: exampleKey(), Now: func() time.Time { return now }, TwoFactor: tt.state, Factors: protection.FactorsAsGiven},
				protection.Stores{Flags: st, History: st, PINs: st}, &notify.Recorder{})
			require.NoError(t, err)
			d, err := svc.Decide(context.Background(), "sub-42", protection.Request{Action: protection.ActionSIMSwap,
				Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: ev})
			assert.Equal(t, tt.want, d.Outcome, "%s", d.Reasons)
			assert.Equal(t, tt.want == protection.Deny, err != nil, "%v", err)
		})
	}
}
