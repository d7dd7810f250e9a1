package protection_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	sessions "github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/store/memory"
)

// SessionEvidence's signature is the join: a sessions.Session in, protection.Evidence out.
var _ func(string, sessions.Session, protection.Evidence) ([]protection.Evidence, error) = protection.SessionEvidence

func TestSessionEvidence(t *testing.T) {
	t0 := joinEpoch
	s := sessions.Session{ID: "s1", Subscriber: "sub-42", CreatedAt: t0, PasswordAt: t0.Add(time.Minute), SecondFactorAt: t0.Add(2 * time.Minute)}
	added := t0.AddDate(0, -1, 0)
	email := protection.Evidence{Kind: protection.EvidenceContactCode, Contact: protection.ContactEmail,
		Purpose: otp.PurposeSIMSwap, FactorAddedAt: added}
	forged := email
	forged.ObtainedAt = t0.Add(time.Hour) // what a client might claim; ignored

	for _, tc := range []struct {
		name   string
		s      sessions.Session
		second protection.Evidence
		want   []protection.Evidence
	}{
		{"session, password and an email code", s, forged, []protection.Evidence{
			{Kind: protection.EvidenceSession, ObtainedAt: t0},
			{Kind: protection.EvidencePassword, ObtainedAt: t0.Add(time.Minute)},
			{Kind: protection.EvidenceContactCode, Contact: protection.ContactEmail, ObtainedAt: t0.Add(2 * time.Minute),
				Purpose: otp.PurposeSIMSwap, FactorAddedAt: added}, // purpose and factor age carried through
		}},
		{"second factor of unknown kind is left out", s, protection.Evidence{}, []protection.Evidence{
			{Kind: protection.EvidenceSession, ObtainedAt: t0},
			{Kind: protection.EvidencePassword, ObtainedAt: t0.Add(time.Minute)},
		}},
		{"no proofs in the session", sessions.Session{ID: "s1", Subscriber: "sub-42", CreatedAt: t0},
			protection.Evidence{Kind: protection.EvidenceAuthenticator, Purpose: otp.PurposeSignIn}, []protection.Evidence{
				{Kind: protection.EvidenceSession, ObtainedAt: t0},
			}},
		{"an SMS code keeps its destination", sessions.Session{ID: "s1", Subscriber: "sub-42", CreatedAt: t0, SecondFactorAt: t0},
			protection.Evidence{Kind: protection.EvidenceContactCode, Contact: protection.ContactSMS, Destination: "+15550104477", Purpose: otp.PurposeSignIn},
			[]protection.Evidence{
				{Kind: protection.EvidenceSession, ObtainedAt: t0},
				{Kind: protection.EvidenceContactCode, Contact: protection.ContactSMS, Destination: "+15550104477", ObtainedAt: t0, Purpose: otp.PurposeSignIn},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := protection.SessionEvidence("sub-42", tc.s, tc.second)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}

	for _, tc := range []struct {
		name       string
		subscriber string
		s          sessions.Session
		second     protection.Evidence
	}{
		{"zero session", "sub-42", sessions.Session{}, email},
		{"no sign-in time", "sub-42", sessions.Session{ID: "s1", Subscriber: "sub-42"}, email},
		{"another subscriber's session", "sub-7", s, email},
		{"a session is not a second factor", "sub-42", s, protection.Evidence{Kind: protection.EvidenceSession}},
		{"a password is not a second factor", "sub-42", s, protection.Evidence{Kind: protection.EvidencePassword}},
		{"an ID check is not a session's second factor", "sub-42", s, protection.Evidence{Kind: protection.EvidenceGovernmentID}},
		{"contact code without its contact kind", "sub-42", s, protection.Evidence{Kind: protection.EvidenceContactCode, Purpose: otp.PurposeSIMSwap}},
		{"second factor without its purpose", "sub-42", s, protection.Evidence{Kind: protection.EvidenceAuthenticator}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := protection.SessionEvidence(tc.subscriber, tc.s, tc.second)
			assert.ErrorIs(t, err, protection.ErrInvalidRequest)
			assert.Nil(t, got)
		})
	}
}

// The app's evidence comes from the session registry: sign-in and step-up times are the
// registry's, and the policy's freshness windows (session 12 h, password 15 min, code
// 10 min) decide what still counts.
func TestSessionEvidenceFromTheRegistry(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(joinEpoch)
	registry, err := sessions.New(sessions.Config{IdleTimeout: 24 * time.Hour, Now: clock.Now},
		memory.NewSession(memory.Options{Now: clock.Now}), &notify.Recorder{})
	require.NoError(t, err)
	prot := newJoinProtection(t, clock, nil)
	app := sessions.Client{Device: "install-7f3a", UserAgent: "CarrierApp/5.2", IP: netip.MustParseAddr("203.0.113.10")}
	// The session's newest second factor, an email code; the integrator's record of it
	// says what it was given for (here: the step-up the action asks for).
	email := func(a protection.Action) protection.Evidence {
		return protection.Evidence{Kind: protection.EvidenceContactCode, Contact: protection.ContactEmail,
			Purpose: protection.PurposeFor(a), FactorAddedAt: joinEpoch.AddDate(-1, 0, 0)}
	}

	// decide validates the token as the app's handler would and decides from the sessions.
	decide := func(t *testing.T, token string, a protection.Action) protection.Decision {
		t.Helper()
		s, err := registry.Validate(ctx, token, app)
		require.NoError(t, err)
		ev, err := protection.SessionEvidence("sub-42", s, email(a))
		require.NoError(t, err)
		d, err := prot.Decide(ctx, "sub-42", protection.Request{Action: a, Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: ev})
		require.NoError(t, err)
		return d
	}
	S, P, C := protection.EvidenceSession, protection.EvidencePassword, protection.EvidenceContactCode

	// Signed in with password and an email code: a password change (S+P+C) is allowed.
	token, _, err := registry.Create(ctx, "sub-42", app, sessions.ProofPassword, sessions.ProofSecondFactor)
	require.NoError(t, err)
	d := decide(t, token, protection.ActionChangePassword)
	assert.Equal(t, protection.Allow, d.Outcome, "%s", d.Reasons)
	assert.Equal(t, protection.Kinds(S, P, C), d.Counted)

	// 11 minutes on, the sign-in code is stale (10 min): a SIM swap (S+C) steps up.
	clock.Advance(11 * time.Minute)
	d = decide(t, token, protection.ActionSIMSwap)
	assert.Equal(t, protection.StepUp, d.Outcome)
	assert.True(t, d.Reasons.Has(protection.ReasonEvidenceStale), "%s", d.Reasons)
	assert.Equal(t, protection.Kinds(S, P), d.Counted)

	// A fresh code recorded with sessions.StepUp makes it count again.
	_, err = registry.StepUp(ctx, token, app, sessions.ProofSecondFactor)
	require.NoError(t, err)
	d = decide(t, token, protection.ActionSIMSwap)
	assert.Equal(t, protection.Allow, d.Outcome, "%s", d.Reasons)

	// At 16 minutes the sign-in password is stale (15 min): a password change steps up
	// until the password is entered again.
	clock.Advance(5 * time.Minute)
	d = decide(t, token, protection.ActionChangePassword)
	assert.Equal(t, protection.StepUp, d.Outcome)
	assert.Equal(t, protection.Kinds(S, C), d.Counted)
	_, err = registry.StepUp(ctx, token, app, sessions.ProofPassword)
	require.NoError(t, err)
	d = decide(t, token, protection.ActionChangePassword)
	assert.Equal(t, protection.Allow, d.Outcome, "%s", d.Reasons)

	// 13 hours after sign-in the session itself is stale (12 h), however fresh the code.
	clock.Advance(13 * time.Hour)
	_, err = registry.StepUp(ctx, token, app, sessions.ProofSecondFactor)
	require.NoError(t, err)
	d = decide(t, token, protection.ActionSIMSwap)
	assert.Equal(t, protection.StepUp, d.Outcome)
	assert.True(t, d.Reasons.Has(protection.ReasonEvidenceStale), "%s", d.Reasons)
	assert.Equal(t, protection.Kinds(C), d.Counted)

	// Session evidence is ignored on a channel that cannot provide it.
	s, err := registry.Validate(ctx, token, app)
	require.NoError(t, err)
	ev, err := protection.SessionEvidence("sub-42", s, protection.Evidence{})
	require.NoError(t, err)
	d, err = prot.Decide(ctx, "sub-42", protection.Request{Action: protection.ActionViewAccount, Channel: protection.ChannelPhone, Risk: protection.RiskLow, Evidence: ev})
	require.NoError(t, err)
	assert.True(t, d.Reasons.Has(protection.ReasonEvidenceWrongChannel), "%s", d.Reasons)
	assert.Zero(t, d.Counted)
}

// An SMS second factor from the session counts only while its number has had no SIM
// change: Decide checks the destination against the SIM-change history.
func TestSessionSMSFactorAndSIMHistory(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(joinEpoch)
	registry, err := sessions.New(sessions.Config{Now: clock.Now}, memory.NewSession(memory.Options{Now: clock.Now}), &notify.Recorder{})
	require.NoError(t, err)
	prot := newJoinProtection(t, clock, nil)
	app := sessions.Client{Device: "install-7f3a", IP: netip.MustParseAddr("203.0.113.10")}
	sms := protection.Evidence{Kind: protection.EvidenceContactCode, Contact: protection.ContactSMS, Destination: "+15550104477",
		Purpose: otp.PurposeSIMSwap, FactorAddedAt: joinEpoch.AddDate(-1, 0, 0)}

	_, s, err := registry.Create(ctx, "sub-42", app, sessions.ProofSecondFactor)
	require.NoError(t, err)
	ev, err := protection.SessionEvidence("sub-42", s, sms)
	require.NoError(t, err)
	req := protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: ev}
	d, err := prot.Decide(ctx, "sub-42", req)
	require.NoError(t, err)
	assert.Equal(t, protection.Allow, d.Outcome, "%s", d.Reasons)

	require.NoError(t, prot.RecordPortIn(ctx, "sub-42", "+15550104477", protection.ChannelPartner))
	d, err = prot.Decide(ctx, "sub-42", req)
	require.NoError(t, err)
	assert.Equal(t, protection.StepUp, d.Outcome)
	assert.True(t, d.Reasons.Has(protection.ReasonContactSIMChanged), "%s", d.Reasons)
}

