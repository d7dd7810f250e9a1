package twofactor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/storetest"
	"github.com/carrierguard/carrierguard/twofactor"
)

func TestNewValidates(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	tests := []struct {
		name string
		cfg  twofactor.Config
		deps func(d *twofactor.Deps)
		want string
	}{
		{"no hash key", twofactor.Config{}, nil, "HashKey is required"},
		{"short hash key", twofactor.Config{HashKey: make([]byte, 16)}, nil, "HashKey must be at least 32"},
		{"placeholder hash key", twofactor.Config{HashKey: []byte("twofactor-hash-key-change-me-now")}, nil, "Config.HashKey: keyring: key material is not random"},
		{"hard limit over NIST", twofactor.Config{HashKey: hashKey, Lockout: twofactor.LockoutPolicy{HardLimit: 101}}, nil, "HardLimit must be at most 100"},
		{"threshold over hard limit", twofactor.Config{HashKey: hashKey, Lockout: twofactor.LockoutPolicy{Threshold: 20, HardLimit: 10}}, nil, "must not exceed Config.Lockout.HardLimit"},
		{"SIM window too long", twofactor.Config{HashKey: hashKey, SIMChangeWindow: 2401 * time.Hour}, nil, "SIMChangeWindow must be at most"},
		{"unknown region", twofactor.Config{HashKey: hashKey, Phone: twofactor.PhoneOptions{DefaultRegion: "XX"}}, nil, "DefaultRegion"},
		{"no sender", twofactor.Config{HashKey: hashKey}, func(d *twofactor.Deps) { d.Sender = nil }, "Deps.Sender is required"},
		{"no SIM history", twofactor.Config{HashKey: hashKey}, func(d *twofactor.Deps) { d.SIMChanges = nil }, "Deps.SIMChanges is required"},
		{"no codes", twofactor.Config{HashKey: hashKey}, func(d *twofactor.Deps) { d.Codes = nil }, "Deps.Codes is required"},
		{"no publisher", twofactor.Config{HashKey: hashKey}, func(d *twofactor.Deps) { d.Publisher = nil }, "Deps.Publisher is required"},
		{"no failure store", twofactor.Config{HashKey: hashKey}, func(d *twofactor.Deps) { d.Failures = nil }, "Deps.Failures"},
		{"no gate", twofactor.Config{HashKey: hashKey}, func(d *twofactor.Deps) { d.Gate = nil }, "Deps.Gate is required"},
		{"no challenge store", twofactor.Config{HashKey: hashKey}, func(d *twofactor.Deps) { d.Contacts = contactsOnly{h.store} }, "Deps.Challenges is required"},
		{"probation too short", twofactor.Config{HashKey: hashKey, FactorProbation: 30 * time.Minute}, nil, "FactorProbation must be at least"},
		{"password window too long", twofactor.Config{HashKey: hashKey, PasswordMaxAge: 2 * time.Hour}, nil, "PasswordMaxAge must be at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := h.deps()
			if tt.deps != nil {
				tt.deps(&d)
			}
			_, err := twofactor.New(tt.cfg, d)
			require.Error(t, err)
			assert.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	d := h.deps()
	d.Authenticators = nil
	_, err := twofactor.New(twofactor.Config{HashKey: hashKey}, d)
	assert.NoError(t, err, "Authenticators is optional")
}

// Two contacts, one email and one phone, are added and verified; 2FA is enabled; the
// subscriber signs in with each. Every step publishes its event.
func TestTwoContactsFlow(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, phone := h.setUp("alice")

	assert.Equal(t, "alice@example.com", email.Value)
	assert.Equal(t, "+447400123456", phone.Value)
	assert.Equal(t, "a•••@example.com", email.Masked())
	assert.Equal(t, "•••• 3456", phone.Masked())
	assert.Equal(t, []notify.Type{
		notify.TrustedContactAdded, notify.TrustedContactVerified,
		notify.TrustedContactAdded, notify.TrustedContactVerified,
		notify.TwoFactorEnabled,
	}, h.events.Types())
	ev, _ := h.events.Last(notify.TrustedContactVerified)
	assert.Equal(t, map[string]string{"contact": "•••• 3456", "kind": "phone", "verified": "true"}, ev.Attributes)
	ev, _ = h.events.Last(notify.TwoFactorEnabled)
	assert.Equal(t, "2", ev.Attributes["contacts"])
	assert.Equal(t, notify.ActorSubscriber, ev.Actor.Kind)
	assert.True(t, ev.Time.Equal(h.clk.Now()))

	st, err := h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	assert.True(t, st.Enabled)
	assert.Len(t, st.Contacts, 2)
	assert.Nil(t, st.Lock)
	on, err := h.svc.TwoFactorEnabled(h.ctx, "alice")
	require.NoError(t, err)
	assert.True(t, on)

	// Sign in by email.
	ch := h.begin("alice", email.ID)
	assert.Equal(t, "a•••@example.com", ch.Masked)
	assert.Equal(t, twofactor.KindEmail, ch.Kind)
	msg := h.sender.last(t)
	assert.Equal(t, twofactor.Message{Subscriber: "alice", Kind: twofactor.KindEmail, To: "alice@example.com",
		Code: msg.Code, Purpose: otp.PurposeSignIn, ExpiresAt: ch.ExpiresAt}, msg)
	assert.Len(t, msg.Code, 6)
	p, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", ChallengeID: ch.ID, Code: msg.Code})
	require.NoError(t, err)
	assert.Equal(t, twofactor.MethodContactCode, p.Method)
	assert.Equal(t, email.ID, p.ContactID)
	assert.Equal(t, twofactor.KindEmail, p.Kind)
	assert.Empty(t, p.Destination, "only SMS proofs carry the number")
	assert.Equal(t, otp.PurposeSignIn, p.Purpose)
	assert.True(t, p.At.Equal(h.clk.Now()))
	require.NoError(t, h.svc.CheckProof("alice", p))

	// The code is accepted once.
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", ChallengeID: ch.ID, Code: msg.Code})
	assert.ErrorIs(t, err, otp.ErrReplay)

	// Sign in by SMS.
	p = h.signIn("alice", phone.ID)
	assert.Equal(t, twofactor.KindPhone, p.Kind)
	assert.Equal(t, "+447400123456", p.Destination)
	assert.Equal(t, "•••• 3456", p.Masked)
	assert.Equal(t, twofactor.KindPhone, h.sender.last(t).Kind)
	assert.Equal(t, []time.Duration{7 * 24 * time.Hour, 7 * 24 * time.Hour}, h.sims.asked,
		"the SIM-change history is asked for the SMS only, before sending and again before accepting, with the default window")

	// A code sent to one contact does not verify as the other: the contact is bound in.
	ch = h.begin("alice", phone.ID)
	forged := strings.Replace(ch.ID, phone.ID, email.ID, 1)
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", ChallengeID: forged, Code: h.sender.last(t).Code})
	assert.ErrorIs(t, err, twofactor.ErrInvalidCode)

	noSecrets(t, h.events.Events(), "+447400123456", "alice@example.com", msg.Code)
}

func TestProofs(t *testing.T) {
	h := newHarness(t, twofactor.Config{ProofMaxAge: 2 * time.Minute})
	email, _ := h.setUp("alice")
	p := h.signIn("alice", email.ID)
	require.NoError(t, h.svc.CheckProof("alice", p))

	tampered := func(f func(p *twofactor.Proof)) twofactor.Proof {
		q := p
		q.Tag = bytes.Clone(p.Tag)
		f(&q)
		return q
	}
	tests := []struct {
		name  string
		sub   string
		proof twofactor.Proof
		want  string
	}{
		{"none", "alice", twofactor.Proof{}, "none was given"},
		{"other subscriber", "bob", p, "another subscriber"},
		{"subscriber changed", "bob", tampered(func(q *twofactor.Proof) { q.Subscriber = "bob" }), "not genuine"},
		{"method changed", "alice", tampered(func(q *twofactor.Proof) { q.Method = twofactor.MethodAuthenticator }), "not genuine"},
		{"time moved", "alice", tampered(func(q *twofactor.Proof) { q.At = q.At.Add(time.Hour) }), "not genuine"},
		{"tag flipped", "alice", tampered(func(q *twofactor.Proof) { q.Tag[0] ^= 1 }), "not genuine"},
		{"made up", "alice", twofactor.Proof{Subscriber: "alice", Method: twofactor.MethodRecoveryCode, At: h.clk.Now()}, "not genuine"},
	}
	for _, tt := range tests {
		err := h.svc.CheckProof(tt.sub, tt.proof)
		assert.ErrorIs(t, err, twofactor.ErrProofRequired, tt.name)
		assert.ErrorContains(t, err, tt.want, tt.name)
	}

	// A proof from a service with another HashKey is refused.
	other := newHarness(t, twofactor.Config{HashKey: testkey.New("another twofactor key")})
	assert.ErrorIs(t, other.svc.CheckProof("alice", p), twofactor.ErrProofRequired)

	h.clk.Advance(2 * time.Minute)
	assert.NoError(t, h.svc.CheckProof("alice", p), "exactly ProofMaxAge old is still fresh")
	h.clk.Advance(time.Nanosecond)
	assert.ErrorContains(t, h.svc.CheckProof("alice", p), "older than 2m0s")
	h.clk.Advance(-time.Hour)
	assert.ErrorContains(t, h.svc.CheckProof("alice", p), "future")
}

func TestAddContactInput(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	add := func(kind twofactor.Kind, v string) error {
		h.tick()
		_, err := h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: kind, Value: v, Reauth: h.reauthFor("alice")})
		return err
	}
	tests := []struct {
		kind twofactor.Kind
		in   string
		is   error
		msg  string
	}{
		{twofactor.KindEmail, "alice.example.com", twofactor.ErrInvalidEmail, "missing @"},
		{twofactor.KindEmail, "Alice <alice@example.com>", twofactor.ErrInvalidEmail, "give only the address"},
		{twofactor.KindPhone, "020 7946 0000", twofactor.ErrNotMobile, "fixed-line"},
		{twofactor.KindPhone, "+44 74", twofactor.ErrInvalidPhone, "too few digits"},
		{"fax", "123", twofactor.ErrInvalidContact, "kind"},
	}
	for _, tt := range tests {
		err := add(tt.kind, tt.in)
		assert.ErrorIs(t, err, tt.is, tt.in)
		assert.ErrorContains(t, err, tt.msg, tt.in)
	}
	assert.Zero(t, h.sender.count(), "nothing is sent for bad input")

	require.NoError(t, add(twofactor.KindEmail, "alice@example.com"))
	assert.ErrorIs(t, add(twofactor.KindEmail, " ALICE@example.COM "), twofactor.ErrDuplicateContact, "duplicates are found after normalisation")
	require.NoError(t, add(twofactor.KindPhone, "+44 7400 123456"))
	err := add(twofactor.KindPhone, "07400 654321")
	assert.ErrorIs(t, err, twofactor.ErrTooManyContacts)
	assert.ErrorContains(t, err, "at most 2")
	cs, err := h.svc.Contacts(h.ctx, "alice")
	require.NoError(t, err)
	assert.Len(t, cs, 2)
	for _, c := range cs {
		assert.False(t, c.Verified())
	}

	// Pending contacts do not count.
	assert.ErrorIs(t, h.svc.Enable(h.ctx, "alice", h.enableReauth("alice"), twofactor.Origin{}), twofactor.ErrNoSecondFactor)
	h.tick()
	_, err = h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: cs[0].ID})
	assert.ErrorIs(t, err, twofactor.ErrContactNotVerified)
	_, err = h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: "nope"})
	assert.ErrorIs(t, err, twofactor.ErrUnknownContact)

	// A contact-verification code is no sign-in proof, and a sign-in handle does not verify a contact.
	h.tick()
	pc, err := h.svc.ResendVerification(h.ctx, twofactor.ResendVerificationRequest{Subscriber: "alice", ContactID: cs[0].ID})
	require.NoError(t, err)
	code := h.sender.last(t).Code
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", ChallengeID: pc.ChallengeID, Code: code})
	assert.ErrorIs(t, err, twofactor.ErrInvalidCode)
	_, err = h.svc.VerifyContact(h.ctx, twofactor.VerifyContactRequest{Subscriber: "alice", ChallengeID: pc.ChallengeID, Code: wrongCode(code), Reauth: h.reauthFor("alice")})
	assert.ErrorIs(t, err, twofactor.ErrInvalidCode)
	c, err := h.svc.VerifyContact(h.ctx, twofactor.VerifyContactRequest{Subscriber: "alice", ChallengeID: pc.ChallengeID, Code: code, Reauth: h.reauthFor("alice")})
	require.NoError(t, err)
	assert.True(t, c.Verified())
	_, err = h.svc.ResendVerification(h.ctx, twofactor.ResendVerificationRequest{Subscriber: "alice", ContactID: c.ID})
	assert.ErrorIs(t, err, twofactor.ErrInvalidRequest)
}

