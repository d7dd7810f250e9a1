package protection_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
	"github.com/carrierguard/carrierguard/twofactor"
)

// tfWorld is a twofactor service wired to a protection service, as an integrator does:
// protection answers twofactor's SIM-change question, and twofactor proofs become
// protection evidence.
type tfWorld struct {
	ctx    context.Context
	events *notify.Recorder
	clk    *fakeclock.Clock
	prot   *protection.Service
	tf     *twofactor.Service
	auths  *otp.Authenticators
	mu     sync.Mutex
	last   twofactor.Message
}

func newTFWorld(t *testing.T) *tfWorld {
	t.Helper()
	w := &tfWorld{ctx: context.Background(), clk: storetest.NewClock(), events: &notify.Recorder{}}
	events := w.events
	ps := memory.NewProtection(memory.Options{Now: w.clk.Now})
	var err error
	w.prot, err = protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: w.clk.Now},
		protection.Stores{Flags: ps, History: ps, PINs: ps}, events)
	require.NoError(t, err)
	os := memory.NewOTP(memory.Options{Now: w.clk.Now})
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("otp"), Now: w.clk.Now,
		MinResendInterval: time.Second, Budgets: otp.SMSBudgets{HomeRegions: []string{"GB"}}}, os, os, events)
	require.NoError(t, err)
	kr, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 1, Secret: testkey.New("keyring")}}})
	require.NoError(t, err)
	w.auths, err = otp.NewAuthenticators(otp.AuthenticatorConfig{Issuer: "Acme Mobile", Now: w.clk.Now}, os, kr, events)
	require.NoError(t, err)
	ts := memory.NewTwoFactor(memory.Options{Now: w.clk.Now})
	w.tf, err = twofactor.New(twofactor.Config{HashKey: testkey.New("twofactor"), Now: w.clk.Now,
		Phone: twofactor.PhoneOptions{DefaultRegion: "GB"}}, twofactor.Deps{
		Codes: codes, Authenticators: w.auths, Contacts: ts, Recovery: ts, Failures: ts,
		Sender: twofactor.SenderFunc(func(_ context.Context, m twofactor.Message) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.last = m
			return nil
		}),
		SIMChanges: w.prot, Publisher: events, Gate: protection.FactorGate(w.prot),
	})
	require.NoError(t, err)
	return w
}

func (w *tfWorld) code() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last.Code
}

// flow is the signed-in session's step-up flow.
const flow = "session:s-1"

// reauth is what a subscriber signed in and entered the password just now presents,
// with proof.
func (w *tfWorld) reauth(proof twofactor.Proof) twofactor.Reauth {
	return twofactor.Reauth{Proof: proof, SignedInAt: w.clk.Now(), PasswordAt: w.clk.Now()}
}

// addProof is a fresh proof for adding a factor from sub's first verified contact (the
// zero Proof if there is none).
func (w *tfWorld) addProof(t *testing.T, sub string) twofactor.Proof {
	t.Helper()
	cs, err := w.tf.Contacts(w.ctx, sub)
	require.NoError(t, err)
	for _, c := range cs {
		if c.Verified() {
			return w.prove(t, sub, c.ID, otp.PurposeAddFactor)
		}
	}
	return twofactor.Proof{}
}

// contact adds and verifies a contact, with the password and, if sub has a contact
// already, a code from it for adding a factor.
func (w *tfWorld) contact(t *testing.T, sub string, kind twofactor.Kind, value string) twofactor.Contact {
	t.Helper()
	re := w.reauth(w.addProof(t, sub))
	w.clk.Advance(2 * time.Second)
	pc, err := w.tf.AddContact(w.ctx, twofactor.AddContactRequest{Subscriber: sub, Kind: kind, Value: value, Reauth: re})
	require.NoError(t, err)
	c, err := w.tf.VerifyContact(w.ctx, twofactor.VerifyContactRequest{Subscriber: sub, ChallengeID: pc.ChallengeID, Code: w.code(), Reauth: re})
	require.NoError(t, err)
	return c
}

