package twofactor

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/carrierguard/carrierguard/internal/cleanup"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
)

// AddContactRequest registers a trusted contact.
type AddContactRequest struct {
	Subscriber string
	Kind       Kind
	// Value is the email address or phone number as the subscriber typed it.
	Value string
	// Proof is required once 2FA is on (ASVS: full re-authentication before changing
	// authentication factors); before that the zero Proof will do.
	Proof Proof
	Origin
}

// PendingContact is a contact waiting for its verification code.
type PendingContact struct {
	Contact Contact
	// ChallengeID is passed back to VerifyContact with the code.
	ChallengeID string
}

// AddContact parses and normalises the contact, stores it unverified and sends it a code
// (purpose otp.PurposeContactVerification). It counts for nothing until VerifyContact.
//
// Errors: an ErrInvalidContact that says what is wrong with the input;
// ErrDuplicateContact; ErrTooManyContacts (at most MaxContacts, pending ones included);
// ErrProofRequired; a *LockedError while the subscriber is locked out; otp.ErrThrottled (codes for contact verification are throttled per
// subscriber, so a second contact added within otp's resend interval must wait
// RetryAfter). If the code cannot be issued or sent, or the event cannot be published,
// the contact is removed again and the error returned: nothing half-made is left.
// Publishes notify.TrustedContactAdded, which tells the subscriber's existing contacts.
func (s *Service) AddContact(ctx context.Context, req AddContactRequest) (PendingContact, error) {
	if err := checkSubscriber(req.Subscriber); err != nil {
		return PendingContact{}, err
	}
	if err := s.checkOrigin(req.Origin); err != nil {
		return PendingContact{}, err
	}
	value, err := ParseContact(req.Kind, req.Value, s.cfg.Phone)
	if err != nil {
		return PendingContact{}, err
	}
	if err := s.checkLock(ctx, req.Subscriber); err != nil {
		return PendingContact{}, err // its code could not be entered anyway
	}
	st, err := s.state(ctx, req.Subscriber)
	if err != nil {
		return PendingContact{}, err
	}
	if st.Enabled {
		if err := s.CheckProof(req.Subscriber, req.Proof); err != nil {
			return PendingContact{}, err
		}
	}
	id, err := s.newID()
	if err != nil {
		return PendingContact{}, err
	}
	c := Contact{ID: id, Subscriber: req.Subscriber, Kind: req.Kind, Value: value, CreatedAt: s.cfg.Now()}
	switch err := s.states.AddContact(ctx, c, MaxContacts); {
	case errors.Is(err, ErrDuplicateContact), errors.Is(err, ErrTooManyContacts):
		return PendingContact{}, err
	case err != nil:
		return PendingContact{}, fmt.Errorf("twofactor: contact store: %w", err)
	}
	undo := func(cause error) (PendingContact, error) {
		cctx, cancel := cleanup.Context(ctx)
		defer cancel()
		// Only while still pending: one its owner has verified meanwhile stays, like any
		// verified contact removed without a proof.
		if _, err := s.states.RemoveContact(cctx, c.Subscriber, c.ID, s.cfg.Now(), true); err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) {
			return PendingContact{}, errors.Join(cause, fmt.Errorf("twofactor: removing the unfinished contact: %w", err))
		}
		return PendingContact{}, cause
	}
	issued, err := s.send(ctx, c, otp.PurposeContactVerification)
	if err != nil {
		return undo(err)
	}
	err = s.publish(ctx, s.event(notify.TrustedContactAdded, c.Subscriber, req.Origin, contactAttrs(c)))
	if err != nil {
		cctx, cancel := cleanup.Context(ctx)
		defer cancel()
		// The code went out, so it keeps counting toward the resend limits: Revoke, not
		// Undelivered.
		if rerr := s.codes.Revoke(cctx, issued.ChallengeID); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return undo(err)
	}
	return PendingContact{Contact: c, ChallengeID: challengeHandle(issued.ChallengeID, c.ID, otp.PurposeContactVerification)}, nil
}

func contactAttrs(c Contact) map[string]string {
	return map[string]string{"contact": c.Masked(), "kind": string(c.Kind), "verified": strconv.FormatBool(c.Verified())}
}

