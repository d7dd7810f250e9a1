package twofactor

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/carrierguard/carrierguard/internal/cleanup"
	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
)

// Method is how a subscriber proved a second factor.
type Method string

// Methods.
const (
	// MethodContactCode: a one-time code sent to a verified trusted contact (SMS or email).
	MethodContactCode Method = "contact_code"
	// MethodAuthenticator: a code from the subscriber's confirmed authenticator app.
	MethodAuthenticator Method = "authenticator"
	// MethodRecoveryCode: one of the subscriber's single-use recovery codes.
	MethodRecoveryCode Method = "recovery_code"
)

// Proof says that a subscriber proved a second factor, how, for what and when. Complete
// returns it. Taking a factor away (Disable, RemoveContact, RemoveAuthenticator) takes
// one sent for otp.PurposeDisableTwoFactor; adding one (AddContact, VerifyContact,
// EnrollAuthenticator, ConfirmAuthenticator, GenerateRecoveryCodes, Enable) one sent for
// otp.PurposeAddFactor (see Reauth); each no older than Config.ProofMaxAge and from a
// factor past its probation (Config.FactorProbation).
//
// Tag is an HMAC over the other fields under a key derived from Config.HashKey, so a
// Proof can be kept in a server-side session record and checked later with CheckProof,
// and one made up by a client or altered in transit is refused.
//
// Other packages take a proof as evidence. For package protection, use
// protection.EvidenceFromProof, which checks the proof with this service (VerifyProof:
// genuine, for the subscriber the decision is about) before converting it as:
//
//	MethodContactCode + KindPhone → protection.Evidence{Kind: protection.EvidenceContactCode,
//	        Contact: protection.ContactSMS, Destination: p.Destination, ...}
//	MethodContactCode + KindEmail → protection.Evidence{Kind: protection.EvidenceContactCode,
//	        Contact: protection.ContactEmail, ...}
//	MethodAuthenticator           → protection.Evidence{Kind: protection.EvidenceAuthenticator, ...}
//	MethodRecoveryCode            → protection.Evidence{Kind: protection.EvidenceRecoveryCode, ...}
//
// where ... is ObtainedAt: p.At, Purpose: p.Purpose, FactorAddedAt: p.FactorAddedAt: the
// policy counts the proof only toward actions of its purpose, and not toward SIM
// changes, port-outs, flag lifts or taking factors away while its factor is new.
//
// (protection fills in the SIM status of an SMS proof from its SIM-change history using
// Destination, and judges p.At by its own freshness windows.) Never convert a proof
// that has not been checked: a Proof is plain data until its Tag is.
//
// For package session, a successful Complete is the session.ProofSecondFactor to pass
// to session's Create (at sign-in) or StepUp.
type Proof struct {
	Subscriber string
	Method     Method
	// Purpose is what the proof was given for: for a contact code, the purpose its
	// message named; for an authenticator or recovery code, the purpose the caller said
	// it was entered for (CompleteRequest.Purpose). Count a proof only toward actions of
	// its purpose: a code sent "for account change" is no consent to a SIM swap, and a
	// sign-in proof (otp.PurposeSignIn) proves the sign-in only. This package checks it
	// for its own changes; protection's policy matches it per action.
	Purpose otp.Purpose
	// ContactID and Kind name the contact a code went to (MethodContactCode only).
	ContactID string
	Kind      Kind
	// Destination is the E.164 number an SMS code went to (empty otherwise), so a
	// verifier can check the number's SIM-change history itself.
	Destination string
	// Masked is the contact as shown to people ("•••• 2671"), for audit and UIs.
	Masked string
	// At is when the proof was given.
	At time.Time
	// FactorAddedAt is when the factor that gave the proof was added or last changed:
	// the contact's verification, the authenticator's confirmation, or the generation of
	// the recovery-code set. Verifiers treat a factor added within a probation period as
	// not yet established (see package protection). Zero means unknown, which verifiers
	// treat as not established.
	FactorAddedAt time.Time
	Tag           []byte
}