// establish moves the clock past the default probation.
func (w *tfWorld) establish() { w.clk.Advance(7*24*time.Hour + time.Minute) }

// enable turns 2FA on with a code from the contact, once it is established.
func (w *tfWorld) enable(t *testing.T, sub string, c twofactor.Contact) {
	t.Helper()
	w.establish()
	require.NoError(t, w.tf.Enable(w.ctx, sub, w.reauth(w.prove(t, sub, c.ID, otp.PurposeAddFactor)), twofactor.Origin{}))
}

// prove runs a real twofactor challenge for purpose on the contact, in the session's flow.
func (w *tfWorld) prove(t *testing.T, sub, contactID string, purpose otp.Purpose) twofactor.Proof {
	t.Helper()
	w.clk.Advance(2 * time.Second)
	ch, err := w.tf.Begin(w.ctx, twofactor.BeginRequest{Subscriber: sub, ContactID: contactID, Purpose: purpose, Flow: flow})
	require.NoError(t, err)
	p, err := w.tf.Complete(w.ctx, twofactor.CompleteRequest{Subscriber: sub, ChallengeID: ch.ID, Code: w.code(), Purpose: purpose, Flow: flow})
	require.NoError(t, err)
	return p
}

// signIn runs a real twofactor sign-in challenge on the contact.
func (w *tfWorld) signIn(t *testing.T, sub, contactID string) twofactor.Proof {
	t.Helper()
	w.clk.Advance(2 * time.Second)
	ch, err := w.tf.Begin(w.ctx, twofactor.BeginRequest{Subscriber: sub, ContactID: contactID, Purpose: otp.PurposeSignIn, Flow: "signin:p-1"})
	require.NoError(t, err)
	p, err := w.tf.Complete(w.ctx, twofactor.CompleteRequest{Subscriber: sub, ChallengeID: ch.ID, Code: w.code(),
		Purpose: otp.PurposeSignIn, Flow: "signin:p-1"})
	require.NoError(t, err)
	return p
}

// decide asks for action a in the app, signed in an hour ago with the password just
// entered, with the proofs converted by EvidenceFromProof.
func (w *tfWorld) decide(t *testing.T, sub string, a protection.Action, proofs ...twofactor.Proof) protection.Decision {
	t.Helper()
	ev := []protection.Evidence{{Kind: protection.EvidenceSession, ObtainedAt: w.clk.Now().Add(-time.Hour)},
		{Kind: protection.EvidencePassword, ObtainedAt: w.clk.Now()}}
	for _, p := range proofs {
		e, err := protection.EvidenceFromProof(w.tf, sub, p)
		require.NoError(t, err)
		ev = append(ev, e)
	}
	d, err := w.prot.Decide(w.ctx, sub, protection.Request{Action: a, Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: ev})
	require.NoError(t, err)
	return d
}

// decideSIMSwap asks for a SIM swap in the app, signed in an hour ago, with ev.
func (w *tfWorld) decideSIMSwap(t *testing.T, sub string, ev ...protection.Evidence) protection.Decision {
	t.Helper()
	req := protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow,
		Evidence: append([]protection.Evidence{{Kind: protection.EvidenceSession, ObtainedAt: w.clk.Now().Add(-time.Hour)}}, ev...)}
	d, err := w.prot.Decide(w.ctx, sub, req)
	require.NoError(t, err)
	return d
}

