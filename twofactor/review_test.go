package twofactor_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/twofactor"
)

// A well-formed code of the wrong length must not tell an enrolled subscriber from an
// unknown one: the authenticator's otp.ErrWrongLength would reveal that an app (with
// that many digits) is enrolled, to anyone who knows only the subscriber ID.
func TestWrongLengthLooksLikeWrongCode(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	app := h.enrollApp("alice")
	_, err := h.auths.Confirm(h.ctx, otp.ConfirmRequest{Subscriber: "alice", Code: app.TOTP(h.clk.Now())})
	require.NoError(t, err)

	for _, sub := range []string{"alice", "nobody"} {
		_, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: sub, Method: twofactor.MethodAuthenticator, Code: "12345678"})
		assert.ErrorIs(t, err, twofactor.ErrInvalidCode, sub)
		assert.NotErrorIs(t, err, otp.ErrMalformedCode, sub)
		assert.Equal(t, twofactor.ErrInvalidCode.Error(), err.Error(), sub)
	}

	// The same for a contact code: a known contact must not answer differently.
	_, phone := h.setUp("bob")
	ch := h.begin("bob", phone.ID)
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "bob", ChallengeID: ch.ID, Code: "1234567"})
	assert.Equal(t, twofactor.ErrInvalidCode, err)
}

// challengeLog records the IDs of the challenges otp creates.
type challengeLog struct {
	*memory.OTP
	mu  sync.Mutex
	ids []string
}

func (l *challengeLog) CreateChallenge(ctx context.Context, c otp.Challenge) error {
	l.mu.Lock()
	l.ids = append(l.ids, c.ID)
	l.mu.Unlock()
	return l.OTP.CreateChallenge(ctx, c)
}

// A sender that fails because the request was cancelled (a client hanging up during a
// slow SMS gateway call) must not leave a live code or a pending contact behind: the
// clean-up must not run on the cancelled context.
func TestSenderFailureOnCancelledContextLeavesNothing(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	_, phone := h.setUp("alice")
	log := &challengeLog{OTP: h.otp}
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("otp"), Now: h.clk.Now,
		MinResendInterval: time.Second, HourlyLimit: 60, Budgets: gbHome}, log, h.otp, h.events)
	require.NoError(t, err)
	var sent []twofactor.Message
	var cancel context.CancelFunc
	d := h.deps()
	d.Codes = codes
	d.Sender = twofactor.SenderFunc(func(ctx context.Context, m twofactor.Message) error {
		sent = append(sent, m)
		cancel()
		return ctx.Err()
	})
	svc := h.serviceWith(d)

	// Begin: the issued code must be revoked.
	h.tick()
	var ctx context.Context
	ctx, cancel = context.WithCancel(h.ctx)
	defer cancel()
	_, err = svc.Begin(ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: phone.ID})
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, log.ids, 1)
	_, err = codes.Verify(h.ctx, otp.VerifyRequest{ChallengeID: log.ids[0], Subscriber: "alice", Purpose: otp.PurposeSignIn,
		Destination: otp.Destination{Channel: otp.ChannelSMS, Address: phone.Value}, Code: sent[0].Code})
	assert.ErrorIs(t, err, otp.ErrInvalidCode, "the undelivered code must have been revoked")

	// AddContact: the pending contact must be removed again.
	require.NoError(t, h.svc.Disable(h.ctx, "alice", h.proveFor("alice", phone.ID, otp.PurposeDisableTwoFactor), twofactor.Origin{}))
	require.NoError(t, h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: phone.ID, Proof: h.proveFor("alice", phone.ID, otp.PurposeDisableTwoFactor)}))
	h.tick()
	ctx, cancel = context.WithCancel(h.ctx)
	defer cancel()
	_, err = svc.AddContact(ctx, twofactor.AddContactRequest{Subscriber: "carol", Kind: twofactor.KindEmail, Value: "carol@example.com", Reauth: h.reauthFor("carol")})
	require.ErrorIs(t, err, context.Canceled)
	cs, err := h.svc.Contacts(h.ctx, "carol")
	require.NoError(t, err)
	assert.Empty(t, cs, "no half-made contact may be left")
	require.Len(t, log.ids, 2)
	_, err = codes.Verify(h.ctx, otp.VerifyRequest{ChallengeID: log.ids[1], Subscriber: "carol", Purpose: otp.PurposeContactVerification,
		Destination: otp.Destination{Channel: otp.ChannelEmail, Address: "carol@example.com"}, Code: sent[1].Code})
	assert.ErrorIs(t, err, otp.ErrInvalidCode)
}

