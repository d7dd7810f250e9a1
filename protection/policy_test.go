package protection_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
)

var (
	t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	kS = protection.Kinds(protection.EvidenceSession)
	kP = protection.Kinds(protection.EvidencePassword)
	kC = protection.Kinds(protection.EvidenceContactCode)
	kQ = protection.Kinds(protection.EvidenceSecurityQuestions)
	kT = protection.Kinds(protection.EvidenceTransferPIN)
	kI = protection.Kinds(protection.EvidenceGovernmentID)
)

func session(at time.Time) protection.Evidence {
	return protection.Evidence{Kind: protection.EvidenceSession, ObtainedAt: at}
}

// established is when the factors of the tests' evidence were added: long enough ago
// to be past any probation.
var established = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// emailCode is a code to an established email contact, sent for a SIM swap.
func emailCode(at time.Time) protection.Evidence {
	return emailCodeFor(otp.PurposeSIMSwap, at)
}

// codesForEverything is a code to an established email contact for each step-up
// purpose: a session that stepped up for every action.
func codesForEverything(at time.Time) []protection.Evidence {
	var out []protection.Evidence
	for _, p := range []otp.Purpose{otp.PurposeSIMSwap, otp.PurposePortOut, otp.PurposeAccountChange,
		otp.PurposeDisableTwoFactor, otp.PurposeAddFactor} {
		out = append(out, emailCodeFor(p, at))
	}
	return out
}

// emailCodeFor is a code to an established email contact, sent for purpose.
func emailCodeFor(purpose otp.Purpose, at time.Time) protection.Evidence {
	return protection.Evidence{Kind: protection.EvidenceContactCode, ObtainedAt: at, Contact: protection.ContactEmail,
		Purpose: purpose, FactorAddedAt: established}
}

func defaultPolicy(t *testing.T) *protection.Policy {
	t.Helper()
	p, err := protection.NewPolicy(protection.PolicyConfig{})
	require.NoError(t, err)
	return p
}

