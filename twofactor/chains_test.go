package twofactor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/twofactor"
)

// The takeover chains this package's rules stop, each as a thief would try it. Each
// test fails if the rule it names is removed.

// A step-up challenge sent for a SIM swap in a signed-in session cannot complete the
// thief's pending sign-in: the challenge is bound server-side to its flow and purpose.
func TestChainStepUpChallengeCannotCompleteSignIn(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, _ := h.setUp("alice")
	h.tick()
	ch, err := h.svc.Begin(h.ctx, twofactor.BeginRequest{Subscriber: "alice", ContactID: email.ID,
		Purpose: otp.PurposeSIMSwap, Flow: "session:victim"})
	require.NoError(t, err)
	code := h.sender.last(t).Code

	for name, req := range map[string]twofactor.CompleteRequest{
		"the sign-in flow, sign-in purpose": {Purpose: otp.PurposeSignIn, Flow: "signin:thief"},
		"the sign-in flow, its own purpose": {Purpose: otp.PurposeSIMSwap, Flow: "signin:thief"},
		"its own flow, sign-in purpose":     {Purpose: otp.PurposeSignIn, Flow: "session:victim"},
		"another session":                   {Purpose: otp.PurposeSIMSwap, Flow: "session:thief"},
	} {
		req.Subscriber, req.ChallengeID, req.Code = "alice", ch.ID, code
		_, err := h.svc.Complete(h.ctx, req)
		assert.ErrorIs(t, err, twofactor.ErrInvalidCode, name)
	}
	// Where it was issued, for what it was issued, it works (the failures above were
	// counted but are below the lockout).
	p, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Subscriber: "alice", ChallengeID: ch.ID, Code: code,
		Purpose: otp.PurposeSIMSwap, Flow: "session:victim"})
	require.NoError(t, err)
	assert.Equal(t, otp.PurposeSIMSwap, p.Purpose)
	assert.Equal(t, email.VerifiedAt, p.FactorAddedAt, "a contact's proof carries its verification time")
}

// A binding that cannot be stored leaves no code that could complete anything.
func TestBeginWithoutBindingSendsNothingUsable(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, _ := h.setUp("alice")
	d := h.deps()
	errDB := errors.New("db down")
	d.Challenges = failingChallenges{err: errDB}
	svc := h.serviceWith(d)
	h.tick()
	_, err := svc.Begin(h.ctx, twofactor.BeginRequest{Subscriber: "alice", ContactID: email.ID, Flow: flow})
	require.ErrorIs(t, err, errDB)
	_, err = svc.Begin(h.ctx, twofactor.BeginRequest{Subscriber: "alice", ContactID: email.ID})
	assert.ErrorIs(t, err, twofactor.ErrInvalidRequest, "a challenge needs its flow")
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Subscriber: "alice", ChallengeID: "x.y.sign_in", Code: "123456", Purpose: otp.PurposeSignIn})
	assert.ErrorIs(t, err, twofactor.ErrInvalidRequest, "completing a contact code needs the flow")
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Subscriber: "alice", Method: twofactor.MethodAuthenticator, Code: "123456"})
	assert.ErrorIs(t, err, twofactor.ErrInvalidRequest, "completing needs the expected purpose")
}

type failingChallenges struct{ err error }

func (f failingChallenges) PutChallenge(context.Context, twofactor.ChallengeBinding, time.Time) error {
	return f.err
}

func (f failingChallenges) Challenge(context.Context, string) (twofactor.ChallengeBinding, error) {
	return twofactor.ChallengeBinding{}, f.err
}