// SMS and email gateways often echo the request (the message text, so the code) in
// their errors. The service must not pass the code on into its logs or returned errors.
func TestSenderErrorEchoingTheCodeIsRedacted(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	_, phone := h.setUp("alice")
	var logs bytes.Buffer
	var code string
	d := h.deps()
	d.Sender = twofactor.SenderFunc(func(ctx context.Context, m twofactor.Message) error {
		code = m.Code
		return fmt.Errorf("gateway 400: body %q: %w", "Your Acme code is "+m.Code, errGateway)
	})
	svc, err := twofactor.New(twofactor.Config{HashKey: hashKey, Now: h.clk.Now, Phone: twofactor.PhoneOptions{DefaultRegion: "GB"},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}, d)
	require.NoError(t, err)
	h.tick()
	_, err = svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: phone.ID})
	require.Error(t, err)
	require.NotEmpty(t, code)
	assert.ErrorIs(t, err, errGateway, "the sender's error stays matchable")
	assert.NotContains(t, err.Error(), code)
	assert.NotContains(t, fmt.Sprintf("%+v", err), code)
	assert.Contains(t, logs.String(), "gateway 400")
	assert.NotContains(t, logs.String(), code)

	h.tick()
	_, err = svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "bob", Kind: twofactor.KindEmail, Value: "bob@example.com", Reauth: h.reauthFor("bob")})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), code)
	assert.NotContains(t, logs.String(), code)
}

// Verifying a contact is what makes it a factor, so the factor-change rules apply again
// at verification, whatever applied when it was added: a contact left pending when 2FA
// went on needs a fresh proof for otp.PurposeAddFactor from an established factor, and
// without one nothing is compared or counted.
func TestPendingContactFromBeforeEnableNeedsProof(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email := h.addVerified("alice", twofactor.KindEmail, "alice@example.com", twofactor.Proof{})
	h.tick()
	pc, err := h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail,
		Value: "mallory@example.net", Reauth: h.reauthFor("alice")})
	require.NoError(t, err)
	require.NoError(t, h.svc.Enable(h.ctx, "alice", h.enableReauth("alice"), twofactor.Origin{}))
	h.tick()
	pc, err = h.svc.ResendVerification(h.ctx, twofactor.ResendVerificationRequest{Subscriber: "alice", ContactID: pc.Contact.ID})
	require.NoError(t, err)
	code := h.sender.last(t).Code

	before := len(h.events.Events())
	for name, re := range map[string]twofactor.Reauth{
		"no proof":      h.reauth(twofactor.Proof{}),
		"sign-in proof": h.reauth(h.signIn("alice", email.ID)),
	} {
		_, err = h.svc.VerifyContact(h.ctx, twofactor.VerifyContactRequest{Subscriber: "alice", ChallengeID: pc.ChallengeID, Code: code, Reauth: re})
		require.ErrorIs(t, err, twofactor.ErrProofRequired, name)
	}
	cs, err := h.svc.Contacts(h.ctx, "alice")
	require.NoError(t, err)
	require.Len(t, cs, 2)
	assert.False(t, cs[1].Verified(), "the contact must stay pending")
	assert.Len(t, h.events.Events(), before, "nothing changed, nothing published")
	st, err := h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	assert.Nil(t, st.Lock)

	// With a fresh proof for adding a factor it can be verified (the code is still good:
	// nothing was counted).
	v, err := h.svc.VerifyContact(h.ctx, twofactor.VerifyContactRequest{Subscriber: "alice", ChallengeID: pc.ChallengeID, Code: code,
		Reauth: h.reauthFor("alice")})
	require.NoError(t, err)
	assert.True(t, v.Verified())
}