func TestNewPolicyRejects(t *testing.T) {
	simOnPhone := protection.DefaultRules()[protection.ActionSIMSwap]
	simOnPhone.Channels[protection.ChannelPhone] = []protection.EvidenceKinds{kC | kQ | kT}

	noCode := protection.DefaultRules()[protection.ActionESIMTransfer]
	noCode.Channels[protection.ChannelApp] = []protection.EvidenceKinds{kS | kP}

	neverInApp := protection.DefaultRules()[protection.ActionSIMSwap]
	delete(neverInApp.Flags, protection.NeverSIMSwap)

	questionsOnly := protection.DefaultRules()[protection.ActionPortOut]
	questionsOnly.Channels[protection.ChannelChat] = []protection.EvidenceKinds{kQ}

	riskRelaxes := protection.DefaultRules()[protection.ActionChangeShippingAddress]
	riskRelaxes.Risk[protection.RiskHigh] = protection.RiskOverlay{}

	empty := protection.DefaultRules()[protection.ActionViewAccount]
	empty.Channels[protection.ChannelApp] = []protection.EvidenceKinds{0}

	lowOverlay := protection.DefaultRules()[protection.ActionViewAccount]
	lowOverlay.Risk[protection.RiskLow] = protection.RiskOverlay{AddOneOf: kP}

	badHold := protection.DefaultRules()[protection.ActionViewAccount]
	badHold.Risk[protection.RiskHigh] = protection.RiskOverlay{AddOneOf: kP | kC, Hold: []protection.Channel{protection.ChannelApp}}

	tests := []struct {
		name string
		cfg  protection.PolicyConfig
		want string
	}{
		{"SIM swap on a phone call", protection.PolicyConfig{Rules: map[protection.Action]protection.Rule{protection.ActionSIMSwap: simOnPhone}},
			"sim_swap would be allowed on phone; SIM swaps and eSIM transfers are never carried out on a phone call"},
		{"SIM change without a contact code", protection.PolicyConfig{Rules: map[protection.Action]protection.Rule{protection.ActionESIMTransfer: noCode}},
			"a SIM change needs a trusted-contact code"},
		{"Never SIM Swap ignored", protection.PolicyConfig{Rules: map[protection.Action]protection.Rule{protection.ActionSIMSwap: neverInApp}},
			"with Never SIM Swap on, only a store"},
		{"security questions alone", protection.PolicyConfig{Rules: map[protection.Action]protection.Rule{protection.ActionPortOut: questionsOnly}},
			"security questions alone"},
		{"risk relaxes", protection.PolicyConfig{Rules: map[protection.Action]protection.Rule{protection.ActionChangeShippingAddress: riskRelaxes}},
			"raising the risk must never relax"},
		{"empty alternative", protection.PolicyConfig{Rules: map[protection.Action]protection.Rule{protection.ActionViewAccount: empty}},
			"empty alternative"},
		{"overlay at low risk", protection.PolicyConfig{Rules: map[protection.Action]protection.Rule{protection.ActionViewAccount: lowOverlay}},
			"medium and high only"},
		{"hold without duration", protection.PolicyConfig{Rules: map[protection.Action]protection.Rule{protection.ActionViewAccount: badHold}},
			"HoldFor must be positive"},
		{"no channels", protection.PolicyConfig{Rules: map[protection.Action]protection.Rule{protection.ActionViewAccount: {}}},
			"rule has no channels"},
		{"unknown action", protection.PolicyConfig{Rules: map[protection.Action]protection.Rule{99: {}}},
			"unknown action 99"},
		{"unknown channel", protection.PolicyConfig{Rules: map[protection.Action]protection.Rule{protection.ActionViewAccount: {
			Channels: map[protection.Channel][]protection.EvidenceKinds{42: {kS}}}}}, "unknown channel 42"},
		{"zero freshness", protection.PolicyConfig{Freshness: map[protection.EvidenceKind]time.Duration{protection.EvidencePassword: 0}},
			"Freshness[password] is 0s"},
		{"negative window", protection.PolicyConfig{SIMChangeWindow: -time.Hour}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := protection.NewPolicy(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.ErrorIs(t, err, protection.ErrInvalidPolicy)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestNewPolicyOverride(t *testing.T) {
	// A carrier that wants a re-entered password for every shipping-address change.
	r := protection.DefaultRules()[protection.ActionChangeShippingAddress]
	r.Channels[protection.ChannelApp] = []protection.EvidenceKinds{kS | kP}
	p, err := protection.NewPolicy(protection.PolicyConfig{Rules: map[protection.Action]protection.Rule{protection.ActionChangeShippingAddress: r}})
	require.NoError(t, err)
	d, err := p.Evaluate(&protection.Request{Action: protection.ActionChangeShippingAddress, Channel: protection.ChannelApp,
		Risk: protection.RiskLow, At: t0, Evidence: []protection.Evidence{session(t0), emailCodeFor(otp.PurposeAccountChange, t0)}})
	require.NoError(t, err)
	assert.Equal(t, protection.StepUp, d.Outcome)
	assert.Equal(t, []protection.EvidenceKinds{kS | kP}, d.Alternatives)
	// Web keeps the default.
	d, err = p.Evaluate(&protection.Request{Action: protection.ActionChangeShippingAddress, Channel: protection.ChannelWeb,
		Risk: protection.RiskLow, At: t0, Evidence: []protection.Evidence{session(t0), emailCodeFor(otp.PurposeAccountChange, t0)}})
	require.NoError(t, err)
	assert.Equal(t, protection.Allow, d.Outcome)
	// DefaultRules returns a fresh copy: the override did not leak.
	assert.Len(t, protection.DefaultRules()[protection.ActionChangeShippingAddress].Channels[protection.ChannelApp], 3)
}

func TestEvaluateInvalid(t *testing.T) {
	p := defaultPolicy(t)
	ok := protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow, At: t0}
	tests := []struct {
		name   string
		mutate func(r *protection.Request)
		is     error
	}{
		{"unknown action", func(r *protection.Request) { r.Action = 0 }, protection.ErrUnknownAction},
		{"unknown channel", func(r *protection.Request) { r.Channel = 200 }, protection.ErrUnknownChannel},
		{"unknown flags", func(r *protection.Request) { r.Flags = 0x80 }, protection.ErrUnknownFlag},
		{"no risk level", func(r *protection.Request) { r.Risk = 0 }, protection.ErrInvalidRequest},
		{"evidence from the future", func(r *protection.Request) {
			r.Evidence = []protection.Evidence{session(t0), emailCode(t0.Add(time.Second))}
		}, protection.ErrFutureEvidence},
		{"unknown evidence kind", func(r *protection.Request) {
			r.Evidence = []protection.Evidence{{Kind: 77, ObtainedAt: t0}}
		}, protection.ErrInvalidRequest},
		{"evidence without time", func(r *protection.Request) {
			r.Evidence = []protection.Evidence{{Kind: protection.EvidencePassword}}
		}, protection.ErrInvalidRequest},
		{"contact code without contact kind", func(r *protection.Request) {
			r.Evidence = []protection.Evidence{{Kind: protection.EvidenceContactCode, ObtainedAt: t0}}
		}, protection.ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := ok
			tt.mutate(&req)
			d, err := p.Evaluate(&req)
			assert.ErrorIs(t, err, tt.is)
			assert.ErrorIs(t, err, protection.ErrInvalidRequest)
			assert.Equal(t, protection.Deny, d.Outcome, "a malformed request must fail closed")
			assert.True(t, d.Reasons.Has(protection.ReasonInvalidRequest))
		})
	}
	_, err := p.Evaluate(&ok)
	require.NoError(t, err)
}

func TestEvaluateEvidence(t *testing.T) {
	p := defaultPolicy(t)
	sms := func(at time.Time, st protection.SIMStatus) protection.Evidence {
		return protection.Evidence{Kind: protection.EvidenceContactCode, ObtainedAt: at, Contact: protection.ContactSMS, SIM: st,
			Purpose: otp.PurposeSIMSwap, FactorAddedAt: established}
	}
	tests := []struct {
		name     string
		evidence []protection.Evidence
		outcome  protection.Outcome
		reason   protection.Reason
	}{
		{"session and fresh email code", []protection.Evidence{session(t0.Add(-time.Hour)), emailCode(t0.Add(-time.Minute))}, protection.Allow, protection.ReasonEvidenceSatisfied},
		{"SMS code to a stable number", []protection.Evidence{session(t0), sms(t0, protection.SIMStatusStable)}, protection.Allow, protection.ReasonEvidenceSatisfied},
		{"SMS code to a recently swapped number", []protection.Evidence{session(t0), sms(t0, protection.SIMStatusChanged)}, protection.StepUp, protection.ReasonContactSIMChanged},
		{"SMS code, SIM status unknown", []protection.Evidence{session(t0), sms(t0, protection.SIMStatusUnknown)}, protection.StepUp, protection.ReasonContactSIMUnknown},
		{"code 11 minutes old", []protection.Evidence{session(t0), emailCode(t0.Add(-11 * time.Minute))}, protection.StepUp, protection.ReasonEvidenceStale},
		{"code exactly 10 minutes old", []protection.Evidence{session(t0), emailCode(t0.Add(-10 * time.Minute))}, protection.Allow, protection.ReasonEvidenceSatisfied},
		{"session 13 hours old", []protection.Evidence{session(t0.Add(-13 * time.Hour)), emailCode(t0)}, protection.StepUp, protection.ReasonEvidenceStale},
		{"ID claimed in the app", []protection.Evidence{{Kind: protection.EvidenceGovernmentID, ObtainedAt: t0}, emailCode(t0)}, protection.StepUp, protection.ReasonEvidenceWrongChannel},
		{"no evidence", nil, protection.StepUp, protection.ReasonEvidenceRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := p.Evaluate(&protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp,
				Risk: protection.RiskLow, At: t0, Evidence: tt.evidence})
			require.NoError(t, err)
			assert.Equal(t, tt.outcome, d.Outcome, d.Message())
			assert.True(t, d.Reasons.Has(tt.reason), "reasons %s lack %s", d.Reasons, tt.reason)
			if d.Outcome == protection.StepUp {
				assert.Equal(t, []protection.EvidenceKinds{kS | kC}, d.Alternatives)
			}
		})
	}
}