func TestEvidenceFromProofSIMSwapEndToEnd(t *testing.T) {
	w := newTFWorld(t)
	phone := w.contact(t, "alice", twofactor.KindPhone, "07400 123456")
	w.enable(t, "alice", phone)

	// Without the second factor, a SIM swap from the app steps up.
	d := w.decideSIMSwap(t, "alice")
	require.Equal(t, protection.StepUp, d.Outcome, d.Reasons)

	p := w.prove(t, "alice", phone.ID, otp.PurposeSIMSwap)
	ev, err := protection.EvidenceFromProof(w.tf, "alice", p)
	require.NoError(t, err)
	assert.Equal(t, protection.Evidence{Kind: protection.EvidenceContactCode, Contact: protection.ContactSMS,
		Destination: "+447400123456", ObtainedAt: p.At, Purpose: otp.PurposeSIMSwap, FactorAddedAt: phone.VerifiedAt}, ev)

	// A fresh proof and the session: allowed (default policy, low risk), with the
	// number's SIM status filled in by Decide from the history.
	w.clk.Advance(time.Minute)
	d = w.decideSIMSwap(t, "alice", ev)
	assert.Equal(t, protection.Allow, d.Outcome, d.Reasons)
	assert.True(t, d.Counted.Has(protection.EvidenceContactCode), d.Counted)

	// The same proof once older than the contact-code freshness window: step-up.
	w.clk.Advance(protection.DefaultFreshness()[protection.EvidenceContactCode])
	d = w.decideSIMSwap(t, "alice", ev)
	assert.Equal(t, protection.StepUp, d.Outcome, d.Reasons)
	assert.True(t, d.Reasons.Has(protection.ReasonEvidenceStale), d.Reasons)

	// A fresh SMS proof for a number that has since changed SIM does not count.
	p = w.prove(t, "alice", phone.ID, otp.PurposeSIMSwap)
	ev, err = protection.EvidenceFromProof(w.tf, "alice", p)
	require.NoError(t, err)
	require.NoError(t, w.prot.RecordPortIn(w.ctx, "alice", "+447400123456", protection.ChannelStore))
	d = w.decideSIMSwap(t, "alice", ev)
	assert.NotEqual(t, protection.Allow, d.Outcome, d.Reasons)
	assert.True(t, d.Reasons.Has(protection.ReasonContactSIMChanged), d.Reasons)
}

func TestEvidenceFromProofRefuses(t *testing.T) {
	w := newTFWorld(t)
	email := w.contact(t, "alice", twofactor.KindEmail, "alice@example.com")
	w.contact(t, "bob", twofactor.KindEmail, "bob@example.com")
	p := w.signIn(t, "alice", email.ID)

	ev, err := protection.EvidenceFromProof(w.tf, "alice", p)
	require.NoError(t, err)
	assert.Equal(t, protection.Evidence{Kind: protection.EvidenceContactCode, Contact: protection.ContactEmail, ObtainedAt: p.At,
		Purpose: otp.PurposeSignIn, FactorAddedAt: email.VerifiedAt}, ev)

	// Alice's proof is no evidence about Bob: Evidence carries no subscriber, so the
	// check must happen here.
	_, err = protection.EvidenceFromProof(w.tf, "bob", p)
	assert.ErrorIs(t, err, twofactor.ErrProofRequired)

	// Altered or made-up proofs are refused: a sign-in proof cannot be relabelled for a
	// SIM swap, nor its factor made older.
	for name, alter := range map[string]func(*twofactor.Proof){
		"as sms":       func(p *twofactor.Proof) { p.Kind, p.Destination = twofactor.KindPhone, "+447400123456" },
		"as app":       func(p *twofactor.Proof) { p.Method, p.Kind, p.ContactID = twofactor.MethodAuthenticator, "", "" },
		"made later":   func(p *twofactor.Proof) { p.At = p.At.Add(time.Minute) },
		"no tag":       func(p *twofactor.Proof) { p.Tag = nil },
		"as sim swap":  func(p *twofactor.Proof) { p.Purpose = otp.PurposeSIMSwap },
		"older factor": func(p *twofactor.Proof) { p.FactorAddedAt = p.FactorAddedAt.Add(-30 * 24 * time.Hour) },
	} {
		q := p
		alter(&q)
		_, err := protection.EvidenceFromProof(w.tf, "alice", q)
		assert.ErrorIs(t, err, twofactor.ErrProofRequired, name)
	}
	_, err = protection.EvidenceFromProof(w.tf, "alice", twofactor.Proof{})
	assert.Error(t, err)

	// Proofs with no mapping.
	for name, q := range map[string]twofactor.Proof{
		"method":         {Subscriber: "alice", Method: "carrier_pigeon", At: p.At},
		"kind":           {Subscriber: "alice", Method: twofactor.MethodContactCode, Kind: "fax", At: p.At},
		"sms, no number": {Subscriber: "alice", Method: twofactor.MethodContactCode, Kind: twofactor.KindPhone, At: p.At},
		"no time":        {Subscriber: "alice", Method: twofactor.MethodRecoveryCode},
	} {
		_, err := protection.EvidenceFromProof(w.tf, "alice", q)
		assert.ErrorIs(t, err, protection.ErrUnsupportedProof, name)
		assert.ErrorIs(t, err, protection.ErrInvalidRequest, name)
	}
	_, err = protection.EvidenceFromProof(nil, "alice", p)
	assert.ErrorIs(t, err, protection.ErrInvalidRequest)
}