func TestVerifyProofLeavesAgeToTheCaller(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, _ := h.setUp("alice")
	p := h.signIn("alice", email.ID)
	require.NoError(t, h.svc.VerifyProof("alice", p))
	assert.ErrorIs(t, h.svc.VerifyProof("bob", p), twofactor.ErrProofRequired, "another subscriber")
	assert.ErrorIs(t, h.svc.VerifyProof("alice", twofactor.Proof{}), twofactor.ErrProofRequired)
	for name, alter := range map[string]func(*twofactor.Proof){
		"method":      func(p *twofactor.Proof) { p.Method = twofactor.MethodRecoveryCode },
		"purpose":     func(p *twofactor.Proof) { p.Purpose = otp.PurposeContactVerification },
		"kind":        func(p *twofactor.Proof) { p.Kind = twofactor.KindPhone },
		"destination": func(p *twofactor.Proof) { p.Destination = "+447400123456" },
		"time":        func(p *twofactor.Proof) { p.At = p.At.Add(time.Hour) },
		"subscriber":  func(p *twofactor.Proof) { p.Subscriber = "bob" },
	} {
		q := p
		alter(&q)
		assert.ErrorIs(t, h.svc.VerifyProof(q.Subscriber, q), twofactor.ErrProofRequired, name)
	}
	h.clk.Advance(time.Hour)
	assert.NoError(t, h.svc.VerifyProof("alice", p), "age is the caller's policy")
	assert.ErrorIs(t, h.svc.CheckProof("alice", p), twofactor.ErrProofRequired, "CheckProof keeps its limit")
}

// otp throttles resends per subscriber and purpose. If Begin took any well-formed
// purpose, a caller passing one through from a client could rotate purposes to send a
// subscriber's phone an unlimited number of SMS (bombing, and toll cost for the
// carrier). Only otp's own purposes and those listed in Config.Purposes are accepted.
func TestBeginPurposeMustBeKnown(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	_, phone := h.setUp("alice")
	sent := h.sender.count()
	for _, p := range []otp.Purpose{"a", "b", "c", "loyalty.points"} {
		h.tick()
		_, err := h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: phone.ID, Purpose: p})
		assert.ErrorIs(t, err, twofactor.ErrInvalidRequest, p)
	}
	assert.Equal(t, sent, h.sender.count(), "no code sent for an unlisted purpose")

	for _, p := range []otp.Purpose{otp.PurposeSignIn, otp.PurposeSIMSwap, otp.PurposePortOut, otp.PurposeAccountChange,
		otp.PurposeAccountRecovery, otp.PurposeDisableTwoFactor} {
		h.tick()
		_, err := h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: phone.ID, Purpose: p})
		assert.NoError(t, err, p)
	}

	// An integrator's own purpose, once configured.
	h2 := newHarness(t, twofactor.Config{Purposes: []otp.Purpose{"loyalty.points"}})
	_, phone = h2.setUp("alice")
	h2.tick()
	ch, err := h2.svc.Begin(h2.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: phone.ID, Purpose: "loyalty.points"})
	require.NoError(t, err)
	p, err := h2.svc.Complete(h2.ctx, twofactor.CompleteRequest{Purpose: "loyalty.points", Flow: flow, Subscriber: "alice", ChallengeID: ch.ID, Code: h2.sender.last(t).Code})
	require.NoError(t, err)
	assert.Equal(t, otp.Purpose("loyalty.points"), p.Purpose)

	for name, ps := range map[string][]otp.Purpose{
		"malformed":            {"Bad Purpose"},
		"contact verification": {otp.PurposeContactVerification},
		"too many":             make([]otp.Purpose, 33),
	} {
		if name == "too many" {
			for i := range ps {
				ps[i] = otp.Purpose(fmt.Sprintf("p%d", i))
			}
		}
		_, err := twofactor.New(twofactor.Config{HashKey: hashKey, Purposes: ps}, h.deps())
		assert.Error(t, err, name)
		assert.Contains(t, fmt.Sprint(err), "Purposes", name)
	}
}