// A phished sign-in code (or one "for account change") does not enrol the thief's
// authenticator, add his contact or mint recovery codes: adding a factor needs a proof
// given for that.
func TestChainPhishedSignInCodeAddsNoFactor(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, _ := h.setUp("alice")
	for _, purpose := range []otp.Purpose{otp.PurposeSignIn, otp.PurposeAccountChange} {
		re := h.reauth(h.proveFor("alice", email.ID, purpose))
		_, err := h.svc.EnrollAuthenticator(h.ctx, twofactor.EnrollAuthenticatorRequest{Subscriber: "alice", Account: "x", Reauth: re})
		assert.ErrorIs(t, err, twofactor.ErrProofRequired, "enrol an app with a code for %s", purpose)
		h.tick()
		_, err = h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail, Value: "m@example.net", Reauth: re})
		assert.ErrorIs(t, err, twofactor.ErrTooManyContacts) // two already; checked first
		_, err = h.svc.GenerateRecoveryCodes(h.ctx, "alice", re, twofactor.Origin{})
		assert.ErrorIs(t, err, twofactor.ErrProofRequired, "recovery codes with a code for %s", purpose)
	}
	_, err := h.auths.Status(h.ctx, "alice")
	assert.ErrorIs(t, err, otp.ErrNotEnrolled)
	left, err := h.store.RecoveryCodesLeft(h.ctx, "alice")
	require.NoError(t, err)
	assert.Zero(t, left)

	// With a code sent for adding a factor, the app is enrolled and confirmed, and the
	// gate was asked each time.
	re := h.reauthFor("alice")
	en, err := h.svc.EnrollAuthenticator(h.ctx, twofactor.EnrollAuthenticatorRequest{Subscriber: "alice", Account: "•••• 3456", Reauth: re})
	require.NoError(t, err)
	assert.Equal(t, twofactor.FactorEnrollAuthenticator, h.gate.last(t).Action)
	u, err := otp.ParseKeyURI(en.URI)
	require.NoError(t, err)
	app, err := otp.NewKey(u.Secret, u.Params)
	require.NoError(t, err)
	require.NoError(t, h.svc.ConfirmAuthenticator(h.ctx, twofactor.ConfirmAuthenticatorRequest{Subscriber: "alice", Code: app.TOTP(h.clk.Now()), Reauth: re}))
	c := h.gate.last(t)
	assert.Equal(t, twofactor.FactorConfirmAuthenticator, c.Action)
	assert.True(t, c.TwoFactorOn)
	assert.False(t, c.First)
	assert.Equal(t, otp.PurposeAddFactor, c.Proof.Purpose)
}

// An authenticator the thief enrolled today does not turn 2FA off, remove the owner's
// contact, or add another factor: its proofs are from a factor in probation.
func TestChainAppEnrolledTodayTakesNothingAway(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, _ := h.setUp("alice")
	app := h.enrollApp("alice")
	err := h.svc.ConfirmAuthenticator(h.ctx, twofactor.ConfirmAuthenticatorRequest{Subscriber: "alice",
		Code: app.TOTP(h.clk.Now()), Reauth: h.reauthFor("alice")})
	require.NoError(t, err)

	p := h.appProve("alice", otp.PurposeDisableTwoFactor)
	require.False(t, p.FactorAddedAt.IsZero(), "an app's proof carries its confirmation time")
	assert.ErrorIs(t, h.svc.Disable(h.ctx, "alice", p, twofactor.Origin{}), twofactor.ErrFactorInProbation)
	err = h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: email.ID, Proof: p})
	assert.ErrorIs(t, err, twofactor.ErrFactorInProbation)
	_, err = h.svc.GenerateRecoveryCodes(h.ctx, "alice", h.reauth(h.appProve("alice", otp.PurposeAddFactor)), twofactor.Origin{})
	assert.ErrorIs(t, err, twofactor.ErrFactorInProbation)
	st, err := h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	assert.True(t, st.Enabled)
	assert.Len(t, st.Contacts, 2)

	// A week on, the same app is established and its proofs count.
	h.establish()
	require.NoError(t, h.svc.Disable(h.ctx, "alice", h.appProve("alice", otp.PurposeDisableTwoFactor), twofactor.Origin{}))
}