func TestContactChangesNeedProofOnce2FAIsOn(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, phone := h.setUp("alice")
	h.events.Reset()

	// Removing a verified contact needs a fresh proof.
	err := h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: phone.ID})
	assert.ErrorIs(t, err, twofactor.ErrProofRequired)
	p := h.proveFor("alice", email.ID, otp.PurposeDisableTwoFactor)
	h.clk.Advance(6 * time.Minute)
	err = h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: phone.ID, Proof: p})
	assert.ErrorIs(t, err, twofactor.ErrProofRequired, "a stale proof does not do")

	p = h.proveFor("alice", email.ID, otp.PurposeDisableTwoFactor)
	require.NoError(t, h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: phone.ID, Proof: p}))
	ev, ok := h.events.Last(notify.TrustedContactRemoved)
	require.True(t, ok)
	assert.Equal(t, "•••• 3456", ev.Attributes["contact"])

	// The last contact stays while 2FA is on.
	err = h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: email.ID, Proof: p})
	assert.ErrorIs(t, err, twofactor.ErrLastContact)
	err = h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: phone.ID, Proof: p})
	assert.ErrorIs(t, err, twofactor.ErrUnknownContact)

	// Replacing: adding needs the proof too, then verify the new one, then remove the old.
	h.tick()
	_, err = h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindPhone, Value: "07400 999888", Reauth: h.reauth(twofactor.Proof{})})
	assert.ErrorIs(t, err, twofactor.ErrProofRequired)
	newPhone := h.addVerified("alice", twofactor.KindPhone, "07400 999888", twofactor.Proof{})
	require.NoError(t, h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: email.ID, Proof: p}))
	cs, err := h.svc.Contacts(h.ctx, "alice")
	require.NoError(t, err)
	require.Len(t, cs, 1)
	assert.Equal(t, newPhone.ID, cs[0].ID)

	// A pending contact can be removed without a proof.
	h.establish()
	pc, err := h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail, Value: "a2@example.com", Reauth: h.reauthFor("alice")})
	require.NoError(t, err)
	require.NoError(t, h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: pc.Contact.ID}))

	// Disabling needs a proof for that purpose; then the last contact can go (with a proof).
	assert.ErrorIs(t, h.svc.Disable(h.ctx, "alice", twofactor.Proof{}, twofactor.Origin{}), twofactor.ErrProofRequired)
	si := h.signIn("alice", newPhone.ID)
	require.Equal(t, otp.PurposeSignIn, si.Purpose)
	assert.ErrorIs(t, h.svc.Disable(h.ctx, "alice", si, twofactor.Origin{}), twofactor.ErrProofRequired, "a sign-in code does not turn 2FA off")
	require.NoError(t, h.svc.Disable(h.ctx, "alice", h.proveFor("alice", newPhone.ID, otp.PurposeDisableTwoFactor), twofactor.Origin{Channel: "web"}))
	ev, _ = h.events.Last(notify.TwoFactorDisabled)
	assert.Equal(t, "web", ev.Channel)
	assert.Equal(t, "contact_code", ev.Attributes["method"])
	on, err := h.svc.TwoFactorEnabled(h.ctx, "alice")
	require.NoError(t, err)
	assert.False(t, on)
	require.NoError(t, h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: newPhone.ID,
		Proof: h.proveFor("alice", newPhone.ID, otp.PurposeDisableTwoFactor)}))

	assert.Equal(t, []notify.Type{
		notify.TrustedContactRemoved,
		notify.TrustedContactAdded, notify.TrustedContactVerified, notify.TrustedContactRemoved,
		notify.TrustedContactAdded, notify.TrustedContactRemoved,
		notify.TwoFactorDisabled, notify.TrustedContactRemoved,
	}, h.events.Types())
}