func TestEvidenceFromProofAppAndRecoveryCode(t *testing.T) {
	w := newTFWorld(t)
	email := w.contact(t, "alice", twofactor.KindEmail, "alice@example.com")
	w.enable(t, "alice", email)
	en, err := w.tf.EnrollAuthenticator(w.ctx, twofactor.EnrollAuthenticatorRequest{Subscriber: "alice", Account: "a",
		Reauth: w.reauth(w.addProof(t, "alice"))})
	require.NoError(t, err)
	u, err := otp.ParseKeyURI(en.URI)
	require.NoError(t, err)
	app, err := otp.NewKey(u.Secret, u.Params)
	require.NoError(t, err)
	confirmed := w.clk.Now()
	require.NoError(t, w.tf.ConfirmAuthenticator(w.ctx, twofactor.ConfirmAuthenticatorRequest{Subscriber: "alice", Code: app.TOTP(w.clk.Now()),
		Reauth: w.reauth(w.addProof(t, "alice"))}))

	w.clk.Advance(30 * time.Second)
	p, err := w.tf.Complete(w.ctx, twofactor.CompleteRequest{Subscriber: "alice", Method: twofactor.MethodAuthenticator, Code: app.TOTP(w.clk.Now()),
		Purpose: otp.PurposeAccountChange})
	require.NoError(t, err)
	ev, err := protection.EvidenceFromProof(w.tf, "alice", p)
	require.NoError(t, err)
	assert.Equal(t, protection.Evidence{Kind: protection.EvidenceAuthenticator, ObtainedAt: p.At, Purpose: otp.PurposeAccountChange,
		FactorAddedAt: p.FactorAddedAt}, ev)
	assert.False(t, p.FactorAddedAt.Before(confirmed), "the app's age is its confirmation")

	generated := w.clk.Now()
	codes, err := w.tf.GenerateRecoveryCodes(w.ctx, "alice", w.reauth(w.addProof(t, "alice")), twofactor.Origin{})
	require.NoError(t, err)
	p, err = w.tf.Complete(w.ctx, twofactor.CompleteRequest{Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: codes[0],
		Purpose: otp.PurposePortOut})
	require.NoError(t, err)
	ev, err = protection.EvidenceFromProof(w.tf, "alice", p)
	require.NoError(t, err)
	assert.Equal(t, protection.Evidence{Kind: protection.EvidenceRecoveryCode, ObtainedAt: p.At, Purpose: otp.PurposePortOut,
		FactorAddedAt: p.FactorAddedAt}, ev)
	assert.False(t, p.FactorAddedAt.Before(generated), "the set's age is its generation")
}

// The takeover chains, tried with real twofactor proofs. Each fails if the rule it
// names is removed.