func TestEvaluateDecisions(t *testing.T) {
	p := defaultPolicy(t)
	full := []protection.Evidence{session(t0), emailCode(t0), {Kind: protection.EvidencePassword, ObtainedAt: t0},
		emailCodeFor(otp.PurposeAccountChange, t0)}
	tests := []struct {
		name    string
		req     protection.Request
		outcome protection.Outcome
		reasons []protection.Reason
		alts    []protection.EvidenceKinds
	}{
		{"phone SIM swap", protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelPhone, Risk: protection.RiskLow, Evidence: full},
			protection.Deny, []protection.Reason{protection.ReasonSIMChangeChannel, protection.ReasonChannelNotAllowed, protection.ReasonVisitStore}, nil},
		{"Never SIM Swap in the app", protection.Request{Action: protection.ActionESIMTransfer, Channel: protection.ChannelApp, Flags: protection.NeverSIMSwap, Risk: protection.RiskLow, Evidence: full},
			protection.Deny, []protection.Reason{protection.ReasonFlagNeverSIMSwap, protection.ReasonVisitStore}, nil},
		{"Never SIM Swap in a store", protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelStore, Flags: protection.NeverSIMSwap, Risk: protection.RiskLow},
			protection.StepUp, []protection.Reason{protection.ReasonFlagNeverSIMSwap}, []protection.EvidenceKinds{kC | kI}},
		{"medium risk adds a factor", protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskMedium, Evidence: full[:2]},
			protection.StepUp, []protection.Reason{protection.ReasonRiskMedium}, []protection.EvidenceKinds{kS | kP | kC, kS | kC | protection.Kinds(protection.EvidenceAuthenticator)}},
		{"medium risk satisfied", protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskMedium, Evidence: full},
			protection.Allow, []protection.Reason{protection.ReasonRiskMedium, protection.ReasonEvidenceSatisfied}, nil},
		{"high risk SIM swap goes to a store", protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskHigh, Evidence: full},
			protection.Deny, []protection.Reason{protection.ReasonRiskHigh, protection.ReasonVisitStore}, nil},
		{"high risk shipping change is held", protection.Request{Action: protection.ActionChangeShippingAddress, Channel: protection.ChannelApp, Risk: protection.RiskHigh, Evidence: full},
			protection.Hold, []protection.Reason{protection.ReasonRiskHigh, protection.ReasonRiskHold}, nil},
		{"No Port Out", protection.Request{Action: protection.ActionPortOut, Channel: protection.ChannelChat, Flags: protection.NoPortOut, Risk: protection.RiskLow},
			protection.StepUp, []protection.Reason{protection.ReasonFlagNoPortOut}, []protection.EvidenceKinds{kC | kQ | kT}},
		{"No Port Out blocks the partner API", protection.Request{Action: protection.ActionPortOut, Channel: protection.ChannelPartner, Flags: protection.NoPortOut, Risk: protection.RiskLow,
			Evidence: []protection.Evidence{{Kind: protection.EvidenceTransferPIN, ObtainedAt: t0}}},
			protection.Deny, []protection.Reason{protection.ReasonFlagNoPortOut, protection.ReasonChannelCannotSatisfy}, nil},
		{"port-out with PIN", protection.Request{Action: protection.ActionPortOut, Channel: protection.ChannelPartner, Risk: protection.RiskLow,
			Evidence: []protection.Evidence{{Kind: protection.EvidenceTransferPIN, ObtainedAt: t0}}},
			protection.Allow, nil, nil},
		{"Account Lockdown sends an email change to an agent or store", protection.Request{Action: protection.ActionChangeEmail, Channel: protection.ChannelApp, Flags: protection.AccountLockdown, Risk: protection.RiskLow, Evidence: full},
			protection.Deny, []protection.Reason{protection.ReasonFlagAccountLockdown, protection.ReasonChannelCannotSatisfy, protection.ReasonVisitStore}, nil},
		{"Account Lockdown does not restrict viewing", protection.Request{Action: protection.ActionViewAccount, Channel: protection.ChannelApp, Flags: protection.AccountLockdown, Risk: protection.RiskLow, Evidence: full},
			protection.Allow, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.At = t0
			d, err := p.Evaluate(&tt.req)
			require.NoError(t, err)
			assert.Equal(t, tt.outcome, d.Outcome, d.Message())
			for _, r := range tt.reasons {
				assert.True(t, d.Reasons.Has(r), "reasons %s lack %s", d.Reasons, r)
			}
			assert.Equal(t, tt.alts, d.Alternatives)
			if d.Outcome == protection.Hold {
				assert.Equal(t, t0.Add(24*time.Hour), d.HoldUntil)
			}
			assert.NotEmpty(t, d.Message())
		})
	}
}