func TestRecentSIMChange(t *testing.T) {
	h := newHarness(t, twofactor.Config{SIMChangeWindow: 72 * time.Hour})
	email, phone := h.setUp("alice")
	sent := h.sender.count()
	h.sims.changed["+447400123456"] = true

	h.tick()
	_, err := h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: phone.ID})
	require.ErrorIs(t, err, twofactor.ErrRecentSIMChange)
	var se *twofactor.SIMChangeError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "•••• 3456", se.Contact)
	require.Len(t, se.Alternatives, 1)
	assert.Equal(t, email.ID, se.Alternatives[0].ID)
	assert.Contains(t, err.Error(), "use a•••@example.com instead")
	assert.Equal(t, sent, h.sender.count(), "no SMS is sent to a recently changed number")
	assert.Equal(t, 72*time.Hour, h.sims.asked[len(h.sims.asked)-1])

	// The other contact is offered and works; email is not subject to the check.
	asked := len(h.sims.asked)
	h.signIn("alice", se.Alternatives[0].ID)
	assert.Len(t, h.sims.asked, asked)

	// The history failing fails closed.
	h.sims.changed = map[string]bool{}
	h.sims.err = errors.New("history unavailable")
	h.tick()
	_, err = h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: phone.ID})
	assert.ErrorIs(t, err, h.sims.err)
	assert.Equal(t, sent+1, h.sender.count())

	// With only the phone, the error points to the other methods.
	e := &twofactor.SIMChangeError{Contact: "•••• 3456"}
	assert.Contains(t, e.Error(), "authenticator app or a recovery code")
}