// A Proof printed or logged by mistake must not carry its tag (with the other fields,
// enough to present it again until it goes stale) or the full phone number.
func TestProofDoesNotPrintItsTagOrNumber(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	_, phone := h.setUp("alice")
	p := h.signIn("alice", phone.ID)
	require.NotEmpty(t, p.Tag)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("signed in", "proof", p)
	for _, out := range []string{fmt.Sprint(p), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p), logs.String()} {
		assert.NotContains(t, out, "7400123456", out)
		assert.NotContains(t, out, fmt.Sprint(p.Tag), out)
		assert.NotContains(t, out, fmt.Sprintf("%x", p.Tag), out)
		assert.NotContains(t, out, fmt.Sprintf("%#v", p.Tag), out)
		assert.NotContains(t, out, base64.StdEncoding.EncodeToString(p.Tag), out)
		assert.Contains(t, out, "alice", out)
		assert.Contains(t, out, "3456", out)
	}
}

// stateFailsAfterEnable is a contact store whose State fails once 2FA has been turned on.
type stateFailsAfterEnable struct {
	*memory.TwoFactor
	on bool
}

func (s *stateFailsAfterEnable) SetEnabled(ctx context.Context, sub string, on bool, at time.Time, need bool) (bool, error) {
	changed, err := s.TwoFactor.SetEnabled(ctx, sub, on, at, need)
	s.on = s.on || (changed && on)
	return changed, err
}

func (s *stateFailsAfterEnable) State(ctx context.Context, sub string) (twofactor.State, error) {
	if s.on {
		return twofactor.State{}, errors.New("replica lagging")
	}
	return s.TwoFactor.State(ctx, sub)
}

// Once 2FA has been turned on, the event must go out even if re-reading the contacts for
// its attributes fails: every state change publishes its event.
func TestEnablePublishesEvenIfTheStateCannotBeReread(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	h.addVerified("alice", twofactor.KindEmail, "alice@example.com", twofactor.Proof{})
	d := h.deps()
	d.Contacts = &stateFailsAfterEnable{TwoFactor: h.store}
	svc := h.serviceWith(d)
	_ = svc.Enable(h.ctx, "alice", h.enableReauth("alice"), twofactor.Origin{})
	on, err := h.svc.TwoFactorEnabled(h.ctx, "alice")
	require.NoError(t, err)
	require.True(t, on)
	_, ok := h.events.Last(notify.TwoFactorEnabled)
	assert.True(t, ok, "2FA was turned on without notify.TwoFactorEnabled")
}

// An SMS held by the network while the phone is off is delivered to whichever SIM has
// the number when it comes back: Begin's SIM-change check is not enough if the number
// is swapped between sending and entering the code. Complete asks again.
func TestSIMChangeBetweenBeginAndComplete(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, phone := h.setUp("alice")
	ch := h.begin("alice", phone.ID)
	code := h.sender.last(t).Code
	h.sims.changed[phone.Value] = true
	p, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", ChallengeID: ch.ID, Code: code})
	require.ErrorIs(t, err, twofactor.ErrRecentSIMChange)
	assert.True(t, p.IsZero())
	var sim *twofactor.SIMChangeError
	require.ErrorAs(t, err, &sim)
	require.Len(t, sim.Alternatives, 1)
	assert.Equal(t, email.ID, sim.Alternatives[0].ID)

	// The history cannot be asked: no proof either.
	h.sims.changed[phone.Value] = false
	ch = h.begin("alice", phone.ID)
	h.sims.err = errors.New("HLR timeout")
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", ChallengeID: ch.ID, Code: h.sender.last(t).Code})
	assert.ErrorIs(t, err, h.sims.err)
	h.sims.err = nil
	h.signIn("alice", email.ID) // email codes are not affected
}