func TestDecisionMessage(t *testing.T) {
	p := defaultPolicy(t)
	d, err := p.Evaluate(&protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelPhone, Risk: protection.RiskLow, At: t0})
	require.NoError(t, err)
	assert.Equal(t, "Denied. SIM changes are never carried out on a phone call or chat: use the signed-in app or website, or visit a store with a government ID.", d.Message())
	assert.Equal(t, []string{"channel_not_allowed", "sim_change_channel", "visit_store"}, d.Reasons.Codes())

	d, err = p.Evaluate(&protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow, At: t0,
		Evidence: []protection.Evidence{session(t0)}})
	require.NoError(t, err)
	assert.Equal(t, "More verification is needed. Any one of: contact_code.", d.Message())
	assert.Equal(t, []protection.EvidenceKinds{kC}, d.Missing())
}

func TestParse(t *testing.T) {
	for _, a := range protection.Actions() {
		got, err := protection.ParseAction(" " + a.String() + " ")
		require.NoError(t, err)
		assert.Equal(t, a, got)
	}
	for _, c := range protection.Channels() {
		got, err := protection.ParseChannel(c.String())
		require.NoError(t, err)
		assert.Equal(t, c, got)
	}
	for _, f := range protection.FlagList() {
		got, err := protection.ParseFlag(f.String())
		require.NoError(t, err)
		assert.Equal(t, f, got)
	}
	_, err := protection.ParseAction("teleport")
	assert.True(t, errors.Is(err, protection.ErrUnknownAction))
	_, err = protection.ParseChannel("fax")
	assert.ErrorIs(t, err, protection.ErrUnknownChannel)
	_, err = protection.ParseFlag("never_sim_swap+no_port_out")
	assert.ErrorIs(t, err, protection.ErrUnknownFlag)
	assert.Equal(t, "never_sim_swap+account_lockdown", (protection.NeverSIMSwap | protection.AccountLockdown).String())
	assert.Equal(t, "session+contact_code", (kS | kC).String())
}