func TestSenderFailure(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	_, phone := h.setUp("alice")
	h.sender.fail = errGateway

	h.tick()
	_, err := h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: phone.ID})
	require.ErrorIs(t, err, errGateway)
	st, err := h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	assert.Nil(t, st.Lock)
	h.sender.fail = nil
	h.signIn("alice", phone.ID)

	// Adding a contact whose code cannot be sent leaves nothing behind.
	require.NoError(t, h.svc.Disable(h.ctx, "alice", h.proveFor("alice", phone.ID, otp.PurposeDisableTwoFactor), twofactor.Origin{}))
	email := h.addVerified("bob", twofactor.KindEmail, "bob@example.com", twofactor.Proof{})
	re := h.reauthFor("bob")
	h.sender.fail = errGateway
	h.tick()
	_, err = h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "bob", Kind: twofactor.KindPhone, Value: "07400 111222", Reauth: re})
	require.ErrorIs(t, err, errGateway)
	cs, err := h.svc.Contacts(h.ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, []twofactor.Contact{email}, cs)
	h.sender.fail = nil
	h.addVerified("bob", twofactor.KindPhone, "07400 111222", twofactor.Proof{})
}

// spyChallenges records which otp challenges are created and deleted.
type spyChallenges struct {
	otp.ChallengeStore
	mu               sync.Mutex
	created, deleted []string
}

func (s *spyChallenges) CreateChallenge(ctx context.Context, c otp.Challenge) error {
	s.mu.Lock()
	s.created = append(s.created, c.ID)
	s.mu.Unlock()
	return s.ChallengeStore.CreateChallenge(ctx, c)
}

func (s *spyChallenges) DeleteChallenge(ctx context.Context, id string) error {
	s.mu.Lock()
	s.deleted = append(s.deleted, id)
	s.mu.Unlock()
	return s.ChallengeStore.DeleteChallenge(ctx, id)
}

func TestSendFailureRevokesTheChallenge(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	spy := &spyChallenges{ChallengeStore: h.otp}
	var err error
	h.codes, err = otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("otp"), Now: h.clk.Now, MinResendInterval: time.Second, Budgets: gbHome}, spy, h.otp, h.events)
	require.NoError(t, err)
	h.svc = h.serviceWith(h.deps())
	_, phone := h.setUp("alice")

	h.sender.fail = errGateway
	h.tick()
	_, err = h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: phone.ID})
	require.ErrorIs(t, err, errGateway)
	last := spy.created[len(spy.created)-1]
	assert.Equal(t, []string{last}, spy.deleted, "the undelivered challenge, and only it, is revoked")
	_, err = h.otp.BeginAttempt(h.ctx, last)
	assert.ErrorIs(t, err, otp.ErrNotFound)
	f, err := h.store.Failures(h.ctx, "alice")
	require.NoError(t, err)
	assert.Zero(t, f.Count, "a sender error counts nothing")

	// Adding a contact: the challenge is revoked as well as the contact removed.
	h.tick()
	_, err = h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "bob", Kind: twofactor.KindEmail, Value: "bob@example.com", Reauth: h.reauthFor("bob")})
	require.ErrorIs(t, err, errGateway)
	assert.Len(t, spy.deleted, 2)
	assert.Equal(t, spy.created[len(spy.created)-1], spy.deleted[1])
}

