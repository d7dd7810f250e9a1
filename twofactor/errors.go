package twofactor

import (
	"errors"
	"fmt"
	"strings"
)

// Errors. Which a subscriber-facing API may show is part of the contract:
//
//	ErrInvalidCode          a wrong code, an unknown challenge or subscriber, a method the
//	                        subscriber has not set up: deliberately one error, counted
//	                        toward the lockout, so nothing can be learned by probing.
//	ErrLocked               too many failures; a *LockedError says until when (or that
//	                        only support can lift it). Safe to show.
//	ErrInvalidContact       (and ErrInvalidEmail, ErrInvalidPhone, ErrNotMobile) the input
//	                        is not an acceptable contact; the message says why. Safe to show.
//	ErrTooManyContacts,
//	ErrDuplicateContact,
//	ErrLastContact,
//	ErrUnknownContact,
//	ErrContactNotVerified   contact management refused, for a signed-in subscriber.
//	                        ErrLastContact also refuses removing the authenticator app
//	                        when it is the only second factor (its message says so).
//	ErrRecentSIMChange      the number had a SIM change or port recently; a
//	                        *SIMChangeError names the alternatives. Safe to show.
//	ErrProofRequired        the operation needs a fresh second-factor proof (or, for a
//	                        factor change while 2FA is off, the password re-entered).
//	                        Safe to show.
//	ErrFactorInProbation    (wraps ErrProofRequired) the proof came from a factor added
//	                        within Config.FactorProbation. Safe to show.
//	ErrChangeRefused        the Gate refused a factor change; the error it wraps says
//	                        why (from protection, a *protection.DecisionError). Safe to show.
//	ErrNoSecondFactor       2FA cannot be enabled without a verified contact or
//	                        authenticator. Safe to show.
//	ErrMalformedRecoveryCode  the input cannot be a recovery code (not counted).
//	ErrInvalidRequest       a required field is missing or malformed.
//	ErrNotFound             store miss; the service translates it and never returns it.
//	ErrConflict             store refusal (a contact removed as pending was verified
//	                        meanwhile); the service re-evaluates and never returns it.
//
// Errors from package otp pass through where they concern a challenge the caller holds
// (otp.ErrExpired, otp.ErrAttemptsExhausted, otp.ErrReplay, otp.ErrThrottled). Any
// other error (store, sender, SIM-change checker, publisher) is an internal failure:
// nothing was allowed.
var (
	ErrInvalidCode        = errors.New("twofactor: invalid code")
	ErrTooManyContacts    = fmt.Errorf("twofactor: a subscriber may have at most %d trusted contacts; remove one first", MaxContacts)
	ErrDuplicateContact   = errors.New("twofactor: that contact is already registered")
	ErrLastContact        = errors.New("twofactor: the last verified contact cannot be removed while 2FA is on")
	ErrUnknownContact     = errors.New("twofactor: no such contact")
	ErrContactNotVerified = errors.New("twofactor: the contact is not verified yet")
	ErrRecentSIMChange    = errors.New("twofactor: the number had a recent SIM change or port; codes are not sent to it")
	ErrProofRequired      = errors.New("twofactor: a fresh second-factor proof is required")
	ErrNoSecondFactor     = errors.New("twofactor: 2FA needs a verified contact or a confirmed authenticator app")
	ErrInvalidRequest     = errors.New("twofactor: invalid request")
	ErrNotFound           = errors.New("twofactor: not found")
	ErrConflict           = errors.New("twofactor: the contact was verified meanwhile")
	ErrFactorInProbation  = fmt.Errorf("%w: the factor that gave it was added too recently to authorise this; use one on file for longer", ErrProofRequired)
	ErrChangeRefused      = errors.New("twofactor: the account's protection refused the change")
)

// SIMChangeError is returned by Begin when the chosen number had a SIM change or port
// within Config.SIMChangeWindow. errors.Is(err, ErrRecentSIMChange) reports true.
type SIMChangeError struct {
	// Contact is the masked number ("•••• 2671").
	Contact string
	// Alternatives are the subscriber's other verified contacts, to offer instead.
	Alternatives []Contact
}

func (e *SIMChangeError) Error() string {
	var b strings.Builder
	b.WriteString(ErrRecentSIMChange.Error())
	b.WriteString(" (")
	b.WriteString(e.Contact)
	b.WriteString(")")
	if len(e.Alternatives) == 0 {
		b.WriteString("; use an authenticator app or a recovery code")
		return b.String()
	}
	b.WriteString("; use ")
	for i, c := range e.Alternatives {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString(c.Masked())
	}
	b.WriteString(" instead")
	return b.String()
}

// Is makes errors.Is(err, ErrRecentSIMChange) true.
func (e *SIMChangeError) Is(target error) bool { return target == ErrRecentSIMChange }

// lastFactorError refuses to remove a subscriber's only second factor while 2FA is on,
// in words that name the factor being removed. errors.Is(err, ErrLastContact) reports
// true, so callers match it as they match a refused contact removal.
type lastFactorError struct{ msg string }

func (e *lastFactorError) Error() string { return e.msg }

// Is makes errors.Is(err, ErrLastContact) true.
func (e *lastFactorError) Is(target error) bool { return target == ErrLastContact }

// errLastAuthenticator is RemoveAuthenticator's ErrLastContact: the app is the only
// second factor left.
var errLastAuthenticator error = &lastFactorError{msg: "twofactor: the authenticator app cannot be removed while 2FA is on and no verified contact is left; add and verify a contact, or disable 2FA, first"}