// A thief with the password tricks the owner into reading out one sign-in code: it
// proves the sign-in and nothing else, so it swaps no SIM and issues no transfer PIN.
func TestChainPhishedSignInCodeCannotSIMSwap(t *testing.T) {
	w := newTFWorld(t)
	email := w.contact(t, "alice", twofactor.KindEmail, "alice@example.com")
	w.enable(t, "alice", email)
	p := w.signIn(t, "alice", email.ID)
	for _, a := range []protection.Action{protection.ActionSIMSwap, protection.ActionIssueTransferPIN,
		protection.ActionDisableTwoFactor, protection.ActionAddFactor} {
		d := w.decide(t, "alice", a, p)
		assert.Equal(t, protection.StepUp, d.Outcome, a)
		assert.True(t, d.Reasons.Has(protection.ReasonEvidenceWrongPurpose), "%s: %s", a, d.Reasons)
	}
	// A code "for account change" is no consent to a SIM swap either.
	d := w.decide(t, "alice", protection.ActionSIMSwap, w.prove(t, "alice", email.ID, otp.PurposeAccountChange))
	assert.Equal(t, protection.StepUp, d.Outcome)
	assert.True(t, d.Reasons.Has(protection.ReasonEvidenceWrongPurpose), "%s", d.Reasons)
	// The owner's own code for a SIM swap does it.
	d = w.decide(t, "alice", protection.ActionSIMSwap, w.prove(t, "alice", email.ID, otp.PurposeSIMSwap))
	assert.Equal(t, protection.Allow, d.Outcome, "%s", d.Reasons)
}

// An authenticator app enrolled today (by a thief with one phished add-factor code,
// say) gives proofs of the right purpose that still do not turn 2FA off, remove the
// owner's contact, or swap the SIM at once: the swap is held for a day while the
// owner's contacts hear of it.
func TestChainAppEnrolledTodayCannotSwapOrTakeAway(t *testing.T) {
	w := newTFWorld(t)
	email := w.contact(t, "alice", twofactor.KindEmail, "alice@example.com")
	w.enable(t, "alice", email)
	re := w.reauth(w.addProof(t, "alice"))
	en, err := w.tf.EnrollAuthenticator(w.ctx, twofactor.EnrollAuthenticatorRequest{Subscriber: "alice", Account: "a", Reauth: re})
	require.NoError(t, err)
	u, err := otp.ParseKeyURI(en.URI)
	require.NoError(t, err)
	app, err := otp.NewKey(u.Secret, u.Params)
	require.NoError(t, err)
	require.NoError(t, w.tf.ConfirmAuthenticator(w.ctx, twofactor.ConfirmAuthenticatorRequest{Subscriber: "alice", Code: app.TOTP(w.clk.Now()), Reauth: re}))
	appProof := func(purpose otp.Purpose) twofactor.Proof {
		w.clk.Advance(30 * time.Second)
		p, err := w.tf.Complete(w.ctx, twofactor.CompleteRequest{Subscriber: "alice", Method: twofactor.MethodAuthenticator,
			Code: app.TOTP(w.clk.Now()), Purpose: purpose})
		require.NoError(t, err)
		return p
	}
	for a, pu := range map[protection.Action]otp.Purpose{
		protection.ActionDisableTwoFactor:     otp.PurposeDisableTwoFactor,
		protection.ActionRemoveTrustedContact: otp.PurposeDisableTwoFactor,
		protection.ActionIssueTransferPIN:     otp.PurposePortOut,
	} {
		d := w.decide(t, "alice", a, appProof(pu))
		assert.Equal(t, protection.StepUp, d.Outcome, a)
		assert.True(t, d.Reasons.Has(protection.ReasonFactorInProbation), "%s: %s", a, d.Reasons)
	}
	d := w.decide(t, "alice", protection.ActionSIMSwap, appProof(otp.PurposeSIMSwap))
	// The default SIM-swap rule takes a contact code, not an app: so it steps up; with a
	// rule that takes an app, the new app is held.
	assert.NotEqual(t, protection.Allow, d.Outcome, "%s", d.Reasons)
	rule := protection.DefaultRules()[protection.ActionSIMSwap]
	rule.Channels[protection.ChannelApp] = []protection.EvidenceKinds{
		protection.Kinds(protection.EvidenceSession, protection.EvidenceContactCode, protection.EvidenceAuthenticator)}
	p, err := protection.NewPolicy(protection.PolicyConfig{Now: w.clk.Now, Rules: map[protection.Action]protection.Rule{protection.ActionSIMSwap: rule}})
	require.NoError(t, err)
	ev, err := protection.EvidenceFromProof(w.tf, "alice", appProof(otp.PurposeSIMSwap))
	require.NoError(t, err)
	code, err := protection.EvidenceFromProof(w.tf, "alice", w.prove(t, "alice", email.ID, otp.PurposeSIMSwap))
	require.NoError(t, err)
	d, err = p.Evaluate(&protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow,
		Evidence: []protection.Evidence{{Kind: protection.EvidenceSession, ObtainedAt: w.clk.Now()}, code, ev}})
	require.NoError(t, err)
	assert.Equal(t, protection.Hold, d.Outcome, "%s", d.Reasons)
	assert.True(t, d.Reasons.Has(protection.ReasonProbationHold), "%s", d.Reasons)
	// twofactor refuses it too.
	assert.ErrorIs(t, w.tf.Disable(w.ctx, "alice", appProof(otp.PurposeDisableTwoFactor), twofactor.Origin{}), twofactor.ErrFactorInProbation)
}