// A code the Sender could not deliver does not count toward otp's resend limits: once
// an SMS gateway outage is over, the subscriber is not left throttled by it.
func TestSendFailureIsNotThrottled(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	_, phone := h.setUp("alice")
	// otp's defaults: 30 s between codes, 5 an hour, 10 an hour to one number.
	var err error
	h.codes, err = otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("otp"), Now: h.clk.Now, Budgets: gbHome}, h.otp, h.otp, h.events)
	require.NoError(t, err)
	h.svc = h.serviceWith(h.deps())
	begin := func() (twofactor.Challenge, error) {
		return h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: phone.ID})
	}

	h.sender.fail = errGateway
	sent := h.sender.count()
	for i := range 12 { // more than either hourly limit, faster than the interval
		h.clk.Advance(time.Second)
		_, err := begin()
		require.ErrorIs(t, err, errGateway, "attempt %d", i+1)
		require.NotErrorIs(t, err, otp.ErrThrottled, "attempt %d", i+1)
	}
	assert.Equal(t, sent+12, h.sender.count(), "every attempt reached the sender")

	h.sender.fail = nil
	h.clk.Advance(time.Second)
	ch, err := begin()
	require.NoError(t, err, "the code goes out once the sender works")
	msg := h.sender.last(t)
	assert.Equal(t, phone.Value, msg.To)
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", ChallengeID: ch.ID, Code: msg.Code})
	require.NoError(t, err)
	// Delivered codes still count.
	_, err = begin()
	assert.ErrorIs(t, err, otp.ErrThrottled)
}

func TestLockout(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, phone := h.setUp("alice")
	codes, err := h.svc.GenerateRecoveryCodes(h.ctx, "alice", h.reauthFor("alice"), twofactor.Origin{})
	require.NoError(t, err)
	h.events.Reset()
	start := h.clk.Now()

	// Failures are counted across methods: 2 wrong SMS codes, 2 wrong recovery codes,
	// 1 wrong authenticator code (none enrolled: looks the same).
	ch := h.begin("alice", phone.ID)
	right := h.sender.last(t).Code
	for range 2 {
		_, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", ChallengeID: ch.ID, Code: wrongCode(right)})
		assert.ErrorIs(t, err, twofactor.ErrInvalidCode)
	}
	for range 2 {
		_, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: "ABCDE-FGHJK"})
		assert.ErrorIs(t, err, twofactor.ErrInvalidCode)
	}
	assert.Empty(t, h.events.Types(), "no lockout yet")
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodAuthenticator, Code: "123456"})
	assert.ErrorIs(t, err, twofactor.ErrInvalidCode, "the attempt that starts a lockout still says the code was wrong")

	ev, ok := h.events.Last(notify.Lockout)
	require.True(t, ok, "the fifth failure publishes a lockout")
	until := h.clk.Now().Add(15 * time.Minute)
	assert.Equal(t, map[string]string{"failures": "5", "hard": "false", "until": until.UTC().Format(time.RFC3339)}, ev.Attributes)
	assert.Equal(t, notify.ActorSystem, ev.Actor.Kind)

	// Locked: even the right code is refused, nothing is compared, no code is sent.
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", ChallengeID: ch.ID, Code: right})
	var le *twofactor.LockedError
	require.ErrorAs(t, err, &le)
	assert.True(t, le.Until.Equal(until))
	assert.False(t, le.Hard)
	assert.ErrorIs(t, err, twofactor.ErrLocked)
	sent := h.sender.count()
	_, err = h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: email.ID})
	assert.ErrorIs(t, err, twofactor.ErrLocked)
	assert.Equal(t, sent, h.sender.count())
	st, err := h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	require.NotNil(t, st.Lock)
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: codes[0]})
	assert.ErrorIs(t, err, twofactor.ErrLocked)
	h.tick()
	_, err = h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail, Value: "new@example.com", Reauth: h.reauth(twofactor.Proof{})})
	assert.ErrorIs(t, err, twofactor.ErrLocked, "no verification codes while locked")
	left, _ := h.store.RecoveryCodesLeft(h.ctx, "alice")
	assert.Equal(t, 10, left, "a locked attempt does not use up a recovery code")

	// The lockout expires; the right code then succeeds and resets the count.
	h.clk.Set(until)
	p := h.signIn("alice", email.ID)
	assert.Equal(t, twofactor.MethodContactCode, p.Method)
	f, err := h.store.Failures(h.ctx, "alice")
	require.NoError(t, err)
	assert.Zero(t, f.Count)
	assert.True(t, h.clk.Now().Sub(start) >= 15*time.Minute)

	// Five more failures lock again for 15 minutes (the count was reset), and five after
	// that for 30.
	fail := func(n int) {
		for range n {
			_, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: "ZZZZZ-ZZZZZ"})
			require.ErrorIs(t, err, twofactor.ErrInvalidCode)
		}
	}
	fail(5)
	h.clk.Advance(15 * time.Minute)
	fail(5)
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: "ZZZZZ-ZZZZZ"})
	require.ErrorAs(t, err, &le)
	assert.True(t, le.Until.Equal(h.clk.Now().Add(30*time.Minute)))
}