// With 2FA off, a thief with the password cannot add his own contact to an account
// that has one: the code must go to the contact on file, never only the new one. And
// on an account with no contact, the contact he adds with the password alone cannot
// turn 2FA on and lock the owner out: it is in probation.
func TestChainOwnContactCannotEnableTwoFactor(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	h.addVerified("alice", twofactor.KindEmail, "alice@example.com", twofactor.Proof{})
	h.tick()
	_, err := h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail,
		Value: "thief@example.net", Reauth: h.reauth(twofactor.Proof{})})
	assert.ErrorIs(t, err, twofactor.ErrProofRequired, "the password alone adds a contact next to one on file")

	// No contact at all: the password adds the first, and the gate hears it is the first.
	thief := h.addVerified("bob", twofactor.KindEmail, "thief@example.net", twofactor.Proof{})
	asked := h.gate.asked
	assert.True(t, asked[len(asked)-2].First, "adding the first factor")
	assert.True(t, asked[len(asked)-1].First, "verifying the first factor")
	own := h.proveFor("bob", thief.ID, otp.PurposeAddFactor)
	assert.ErrorIs(t, h.svc.Enable(h.ctx, "bob", h.reauth(own), twofactor.Origin{}), twofactor.ErrFactorInProbation)
	assert.ErrorIs(t, h.svc.Enable(h.ctx, "bob", h.reauth(twofactor.Proof{}), twofactor.Origin{}), twofactor.ErrProofRequired)
	on, err := h.svc.TwoFactorEnabled(h.ctx, "bob")
	require.NoError(t, err)
	assert.False(t, on)
	_, ok := h.events.Last(notify.TwoFactorEnabled)
	assert.False(t, ok)

	// Without a fresh password, nothing is added at all while 2FA is off.
	h.tick()
	stale := h.reauth(twofactor.Proof{})
	stale.PasswordAt = h.clk.Now().Add(-16 * time.Minute)
	_, err = h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "carol", Kind: twofactor.KindEmail, Value: "c@example.com", Reauth: stale})
	assert.ErrorIs(t, err, twofactor.ErrProofRequired)
}

// The Gate decides after the package's own rules; its refusal stops the change before
// anything is published or stored, and a gate fault is refused too.
func TestGateRefusalChangesNothing(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, _ := h.setUp("alice")
	h.establish()
	for name, gerr := range map[string]error{
		"refused": errors.Join(twofactor.ErrChangeRefused, errors.New("account lockdown")),
		"fault":   errors.New("protection store down"),
	} {
		h.gate.err = gerr
		h.events.Reset()
		err := h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: email.ID,
			Proof: h.proveFor("alice", email.ID, otp.PurposeDisableTwoFactor)}) // not a factor change: no gate
		require.NoError(t, err, name)
		re := h.reauthFor("alice") // from the contact left
		h.events.Reset()
		h.tick()
		_, err = h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail, Value: "new@example.com", Reauth: re})
		assert.ErrorIs(t, err, gerr, name)
		_, err = h.svc.GenerateRecoveryCodes(h.ctx, "alice", re, twofactor.Origin{})
		assert.ErrorIs(t, err, gerr, name)
		assert.Empty(t, h.events.Types(), name)
		cs, err := h.svc.Contacts(h.ctx, "alice")
		require.NoError(t, err)
		assert.Len(t, cs, 1, name)
		h.gate.err = nil
		email = h.addVerified("alice", twofactor.KindEmail, "alice@example.com", twofactor.Proof{})
		h.establish()
	}
}

// A recovery code carries the generation time of its set, so a set regenerated today
// is new like any factor.
func TestRecoveryProofCarriesItsSetsAge(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	h.setUp("alice")
	generated := h.clk.Now()
	codes, err := h.svc.GenerateRecoveryCodes(h.ctx, "alice", h.reauthFor("alice"), twofactor.Origin{})
	require.NoError(t, err)
	h.clk.Advance(time.Hour)
	p, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: codes[0],
		Purpose: otp.PurposePortOut})
	require.NoError(t, err)
	assert.Equal(t, otp.PurposePortOut, p.Purpose)
	assert.True(t, p.FactorAddedAt.Equal(generated) || p.FactorAddedAt.After(generated), "%v", p.FactorAddedAt)
	assert.False(t, h.svc.Established(p.FactorAddedAt))
	require.NoError(t, h.svc.CheckProof("alice", p))
	p.FactorAddedAt = p.FactorAddedAt.Add(-30 * 24 * time.Hour)
	assert.ErrorIs(t, h.svc.CheckProof("alice", p), twofactor.ErrProofRequired, "the factor's age is bound into the tag")
}