// ResendVerification sends a new verification code to a pending contact (subject to
// otp's resend limits). The previous code stays valid until it expires.
func (s *Service) ResendVerification(ctx context.Context, subscriber, contactID string) (PendingContact, error) {
	if err := checkSubscriber(subscriber); err != nil {
		return PendingContact{}, err
	}
	st, err := s.state(ctx, subscriber)
	if err != nil {
		return PendingContact{}, err
	}
	c, ok := st.Contact(contactID)
	switch {
	case !ok:
		return PendingContact{}, ErrUnknownContact
	case c.Verified():
		return PendingContact{}, fmt.Errorf("%w: the contact is already verified", ErrInvalidRequest)
	}
	if err := s.checkLock(ctx, subscriber); err != nil {
		return PendingContact{}, err
	}
	issued, err := s.send(ctx, c, otp.PurposeContactVerification)
	if err != nil {
		return PendingContact{}, err
	}
	return PendingContact{Contact: c, ChallengeID: challengeHandle(issued.ChallengeID, c.ID, otp.PurposeContactVerification)}, nil
}

// VerifyContactRequest is the code a subscriber received at a new contact.
type VerifyContactRequest struct {
	Subscriber  string
	ChallengeID string
	Code        string
	// Proof is required when 2FA is on and the contact was added before it was turned on
	// (so without a proof); otherwise the zero Proof will do.
	Proof Proof
	Origin
}

// VerifyContact checks the code sent by AddContact or ResendVerification and marks the
// contact verified. A contact added before 2FA was turned on needs a fresh proof in
// req.Proof once it is on (ErrProofRequired, nothing counted). Attempts count toward the subscriber's lockout like any other code
// and a success resets the count (harmless: once 2FA is on, adding a contact needs a
// proof, which resets it anyway). Errors as for Complete. Publishes
// notify.TrustedContactVerified.
func (s *Service) VerifyContact(ctx context.Context, req VerifyContactRequest) (Contact, error) {
	if err := checkSubscriber(req.Subscriber); err != nil {
		return Contact{}, err
	}
	if err := s.checkOrigin(req.Origin); err != nil {
		return Contact{}, err
	}
	if _, err := otp.NormalizeCode(req.Code, 0); err != nil {
		return Contact{}, err // not a code at all: not counted
	}
	if err := s.checkLateVerification(ctx, req); err != nil {
		return Contact{}, err // for the signed-in subscriber; nothing compared, not counted
	}
	f, err := s.fails.BeginAttempt(ctx, req.Subscriber, s.policy)
	switch {
	case errors.Is(err, ErrLocked):
		return Contact{}, err
	case err != nil:
		return Contact{}, fmt.Errorf("twofactor: failure store: %w", err)
	}
	c, err := s.checkContactCode(ctx, req)
	if err != nil {
		return Contact{}, s.failed(ctx, req.Subscriber, f, err)
	}
	if err := s.fails.ResetFailures(ctx, req.Subscriber); err != nil {
		return Contact{}, fmt.Errorf("twofactor: failure store: %w", err)
	}
	v, err := s.states.VerifyContact(ctx, req.Subscriber, c.ID, s.cfg.Now())
	switch {
	case errors.Is(err, ErrNotFound): // removed in the meantime
		return Contact{}, ErrUnknownContact
	case err != nil:
		return Contact{}, fmt.Errorf("twofactor: contact store: %w", err)
	}
	if c.Verified() {
		return v, nil // already verified: nothing changed
	}
	return v, s.publish(ctx, s.event(notify.TrustedContactVerified, v.Subscriber, req.Origin, contactAttrs(v)))
}

// checkLateVerification requires a fresh proof to verify a contact that was added, without
// a proof, before 2FA was turned on: verifying it now makes it a trusted contact, and
// once 2FA is on that needs a proof, as adding one does.
func (s *Service) checkLateVerification(ctx context.Context, req VerifyContactRequest) error {
	_, contactID, _, ok := parseHandle(req.ChallengeID)
	if !ok {
		return nil // a wrong code, counted below
	}
	st, err := s.state(ctx, req.Subscriber)
	if err != nil {
		return err
	}
	c, ok := st.Contact(contactID)
	if !ok || c.Verified() || !st.Enabled || !c.CreatedAt.Before(st.EnabledAt) {
		return nil
	}
	if err := s.CheckProof(req.Subscriber, req.Proof); err != nil {
		return fmt.Errorf("%w (the contact was added before 2FA was turned on)", err)
	}
	return nil
}