// A second-factor proof counts only toward actions of its purpose: the purpose table,
// lifting a flag by what the flag guards, and a sign-in proof toward nothing.
func TestEvaluatePurposeBinding(t *testing.T) {
	p := defaultPolicy(t)
	full := func(purpose otp.Purpose) []protection.Evidence {
		return []protection.Evidence{session(t0), {Kind: protection.EvidencePassword, ObtainedAt: t0}, emailCodeFor(purpose, t0),
			{Kind: protection.EvidenceAuthenticator, ObtainedAt: t0, Purpose: purpose, FactorAddedAt: established}}
	}
	purposes := []otp.Purpose{otp.PurposeSignIn, otp.PurposeSIMSwap, otp.PurposePortOut, otp.PurposeAccountChange,
		otp.PurposeAccountRecovery, otp.PurposeDisableTwoFactor, otp.PurposeAddFactor, ""}
	for _, a := range protection.Actions() {
		if a == protection.ActionPortOut || a == protection.ActionAddFirstFactor {
			continue // not on the app; no second factor in its rule
		}
		flag := protection.Flags(0)
		if a == protection.ActionDisableFlag {
			flag = protection.NoPortOut
		}
		want := p.Purpose(a, flag)
		require.NotEmpty(t, want, a)
		if d, _ := p.Evaluate(&protection.Request{Action: a, Channel: protection.ChannelApp, Risk: protection.RiskLow, At: t0,
			Flag: flag, Evidence: full(want)[:2]}); d.Outcome == protection.Allow {
			continue // the session and password do without a second factor
		}
		for _, pu := range purposes {
			d, err := p.Evaluate(&protection.Request{Action: a, Channel: protection.ChannelApp, Risk: protection.RiskLow, At: t0,
				Flag: flag, Evidence: full(pu)})
			require.NoError(t, err)
			if pu == want {
				assert.Equal(t, protection.Allow, d.Outcome, "%s with a proof for %s: %s", a, pu, d.Reasons)
				continue
			}
			assert.Equal(t, protection.StepUp, d.Outcome, "%s with a proof for %q", a, pu)
			assert.True(t, d.Reasons.Has(protection.ReasonEvidenceWrongPurpose), "%s with a proof for %q: %s", a, pu, d.Reasons)
		}
	}
	// Lifting a flag takes the purpose of what it guards; without the flag named, none.
	for flag, want := range map[protection.Flags]otp.Purpose{protection.NeverSIMSwap: otp.PurposeSIMSwap,
		protection.NoPortOut: otp.PurposePortOut, protection.AccountLockdown: otp.PurposeAccountChange, 0: ""} {
		assert.Equal(t, want, p.Purpose(protection.ActionDisableFlag, flag), flag)
	}
	d, err := p.Evaluate(&protection.Request{Action: protection.ActionDisableFlag, Channel: protection.ChannelApp, Risk: protection.RiskLow,
		At: t0, Evidence: full(otp.PurposeSIMSwap)})
	require.NoError(t, err)
	assert.Equal(t, protection.StepUp, d.Outcome, "no flag named: no proof fits")
	_, err = p.Evaluate(&protection.Request{Action: protection.ActionDisableFlag, Channel: protection.ChannelApp, Risk: protection.RiskLow,
		At: t0, Flag: protection.NeverSIMSwap | protection.NoPortOut})
	assert.ErrorIs(t, err, protection.ErrInvalidRequest)

	// An agent-channel code too: a code read out "for account recovery" does not approve
	// a port-out in chat.
	pin := protection.Evidence{Kind: protection.EvidenceTransferPIN, ObtainedAt: t0}
	for pu, want := range map[otp.Purpose]protection.Outcome{otp.PurposeAccountRecovery: protection.StepUp, otp.PurposePortOut: protection.Allow} {
		d, err := p.Evaluate(&protection.Request{Action: protection.ActionPortOut, Channel: protection.ChannelChat, Risk: protection.RiskLow,
			At: t0, Evidence: []protection.Evidence{pin, emailCodeFor(pu, t0)}})
		require.NoError(t, err)
		assert.Equal(t, want, d.Outcome, "port-out in chat with a code for %s", pu)
	}
}