// String describes the proof for logs and audit: the masked contact, never the tag (with
// the other fields, enough to present the proof again until it goes stale) or the full
// number.
func (p Proof) String() string {
	return fmt.Sprintf("twofactor.Proof{%s by %s for %s, %s%s at %s, tag redacted}", p.Subscriber, p.Method,
		cmp.Or(p.Purpose, "-"), cmp.Or(p.Masked, "-"), kindSuffix(p.Kind), p.At.UTC().Format(time.RFC3339Nano))
}

func kindSuffix(k Kind) string {
	if k == "" {
		return ""
	}
	return " (" + string(k) + ")"
}

// GoString is String, so %#v does not print the tag either.
func (p Proof) GoString() string { return p.String() }

// LogValue implements slog.LogValuer without the tag or the full number.
func (p Proof) LogValue() slog.Value {
	return slog.GroupValue(slog.String("subscriber", p.Subscriber), slog.String("method", string(p.Method)),
		slog.String("purpose", string(p.Purpose)), slog.String("contact", p.Masked), slog.String("kind", string(p.Kind)),
		slog.Time("at", p.At))
}

// IsZero reports whether p is the zero Proof (no proof given).
func (p Proof) IsZero() bool { return p.Method == "" && p.Subscriber == "" && len(p.Tag) == 0 }

func (s *Service) proofTag(p Proof) []byte {
	m := hmac.New(sha256.New, s.proofMK)
	m.Write(keyring.AssociatedData(p.Subscriber, string(p.Method), string(p.Purpose), p.ContactID, string(p.Kind),
		p.Destination, p.Masked, strconv.FormatInt(p.At.UnixNano(), 10), unixNanoOrZero(p.FactorAddedAt)))
	return m.Sum(nil)
}

