package twofactor_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
	"github.com/carrierguard/carrierguard/twofactor"
)

// recordingSender keeps every message; if fail is set it records and then fails.
type recordingSender struct {
	mu   sync.Mutex
	msgs []twofactor.Message
	fail error
}

func (r *recordingSender) Send(ctx context.Context, m twofactor.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	return r.fail
}

func (r *recordingSender) last(t *testing.T) twofactor.Message {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.msgs, "no message was sent")
	return r.msgs[len(r.msgs)-1]
}

func (r *recordingSender) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// simHistory plays the SIM-change history: numbers in changed had a change within any
// window asked about.
type simHistory struct {
	mu      sync.Mutex
	changed map[string]bool
	err     error
	asked   []time.Duration
}

func (s *simHistory) SIMChangedWithin(ctx context.Context, number string, d time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, d)
	return s.changed[number], s.err
}

// flow is the flow the harness's challenges are begun and completed in.
const flow = "session:test"

// probation is the default Config.FactorProbation.
const probation = 7 * 24 * time.Hour

// recordingGate is a twofactor.Gate that records what it is asked and answers err.
type recordingGate struct {
	mu    sync.Mutex
	asked []twofactor.FactorChange
	err   error
}

func (g *recordingGate) AllowFactorChange(ctx context.Context, c twofactor.FactorChange) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.asked = append(g.asked, c)
	return g.err
}

func (g *recordingGate) last(t *testing.T) twofactor.FactorChange {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	require.NotEmpty(t, g.asked, "the gate was not asked")
	return g.asked[len(g.asked)-1]
}

type harness struct {
	t      *testing.T
	gate   *recordingGate
	ctx    context.Context
	clk    *fakeclock.Clock
	store  *memory.TwoFactor
	otp    *memory.OTP
	codes  *otp.Codes
	auths  *otp.Authenticators
	sender *recordingSender
	sims   *simHistory
	events *notify.Recorder
	svc    *twofactor.Service
	cfg    twofactor.Config    // svc's, with the harness's defaults filled in
	apps   map[string]*otp.Key // each subscriber's authenticator app (enrollApp)
}

var hashKey = testkey.New("twofactor")

func newHarness(t *testing.T, cfg twofactor.Config) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), clk: storetest.NewClock(), sender: &recordingSender{}, gate: &recordingGate{}, apps: map[string]*otp.Key{},
		sims: &simHistory{changed: map[string]bool{}}, events: &notify.Recorder{}}
	h.store = memory.NewTwoFactor(memory.Options{Now: h.clk.Now})
	h.otp = memory.NewOTP(memory.Options{Now: h.clk.Now})
	var err error
	h.codes, err = otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("otp"), Now: h.clk.Now,
		MinResendInterval: time.Second, HourlyLimit: 60, Budgets: gbHome}, h.otp, h.otp, h.events)
	require.NoError(t, err)
	kr, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 1, Secret: testkey.New("keyring")}}})
	require.NoError(t, err)
	h.auths, err = otp.NewAuthenticators(otp.AuthenticatorConfig{Issuer: "Acme Mobile", Now: h.clk.Now}, h.otp, kr, h.events)
	require.NoError(t, err)
	if cfg.HashKey == nil {
		cfg.HashKey = hashKey
	}
	if cfg.Phone.DefaultRegion == "" {
		cfg.Phone.DefaultRegion = "GB"
	}
	cfg.Now = h.clk.Now
	h.cfg = cfg
	h.svc = h.serviceWith(h.deps())
	return h
}

// serviceWith returns a second service with the harness's config over other deps.
func (h *harness) serviceWith(d twofactor.Deps) *twofactor.Service {
	h.t.Helper()
	svc, err := twofactor.New(h.cfg, d)
	require.NoError(h.t, err)
	return svc
}