// Origin is caller input. One the event vocabulary refuses (an agent without an ID, an
// unknown actor kind) must be refused before anything changes; otherwise the change is
// made and its event is rejected by the publisher, so nobody hears of it.
func TestBadOriginChangesNothing(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, phone := h.setUp("alice")
	proof := h.signIn("alice", email.ID)
	for _, o := range []twofactor.Origin{
		{Actor: notify.Actor{Kind: notify.ActorAgent}},
		{Actor: notify.Actor{Kind: "admin", ID: "root"}},
	} {
		before := len(h.events.Events())
		assert.ErrorIs(t, h.svc.Disable(h.ctx, "alice", proof, o), twofactor.ErrInvalidRequest)
		assert.ErrorIs(t, h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: phone.ID, Proof: proof, Origin: o}), twofactor.ErrInvalidRequest)
		_, err := h.svc.GenerateRecoveryCodes(h.ctx, "alice", h.reauth(proof), o)
		assert.ErrorIs(t, err, twofactor.ErrInvalidRequest)
		h.tick()
		_, err = h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "bob", Kind: twofactor.KindEmail, Value: "bob@example.com", Origin: o, Reauth: h.reauthFor("bob")})
		assert.ErrorIs(t, err, twofactor.ErrInvalidRequest)
		_, err = h.svc.VerifyContact(h.ctx, twofactor.VerifyContactRequest{Subscriber: "alice", ChallengeID: "x.y.contact_verification", Code: "123456", Origin: o, Reauth: h.reauthFor("alice")})
		assert.ErrorIs(t, err, twofactor.ErrInvalidRequest)
		assert.ErrorIs(t, h.svc.Unlock(h.ctx, "alice", o), twofactor.ErrInvalidRequest)
		assert.ErrorIs(t, h.svc.Enable(h.ctx, "carol", h.enableReauth("carol"), o), twofactor.ErrInvalidRequest)
		assert.Len(t, h.events.Events(), before)
	}
	st, err := h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	assert.True(t, st.Enabled)
	assert.Len(t, st.Contacts, 2)
	assert.Zero(t, st.RecoveryCodesLeft)
	cs, err := h.svc.Contacts(h.ctx, "bob")
	require.NoError(t, err)
	assert.Empty(t, cs)
}

// "A hard lock that only support can lift": Unlock must name a support agent. With the
// zero Origin (the subscriber) a self-service endpoint wired to it would let the
// attacker the lock is meant to stop reset their guess count at will.
func TestUnlockNeedsAnAgent(t *testing.T) {
	h := newHarness(t, twofactor.Config{Lockout: twofactor.LockoutPolicy{Threshold: 1, HardLimit: 1}})
	h.setUp("alice")
	_, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodAuthenticator, Code: "123456"})
	require.ErrorIs(t, err, twofactor.ErrInvalidCode)
	for _, o := range []twofactor.Origin{{}, {Actor: notify.Actor{Kind: notify.ActorSubscriber}}, {Actor: notify.Actor{Kind: notify.ActorSystem, ID: "cron"}}} {
		assert.ErrorIs(t, h.svc.Unlock(h.ctx, "alice", o), twofactor.ErrInvalidRequest, o.Actor.Kind)
	}
	st, err := h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	require.NotNil(t, st.Lock)
	assert.True(t, st.Lock.Hard)
	require.NoError(t, h.svc.Unlock(h.ctx, "alice", twofactor.Origin{Actor: notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"}}))
	st, err = h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	assert.Nil(t, st.Lock)
}

func TestProofMethod(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		p    twofactor.Proof
		want string
	}{
		{twofactor.Proof{Subscriber: "s1", Method: twofactor.MethodAuthenticator, At: at}, "totp"},
		{twofactor.Proof{Subscriber: "s1", Method: twofactor.MethodRecoveryCode, At: at}, "recovery_code"},
		{twofactor.Proof{Subscriber: "s1", Method: twofactor.MethodContactCode, Kind: twofactor.KindPhone, At: at}, "sms"},
		{twofactor.Proof{Subscriber: "s1", Method: twofactor.MethodContactCode, Kind: twofactor.KindEmail, At: at}, "email"},
	}
	for _, tt := range tests {
		if got := tt.p.ProofMethod(); got != tt.want {
			t.Errorf("%s: ProofMethod() = %q, want %q", tt.p.Method, got, tt.want)
		}
	}
}
