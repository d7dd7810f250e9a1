package twofactor_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/twofactor"
)

// interleavingStore runs afterState once, right after the first State read that follows
// arming it: the place where another request's write lands between the service's read
// and its own write.
type interleavingStore struct {
	*memory.TwoFactor
	afterState func()
}

func (s *interleavingStore) State(ctx context.Context, subscriber string) (twofactor.State, error) {
	st, err := s.TwoFactor.State(ctx, subscriber)
	if f := s.afterState; f != nil {
		s.afterState = nil
		f()
	}
	return st, err
}

// TestRemoveContactVerifiedMeanwhileNeedsProof: a pending contact that is verified after
// RemoveContact read it as pending must not then be removed without a proof.
func TestRemoveContactVerifiedMeanwhileNeedsProof(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, phone := h.setUp("alice")
	p := h.proveFor("alice", email.ID, otp.PurposeDisableTwoFactor)
	h.tick()
	// Make room for a pending contact.
	require.NoError(t, h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: phone.ID, Proof: p}))
	pc, err := h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindPhone, Value: "07400 999888", Reauth: h.reauthFor("alice")})
	require.NoError(t, err)
	code := h.sender.last(t).Code

	wrapped := &interleavingStore{TwoFactor: h.store}
	deps := h.deps()
	deps.Contacts = wrapped
	svc := h.serviceWith(deps)
	wrapped.afterState = func() {
		c, err := h.svc.VerifyContact(h.ctx, twofactor.VerifyContactRequest{Subscriber: "alice", ChallengeID: pc.ChallengeID, Code: code, Reauth: h.reauthFor("alice")})
		require.NoError(t, err)
		require.True(t, c.Verified())
	}
	h.events.Reset()

	// No proof: the removal is refused, the now verified contact stays.
	err = svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: pc.Contact.ID})
	assert.ErrorIs(t, err, twofactor.ErrProofRequired)
	assert.ErrorContains(t, err, "verified meanwhile")
	assert.NotErrorIs(t, err, twofactor.ErrConflict, "the store's sentinel stays inside the service")
	assert.Nil(t, wrapped.afterState, "the interleaving did not run")
	st, err := h.store.State(h.ctx, "alice")
	require.NoError(t, err)
	c, ok := st.Contact(pc.Contact.ID)
	require.True(t, ok, "a contact verified meanwhile was removed without a proof")
	assert.True(t, c.Verified())
	assert.Equal(t, []notify.Type{notify.TrustedContactVerified}, h.events.Types())

	// With a fresh proof the same interleaving ends in the removal of the verified contact.
	require.NoError(t, h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: pc.Contact.ID, Proof: p}))
	h.tick()
	pc, err = h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail, Value: "a2@example.com", Reauth: h.reauthFor("alice")})
	require.NoError(t, err)
	code = h.sender.last(t).Code
	wrapped.afterState = func() {
		_, err := h.svc.VerifyContact(h.ctx, twofactor.VerifyContactRequest{Subscriber: "alice", ChallengeID: pc.ChallengeID, Code: code, Reauth: h.reauthFor("alice")})
		require.NoError(t, err)
	}
	h.events.Reset()
	require.NoError(t, svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: pc.Contact.ID, Proof: p}))
	assert.Nil(t, wrapped.afterState, "the interleaving did not run")
	st, err = h.store.State(h.ctx, "alice")
	require.NoError(t, err)
	_, ok = st.Contact(pc.Contact.ID)
	assert.False(t, ok, "the contact was not removed")
	require.Equal(t, []notify.Type{notify.TrustedContactVerified, notify.TrustedContactRemoved}, h.events.Types())
	ev, _ := h.events.Last(notify.TrustedContactRemoved)
	assert.Equal(t, "true", ev.Attributes["verified"], "the removal event says the contact was verified")
}

// hookPublisher runs before on every event, then records it unless before fails.
type hookPublisher struct {
	*notify.Recorder
	before func(notify.Event) error
}

func (p hookPublisher) Publish(ctx context.Context, e notify.Event) error {
	if err := p.before(e); err != nil {
		return err
	}
	return p.Recorder.Publish(ctx, e)
}

// TestAddContactUndoKeepsContactVerifiedMeanwhile: when AddContact fails after the
// contact was stored (its code could not be sent) and takes the new contact back, a
// contact its owner verified in the meantime is not removed (without a proof) by that
// clean-up.
func TestAddContactUndoKeepsContactVerifiedMeanwhile(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	deps := h.deps()
	deps.Sender = twofactor.SenderFunc(func(ctx context.Context, m twofactor.Message) error {
		st, err := h.store.State(h.ctx, m.Subscriber)
		require.NoError(t, err)
		require.Len(t, st.Contacts, 1)
		_, err = h.store.VerifyContact(h.ctx, m.Subscriber, st.Contacts[0].ID, h.clk.Now())
		require.NoError(t, err)
		return errGateway
	})
	svc := h.serviceWith(deps)

	_, err := svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail, Value: "a@example.com", Reauth: h.reauthFor("alice")})
	require.ErrorIs(t, err, errGateway)
	assert.NotErrorIs(t, err, twofactor.ErrConflict)
	st, err := h.store.State(h.ctx, "alice")
	require.NoError(t, err)
	require.Len(t, st.Contacts, 1, "the contact verified meanwhile was removed")
	assert.True(t, st.Contacts[0].Verified())
	assert.Empty(t, st.Former)
}

// Every existing contact hears of a new one before it exists: TrustedContactAdded is
// published before the contact is stored, and if it cannot be, nothing is added and no
// code goes out.
func TestAddContactIsAnnouncedFirst(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email := h.addVerified("alice", twofactor.KindEmail, "alice@example.com", twofactor.Proof{})
	re := h.reauthFor("alice")
	errBus := errors.New("event bus down")
	deps := h.deps()
	deps.Publisher = hookPublisher{Recorder: h.events, before: func(e notify.Event) error {
		if e.Type != notify.TrustedContactAdded {
			return nil
		}
		st, err := h.store.State(h.ctx, e.Subscriber)
		require.NoError(t, err)
		assert.Len(t, st.Contacts, 1, "the new contact was stored before it was announced")
		return errBus
	}}
	svc := h.serviceWith(deps)
	sent := h.sender.count()
	_, err := svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail, Value: "mallory@example.net", Reauth: re})
	require.ErrorIs(t, err, errBus)
	st, err := h.store.State(h.ctx, "alice")
	require.NoError(t, err)
	assert.Len(t, st.Contacts, 1, "a contact nobody heard of was added")
	assert.Equal(t, email.ID, st.Contacts[0].ID)
	assert.Equal(t, sent, h.sender.count(), "a code went to a contact nobody heard of")
}