func (h *harness) deps() twofactor.Deps {
	return twofactor.Deps{Codes: h.codes, Authenticators: h.auths, Contacts: h.store, Recovery: h.store,
		Failures: h.store, Sender: h.sender, SIMChanges: h.sims, Publisher: h.events, Gate: h.gate}
}

// reauth is what a subscriber signed in just now presents for a factor change: the
// session and the password, now, and proof.
func (h *harness) reauth(proof twofactor.Proof) twofactor.Reauth {
	return twofactor.Reauth{Proof: proof, SignedInAt: h.clk.Now(), PasswordAt: h.clk.Now()}
}

// addProof returns a fresh proof for otp.PurposeAddFactor from sub's first verified
// contact, or else from sub's confirmed app, or the zero Proof if sub has neither.
func (h *harness) addProof(sub string) twofactor.Proof {
	h.t.Helper()
	cs, err := h.svc.Contacts(h.ctx, sub)
	require.NoError(h.t, err)
	for _, c := range cs {
		if c.Verified() {
			return h.proveFor(sub, c.ID, otp.PurposeAddFactor)
		}
	}
	if st, err := h.auths.Status(h.ctx, sub); err == nil && st.Confirmed {
		return h.appProve(sub, otp.PurposeAddFactor)
	}
	return twofactor.Proof{}
}

// appProve moves to the next time step and completes a code from sub's app for purpose.
func (h *harness) appProve(sub string, purpose otp.Purpose) twofactor.Proof {
	h.t.Helper()
	h.clk.Advance(30 * time.Second)
	p, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: purpose, Subscriber: sub,
		Method: twofactor.MethodAuthenticator, Code: h.apps[sub].TOTP(h.clk.Now())})
	require.NoError(h.t, err)
	return p
}

// reauthFor is h.reauth with a fresh proof for otp.PurposeAddFactor from sub's first
// verified contact, if any.
func (h *harness) reauthFor(sub string) twofactor.Reauth {
	h.t.Helper()
	return h.reauth(h.addProof(sub))
}

// enableReauth lets sub's factors age past the probation and returns what turning 2FA
// on needs (reauthFor), if sub has a verified contact; otherwise h.reauth of no proof.
func (h *harness) enableReauth(sub string) twofactor.Reauth {
	h.t.Helper()
	st, err := h.svc.Status(h.ctx, sub)
	require.NoError(h.t, err)
	if st.Authenticator || slices.ContainsFunc(st.Contacts, twofactor.Contact.Verified) {
		h.establish()
	}
	return h.reauthFor(sub)
}

// establish moves the clock past the factor probation.
func (h *harness) establish() { h.clk.Advance(probation + time.Minute) }

// tick moves past otp's resend interval.
func (h *harness) tick() { h.clk.Advance(2 * time.Second) }

// addVerified adds a contact and verifies it with the code it was sent. A proof not for
// otp.PurposeAddFactor (the zero one included) means: one for that from sub's first
// verified contact or app, if any.
func (h *harness) addVerified(sub string, kind twofactor.Kind, value string, proof twofactor.Proof) twofactor.Contact {
	h.t.Helper()
	if proof.Purpose != otp.PurposeAddFactor {
		proof = h.addProof(sub)
	}
	h.tick()
	pc, err := h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: sub, Kind: kind, Value: value, Reauth: h.reauth(proof)})
	require.NoError(h.t, err)
	msg := h.sender.last(h.t)
	require.Equal(h.t, otp.PurposeContactVerification, msg.Purpose)
	require.Equal(h.t, pc.Contact.Value, msg.To)
	c, err := h.svc.VerifyContact(h.ctx, twofactor.VerifyContactRequest{Subscriber: sub, ChallengeID: pc.ChallengeID, Code: msg.Code,
		Reauth: h.reauth(proof)})
	require.NoError(h.t, err)
	require.True(h.t, c.Verified())
	return c
}

