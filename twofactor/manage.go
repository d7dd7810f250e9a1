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
	// ClientIP is the address of the client that asked, for otp's SMS budgets: the
	// verification code to a phone number is an SMS like any other. See
	// BeginRequest.ClientIP.
	ClientIP string
	// Reauth is what the subscriber re-proved (ASVS: full re-authentication before
	// changing authentication factors); see Reauth and Service.AddContact.
	Reauth
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
// Adding a contact is a factor change. While 2FA is off: the password entered within
// Config.PasswordMaxAge, and, if the subscriber has a verified contact or an app
// already, a fresh code from one of them sent for otp.PurposeAddFactor (never only the
// contact being added). While 2FA is on: a fresh proof for otp.PurposeAddFactor from a
// factor past its probation. Then the Gate decides. A subscriber with no factor at all
// adds the first with the password alone; it is new for Config.FactorProbation, and
// cannot meanwhile turn 2FA on or take anything away.
//
// Errors: an ErrInvalidContact that says what is wrong with the input;
// ErrDuplicateContact; ErrTooManyContacts (at most MaxContacts, pending ones included);
// ErrProofRequired, ErrFactorInProbation, ErrChangeRefused; a *LockedError while the
// subscriber is locked out; otp.ErrThrottled (codes for contact verification are
// throttled per subscriber, so a second contact added within otp's resend interval must
// wait RetryAfter); a *otp.BudgetError if an SMS budget refuses the code to a phone
// number (req.ClientIP is counted, and the number's country must be allowed).
// notify.TrustedContactAdded is published first, so the subscriber's
// existing contacts hear of it before it exists; if that fails nothing is added. If the
// code cannot be issued or sent, the contact is removed again and the error returned:
// nothing half-made is left.
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
	fs, err := s.factors(ctx, req.Subscriber)
	if err != nil {
		return PendingContact{}, err
	}
	for _, o := range fs.state.Contacts {
		if o.Kind == req.Kind && o.Value == value {
			return PendingContact{}, ErrDuplicateContact
		}
	}
	if len(fs.state.Contacts) >= MaxContacts {
		return PendingContact{}, ErrTooManyContacts
	}
	if err := s.authorizeFactorChange(ctx, fs, FactorAddContact, "", req.Reauth, req.Origin); err != nil {
		return PendingContact{}, err
	}
	id, err := s.newID()
	if err != nil {
		return PendingContact{}, err
	}
	c := Contact{ID: id, Subscriber: req.Subscriber, Kind: req.Kind, Value: value, CreatedAt: s.cfg.Now()}
	// Told first: the existing contacts hear of the new one before it exists.
	if err := s.publish(ctx, s.event(notify.TrustedContactAdded, c.Subscriber, req.Origin, contactAttrs(c))); err != nil {
		return PendingContact{}, err
	}
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
	issued, err := s.send(ctx, c, otp.PurposeContactVerification, req.ClientIP)
	if err != nil {
		return undo(err)
	}
	if err := s.bindVerification(ctx, c, issued); err != nil {
		return undo(err)
	}
	return PendingContact{Contact: c, ChallengeID: challengeHandle(issued.ChallengeID, c.ID, otp.PurposeContactVerification)}, nil
}

func contactAttrs(c Contact) map[string]string {
	return map[string]string{"contact": c.Masked(), "kind": string(c.Kind), "verified": strconv.FormatBool(c.Verified())}
}

// ResendVerificationRequest asks for a new code to a pending contact.
type ResendVerificationRequest struct {
	Subscriber string
	ContactID  string
	// ClientIP is the address of the client that asked, for otp's SMS budgets; see
	// BeginRequest.ClientIP.
	ClientIP string
}

// ResendVerification sends a new verification code to a pending contact (subject to
// otp's resend limits and SMS budgets). The previous code stays valid until it expires.
func (s *Service) ResendVerification(ctx context.Context, req ResendVerificationRequest) (PendingContact, error) {
	subscriber, contactID := req.Subscriber, req.ContactID
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
	issued, err := s.send(ctx, c, otp.PurposeContactVerification, req.ClientIP)
	if err != nil {
		return PendingContact{}, err
	}
	if err := s.bindVerification(ctx, c, issued); err != nil {
		return PendingContact{}, err
	}
	return PendingContact{Contact: c, ChallengeID: challengeHandle(issued.ChallengeID, c.ID, otp.PurposeContactVerification)}, nil
}

// VerifyContactRequest is the code a subscriber received at a new contact.
type VerifyContactRequest struct {
	Subscriber  string
	ChallengeID string
	Code        string
	// Reauth is what the subscriber re-proved: verifying a contact makes it a factor,
	// so it needs what adding one does (see AddContact), checked again now.
	Reauth
	Origin
}