// checkContactCode verifies a contact-verification code and returns the contact.
func (s *Service) checkContactCode(ctx context.Context, req VerifyContactRequest) (Contact, error) {
	otpID, contactID, purpose, ok := parseHandle(req.ChallengeID)
	if !ok || purpose != otp.PurposeContactVerification {
		return Contact{}, ErrInvalidCode
	}
	st, err := s.state(ctx, req.Subscriber)
	if err != nil {
		return Contact{}, err
	}
	c, ok := st.Contact(contactID)
	if !ok {
		return Contact{}, ErrInvalidCode
	}
	if _, err := s.codes.Verify(ctx, otp.VerifyRequest{
		ChallengeID: otpID, Subscriber: req.Subscriber, Purpose: purpose, Destination: destination(c), Code: req.Code,
	}); err != nil {
		return Contact{}, codeError(err)
	}
	return c, nil
}

// RemoveContactRequest removes a trusted contact.
type RemoveContactRequest struct {
	Subscriber string
	ContactID  string
	// Proof is required to remove a verified contact; a pending one needs none.
	Proof Proof
	Origin
}

// RemoveContact removes a trusted contact. A verified contact needs a fresh proof
// (ErrProofRequired, also when a pending contact is verified while it is being
// removed: the store checks that it is still pending in the same step), and the last
// verified contact cannot be removed while 2FA is on (ErrLastContact): disable 2FA
// first, or add and verify the replacement first. To
// replace a contact, add the new one, verify it, then remove the old one. A removed
// verified contact is kept as a former contact (State.Former) for FormerRetention, so it
// still hears about changes. Publishes notify.TrustedContactRemoved, after the removal,
// so a notify.Directory over Recipients routes it to the removed address too.
func (s *Service) RemoveContact(ctx context.Context, req RemoveContactRequest) error {
	if err := checkSubscriber(req.Subscriber); err != nil {
		return err
	}
	if err := s.checkOrigin(req.Origin); err != nil {
		return err
	}
	st, err := s.state(ctx, req.Subscriber)
	if err != nil {
		return err
	}
	c, ok := st.Contact(req.ContactID)
	if !ok {
		return ErrUnknownContact
	}
	if c.Verified() {
		if err := s.CheckProof(req.Subscriber, req.Proof); err != nil {
			return err
		}
	}
	// Removed without a proof only if the store still finds it pending: a verification
	// that lands after the read above must not let it go unproved.
	removed, err := s.states.RemoveContact(ctx, req.Subscriber, c.ID, s.cfg.Now(), !c.Verified())
	if errors.Is(err, ErrConflict) {
		// Verified meanwhile (verification is never undone): now it needs the proof.
		if err := s.CheckProof(req.Subscriber, req.Proof); err != nil {
			return fmt.Errorf("%w (the contact was verified meanwhile)", err)
		}
		removed, err = s.states.RemoveContact(ctx, req.Subscriber, c.ID, s.cfg.Now(), false)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrUnknownContact
	case errors.Is(err, ErrLastContact):
		return ErrLastContact
	case err != nil:
		return fmt.Errorf("twofactor: contact store: %w", err)
	}
	return s.publish(ctx, s.event(notify.TrustedContactRemoved, req.Subscriber, req.Origin, contactAttrs(removed)))
}

// Recipients returns where package notify should reach the subscriber through their
// trusted contacts: the verified ones, and those removed within FormerRetention (see
// State.Recipients). A notify.Directory built over this service calls it.
func (s *Service) Recipients(ctx context.Context, subscriber string) ([]notify.Recipient, []notify.FormerAddress, error) {
	if err := checkSubscriber(subscriber); err != nil {
		return nil, nil, err
	}
	st, err := s.state(ctx, subscriber)
	if err != nil {
		return nil, nil, err
	}
	contacts, former := st.Recipients()
	return contacts, former, nil
}

// Contacts returns the subscriber's trusted contacts, verified or pending, in the order
// they were added. Show their Masked() form.
func (s *Service) Contacts(ctx context.Context, subscriber string) ([]Contact, error) {
	if err := checkSubscriber(subscriber); err != nil {
		return nil, err
	}
	st, err := s.state(ctx, subscriber)
	if err != nil {
		return nil, err
	}
	return st.Contacts, nil
}