// A thief with the password only, on an account whose owner has no contact yet (2FA
// off, the default), adds his own email and asks for a SIM-swap code there: the swap is
// held, not carried out, and he cannot turn 2FA on with it to lock the owner out.
func TestChainOwnContactOnFactorlessAccount(t *testing.T) {
	w := newTFWorld(t)
	thief := w.contact(t, "alice", twofactor.KindEmail, "thief@example.net")
	d := w.decide(t, "alice", protection.ActionSIMSwap, w.prove(t, "alice", thief.ID, otp.PurposeSIMSwap))
	assert.Equal(t, protection.Hold, d.Outcome, "%s", d.Reasons)
	assert.True(t, d.Reasons.Has(protection.ReasonProbationHold), "%s", d.Reasons)
	assert.Equal(t, w.clk.Now().Add(24*time.Hour), d.HoldUntil)

	err := w.tf.Enable(w.ctx, "alice", w.reauth(w.prove(t, "alice", thief.ID, otp.PurposeAddFactor)), twofactor.Origin{})
	assert.ErrorIs(t, err, twofactor.ErrProofRequired)
	on, err := w.tf.TwoFactorEnabled(w.ctx, "alice")
	require.NoError(t, err)
	assert.False(t, on)
	// The gate's own decision says the same.
	d = w.decide(t, "alice", protection.ActionEnableTwoFactor, w.prove(t, "alice", thief.ID, otp.PurposeAddFactor))
	assert.Equal(t, protection.StepUp, d.Outcome)
	assert.True(t, d.Reasons.Has(protection.ReasonFactorInProbation), "%s", d.Reasons)
}

// A recovery-code set regenerated today does not authorise a port-out at once: its
// codes are a factor in probation.
func TestChainRecoverySetRegeneratedTodayCannotPortOut(t *testing.T) {
	w := newTFWorld(t)
	email := w.contact(t, "alice", twofactor.KindEmail, "alice@example.com")
	w.enable(t, "alice", email)
	codes, err := w.tf.GenerateRecoveryCodes(w.ctx, "alice", w.reauth(w.addProof(t, "alice")), twofactor.Origin{})
	require.NoError(t, err)
	// A carrier that lets port-outs be asked for in the app with a recovery code.
	S, R := protection.Kinds(protection.EvidenceSession), protection.Kinds(protection.EvidenceRecoveryCode)
	p, err := protection.NewPolicy(protection.PolicyConfig{Now: w.clk.Now, Rules: map[protection.Action]protection.Rule{
		protection.ActionPortOut: {Channels: map[protection.Channel][]protection.EvidenceKinds{protection.ChannelApp: {S | R}}},
	}})
	require.NoError(t, err)
	portOut := func(code string) protection.Decision {
		t.Helper()
		proof, err := w.tf.Complete(w.ctx, twofactor.CompleteRequest{Subscriber: "alice", Method: twofactor.MethodRecoveryCode,
			Code: code, Purpose: otp.PurposePortOut})
		require.NoError(t, err)
		ev, err := protection.EvidenceFromProof(w.tf, "alice", proof)
		require.NoError(t, err)
		d, err := p.Evaluate(&protection.Request{Action: protection.ActionPortOut, Channel: protection.ChannelApp, Risk: protection.RiskLow,
			Evidence: []protection.Evidence{{Kind: protection.EvidenceSession, ObtainedAt: w.clk.Now()}, ev}})
		require.NoError(t, err)
		return d
	}
	d := portOut(codes[0])
	assert.Equal(t, protection.Hold, d.Outcome, "%s", d.Reasons)
	assert.True(t, d.Reasons.Has(protection.ReasonFactorInProbation), "%s", d.Reasons)
	w.establish()
	assert.Equal(t, protection.Allow, portOut(codes[1]).Outcome)
}