// begin moves past the resend interval and sends a sign-in code to the contact.
func (h *harness) begin(sub, contactID string) twofactor.Challenge {
	h.t.Helper()
	h.tick()
	ch, err := h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: sub, ContactID: contactID})
	require.NoError(h.t, err)
	return ch
}

// signIn runs Begin and Complete with the code the contact received.
func (h *harness) signIn(sub, contactID string) twofactor.Proof {
	h.t.Helper()
	ch := h.begin(sub, contactID)
	p, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: sub, ChallengeID: ch.ID, Code: h.sender.last(h.t).Code})
	require.NoError(h.t, err)
	return p
}

// proveFor runs Begin for purpose and Complete with the code the contact received.
func (h *harness) proveFor(sub, contactID string, purpose otp.Purpose) twofactor.Proof {
	h.t.Helper()
	h.tick()
	ch, err := h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: sub, ContactID: contactID, Purpose: purpose})
	require.NoError(h.t, err)
	p, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: purpose, Flow: flow, Subscriber: sub, ChallengeID: ch.ID, Code: h.sender.last(h.t).Code})
	require.NoError(h.t, err)
	return p
}

// appOnly gives sub a confirmed authenticator app as their only factor, established,
// turns 2FA on, and returns a fresh proof by the app for otp.PurposeDisableTwoFactor.
func (h *harness) appOnly(sub string) twofactor.Proof {
	h.t.Helper()
	app := h.enrollApp(sub)
	_, err := h.auths.Confirm(h.ctx, otp.ConfirmRequest{Subscriber: sub, Code: app.TOTP(h.clk.Now())})
	require.NoError(h.t, err)
	h.establish()
	require.NoError(h.t, h.svc.Enable(h.ctx, sub, h.reauth(h.appProve(sub, otp.PurposeAddFactor)), twofactor.Origin{}))
	return h.appProve(sub, otp.PurposeDisableTwoFactor)
}

// enrollApp starts an authenticator enrollment for sub and returns the app's key, as
// a phone would read it from the QR code. The enrollment is still pending.
func (h *harness) enrollApp(sub string) *otp.Key {
	h.t.Helper()
	en, err := h.auths.Enroll(h.ctx, otp.EnrollRequest{Subscriber: sub, Account: "•••• 3456"})
	require.NoError(h.t, err)
	u, err := otp.ParseKeyURI(en.URI)
	require.NoError(h.t, err)
	app, err := otp.NewKey(u.Secret, u.Params)
	require.NoError(h.t, err)
	h.apps[sub] = app
	return app
}

// setUp gives sub a verified email and phone, lets them age past the probation and
// turns 2FA on.
func (h *harness) setUp(sub string) (email, phone twofactor.Contact) {
	h.t.Helper()
	email = h.addVerified(sub, twofactor.KindEmail, "Alice@Example.com", twofactor.Proof{})
	phone = h.addVerified(sub, twofactor.KindPhone, "07400 123456", twofactor.Proof{})
	h.establish()
	require.NoError(h.t, h.svc.Enable(h.ctx, sub, h.reauth(h.proveFor(sub, email.ID, otp.PurposeAddFactor)), twofactor.Origin{}))
	return email, phone
}

// wrongCode returns a well-formed code that differs from code.
func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// noSecrets fails if any recorded event mentions one of the strings.
func noSecrets(t *testing.T, events []notify.Event, secrets ...string) {
	t.Helper()
	for _, e := range events {
		for k, v := range e.Attributes {
			for _, s := range secrets {
				if s != "" && (strings.Contains(v, s) || strings.Contains(k, s)) {
					t.Errorf("event %s attribute %s=%q carries %q", e.Type, k, v, s)
				}
			}
		}
	}
}

var errGateway = errors.New("gateway down")

// gbHome is the SMS budgets of a carrier in the United Kingdom, where the test numbers
// are (Config.Phone.DefaultRegion "GB").
var gbHome = otp.SMSBudgets{HomeRegions: []string{"GB"}}
