package twofactor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carrierguard/carrierguard/otp"
)

// Reauth is what a signed-in subscriber presents for a change that adds a way to sign
// in: a contact, an authenticator app, a new set of recovery codes, or turning 2FA on.
// Take every field from the server's own records (the session registry and the proofs
// kept with the session), never from the request.
type Reauth struct {
	// Proof is a fresh proof (Config.ProofMaxAge) given for otp.PurposeAddFactor by a
	// factor the subscriber already has: never the one being added.
	Proof Proof
	// SignedInAt is when the session making the request signed in
	// (session.Session.CreatedAt); the Gate counts it as the session evidence.
	SignedInAt time.Time
	// PasswordAt is when the password was last entered in that session
	// (session.Session.PasswordAt); zero if never.
	PasswordAt time.Time
}

// FactorAction names a factor change, for the Gate.
type FactorAction string

// Factor changes.
const (
	FactorAddContact           FactorAction = "add_contact"
	FactorVerifyContact        FactorAction = "verify_contact"
	FactorEnrollAuthenticator  FactorAction = "enroll_authenticator"
	FactorConfirmAuthenticator FactorAction = "confirm_authenticator"
	FactorRecoveryCodes        FactorAction = "recovery_codes"
	FactorEnable               FactorAction = "enable"
)

// FactorChange is a change the Gate decides, after this package's own checks passed.
type FactorChange struct {
	Subscriber string
	Action     FactorAction
	// TwoFactorOn says whether 2FA is on.
	TwoFactorOn bool
	// First is true when the subscriber has no second factor at all (no verified
	// contact, no confirmed app) and 2FA is off: nothing exists to ask a code of, so
	// Reauth holds the session and the password only.
	First bool
	// Reauth is what the subscriber presented. Its Proof, if not zero, has been checked
	// by this service: genuine, fresh, for Subscriber, given for otp.PurposeAddFactor by
	// a factor other than the one being added.
	Reauth
	Origin
}

// Gate decides factor changes with the account's wider protection: flags such as
// Account Lockdown, and the risk of the request. protection.FactorGate implements it
// over protection.Service.Decide (package protection imports this one, so the
// interface lives here). It must be safe for concurrent use. nil allows the change;
// an error refuses it and is returned to the caller: wrap ErrChangeRefused for a
// refusal, anything else is a fault, and the change is refused all the same.
type Gate interface {
	AllowFactorChange(ctx context.Context, c FactorChange) error
}

// ProbationGate is a Gate that also says how long its policy holds a factor to be new
// for the changes this package checks itself: turning 2FA on or off, taking a factor
// away, and adding one while 2FA is on. protection.FactorGate implements it from the
// policy's Probation. New compares it with Config.FactorProbation, so that the two
// packages cannot disagree about when a thief's new factor starts to count (see
// Config.FactorProbation).
type ProbationGate interface {
	Gate
	// FactorProbation returns the longest such probation of the gate's policy; zero
	// if it has none.
	FactorProbation() time.Duration
}

// GateFunc adapts a function to Gate.
type GateFunc func(ctx context.Context, c FactorChange) error

// AllowFactorChange calls f(ctx, c).
func (f GateFunc) AllowFactorChange(ctx context.Context, c FactorChange) error { return f(ctx, c) }

// factorSet is what a factor change is checked against.
type factorSet struct {
	subscriber string
	state      State
	auth       otp.Status
}

func (s *Service) factors(ctx context.Context, subscriber string) (factorSet, error) {
	st, err := s.state(ctx, subscriber)
	if err != nil {
		return factorSet{}, err
	}
	auth, err := s.authenticator(ctx, subscriber)
	if err != nil {
		return factorSet{}, err
	}
	return factorSet{subscriber: subscriber, state: st, auth: auth}, nil
}

// has reports whether the subscriber has a second factor other than the contact target.
func (fs factorSet) has(target string) bool {
	if fs.auth.Confirmed {
		return true
	}
	for _, c := range fs.state.Contacts {
		if c.Verified() && c.ID != target {
			return true
		}
	}
	return false
}

// onFile reports whether the factor that gave p is still one of the subscriber's: a
// verified contact, the confirmed app, or (for a recovery code) any set, which the code
// was consumed from.
func (fs factorSet) onFile(p Proof) bool {
	switch p.Method {
	case MethodContactCode:
		c, ok := fs.state.Contact(p.ContactID)
		return ok && c.Verified()
	case MethodAuthenticator:
		return fs.auth.Confirmed
	}
	return p.Method == MethodRecoveryCode
}