// VerifyContact checks the code sent by AddContact or ResendVerification and marks the
// contact verified. Verifying makes the contact a factor, so the rules of AddContact
// apply again, now, before any code is compared (ErrProofRequired and the like,
// nothing counted): 2FA may have gone on, or another contact been verified, since it
// was added. Attempts count toward the subscriber's lockout like any other code and a
// success resets the count (harmless: the change needed a proof or the password).
// Errors as for Complete. notify.TrustedContactVerified is published before the contact
// is marked verified; if that fails, it stays pending.
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
	if err := s.checkVerification(ctx, req); err != nil {
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
	if !c.Verified() {
		// Told first: every contact hears of a new factor before it counts.
		shown := c
		shown.VerifiedAt = s.cfg.Now()
		if err := s.publish(ctx, s.event(notify.TrustedContactVerified, c.Subscriber, req.Origin, contactAttrs(shown))); err != nil {
			return Contact{}, err
		}
	}
	v, err := s.states.VerifyContact(ctx, req.Subscriber, c.ID, s.cfg.Now())
	switch {
	case errors.Is(err, ErrNotFound): // removed in the meantime
		return Contact{}, ErrUnknownContact
	case err != nil:
		return Contact{}, fmt.Errorf("twofactor: contact store: %w", err)
	}
	return v, nil
}

// checkVerification applies AddContact's rules to verifying a pending contact: it is
// the step that makes the contact a factor.
func (s *Service) checkVerification(ctx context.Context, req VerifyContactRequest) error {
	_, contactID, _, ok := parseHandle(req.ChallengeID)
	if !ok {
		return nil // a wrong code, counted below
	}
	fs, err := s.factors(ctx, req.Subscriber)
	if err != nil {
		return err
	}
	c, ok := fs.state.Contact(contactID)
	if !ok || c.Verified() {
		return nil // a wrong code, counted below; or nothing will change
	}
	return s.authorizeFactorChange(ctx, fs, FactorVerifyContact, c.ID, req.Reauth, req.Origin)
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
	b, err := s.challenges.Challenge(ctx, otpID)
	switch {
	case errors.Is(err, ErrNotFound):
		return Contact{}, ErrInvalidCode
	case err != nil:
		return Contact{}, fmt.Errorf("twofactor: challenge store: %w", err)
	case b.Subscriber != req.Subscriber, b.ContactID != c.ID, b.Flow != ContactFlow(c.ID), b.Purpose != purpose:
		return Contact{}, ErrInvalidCode
	}
	if _, err := s.codes.Verify(ctx, otp.VerifyRequest{
		ChallengeID: otpID, Subscriber: req.Subscriber, Purpose: purpose, Destination: destination(c), Code: req.Code,
	}); err != nil {
		return Contact{}, codeError(err)
	}
	return c, nil
}

// ContactFlow is the flow a contact's verification challenges are bound to:
// "contact:<id>". A verification code completes only there, for that contact.
func ContactFlow(contactID string) string { return "contact:" + contactID }

// bindVerification binds a verification code just sent to c to c's flow.
func (s *Service) bindVerification(ctx context.Context, c Contact, issued otp.Issued) error {
	return s.bind(ctx, ChallengeBinding{ID: issued.ChallengeID, Subscriber: c.Subscriber, ContactID: c.ID,
		Flow: ContactFlow(c.ID), Purpose: otp.PurposeContactVerification, ExpiresAt: issued.ExpiresAt})
}

// bind stores the binding of a code just sent. If that fails, the code is revoked: it
// could complete nothing without its binding, and it went out, so it keeps counting
// toward the resend limits (Revoke, not Undelivered).
func (s *Service) bind(ctx context.Context, b ChallengeBinding) error {
	if err := s.challenges.PutChallenge(ctx, b, s.cfg.Now()); err != nil {
		err = fmt.Errorf("twofactor: challenge store: %w", err)
		cctx, cancel := cleanup.Context(ctx)
		defer cancel()
		if rerr := s.codes.Revoke(cctx, b.ID); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return err
	}
	return nil
}

// RemoveContactRequest removes a trusted contact.
type RemoveContactRequest struct {
	Subscriber string
	ContactID  string
	// Proof is required to remove a verified contact (given for
	// otp.PurposeDisableTwoFactor by a factor past its probation); a pending one needs
	// none.
	Proof Proof
	Origin
}

// RemoveContact removes a trusted contact. A verified contact needs a fresh proof given
// for otp.PurposeDisableTwoFactor by a factor past its probation (ErrProofRequired,
// ErrFactorInProbation; also when a pending contact is verified while it is being
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
		if err := s.checkDisableProof(req.Subscriber, req.Proof); err != nil {
			return err
		}
	}
	// Removed without a proof only if the store still finds it pending: a verification
	// that lands after the read above must not let it go unproved.
	removed, err := s.states.RemoveContact(ctx, req.Subscriber, c.ID, s.cfg.Now(), !c.Verified())
	if errors.Is(err, ErrConflict) {
		// Verified meanwhile (verification is never undone): now it needs the proof.
		if err := s.checkDisableProof(req.Subscriber, req.Proof); err != nil {
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
