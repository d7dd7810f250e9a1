package questions_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/questions"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/twofactor"
)

// secondFactor is a real twofactor service on the memory stores, sharing the test's
// clock, with an inbox standing in for the email gateway. It issues the proofs Change
// is given and is the questions service's ProofVerifier.
type secondFactor struct {
	svc   *twofactor.Service
	clock *fakeclock.Clock
	inbox map[string]string // address → last code sent
}

func newSecondFactor(t testing.TB, clock *fakeclock.Clock, hashKey byte) *secondFactor {
	t.Helper()
	sf := &secondFactor{clock: clock, inbox: map[string]string{}}
	opts := memory.Options{Now: clock.Now}
	events := &notify.Recorder{}
	otpStore := memory.NewOTP(opts)
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("otp"), Now: clock.Now, MinResendInterval: time.Second,
		Budgets: otp.SMSBudgets{HomeRegions: []string{"US"}}},
		otpStore, otpStore, events)
	require.NoError(t, err)
	store := memory.NewTwoFactor(opts)
	sf.svc, err = twofactor.New(twofactor.Config{HashKey: testkey.New(fmt.Sprint("twofactor ", hashKey)), Now: clock.Now}, twofactor.Deps{
		Codes: codes, Contacts: store, Recovery: store, Failures: store, Publisher: events,
		Sender:     twofactor.SenderFunc(func(_ context.Context, m twofactor.Message) error { sf.inbox[m.To] = m.Code; return nil }),
		SIMChanges: twofactor.SIMChangesFunc(func(context.Context, string, time.Duration) (bool, error) { return false, nil }),
		// These tests are about the proofs questions accepts, not about who may add a factor.
		Gate: twofactor.GateFunc(func(context.Context, twofactor.FactorChange) error { return nil }),
	})
	require.NoError(t, err)
	return sf
}

// emailProof verifies an email contact for sub (the first time) and returns the proof
// of a code sent to it, as a subscriber stepping up in the app would get.
func (sf *secondFactor) emailProof(t testing.TB, sub string) twofactor.Proof {
	t.Helper()
	return sf.proofFor(t, sub, otp.PurposeAccountChange)
}

// proofFor is emailProof for a code sent for purpose.
func (sf *secondFactor) proofFor(t testing.TB, sub string, purpose otp.Purpose) twofactor.Proof {
	t.Helper()
	ctx := context.Background()
	addr := sub + "@example.com"
	cs, err := sf.svc.Contacts(ctx, sub)
	require.NoError(t, err)
	if len(cs) == 0 {
		re := twofactor.Reauth{SignedInAt: sf.clock.Now(), PasswordAt: sf.clock.Now()}
		pc, err := sf.svc.AddContact(ctx, twofactor.AddContactRequest{Subscriber: sub, Kind: twofactor.KindEmail, Value: addr, Reauth: re})
		require.NoError(t, err)
		c, err := sf.svc.VerifyContact(ctx, twofactor.VerifyContactRequest{Subscriber: sub, ChallengeID: pc.ChallengeID, Code: sf.inbox[addr], Reauth: re})
		require.NoError(t, err)
		cs = []twofactor.Contact{c}
	}
	sf.clock.Advance(2 * time.Second) // otp's resend interval
	ch, err := sf.svc.Begin(ctx, twofactor.BeginRequest{Subscriber: sub, ContactID: cs[0].ID, Purpose: purpose, Flow: "session:test"})
	require.NoError(t, err)
	p, err := sf.svc.Complete(ctx, twofactor.CompleteRequest{Subscriber: sub, ChallengeID: ch.ID, Code: sf.inbox[addr],
		Purpose: purpose, Flow: "session:test"})
	require.NoError(t, err)
	return p
}