// A proof from a factor in probation does not count toward the actions with one; a SIM
// change asked for in the app on such a factor alone is held instead of carried out.
func TestEvaluateProbation(t *testing.T) {
	p := defaultPolicy(t)
	code := func(purpose otp.Purpose, added time.Time) protection.Evidence {
		e := emailCodeFor(purpose, t0)
		e.FactorAddedAt = added
		return e
	}
	yesterday, lastMonth := t0.AddDate(0, 0, -1), t0.AddDate(0, -1, 0)
	eval := func(a protection.Action, c protection.Channel, ev ...protection.Evidence) protection.Decision {
		t.Helper()
		d, err := p.Evaluate(&protection.Request{Action: a, Channel: c, Risk: protection.RiskLow, At: t0, Evidence: ev, Flag: protection.NoPortOut})
		require.NoError(t, err)
		return d
	}
	pw := protection.Evidence{Kind: protection.EvidencePassword, ObtainedAt: t0}
	id := protection.Evidence{Kind: protection.EvidenceGovernmentID, ObtainedAt: t0}

	for _, a := range []protection.Action{protection.ActionSIMSwap, protection.ActionESIMTransfer} {
		d := eval(a, protection.ChannelApp, session(t0), code(otp.PurposeSIMSwap, yesterday))
		assert.Equal(t, protection.Hold, d.Outcome, a)
		assert.Equal(t, t0.Add(24*time.Hour), d.HoldUntil, a)
		for _, r := range []protection.Reason{protection.ReasonFactorInProbation, protection.ReasonProbationHold} {
			assert.True(t, d.Reasons.Has(r), "%s: %s lacks %s", a, d.Reasons, r)
		}
		assert.Zero(t, d.Counted&kC, "a factor in probation is not counted")
		d = eval(a, protection.ChannelApp, session(t0), code(otp.PurposeSIMSwap, time.Time{}))
		assert.Equal(t, protection.Hold, d.Outcome, "%s: an unknown factor age is probation", a)
		d = eval(a, protection.ChannelApp, session(t0), code(otp.PurposeSIMSwap, lastMonth))
		assert.Equal(t, protection.Allow, d.Outcome, a)
		// In a store nothing is held: the code does not count, the ID check must do.
		d = eval(a, protection.ChannelStore, id, code(otp.PurposeSIMSwap, yesterday))
		assert.Equal(t, protection.StepUp, d.Outcome, a)
	}
	// Taking factors away, lifting a flag, a transfer PIN, turning 2FA on: step-up.
	for a, pu := range map[protection.Action]otp.Purpose{
		protection.ActionDisableTwoFactor:     otp.PurposeDisableTwoFactor,
		protection.ActionRemoveTrustedContact: otp.PurposeDisableTwoFactor,
		protection.ActionDisableFlag:          otp.PurposePortOut,
		protection.ActionIssueTransferPIN:     otp.PurposePortOut,
		protection.ActionEnableTwoFactor:      otp.PurposeAddFactor,
	} {
		d := eval(a, protection.ChannelApp, session(t0), pw, code(pu, yesterday))
		assert.Equal(t, protection.StepUp, d.Outcome, a)
		assert.True(t, d.Reasons.Has(protection.ReasonFactorInProbation), "%s: %s", a, d.Reasons)
		assert.Equal(t, protection.Allow, eval(a, protection.ChannelApp, session(t0), pw, code(pu, lastMonth)).Outcome, a)
	}
	// An everyday change has no probation.
	assert.Equal(t, protection.Allow, eval(protection.ActionChangeEmail, protection.ChannelApp, session(t0), pw,
		code(otp.PurposeAccountChange, yesterday)).Outcome)

	// Configured per action; the hold too.
	p2, err := protection.NewPolicy(protection.PolicyConfig{
		Probation:     map[protection.Action]time.Duration{protection.ActionSIMSwap: 48 * time.Hour, protection.ActionDisableTwoFactor: 0},
		ProbationHold: 72 * time.Hour,
	})
	require.NoError(t, err)
	d, err := p2.Evaluate(&protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow, At: t0,
		Evidence: []protection.Evidence{session(t0), code(otp.PurposeSIMSwap, t0.AddDate(0, 0, -3))}})
	require.NoError(t, err)
	assert.Equal(t, protection.Allow, d.Outcome, "3 days is past a 48 h probation")
	d, err = p2.Evaluate(&protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow, At: t0,
		Evidence: []protection.Evidence{session(t0), code(otp.PurposeSIMSwap, yesterday)}})
	require.NoError(t, err)
	assert.Equal(t, t0.Add(72*time.Hour), d.HoldUntil)
	d, err = p2.Evaluate(&protection.Request{Action: protection.ActionDisableTwoFactor, Channel: protection.ChannelApp, Risk: protection.RiskLow, At: t0,
		Evidence: []protection.Evidence{session(t0), pw, code(otp.PurposeDisableTwoFactor, time.Time{})}})
	require.NoError(t, err)
	assert.Equal(t, protection.Allow, d.Outcome, "probation turned off for this action")
	assert.Equal(t, 48*time.Hour, p2.Probation(protection.ActionSIMSwap))
}