// Adding a factor goes through protection: with Account Lockdown on, no contact is
// added in the app, first or not, and the refusal carries the decision.
func TestFactorGateAppliesLockdown(t *testing.T) {
	w := newTFWorld(t)
	require.NoError(t, w.prot.EnableFlag(w.ctx, "alice", protection.AccountLockdown, protection.ChannelApp, notify.Actor{}))
	_, err := w.tf.AddContact(w.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail,
		Value: "alice@example.com", Reauth: w.reauth(twofactor.Proof{})})
	require.ErrorIs(t, err, twofactor.ErrChangeRefused)
	var de *protection.DecisionError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, protection.ActionAddFirstFactor, de.Decision.Action)
	assert.True(t, de.Decision.Reasons.Has(protection.ReasonFlagAccountLockdown), "%s", de.Decision.Reasons)
	cs, err := w.tf.Contacts(w.ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, cs)

	// Without the flag, the same request adds the first contact; the next one is an
	// ActionAddFactor, which Lockdown stops too.
	bob := w.contact(t, "bob", twofactor.KindEmail, "bob@example.com")
	require.NoError(t, w.prot.EnableFlag(w.ctx, "bob", protection.AccountLockdown, protection.ChannelApp, notify.Actor{}))
	re := w.reauth(w.prove(t, "bob", bob.ID, otp.PurposeAddFactor))
	_, err = w.tf.AddContact(w.ctx, twofactor.AddContactRequest{Subscriber: "bob", Kind: twofactor.KindEmail, Value: "b2@example.com", Reauth: re})
	require.ErrorAs(t, err, &de)
	assert.Equal(t, protection.ActionAddFactor, de.Decision.Action)
	// A channel the gate cannot parse is refused, not guessed.
	_, err = w.tf.AddContact(w.ctx, twofactor.AddContactRequest{Subscriber: "carol", Kind: twofactor.KindEmail, Value: "c@example.com",
		Reauth: w.reauth(twofactor.Proof{}), Origin: twofactor.Origin{Channel: "fax"}})
	assert.ErrorIs(t, err, twofactor.ErrChangeRefused)
}

// FactorGate reports the policy's probation for the changes twofactor checks itself, so
// twofactor takes it by default and refuses a shorter one: the two cannot disagree on
// when a thief's new factor starts to count for turning 2FA off or removing a contact.
func TestFactorGateProbationBindsTwoFactor(t *testing.T) {
	const day = 24 * time.Hour
	w := newTFWorld(t)
	assert.Equal(t, 7*day, protection.FactorGate(w.prot).FactorProbation(), "the default policy")

	ps := memory.NewProtection(memory.Options{Now: w.clk.Now})
	policy, err := protection.NewPolicy(protection.PolicyConfig{Now: w.clk.Now,
		Probation: map[protection.Action]time.Duration{protection.ActionDisableTwoFactor: 14 * day}})
	require.NoError(t, err)
	strict, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: w.clk.Now, Policy: policy},
		protection.Stores{Flags: ps, History: ps, PINs: ps}, w.events)
	require.NoError(t, err)
	gate := protection.FactorGate(strict)
	assert.Equal(t, 14*day, gate.FactorProbation())

	os := memory.NewOTP(memory.Options{Now: w.clk.Now})
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("otp"), Now: w.clk.Now, Budgets: otp.SMSBudgets{HomeRegions: []string{"GB"}}}, os, os, w.events)
	require.NoError(t, err)
	ts := memory.NewTwoFactor(memory.Options{Now: w.clk.Now})
	deps := twofactor.Deps{Codes: codes, Contacts: ts, Recovery: ts, Failures: ts, SIMChanges: strict, Publisher: w.events, Gate: gate,
		Sender: twofactor.SenderFunc(func(context.Context, twofactor.Message) error { return nil })}
	cfg := twofactor.Config{HashKey: testkey.New("twofactor"), Now: w.clk.Now}

	cfg.FactorProbation = 7 * day // twofactor's old default, now shorter than the policy's
	_, err = twofactor.New(cfg, deps)
	assert.ErrorContains(t, err, "Config.FactorProbation (168h0m0s) is shorter than the probation of new factors in the Gate's policy (336h0m0s)")

	cfg.FactorProbation = 0
	tf, err := twofactor.New(cfg, deps)
	require.NoError(t, err)
	now := w.clk.Now()
	assert.False(t, tf.Established(now.Add(-10*day)), "ten days is new under a 14-day policy")
	assert.True(t, tf.Established(now.Add(-14*day)))
}