// A step-up proof older than the session's newest second factor keeps its own time: a
// SIM-swap code from 11 minutes ago does not become fresh because a code for something
// else was entered since.
func TestSessionEvidenceKeepsAnOlderProofsTime(t *testing.T) {
	t0 := joinEpoch
	s := sessions.Session{ID: "s1", Subscriber: "sub-42", CreatedAt: t0, SecondFactorAt: t0.Add(11 * time.Minute)}
	swap := protection.Evidence{Kind: protection.EvidenceContactCode, Contact: protection.ContactEmail, Purpose: otp.PurposeSIMSwap,
		FactorAddedAt: t0.AddDate(-1, 0, 0), ObtainedAt: t0}
	ev, err := protection.SessionEvidence("sub-42", s, swap)
	require.NoError(t, err)
	require.Len(t, ev, 2)
	assert.Equal(t, t0, ev[1].ObtainedAt)
	p, err := protection.NewPolicy(protection.PolicyConfig{})
	require.NoError(t, err)
	d, err := p.Evaluate(&protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow,
		At: t0.Add(11 * time.Minute), Evidence: ev})
	require.NoError(t, err)
	assert.Equal(t, protection.StepUp, d.Outcome)
	assert.True(t, d.Reasons.Has(protection.ReasonEvidenceStale), "%s", d.Reasons)
}