func TestNewPolicyRejectsPurposeAndProbation(t *testing.T) {
	for name, cfg := range map[string]protection.PolicyConfig{
		"SIM swap without probation": {Probation: map[protection.Action]time.Duration{protection.ActionSIMSwap: 0}},
		"port-out without probation": {Probation: map[protection.Action]time.Duration{protection.ActionPortOut: 0}},
		"eSIM without probation":     {Probation: map[protection.Action]time.Duration{protection.ActionESIMTransfer: 0}},
		"negative probation":         {Probation: map[protection.Action]time.Duration{protection.ActionChangeEmail: -time.Hour}},
		"probation of no action":     {Probation: map[protection.Action]time.Duration{99: time.Hour}},
		"hold under an hour":         {ProbationHold: 30 * time.Minute},
		"a sign-in proof for a swap": {Purposes: map[protection.Action]otp.Purpose{protection.ActionSIMSwap: otp.PurposeSignIn}},
		"a verification code":        {Purposes: map[protection.Action]otp.Purpose{protection.ActionChangeEmail: otp.PurposeContactVerification}},
		"a malformed purpose":        {Purposes: map[protection.Action]otp.Purpose{protection.ActionChangeEmail: "Bad Purpose"}},
		"a purpose for no action":    {Purposes: map[protection.Action]otp.Purpose{0: otp.PurposeAccountChange}},
	} {
		_, err := protection.NewPolicy(cfg)
		assert.ErrorIs(t, err, protection.ErrInvalidPolicy, name)
	}
	p, err := protection.NewPolicy(protection.PolicyConfig{Purposes: map[protection.Action]otp.Purpose{protection.ActionChangeEmail: "email.change"}})
	require.NoError(t, err)
	assert.Equal(t, otp.Purpose("email.change"), p.Purpose(protection.ActionChangeEmail, 0))
}

// Evaluate does not allocate, purpose and probation checks and the probation hold
// included.
func TestEvaluateDoesNotAllocate(t *testing.T) {
	p := defaultPolicy(t)
	code := emailCodeFor(otp.PurposeSIMSwap, t0)
	code.FactorAddedAt = t0.AddDate(0, 0, -1) // in probation: held
	req := protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow, At: t0,
		Evidence: []protection.Evidence{session(t0), code, emailCodeFor(otp.PurposeSignIn, t0)}}
	var d protection.Decision
	allocs := testing.AllocsPerRun(100, func() { d, _ = p.Evaluate(&req) })
	assert.Equal(t, protection.Hold, d.Outcome)
	assert.Zero(t, allocs)
}