// unixNanoOrZero formats t for a proof tag; the zero time is "0".
func unixNanoOrZero(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

// CheckProof reports whether p is a genuine proof, made by a service with the same
// HashKey, for subscriber, and fresh: no older than Config.ProofMaxAge and not from the
// future. Every failure wraps ErrProofRequired and says why.
func (s *Service) CheckProof(subscriber string, p Proof) error {
	if err := s.VerifyProof(subscriber, p); err != nil {
		return err
	}
	if age := s.cfg.Now().Sub(p.At); age > s.cfg.ProofMaxAge {
		return fmt.Errorf("%w: the proof is older than %s; confirm again", ErrProofRequired, s.cfg.ProofMaxAge)
	}
	return nil
}

// VerifyProof is CheckProof without the age limit: it reports whether p is a genuine
// proof, made by a service with the same HashKey, for subscriber, and not dated in the
// future. It is for verifiers that judge freshness by a policy of their own, such as
// package protection (protection.EvidenceFromProof calls it, and protection's freshness
// windows then apply to p.At). Every failure wraps ErrProofRequired and says why.
func (s *Service) VerifyProof(subscriber string, p Proof) error {
	switch {
	case p.IsZero():
		return fmt.Errorf("%w: none was given", ErrProofRequired)
	case !hmac.Equal(p.Tag, s.proofTag(p)):
		return fmt.Errorf("%w: the proof is not genuine", ErrProofRequired)
	case p.Subscriber != subscriber:
		return fmt.Errorf("%w: the proof is for another subscriber", ErrProofRequired)
	case p.At.After(s.cfg.Now()):
		return fmt.Errorf("%w: the proof is dated in the future", ErrProofRequired)
	}
	return nil
}

// BeginRequest starts a second-factor challenge on one of the subscriber's verified
// contacts.
type BeginRequest struct {
	Subscriber string
	// ContactID picks the contact (from Status or Contacts).
	ContactID string
	// Purpose is what the code is for; it is named in the message and bound into the
	// code. Default otp.PurposeSignIn. It must be one of otp's purposes or listed in
	// Config.Purposes; otp.PurposeContactVerification is reserved for AddContact.
	Purpose otp.Purpose
	// Flow names, opaquely, the flow that asks for the code: "session:<id>" for a
	// step-up in a signed-in session, "signin:<id>" for a pending sign-in, "case:<id>"
	// for an agent's case. Required, at most 200 bytes. The challenge is bound to it
	// server-side (ChallengeStore) and Complete accepts the code only in the same flow,
	// so a code asked for in one place proves nothing in another.
	Flow string
	// ClientIP is the address of the client that asked for the code, as otp's
	// IssueRequest.ClientIP takes it: from the connection or a proxy you trust, never a
	// header the client wrote. SMS codes count against otp's per-client and per-network
	// budgets (SMSBudgets.PerClient, PerNetwork) under it, which is what stops one
	// client from pumping codes to number after number. Give it for every request a
	// client makes; leave it empty only for codes no client asked for (a support agent's
	// console, a job of your own), which count against the global and country budgets
	// alone. An address that does not parse is an error.
	ClientIP string
}

// maxFlow bounds BeginRequest.Flow and CompleteRequest.Flow.
const maxFlow = 200

func checkFlow(f string) error {
	if f == "" || len(f) > maxFlow {
		return fmt.Errorf("%w: Flow must be 1 to %d bytes, got %d", ErrInvalidRequest, maxFlow, len(f))
	}
	return nil
}

// Challenge is a code on its way to a contact. ID is not secret: keep it (or hand it to
// the client) and pass it back to Complete with the code.
type Challenge struct {
	ID        string
	ContactID string
	Kind      Kind
	// Masked is where the code went, for the UI: "we sent a code to •••• 2671".
	Masked    string
	ExpiresAt time.Time
}

// Begin sends a one-time code to the chosen verified contact, for req.Purpose, and binds
// the challenge to req.Flow in the ChallengeStore (if that fails, the code is revoked).
//
// Before an SMS code goes out, the number's SIM-change history is asked whether it had
// a SIM change or port within Config.SIMChangeWindow; if so no code is sent and a
// *SIMChangeError (ErrRecentSIMChange) names the other contacts to use instead (NIST SP
// 800-63B: a verifier should check for a recent SIM change before trusting SMS). If the
// history cannot be asked, the error is returned and nothing is sent.
//
// A locked-out subscriber gets the *LockedError and no code. Resends are throttled by
// otp (otp.ErrThrottled, with RetryAfter), per subscriber and purpose and per
// destination, and SMS codes spend otp's SMS budgets (a *otp.BudgetError naming the
// budget: per client, from req.ClientIP; per country; global; or a number outside the
// allowed countries, otp.ErrCountryNotAllowed). If the Sender fails, the code is withdrawn (otp.Codes.Undelivered) and the
// error returned: nothing is left behind, nothing counts toward the lockout, and the
// attempt does not count toward otp's resend limits, so a gateway outage does not keep
// the subscriber waiting once it is over. A Sender should therefore fail only when the
// message was not accepted for delivery.
func (s *Service) Begin(ctx context.Context, req BeginRequest) (Challenge, error) {
	if err := checkSubscriber(req.Subscriber); err != nil {
		return Challenge{}, err
	}
	purpose := cmp.Or(req.Purpose, otp.PurposeSignIn)
	if err := purpose.Validate(); err != nil {
		return Challenge{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if purpose == otp.PurposeContactVerification {
		return Challenge{}, fmt.Errorf("%w: purpose %s is reserved for AddContact", ErrInvalidRequest, purpose)
	}
	if !s.purposes[purpose] {
		return Challenge{}, fmt.Errorf("%w: purpose %s is not one of otp's nor listed in Config.Purposes", ErrInvalidRequest, purpose)
	}
	if err := checkFlow(req.Flow); err != nil {
		return Challenge{}, err
	}
	if err := s.checkLock(ctx, req.Subscriber); err != nil {
		return Challenge{}, err
	}
	st, err := s.state(ctx, req.Subscriber)
	if err != nil {
		return Challenge{}, err
	}
	c, ok := st.Contact(req.ContactID)
	switch {
	case !ok:
		return Challenge{}, ErrUnknownContact
	case !c.Verified():
		return Challenge{}, ErrContactNotVerified
	}
	if err := s.checkSIM(ctx, st, c); err != nil {
		return Challenge{}, err
	}
	issued, err := s.send(ctx, c, purpose, req.ClientIP)
	if err != nil {
		return Challenge{}, err
	}
	if err := s.bind(ctx, ChallengeBinding{ID: issued.ChallengeID, Subscriber: req.Subscriber, ContactID: c.ID,
		Flow: req.Flow, Purpose: purpose, ExpiresAt: issued.ExpiresAt}); err != nil {
		return Challenge{}, err
	}
	return Challenge{
		ID:        challengeHandle(issued.ChallengeID, c.ID, purpose),
		ContactID: c.ID, Kind: c.Kind, Masked: c.Masked(), ExpiresAt: issued.ExpiresAt,
	}, nil
}

// checkSIM refuses a phone contact whose number had a SIM change or port within
// Config.SIMChangeWindow (a *SIMChangeError naming the subscriber's other verified
// contacts), and fails closed if the history cannot be asked.
func (s *Service) checkSIM(ctx context.Context, st State, c Contact) error {
	if c.Kind != KindPhone {
		return nil
	}
	changed, err := s.sims.SIMChangedWithin(ctx, c.Value, s.cfg.SIMChangeWindow)
	if err != nil {
		s.log.Warn("twofactor: SIM-change check failed; SMS not used", "error", err)
		return fmt.Errorf("twofactor: SIM-change check: %w", err)
	}
	if !changed {
		return nil
	}
	e := &SIMChangeError{Contact: c.Masked()}
	for _, o := range st.Contacts {
		if o.ID != c.ID && o.Verified() {
			e.Alternatives = append(e.Alternatives, o)
		}
	}
	return e
}

// checkLock returns the subscriber's lockout, if any, without counting anything.
func (s *Service) checkLock(ctx context.Context, subscriber string) error {
	f, err := s.fails.Failures(ctx, subscriber)
	if err != nil {
		return fmt.Errorf("twofactor: failure store: %w", err)
	}
	return s.policy.Locked(f, s.cfg.Now())
}

func destination(c Contact) otp.Destination {
	if c.Kind == KindPhone {
		return otp.Destination{Channel: otp.ChannelSMS, Address: c.Value}
	}
	return otp.Destination{Channel: otp.ChannelEmail, Address: c.Value}
}

// send issues a code for the contact, asked for by clientIP (see BeginRequest.ClientIP),
// and hands it to the Sender; if that fails the code is withdrawn, its issue no longer
// counting toward otp's resend limits or budgets, and the sender's error returned.
func (s *Service) send(ctx context.Context, c Contact, purpose otp.Purpose, clientIP string) (otp.Issued, error) {
	issued, err := s.codes.Issue(ctx, otp.IssueRequest{Subscriber: c.Subscriber, Purpose: purpose, Destination: destination(c), ClientIP: clientIP})
	if err != nil {
		return otp.Issued{}, err
	}
	err = s.sender.Send(ctx, Message{Subscriber: c.Subscriber, Kind: c.Kind, To: c.Value, Code: issued.Code, Purpose: purpose, ExpiresAt: issued.ExpiresAt})
	if err != nil {
		err = redact(err, issued.Code)
		s.log.Warn("twofactor: code not delivered; withdrawn", "kind", string(c.Kind), "purpose", string(purpose), "error", err)
		cctx, cancel := cleanup.Context(ctx)
		defer cancel()
		if rerr := s.codes.Undelivered(cctx, issued.ChallengeID); rerr != nil {
			return otp.Issued{}, errors.Join(fmt.Errorf("twofactor: sending code: %w", err), rerr)
		}
		return otp.Issued{}, fmt.Errorf("twofactor: sending code: %w", err)
	}
	return issued, nil
}

// redactedError is a Sender error with the code taken out of its message: gateways
// often echo the request, message text included, in their errors. Unwrap still gives
// the sender's error for errors.Is and errors.As; do not log what it unwraps to.
type redactedError struct {
	err  error
	code string
}

func redact(err error, code string) error {
	if code == "" || !strings.Contains(err.Error(), code) {
		return err
	}
	return &redactedError{err: err, code: code}
}

func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.code, "[code redacted]")
}

func (e *redactedError) Unwrap() error { return e.err }

// challengeHandle joins what Complete needs to check a code: the otp challenge, the
// contact and the purpose. None of it is secret, and tampering with any part only makes
// the code fail: the challenge ID, the purpose and the contact's address are all bound
// into the code's keyed hash, and the subscriber's contacts are looked up server-side.
func challengeHandle(otpID, contactID string, p otp.Purpose) string {
	return otpID + "." + contactID + "." + string(p)
}

func parseHandle(h string) (otpID, contactID string, p otp.Purpose, ok bool) {
	if len(h) > 200 {
		return "", "", "", false
	}
	parts := strings.SplitN(h, ".", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], otp.Purpose(parts[2]), otp.Purpose(parts[2]).Validate() == nil
}

// ChallengePurpose returns the purpose a contact-code challenge (Begin's Challenge.ID, or
// AddContact's ChallengeID) was sent for, if it was bound to subscriber in flow; any
// other challenge (unknown, expired and swept, of another subscriber, flow or contact,
// or an ID that is not a challenge) gets ErrInvalidCode, so it says nothing about other
// flows' challenges. Nothing is counted: no code is compared.
//
// It is for a step-up screen that does not know which purpose the subscriber asked a
// code for: it asks the library, which bound the purpose when it sent the code, and
// passes the answer as CompleteRequest.Purpose; Complete checks the binding again and
// the Proof carries that purpose, so the code still counts only for what its message
// named. A screen that expects one purpose (a sign-in: otp.PurposeSignIn) passes that
// purpose to Complete instead, and a code sent for anything else fails there.
func (s *Service) ChallengePurpose(ctx context.Context, subscriber, flow, challengeID string) (otp.Purpose, error) {
	otpID, contactID, purpose, ok := parseHandle(challengeID)
	if !ok || subscriber == "" || flow == "" {
		return "", ErrInvalidCode
	}
	b, err := s.challenges.Challenge(ctx, otpID)
	switch {
	case errors.Is(err, ErrNotFound):
		return "", ErrInvalidCode
	case err != nil:
		return "", fmt.Errorf("twofactor: challenge store: %w", err)
	case b.Subscriber != subscriber, b.ContactID != contactID, b.Flow != flow, b.Purpose != purpose:
		return "", ErrInvalidCode
	}
	return b.Purpose, nil
}

// CompleteRequest is a second-factor code submitted by the subscriber.
type CompleteRequest struct {
	Subscriber string
	// Method is how the subscriber proves it. Default MethodContactCode.
	Method Method
	// ChallengeID is Begin's Challenge.ID (MethodContactCode only).
	ChallengeID string
	// Code is what the subscriber typed.
	Code string
	// Purpose is what the caller expects the proof to be for: otp.PurposeSignIn on a
	// sign-in screen, the step-up's purpose on a step-up screen. Required; the same
	// purposes as BeginRequest.Purpose. A contact-code challenge issued for another
	// purpose fails as a wrong code; an authenticator or recovery code is bound to it,
	// and the Proof carries it.
	Purpose otp.Purpose
	// Flow is the flow the caller is completing (BeginRequest.Flow). Required for
	// MethodContactCode: a challenge issued in another flow fails as a wrong code.
	Flow string
}

// Complete checks a second-factor code and returns a Proof for req.Purpose.
//
// A contact code completes only the challenge Begin bound to the same subscriber, flow
// and purpose ([ChallengeStore]): one begun in another flow or for another purpose
// fails as a wrong code, counted. The caller says what it expects; it compares nothing
// itself. The Proof carries the purpose and its factor's age (Proof.FactorAddedAt).
//
// Input that cannot be a code (otp.ErrMalformedCode: letters, no digits, more than 10;
// ErrMalformedRecoveryCode) is refused without counting; a code of a length the verifier
// does not expect is counted and gives ErrInvalidCode, like a wrong code. Every other attempt is counted
// toward the subscriber's lockout before the code is compared, whatever the method and
// whatever the outcome (wrong, expired, replayed); a success resets the count. A wrong code, an unknown challenge or
// subscriber, an unverified contact and a method the subscriber has not set up all give
// ErrInvalidCode. A locked subscriber gets the *LockedError and nothing is compared. An
// attempt that starts a lockout publishes notify.Lockout. An SMS code is refused with a
// *SIMChangeError if the number had a SIM change or port since (see Begin).
//
// A recovery code is used up and notify.RecoveryCodeUsed published (it goes to every
// contact); if that event cannot be published, no proof is given.
func (s *Service) Complete(ctx context.Context, req CompleteRequest) (Proof, error) {
	if err := checkSubscriber(req.Subscriber); err != nil {
		return Proof{}, err
	}
	method := cmp.Or(req.Method, MethodContactCode)
	if err := req.Purpose.Validate(); err != nil {
		return Proof{}, fmt.Errorf("%w: Purpose: %w", ErrInvalidRequest, err)
	}
	if req.Purpose == otp.PurposeContactVerification || !s.purposes[req.Purpose] {
		return Proof{}, fmt.Errorf("%w: purpose %s cannot be proved with Complete", ErrInvalidRequest, req.Purpose)
	}
	if method == MethodContactCode {
		if err := checkFlow(req.Flow); err != nil {
			return Proof{}, err
		}
	}
	code := req.Code
	switch method {
	case MethodContactCode, MethodAuthenticator:
		if _, err := otp.NormalizeCode(code, 0); err != nil {
			return Proof{}, err // not a code at all, decided from the input alone: not counted
		}
	case MethodRecoveryCode:
		var err error
		if code, err = NormalizeRecoveryCode(code); err != nil {
			return Proof{}, err // decided from the input alone: not counted
		}
	default:
		return Proof{}, fmt.Errorf("%w: method %q is not %s, %s or %s", ErrInvalidRequest, method, MethodContactCode, MethodAuthenticator, MethodRecoveryCode)
	}
	f, err := s.fails.BeginAttempt(ctx, req.Subscriber, s.policy)
	switch {
	case errors.Is(err, ErrLocked):
		return Proof{}, err
	case err != nil:
		return Proof{}, fmt.Errorf("twofactor: failure store: %w", err)
	}
	var p Proof
	switch method {
	case MethodContactCode:
		p, err = s.completeContact(ctx, req, code)
	case MethodAuthenticator:
		p, err = s.completeAuthenticator(ctx, req.Subscriber, code)
	case MethodRecoveryCode:
		p, err = s.completeRecovery(ctx, req.Subscriber, code)
	}
	if err != nil {
		return Proof{}, s.failed(ctx, req.Subscriber, f, err)
	}
	if err := s.fails.ResetFailures(ctx, req.Subscriber); err != nil {
		return Proof{}, fmt.Errorf("twofactor: failure store: %w", err)
	}
	p.Subscriber, p.Method, p.Purpose, p.At = req.Subscriber, method, req.Purpose, s.cfg.Now()
	p.Tag = s.proofTag(p)
	return p, nil
}

// failed handles an attempt that did not succeed (already counted as f): it publishes
// notify.Lockout if this failure started one, and returns the error to give the caller.
func (s *Service) failed(ctx context.Context, subscriber string, f Failures, cause error) error {
	if !s.policy.starts(f.Count) {
		return cause
	}
	until, hard := s.policy.Until(f)
	attrs := map[string]string{"failures": strconv.Itoa(f.Count), "hard": strconv.FormatBool(hard)}
	if !hard {
		attrs["until"] = until.UTC().Format(time.RFC3339)
	}
	e := s.event(notify.Lockout, subscriber, Origin{Actor: notify.Actor{Kind: notify.ActorSystem, ID: "twofactor"}, Channel: "system"}, attrs)
	if err := s.publish(ctx, e); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// codeError maps an otp verification error to what Complete returns. Input that is not
// a code at all was refused before the attempt was counted; a malformed-code error from
// the verifier can only be otp.ErrWrongLength, which would say that the subscriber has a
// contact or an app expecting another number of digits (an unknown subscriber gets
// ErrInvalidCode), so it is reported as a wrong code.
func codeError(err error) error {
	switch {
	case errors.Is(err, otp.ErrInvalidCode), errors.Is(err, otp.ErrNotEnrolled), errors.Is(err, otp.ErrMalformedCode):
		return ErrInvalidCode
	case errors.Is(err, otp.ErrExpired), errors.Is(err, otp.ErrAttemptsExhausted), errors.Is(err, otp.ErrReplay):
		return err
	}
	return fmt.Errorf("twofactor: verifying code: %w", err)
}

// completeContact checks a contact code. The challenge must be bound (ChallengeStore)
// to this subscriber, contact, flow and purpose; anything else is a wrong code, counted.
func (s *Service) completeContact(ctx context.Context, req CompleteRequest, code string) (Proof, error) {
	subscriber := req.Subscriber
	otpID, contactID, purpose, ok := parseHandle(req.ChallengeID)
	if !ok || purpose != req.Purpose {
		return Proof{}, ErrInvalidCode
	}
	b, err := s.challenges.Challenge(ctx, otpID)
	switch {
	case errors.Is(err, ErrNotFound):
		return Proof{}, ErrInvalidCode
	case err != nil:
		return Proof{}, fmt.Errorf("twofactor: challenge store: %w", err)
	case b.Subscriber != subscriber, b.ContactID != contactID, b.Flow != req.Flow, b.Purpose != req.Purpose:
		return Proof{}, ErrInvalidCode
	}
	st, err := s.state(ctx, subscriber)
	if err != nil {
		return Proof{}, err
	}
	c, ok := st.Contact(contactID)
	if !ok || !c.Verified() {
		return Proof{}, ErrInvalidCode
	}
	// Asked again: an SMS the network held while the phone was off is delivered to
	// whichever SIM has the number when it comes back, so a swap since Begin counts too.
	if err := s.checkSIM(ctx, st, c); err != nil {
		return Proof{}, err
	}
	if _, err := s.codes.Verify(ctx, otp.VerifyRequest{
		ChallengeID: otpID, Subscriber: subscriber, Purpose: purpose, Destination: destination(c), Code: code,
	}); err != nil {
		return Proof{}, codeError(err)
	}
	p := Proof{ContactID: c.ID, Kind: c.Kind, Masked: c.Masked(), FactorAddedAt: c.VerifiedAt}
	if c.Kind == KindPhone {
		p.Destination = c.Value
	}
	return p, nil
}

func (s *Service) completeAuthenticator(ctx context.Context, subscriber, code string) (Proof, error) {
	if s.auths == nil {
		return Proof{}, ErrInvalidCode
	}
	m, err := s.auths.Verify(ctx, subscriber, code)
	if err != nil {
		return Proof{}, codeError(err)
	}
	return Proof{FactorAddedAt: m.ConfirmedAt}, nil
}

func (s *Service) completeRecovery(ctx context.Context, subscriber, code string) (Proof, error) {
	left, generated, err := s.rec.ConsumeRecoveryCode(ctx, subscriber, hashRecoveryCode(s.recMK, subscriber, code))
	switch {
	case errors.Is(err, ErrNotFound):
		return Proof{}, ErrInvalidCode
	case err != nil:
		return Proof{}, fmt.Errorf("twofactor: recovery store: %w", err)
	}
	e := s.event(notify.RecoveryCodeUsed, subscriber, Origin{}, map[string]string{"remaining": strconv.Itoa(left)})
	if err := s.publish(ctx, e); err != nil {
		return Proof{}, err
	}
	return Proof{FactorAddedAt: generated}, nil
}

// ProofMethod names the factor in the plain terms other packages use: "totp" for an
// authenticator app, "recovery_code", and for a trusted-contact code "sms" or "email".
// Package questions names methods the same way (in its Config.ProofMethods and its
// events) and checks each proof it is given with [Service.VerifyProof] first; anyone
// else reading a Proof must do the same, since its fields mean nothing until the tag is
// checked.
func (p Proof) ProofMethod() string {
	switch {
	case p.Method == MethodAuthenticator:
		return "totp"
	case p.Method == MethodRecoveryCode:
		return "recovery_code"
	case p.Kind == KindPhone:
		return "sms"
	default:
		return "email"
	}
}