// authorizeFactorChange applies the rules for adding a way to sign in, then asks the
// Gate. target is the contact being added or verified ("" otherwise).
//
//   - While 2FA is off, the password must have been entered within
//     Config.PasswordMaxAge.
//   - If the subscriber has a second factor other than target (or 2FA is on, or the
//     change turns 2FA on), a fresh proof given for otp.PurposeAddFactor is needed,
//     from a factor other than target: never only the contact being added.
//   - While 2FA is on, and to turn it on, that factor must be past its probation.
//
// A subscriber with no factor at all and 2FA off adds the first one with the
// password alone (FactorChange.First); what that factor can then do is limited by its
// probation, and every address on file hears of it first.
func (s *Service) authorizeFactorChange(ctx context.Context, fs factorSet, action FactorAction, target string, re Reauth, o Origin) error {
	sub := fs.subscriber
	on := fs.state.Enabled
	existing := fs.has(target)
	if action == FactorEnable && !existing {
		return ErrNoSecondFactor
	}
	if !on {
		now := s.cfg.Now()
		switch age := now.Sub(re.PasswordAt); {
		case re.PasswordAt.IsZero(), re.PasswordAt.After(now):
			return fmt.Errorf("%w: re-enter the password first", ErrProofRequired)
		case age > s.cfg.PasswordMaxAge:
			return fmt.Errorf("%w: the password was entered more than %s ago; re-enter it", ErrProofRequired, s.cfg.PasswordMaxAge)
		}
	}
	if on || existing {
		if err := s.checkPurposeProof(sub, re.Proof, otp.PurposeAddFactor, on || action == FactorEnable); err != nil {
			return err
		}
		if target != "" && re.Proof.ContactID == target {
			return fmt.Errorf("%w: a code to the contact being added does not authorise adding it", ErrProofRequired)
		}
		if !fs.onFile(re.Proof) {
			return fmt.Errorf("%w: the factor that gave the proof is no longer on file", ErrProofRequired)
		}
	} else {
		re.Proof = Proof{} // not asked for: the Gate sees only what was checked
	}
	c := FactorChange{Subscriber: sub, Action: action, TwoFactorOn: on, First: !on && !existing, Reauth: re, Origin: o}
	if err := s.gate.AllowFactorChange(ctx, c); err != nil {
		if errors.Is(err, ErrChangeRefused) {
			return err
		}
		return fmt.Errorf("twofactor: factor-change gate: %w", err)
	}
	return nil
}

// EnrollAuthenticatorRequest starts enrolling an authenticator app.
type EnrollAuthenticatorRequest struct {
	Subscriber string
	// Account and Kind are as in otp.EnrollRequest.
	Account string
	Kind    otp.Kind
	Reauth
	Origin
}

// EnrollAuthenticator starts enrolling an authenticator app through
// otp.Authenticators.Enroll, after the checks every factor change gets (see Reauth and
// Gate). Use it rather than otp's Enroll, which checks nothing. The Enrollment carries
// the secret: show it once, over the signed-in session.
func (s *Service) EnrollAuthenticator(ctx context.Context, req EnrollAuthenticatorRequest) (otp.Enrollment, error) {
	if err := s.authenticatorChange(ctx, req.Subscriber, FactorEnrollAuthenticator, req.Reauth, req.Origin); err != nil {
		return otp.Enrollment{}, err
	}
	return s.auths.Enroll(ctx, otp.EnrollRequest{Subscriber: req.Subscriber, Account: req.Account, Kind: req.Kind})
}

// ConfirmAuthenticatorRequest confirms a pending enrollment with a code from the app.
type ConfirmAuthenticatorRequest struct {
	Subscriber string
	Code       string
	Reauth
	Origin
}

// ConfirmAuthenticator confirms a pending enrollment (otp.Authenticators.Confirm, which
// publishes notify.AuthenticatorEnrolled), after the checks every factor change gets,
// made again because 2FA may have gone on since the key was enrolled: the pending key
// becomes a second factor only now. Errors from otp pass through.
func (s *Service) ConfirmAuthenticator(ctx context.Context, req ConfirmAuthenticatorRequest) error {
	if err := s.authenticatorChange(ctx, req.Subscriber, FactorConfirmAuthenticator, req.Reauth, req.Origin); err != nil {
		return err
	}
	_, err := s.auths.Confirm(ctx, otp.ConfirmRequest{Subscriber: req.Subscriber, Code: req.Code, Channel: req.Origin.Channel})
	return err
}

func (s *Service) authenticatorChange(ctx context.Context, subscriber string, a FactorAction, re Reauth, o Origin) error {
	if err := checkSubscriber(subscriber); err != nil {
		return err
	}
	if err := s.checkOrigin(o); err != nil {
		return err
	}
	if s.auths == nil {
		return fmt.Errorf("%w: no authenticator service is configured (Deps.Authenticators)", ErrInvalidRequest)
	}
	fs, err := s.factors(ctx, subscriber)
	if err != nil {
		return err
	}
	if fs.auth.Confirmed {
		if a == FactorConfirmAuthenticator {
			return otp.ErrNotEnrolled // nothing pending, as otp's Confirm says
		}
		return otp.ErrAlreadyEnrolled // remove it first, with a proof for that
	}
	return s.authorizeFactorChange(ctx, fs, a, "", re, o)
}