func TestHardLockAndUnlock(t *testing.T) {
	h := newHarness(t, twofactor.Config{Lockout: twofactor.LockoutPolicy{Threshold: 3, Base: time.Minute, HardLimit: 6}})
	email, _ := h.setUp("alice")
	attempt := func() error {
		_, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: "ZZZZZ-ZZZZZ"})
		return err
	}
	for i := 1; i <= 6; i++ {
		require.ErrorIs(t, attempt(), twofactor.ErrInvalidCode, "attempt %d", i)
		h.clk.Advance(time.Hour)
	}
	ev, _ := h.events.Last(notify.Lockout)
	assert.Equal(t, "true", ev.Attributes["hard"])
	assert.NotContains(t, ev.Attributes, "until")
	h.clk.Advance(1000 * time.Hour)
	var le *twofactor.LockedError
	require.ErrorAs(t, attempt(), &le)
	assert.True(t, le.Hard)
	assert.Contains(t, le.Error(), "support")

	agent := twofactor.Origin{Actor: notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"}, Channel: "phone"}
	require.NoError(t, h.svc.Unlock(h.ctx, "alice", agent))
	ev, ok := h.events.Last(notify.LockoutLifted)
	require.True(t, ok)
	assert.Equal(t, "agent-7", ev.Actor.ID)
	h.signIn("alice", email.ID)

	// Unlocking someone who is not locked publishes nothing.
	n := len(h.events.Events())
	require.NoError(t, h.svc.Unlock(h.ctx, "alice", agent))
	assert.Len(t, h.events.Events(), n)
}

// From outside, an unknown subscriber and a wrong code look the same, lockout included.
func TestUnknownSubscriberLooksLikeWrongCode(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, _ := h.setUp("alice")
	ch := h.begin("alice", email.ID)
	code := h.sender.last(t).Code

	for _, m := range []twofactor.Method{twofactor.MethodContactCode, twofactor.MethodAuthenticator, twofactor.MethodRecoveryCode} {
		c := wrongCode(code)
		if m == twofactor.MethodRecoveryCode {
			c = "ABCDE-FGHJK"
		}
		_, known := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: m, ChallengeID: ch.ID, Code: c})
		ghostCode := code // for a contact code: the code alice received, right in every way but the subscriber
		if m != twofactor.MethodContactCode {
			ghostCode = c
		}
		_, ghost := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "ghost", Method: m, ChallengeID: ch.ID, Code: ghostCode})
		require.ErrorIs(t, known, twofactor.ErrInvalidCode, m)
		assert.Equal(t, known.Error(), ghost.Error(), m)
	}
	// Garbage handles too.
	_, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "ghost", ChallengeID: "not-a-handle", Code: code})
	assert.Equal(t, twofactor.ErrInvalidCode, err)
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "ghost", ChallengeID: ch.ID, Code: code})
	assert.Equal(t, twofactor.ErrInvalidCode, err)
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "ghost", ChallengeID: ch.ID, Code: code})
	assert.ErrorIs(t, err, twofactor.ErrLocked, "five failures lock a ghost just as they would a subscriber")
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", ChallengeID: ch.ID, Code: code})
	assert.NoError(t, err, "the ghost's failures are its own; alice has made three")
}

func TestRecoveryCodes(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, _ := h.setUp("alice")

	// 2FA is on, so generating needs a proof.
	_, err := h.svc.GenerateRecoveryCodes(h.ctx, "alice", h.reauth(twofactor.Proof{}), twofactor.Origin{})
	require.ErrorIs(t, err, twofactor.ErrProofRequired)
	// A sign-in proof is no consent to a new factor.
	_, err = h.svc.GenerateRecoveryCodes(h.ctx, "alice", h.reauth(h.signIn("alice", email.ID)), twofactor.Origin{})
	require.ErrorIs(t, err, twofactor.ErrProofRequired)
	p0 := h.proveFor("alice", email.ID, otp.PurposeAddFactor)
	codes, err := h.svc.GenerateRecoveryCodes(h.ctx, "alice", h.reauth(p0), twofactor.Origin{})
	require.NoError(t, err)
	require.Len(t, codes, twofactor.RecoveryCodeCount)
	seen := map[string]bool{}
	for _, c := range codes {
		require.Len(t, c, 11)
		require.Equal(t, byte('-'), c[5])
		for _, r := range strings.ReplaceAll(c, "-", "") {
			require.Contains(t, twofactor.RecoveryAlphabet, string(r))
		}
		require.False(t, seen[c], "duplicate code")
		seen[c] = true
	}
	ev, ok := h.events.Last(notify.RecoveryCodesGenerated)
	require.True(t, ok)
	assert.Equal(t, "10", ev.Attributes["count"])

	// Use one, typed loosely.
	typed := strings.ToLower(strings.ReplaceAll(codes[3], "-", " "))
	p, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: typed})
	require.NoError(t, err)
	assert.Equal(t, twofactor.MethodRecoveryCode, p.Method)
	assert.Empty(t, p.ContactID)
	require.NoError(t, h.svc.CheckProof("alice", p))
	ev, ok = h.events.Last(notify.RecoveryCodeUsed)
	require.True(t, ok, "using a recovery code notifies (a security event, delivered to every contact)")
	assert.True(t, notify.RecoveryCodeUsed.Security())
	assert.Equal(t, "9", ev.Attributes["remaining"])

	// Single use; another subscriber's codes are not ours.
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: codes[3]})
	assert.ErrorIs(t, err, twofactor.ErrInvalidCode)
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "bob", Method: twofactor.MethodRecoveryCode, Code: codes[4]})
	assert.ErrorIs(t, err, twofactor.ErrInvalidCode)
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: "ABC"})
	assert.ErrorIs(t, err, twofactor.ErrMalformedRecoveryCode)

	st, err := h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 9, st.RecoveryCodesLeft)

	// A recovery code of a set generated today is no proof for a new factor, even
	// entered for that.
	_, err = h.svc.GenerateRecoveryCodes(h.ctx, "alice", h.reauth(p), twofactor.Origin{})
	assert.ErrorIs(t, err, twofactor.ErrProofRequired, "a sign-in recovery code")
	pa, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeAddFactor, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: codes[7]})
	require.NoError(t, err)
	_, err = h.svc.GenerateRecoveryCodes(h.ctx, "alice", h.reauth(pa), twofactor.Origin{})
	assert.ErrorIs(t, err, twofactor.ErrFactorInProbation, "a recovery code of a set generated today")

	// Regenerating replaces the whole set.
	fresh, err := h.svc.GenerateRecoveryCodes(h.ctx, "alice", h.reauthFor("alice"), twofactor.Origin{})
	require.NoError(t, err)
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: codes[5]})
	assert.ErrorIs(t, err, twofactor.ErrInvalidCode)
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: fresh[5]})
	require.NoError(t, err)

	// 64 concurrent uses of one code: one proof.
	errs := storetest.ExactlyOnce(t, storetest.Contenders, func(int) error {
		_, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: fresh[6]})
		return err
	})
	for _, err := range errs {
		if !errors.Is(err, twofactor.ErrInvalidCode) && !errors.Is(err, twofactor.ErrLocked) {
			t.Errorf("a losing use returned %v", err)
		}
	}
	noSecrets(t, h.events.Events(), append(codes, fresh...)...)
}