// recoveryProof returns the proof of one of sub's recovery codes.
func (sf *secondFactor) recoveryProof(t testing.TB, sub string) twofactor.Proof {
	t.Helper()
	ctx := context.Background()
	re := twofactor.Reauth{Proof: sf.proofFor(t, sub, otp.PurposeAddFactor), SignedInAt: sf.clock.Now(), PasswordAt: sf.clock.Now()}
	codes, err := sf.svc.GenerateRecoveryCodes(ctx, sub, re, twofactor.Origin{})
	require.NoError(t, err)
	p, err := sf.svc.Complete(ctx, twofactor.CompleteRequest{Subscriber: sub, Method: twofactor.MethodRecoveryCode, Code: codes[0],
		Purpose: otp.PurposeAccountChange})
	require.NoError(t, err)
	return p
}

var newChoices = []questions.Choice{
	{QuestionID: "robot-name", Answer: "Mister Clanky"},
	{QuestionID: "motto", Answer: "Measure twice, cut once"},
	{QuestionID: "unshared-snack", Answer: "Pickled onion Monster Munch"},
}

// Change takes only a proof the twofactor service vouches for: a Proof is plain data
// that anyone can fill in, so one built by hand, altered, for someone else, stale, or
// issued under another key is refused and changes nothing.
func TestChangeRefusesProofsNotGenuine(t *testing.T) {
	e := newEnv(t, questions.Config{})
	e.enroll(t, "sub-1")
	en := enrollment("sub-1", newChoices)
	genuine := e.tf.emailProof(t, "sub-1")
	otherSubs := e.tf.emailProof(t, "sub-2")
	elsewhere := newSecondFactor(t, e.clock, 99).emailProof(t, "sub-1") // another deployment's key

	withTag := func(p twofactor.Proof, tag []byte) twofactor.Proof { p.Tag = tag; return p }
	altered := genuine
	altered.At = e.clock.Now().Add(-time.Second)
	relabelled := genuine
	relabelled.Subscriber = "sub-2"
	bad := []struct {
		name  string
		proof twofactor.Proof
	}{
		{"none", twofactor.Proof{}},
		{"forged, no tag", twofactor.Proof{Subscriber: "sub-1", Method: twofactor.MethodAuthenticator, At: e.clock.Now()}},
		{"forged, made-up tag", withTag(twofactor.Proof{Subscriber: "sub-1", Method: twofactor.MethodAuthenticator, At: e.clock.Now()}, bytes.Repeat([]byte{1}, 32))},
		{"forged, tag of another proof", withTag(twofactor.Proof{Subscriber: "sub-1", Method: twofactor.MethodAuthenticator, At: genuine.At}, genuine.Tag)},
		{"genuine proof with its time changed", altered},
		{"another subscriber's proof", otherSubs},
		{"issued under another key", elsewhere},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Change(context.Background(), en, tt.proof)
			require.ErrorIs(t, err, questions.ErrProofRequired)
		})
	}
	e.enroll(t, "sub-2")
	_, err := e.svc.Change(context.Background(), enrollment("sub-2", newChoices), relabelled)
	require.ErrorIs(t, err, questions.ErrProofRequired, "sub-1's proof relabelled for sub-2")
	require.ErrorIs(t, err, twofactor.ErrProofRequired, "the twofactor reason is kept")

	_, ok := e.events.Last(notify.SecurityQuestionsChanged)
	assert.False(t, ok, "a refused change published an event")
	for _, sub := range []string{"sub-1", "sub-2"} {
		rec, err := e.answers.Get(context.Background(), sub)
		require.NoError(t, err)
		assert.Equal(t, uint64(1), rec.Version, "%s: a refused change was stored", sub)
	}

	// The genuine proof still works, once the forgeries have been refused.
	_, err = e.svc.Change(context.Background(), en, genuine)
	require.NoError(t, err)
}