// FactorGateRisk decides a factor change at the risk its assessor gives: a change the
// plain gate allows at low risk is refused from a high-risk client, and an assessor
// that fails refuses it too.
func TestFactorGateRiskAppliesTheCallersRisk(t *testing.T) {
	w := newTFWorld(t)
	change := twofactor.FactorChange{Subscriber: "dave", Action: twofactor.FactorAddContact, First: true,
		Reauth: twofactor.Reauth{SignedInAt: w.clk.Now(), PasswordAt: w.clk.Now()}, Origin: twofactor.Origin{Channel: "app"}}
	level := func(l protection.RiskLevel, err error) protection.RiskAssessor {
		return protection.RiskAssessorFunc(func(_ context.Context, sub string, req protection.Request) (protection.RiskLevel, error) {
			assert.Equal(t, "dave", sub)
			assert.Equal(t, protection.ActionAddFirstFactor, req.Action)
			return l, err
		})
	}
	require.NoError(t, protection.FactorGate(w.prot).AllowFactorChange(w.ctx, change))
	require.NoError(t, protection.FactorGateRisk(w.prot, level(protection.RiskLow, nil)).AllowFactorChange(w.ctx, change))

	err := protection.FactorGateRisk(w.prot, level(protection.RiskHigh, nil)).AllowFactorChange(w.ctx, change)
	require.ErrorIs(t, err, twofactor.ErrChangeRefused)
	var de *protection.DecisionError
	require.ErrorAs(t, err, &de)
	assert.True(t, de.Decision.Reasons.Has(protection.ReasonRiskHigh), "the decision is taken at the assessed risk: %s", de.Decision.Reasons)

	errScorer := errors.New("scorer down")
	err = protection.FactorGateRisk(w.prot, level(0, errScorer)).AllowFactorChange(w.ctx, change)
	assert.ErrorIs(t, err, errScorer, "a scorer failure refuses the change")
	err = protection.FactorGateRisk(w.prot, level(0, nil)).AllowFactorChange(w.ctx, change)
	assert.ErrorIs(t, err, protection.ErrRiskUnassessed, "an unassessed level is not low")
}

// TwoFactorLater reads the twofactor service only when asked: before it is built both
// answers fail closed, after it they are the service's.
func TestTwoFactorLater(t *testing.T) {
	w := newTFWorld(t)
	var tf *twofactor.Service
	state, factors := protection.TwoFactorLater(&tf)
	ev := protection.Evidence{Kind: protection.EvidenceAuthenticator, ObtainedAt: w.clk.Now()}
	_, err := state.TwoFactorEnabled(w.ctx, "dave")
	assert.ErrorIs(t, err, protection.ErrTwoFactorNotBuilt)
	_, err = factors.FactorPresent(w.ctx, "dave", ev)
	assert.ErrorIs(t, err, protection.ErrTwoFactorNotBuilt)

	tf = w.tf
	on, err := state.TwoFactorEnabled(w.ctx, "dave")
	require.NoError(t, err)
	assert.False(t, on, "dave has not turned 2FA on")
	present, err := factors.FactorPresent(w.ctx, "dave", ev)
	require.NoError(t, err)
	assert.False(t, present, "dave has no authenticator")
}