func TestRecoveryCodeUseNotNotifiedGivesNoProof(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	codes, err := h.svc.GenerateRecoveryCodes(h.ctx, "alice", h.reauth(twofactor.Proof{}), twofactor.Origin{})
	require.NoError(t, err)
	h.events.Err = errors.New("outbox down")
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: codes[0]})
	assert.ErrorIs(t, err, h.events.Err)

	// Regenerating when the event cannot be published keeps the old set.
	_, err = h.svc.GenerateRecoveryCodes(h.ctx, "alice", h.reauth(twofactor.Proof{}), twofactor.Origin{})
	assert.ErrorIs(t, err, h.events.Err)
	h.events.Err = nil
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: codes[1]})
	assert.NoError(t, err)
}

func TestAuthenticator(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	app := h.enrollApp("alice")

	// A pending enrollment is not a second factor.
	assert.ErrorIs(t, h.svc.Enable(h.ctx, "alice", h.enableReauth("alice"), twofactor.Origin{}), twofactor.ErrNoSecondFactor)
	_, err := h.auths.Confirm(h.ctx, otp.ConfirmRequest{Subscriber: "alice", Code: app.TOTP(h.clk.Now())})
	require.NoError(t, err)
	require.NoError(t, h.svc.Enable(h.ctx, "alice", h.enableReauth("alice"), twofactor.Origin{}), "an authenticator alone is enough")
	ev, _ := h.events.Last(notify.TwoFactorEnabled)
	assert.Equal(t, "true", ev.Attributes["authenticator"])

	h.clk.Advance(30 * time.Second)
	code := app.TOTP(h.clk.Now())
	p, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodAuthenticator, Code: code})
	require.NoError(t, err)
	assert.Equal(t, twofactor.MethodAuthenticator, p.Method)
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodAuthenticator, Code: code})
	assert.ErrorIs(t, err, otp.ErrReplay)
	st, err := h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	assert.True(t, st.Authenticator)

	// Without Deps.Authenticators, the method just fails like a wrong code.
	d := h.deps()
	d.Authenticators = nil
	bare := h.serviceWith(d)
	h.clk.Advance(30 * time.Second)
	_, err = bare.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodAuthenticator, Code: app.TOTP(h.clk.Now())})
	assert.ErrorIs(t, err, twofactor.ErrInvalidCode)
}

func TestBadRequests(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	_, err := h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "", Code: "123456"})
	assert.ErrorIs(t, err, twofactor.ErrInvalidRequest)
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: "carrier-pigeon", Code: "123456"})
	assert.ErrorIs(t, err, twofactor.ErrInvalidRequest)
	for _, code := range []string{"", "12a456", "12345678901", strings.Repeat("1", 200)} {
		_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", ChallengeID: "x.y.sign_in", Code: code})
		assert.ErrorIs(t, err, otp.ErrMalformedCode, code)
		_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodAuthenticator, Code: code})
		assert.ErrorIs(t, err, otp.ErrMalformedCode, code)
		_, err = h.svc.VerifyContact(h.ctx, twofactor.VerifyContactRequest{Subscriber: "alice", ChallengeID: "x.y.contact_verification", Code: code, Reauth: h.reauthFor("alice")})
		assert.ErrorIs(t, err, otp.ErrMalformedCode, code)
	}
	_, err = h.svc.Complete(h.ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", Method: twofactor.MethodRecoveryCode, Code: "ABCDE-FGHJ1"})
	assert.ErrorIs(t, err, twofactor.ErrMalformedRecoveryCode)
	_, err = h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: "x", Purpose: otp.PurposeContactVerification})
	assert.ErrorIs(t, err, twofactor.ErrInvalidRequest)
	_, err = h.svc.Begin(h.ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: "x", Purpose: "Bad Purpose"})
	assert.ErrorIs(t, err, twofactor.ErrInvalidRequest)
	f, err := h.store.Failures(h.ctx, "alice")
	require.NoError(t, err)
	assert.Zero(t, f.Count, "requests refused on their form are not counted")
}

func TestMessageNeverPrintsTheCode(t *testing.T) {
	m := twofactor.Message{Subscriber: "alice", Kind: twofactor.KindPhone, To: "+447400123456", Code: "918273", Purpose: otp.PurposeSignIn}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("sending", "msg", m)
	for _, out := range []string{fmt.Sprint(m), fmt.Sprintf("%v %+v %#v %s", m, m, m, m), buf.String()} {
		assert.NotContains(t, out, "918273")
		assert.NotContains(t, out, "+447400123456")
		assert.Contains(t, out, "3456")
	}
}