// A recovery code alone does not change security questions unless the integrator says
// so; an unknown method name in the config is refused when the service is built.
func TestChangeProofMethods(t *testing.T) {
	e := newEnv(t, questions.Config{})
	e.enroll(t, "sub-1")
	rp := e.tf.recoveryProof(t, "sub-1")
	_, err := e.svc.Change(context.Background(), enrollment("sub-1", newChoices), rp)
	require.ErrorIs(t, err, questions.ErrProofRequired)
	assert.Contains(t, err.Error(), "recovery_code")

	e2 := newEnv(t, questions.Config{ProofMethods: []string{questions.ProofAuthenticator, questions.ProofRecoveryCode}})
	e2.enroll(t, "sub-1")
	_, err = e2.svc.Change(context.Background(), enrollment("sub-1", newChoices), e2.tf.emailProof(t, "sub-1"))
	require.ErrorIs(t, err, questions.ErrProofRequired, "email not listed")
	_, err = e2.svc.Change(context.Background(), enrollment("sub-1", newChoices), e2.tf.recoveryProof(t, "sub-1"))
	require.NoError(t, err, "recovery codes listed")
	ev, ok := e2.events.Last(notify.SecurityQuestionsChanged)
	require.True(t, ok)
	assert.Equal(t, questions.ProofRecoveryCode, ev.Attributes["proof_method"])
}

// anyProof is a ProofVerifier that accepts every proof, so the checks that questions
// makes itself are the only ones left to refuse one.
type anyProof struct{}

func (anyProof) VerifyProof(string, twofactor.Proof) error { return nil }

// Change's own checks on a proof refuse it even when the verifier does not: no time,
// dated more than a minute ahead (a little clock skew is allowed), no or an unknown
// method, or for another subscriber. The service accepts proofs of any age, so neither check on the
// time is covered by the one on age.
func TestChangeChecksProofItself(t *testing.T) {
	e := newEnv(t, questions.Config{})
	svc, err := questions.New(questions.Config{Now: e.clock.Now, ProofMaxAge: time.Duration(math.MaxInt64)},
		e.answers, e.attempts, e.keys, e.events, anyProof{})
	require.NoError(t, err)
	e.svc = svc
	e.enroll(t, "sub-1")
	en := enrollment("sub-1", newChoices)
	now := e.clock.Now()
	tag := bytes.Repeat([]byte{1}, 32) // anyProof does not look at it
	proof := func(edit func(*twofactor.Proof)) twofactor.Proof {
		p := twofactor.Proof{Subscriber: "sub-1", Method: twofactor.MethodAuthenticator, At: now, Tag: tag}
		edit(&p)
		return p
	}
	bad := []struct {
		name  string
		proof twofactor.Proof
		why   string
	}{
		{"none", twofactor.Proof{}, "none given"},
		{"no time", proof(func(p *twofactor.Proof) { p.At = time.Time{} }), "no time"},
		{"two minutes ahead", proof(func(p *twofactor.Proof) { p.At = now.Add(2 * time.Minute) }), "dated in the future"},
		{"no method", proof(func(p *twofactor.Proof) { p.Method = "" }), "no method"},
		{"unknown method", proof(func(p *twofactor.Proof) { p.Method = "push" }), "unknown method"},
		{"another subscriber's", proof(func(p *twofactor.Proof) { p.Subscriber = "sub-2" }), "another subscriber"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Change(context.Background(), en, tt.proof)
			require.ErrorIs(t, err, questions.ErrProofRequired)
			assert.Contains(t, err.Error(), tt.why)
		})
	}
	_, ok := e.events.Last(notify.SecurityQuestionsChanged)
	assert.False(t, ok, "a refused change published an event")
	rec, err := e.answers.Get(context.Background(), "sub-1")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), rec.Version, "a refused change was stored")

	// Thirty seconds ahead is clock skew, not the future: accepted.
	_, err = e.svc.Change(context.Background(), en, proof(func(p *twofactor.Proof) { p.At = now.Add(30 * time.Second) }))
	require.NoError(t, err)
	rec, err = e.answers.Get(context.Background(), "sub-1")
	require.NoError(t, err)
	assert.Equal(t, uint64(2), rec.Version)
}
