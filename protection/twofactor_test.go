package protection_test

import (
	"context"
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
	ctx   context.Context
	clk   *fakeclock.Clock
	prot  *protection.Service
	tf    *twofactor.Service
	auths *otp.Authenticators
	mu    sync.Mutex
	last  twofactor.Message
}

func newTFWorld(t *testing.T) *tfWorld {
	t.Helper()
	w := &tfWorld{ctx: context.Background(), clk: storetest.NewClock()}
	events := &notify.Recorder{}
	ps := memory.NewProtection(memory.Options{Now: w.clk.Now})
	var err error
	w.prot, err = protection.New(protection.Config{PINKey: pinKey, Now: w.clk.Now},
		protection.Stores{Flags: ps, History: ps, PINs: ps}, events)
	require.NoError(t, err)
	os := memory.NewOTP(memory.Options{Now: w.clk.Now})
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("otp"), Now: w.clk.Now,
		MinResendInterval: time.Second}, os, os, events)
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
		SIMChanges: w.prot, Publisher: events,
	})
	require.NoError(t, err)
	return w
}

func (w *tfWorld) code() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last.Code
}

// contact adds and verifies a contact (2FA still off, so no proof needed).
func (w *tfWorld) contact(t *testing.T, sub string, kind twofactor.Kind, value string) twofactor.Contact {
	t.Helper()
	w.clk.Advance(2 * time.Second)
	pc, err := w.tf.AddContact(w.ctx, twofactor.AddContactRequest{Subscriber: sub, Kind: kind, Value: value})
	require.NoError(t, err)
	c, err := w.tf.VerifyContact(w.ctx, twofactor.VerifyContactRequest{Subscriber: sub, ChallengeID: pc.ChallengeID, Code: w.code()})
	require.NoError(t, err)
	return c
}

// signIn runs a real twofactor sign-in challenge on the contact.
func (w *tfWorld) signIn(t *testing.T, sub, contactID string) twofactor.Proof {
	t.Helper()
	w.clk.Advance(2 * time.Second)
	ch, err := w.tf.Begin(w.ctx, twofactor.BeginRequest{Subscriber: sub, ContactID: contactID})
	require.NoError(t, err)
	p, err := w.tf.Complete(w.ctx, twofactor.CompleteRequest{Subscriber: sub, ChallengeID: ch.ID, Code: w.code()})
	require.NoError(t, err)
	return p
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
	require.NoError(t, w.tf.Enable(w.ctx, "alice", twofactor.Origin{}))

	// Without the second factor, a SIM swap from the app steps up.
	d := w.decideSIMSwap(t, "alice")
	require.Equal(t, protection.StepUp, d.Outcome, d.Reasons)

	p := w.signIn(t, "alice", phone.ID)
	ev, err := protection.EvidenceFromProof(w.tf, "alice", p)
	require.NoError(t, err)
	assert.Equal(t, protection.Evidence{Kind: protection.EvidenceContactCode, Contact: protection.ContactSMS,
		Destination: "+447400123456", ObtainedAt: p.At}, ev)

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
	p = w.signIn(t, "alice", phone.ID)
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
	assert.Equal(t, protection.Evidence{Kind: protection.EvidenceContactCode, Contact: protection.ContactEmail, ObtainedAt: p.At}, ev)

	// Alice's proof is no evidence about Bob: Evidence carries no subscriber, so the
	// check must happen here.
	_, err = protection.EvidenceFromProof(w.tf, "bob", p)
	assert.ErrorIs(t, err, twofactor.ErrProofRequired)

	// Altered or made-up proofs are refused.
	for name, alter := range map[string]func(*twofactor.Proof){
		"as sms":     func(p *twofactor.Proof) { p.Kind, p.Destination = twofactor.KindPhone, "+447400123456" },
		"as app":     func(p *twofactor.Proof) { p.Method, p.Kind, p.ContactID = twofactor.MethodAuthenticator, "", "" },
		"made later": func(p *twofactor.Proof) { p.At = p.At.Add(time.Minute) },
		"no tag":     func(p *twofactor.Proof) { p.Tag = nil },
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
	en, err := w.auths.Enroll(w.ctx, otp.EnrollRequest{Subscriber: "alice", Account: "a"})
	require.NoError(t, err)
	u, err := otp.ParseKeyURI(en.URI)
	require.NoError(t, err)
	app, err := otp.NewKey(u.Secret, u.Params)
	require.NoError(t, err)
	_, err = w.auths.Confirm(w.ctx, otp.ConfirmRequest{Subscriber: "alice", Code: app.TOTP(w.clk.Now())})
	require.NoError(t, err)
	require.NoError(t, w.tf.Enable(w.ctx, "alice", twofactor.Origin{}))

	w.clk.Advance(30 * time.Second)
	p, err := w.tf.Complete(w.ctx, twofactor.CompleteRequest{Subscriber: "alice", Method: twofactor.MethodAuthenticator, Code: app.TOTP(w.clk.Now())})
	require.NoError(t, err)
	ev, err := protection.EvidenceFromProof(w.tf, "alice", p)
	require.NoError(t, err)
	assert.Equal(t, protection.Evidence{Kind: protection.EvidenceAuthenticator, ObtainedAt: p.At}, ev)

	codes, err := w.tf.GenerateRecoveryCodes(w.ctx, "alice", p, twofactor.Origin{})
	require.NoError(t, err)
	p, err = w.tf.Complete(w.ctx, twofactor.CompleteRequest{Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: codes[0]})
	require.NoError(t, err)
	ev, err = protection.EvidenceFromProof(w.tf, "alice", p)
	require.NoError(t, err)
	assert.Equal(t, protection.Evidence{Kind: protection.EvidenceRecoveryCode, ObtainedAt: p.At}, ev)
}