func TestStoreErrorsFailClosed(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, _ := h.setUp("alice")
	ch := h.begin("alice", email.ID)
	ctx, cancel := context.WithCancel(h.ctx)
	cancel() // every memory store call now fails
	_, err := h.svc.Complete(ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", ChallengeID: ch.ID, Code: h.sender.last(t).Code})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = h.svc.Begin(ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: email.ID})
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, h.svc.Enable(ctx, "alice", h.enableReauth("alice"), twofactor.Origin{}), context.Canceled)
	_, err = h.svc.Status(ctx, "alice")
	assert.ErrorIs(t, err, context.Canceled)
}

func TestRemoveAuthenticator(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	p := h.appOnly("alice")

	assert.ErrorIs(t, h.svc.RemoveAuthenticator(h.ctx, "alice", twofactor.Proof{}, twofactor.Origin{}), twofactor.ErrProofRequired)
	err := h.svc.RemoveAuthenticator(h.ctx, "alice", p, twofactor.Origin{})
	assert.ErrorIs(t, err, twofactor.ErrLastContact, "the only factor of an account with 2FA on stays")
	assert.EqualError(t, err, "twofactor: the authenticator app cannot be removed while 2FA is on and no verified contact is left; add and verify a contact, or disable 2FA, first",
		"the message names what is being removed")
	h.addVerified("alice", twofactor.KindEmail, "alice@example.com", p)
	require.NoError(t, h.svc.RemoveAuthenticator(h.ctx, "alice", p, twofactor.Origin{}))
	_, ok := h.events.Last(notify.AuthenticatorRemoved)
	assert.True(t, ok)
	st, err := h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	assert.False(t, st.Authenticator)
	assert.ErrorIs(t, h.svc.RemoveAuthenticator(h.ctx, "alice", p, twofactor.Origin{}), otp.ErrNotEnrolled)
}

// A removed contact still hears about the removal: Recipients feeds notify's router.
func TestRecipientsForNotify(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, phone := h.setUp("alice")
	h.tick()
	_, err := h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail,
		Value: "x@example.com", Reauth: h.reauth(h.signIn("alice", email.ID))})
	assert.ErrorIs(t, err, twofactor.ErrTooManyContacts, "two already")
	require.NoError(t, h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: phone.ID, Proof: h.proveFor("alice", email.ID, otp.PurposeDisableTwoFactor)}))

	contacts, former, err := h.svc.Recipients(h.ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []notify.Recipient{{Channel: notify.ChannelEmail, Address: "alice@example.com"}}, contacts)
	require.Len(t, former, 1)
	assert.Equal(t, notify.Recipient{Channel: notify.ChannelSMS, Address: "+447400123456"}, former[0].Recipient)
	assert.True(t, former[0].Until.Equal(h.clk.Now()))

	ev, ok := h.events.Last(notify.TrustedContactRemoved)
	require.True(t, ok)
	routes, err := notify.Routes(ev, notify.Profile{Contacts: contacts, Former: former}, notify.DefaultFormerWindow)
	require.NoError(t, err)
	assert.Equal(t, []notify.Route{
		{Recipient: notify.Recipient{Channel: notify.ChannelEmail, Address: "alice@example.com"}},
		{Recipient: notify.Recipient{Channel: notify.ChannelSMS, Address: "+447400123456"}, Former: true},
	}, routes)

	// Pending contacts are not recipients.
	h.tick()
	_, err = h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindPhone,
		Value: "07400 555666", Reauth: h.reauthFor("alice")})
	require.NoError(t, err)
	contacts, _, err = h.svc.Recipients(h.ctx, "alice")
	require.NoError(t, err)
	assert.Len(t, contacts, 1)
}

// Taking a second factor away (turning 2FA off, removing the app) with a contact code
// needs a code sent for that: the message named its purpose, and a subscriber who read
// out a sign-in code or one for an account change has not agreed to lose 2FA.
func TestTakingAFactorAwayNeedsItsPurpose(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	phone := h.addVerified("alice", twofactor.KindPhone, "07400 123456", h.appOnly("alice"))
	h.establish() // so that only the purpose can refuse the codes below

	for _, purpose := range []otp.Purpose{otp.PurposeSignIn, otp.PurposeAccountChange, otp.PurposeSIMSwap, otp.PurposePortOut} {
		p := h.proveFor("alice", phone.ID, purpose)
		assert.ErrorIs(t, h.svc.Disable(h.ctx, "alice", p, twofactor.Origin{}), twofactor.ErrProofRequired, "disable with a code for %s", purpose)
		assert.ErrorIs(t, h.svc.RemoveAuthenticator(h.ctx, "alice", p, twofactor.Origin{}), twofactor.ErrProofRequired, "remove the app with a code for %s", purpose)
	}
	st, err := h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	assert.True(t, st.Enabled)
	assert.True(t, st.Authenticator)

	p := h.proveFor("alice", phone.ID, otp.PurposeDisableTwoFactor)
	require.NoError(t, h.svc.RemoveAuthenticator(h.ctx, "alice", p, twofactor.Origin{}))
	require.NoError(t, h.svc.Disable(h.ctx, "alice", p, twofactor.Origin{}))
	st, err = h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	assert.False(t, st.Enabled)
	assert.False(t, st.Authenticator)
}

// contactsOnly is a ContactStore that is nothing else (no ChallengeStore).
type contactsOnly struct{ twofactor.ContactStore }