// A proof from a contact removed since (the owner's, which the thief removed with a
// proof of his own) does not add a factor.
func TestFactorChangeProofMustComeFromAFactorOnFile(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, phone := h.setUp("alice")
	fromPhone := h.proveFor("alice", phone.ID, otp.PurposeAddFactor)
	require.NoError(t, h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: phone.ID,
		Proof: h.proveFor("alice", email.ID, otp.PurposeDisableTwoFactor)}))
	h.tick()
	_, err := h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail,
		Value: "new@example.com", Reauth: h.reauth(fromPhone)})
	assert.ErrorIs(t, err, twofactor.ErrProofRequired)
	_, err = h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail,
		Value: "new@example.com", Reauth: h.reauthFor("alice")})
	assert.NoError(t, err)
}

// A contact's verification code is bound to that contact's flow too: if the binding
// cannot be stored, the contact is taken back and nothing is left.
func TestAddContactWithoutBindingLeavesNothing(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	d := h.deps()
	errDB := errors.New("db down")
	d.Challenges = failingChallenges{err: errDB}
	svc := h.serviceWith(d)
	_, err := svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail, Value: "a@example.com",
		Reauth: h.reauth(twofactor.Proof{})})
	require.ErrorIs(t, err, errDB)
	cs, err := h.svc.Contacts(h.ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, cs)
	assert.Equal(t, "contact:c-1", twofactor.ContactFlow("c-1"))
}

// ChallengePurpose tells a step-up screen the purpose a challenge of its own flow was
// sent for, and nothing about any other flow's challenge; Complete, given that purpose,
// gives a proof for it alone.
func TestChallengePurposeOnlyInItsFlow(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, _ := h.setUp("alice")
	h.setUp("bob")
	h.tick()
	ch, err := h.svc.Begin(h.ctx, twofactor.BeginRequest{Subscriber: "alice", ContactID: email.ID,
		Purpose: otp.PurposeAccountChange, Flow: "session:victim"})
	require.NoError(t, err)
	code := h.sender.last(t).Code

	for name, tc := range map[string]struct{ sub, flow, id string }{
		"another flow":        {"alice", "signin:thief", ch.ID},
		"another subscriber":  {"bob", "session:victim", ch.ID},
		"no flow":             {"alice", "", ch.ID},
		"purpose edited":      {"alice", "session:victim", ch.ID[:len(ch.ID)-len(otp.PurposeAccountChange)] + string(otp.PurposeSIMSwap)},
		"not a challenge":     {"alice", "session:victim", "nonsense"},
		"contact edited":      {"alice", "session:victim", "x" + ch.ID},
		"unknown otp id part": {"alice", "session:victim", "zz" + ch.ID[2:]},
	} {
		_, err := h.svc.ChallengePurpose(h.ctx, tc.sub, tc.flow, tc.id)
		assert.ErrorIs(t, err, twofactor.ErrInvalidCode, name)
	}
	purpose, err := h.svc.ChallengePurpose(h.ctx, "alice", "session:victim", ch.ID)
	require.NoError(t, err)
	assert.Equal(t, otp.PurposeAccountChange, purpose)
	// Nothing above was counted: no code was compared.
	f, err := h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	assert.Nil(t, f.Lock)

	p, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Subscriber: "alice", ChallengeID: ch.ID, Code: code,
		Purpose: purpose, Flow: "session:victim"})
	require.NoError(t, err)
	assert.Equal(t, otp.PurposeAccountChange, p.Purpose, "the proof is for what the message named, not a SIM swap")
}
