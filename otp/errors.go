package otp

import (
	"errors"
	"fmt"
	"time"
)

// Errors. Which ones a subscriber-facing API may show is part of the contract:
//
//	ErrInvalidCode        wrong code, unknown challenge, or a code for another subscriber,
//	                      purpose or destination: deliberately one error, so a caller
//	                      cannot learn which it was. Safe to show as "that code is not right".
//	ErrMalformedCode      the input is not a code at all (letters, symbols, empty, too long);
//	                      decided from the input alone, so it reveals nothing. Safe to show.
//	ErrWrongLength        wraps ErrMalformedCode: the right characters, the wrong count.
//	ErrExpired            the challenge or pending enrollment outlived its time to live.
//	ErrAttemptsExhausted  the code took its maximum of wrong attempts and is dead.
//	ErrReplay             the code was already used (out-of-band), or its time step or
//	                      counter is not later than the last one accepted (TOTP/HOTP).
//	ErrThrottled          too many codes issued, too soon, or after too many failures, or
//	                      too many sent to one destination; returned as a *ThrottleError
//	                      carrying the reason and RetryAfter.
//	ErrBudgetExceeded     wraps ErrThrottled: an SMS budget (global, per client, per IPv6
//	                      network, per calling code) is spent; returned as a *BudgetError
//	                      naming the budget, with RetryAfter the budget's whole window.
//	ErrCountryNotAllowed  the SMS or voice number is outside SMSBudgets.HomeRegions and
//	                      AllowedRegions (a *BudgetError with the region, if known).
//	                      Not a throttle: no wait helps. Safe to show.
//	ErrNotEnrolled        the subscriber has no confirmed authenticator (or no pending one
//	                      to confirm).
//	ErrAlreadyEnrolled    the subscriber already has a confirmed authenticator.
//	ErrNotFound           store miss; services translate it and never return it.
//
// ErrExpired, ErrAttemptsExhausted and ErrReplay only ever concern a challenge ID the
// caller already holds (random, 128 bits), so telling them apart reveals nothing about
// codes; integrators may still show them all as "request a new code". Any other error
// (store, keyring, publisher, context) is an internal failure: treat it as a rejection.
var (
	ErrInvalidCode       = errors.New("otp: invalid code")
	ErrMalformedCode     = errors.New("otp: malformed code")
	ErrWrongLength       = fmt.Errorf("%w: wrong number of digits", ErrMalformedCode)
	ErrExpired           = errors.New("otp: expired")
	ErrAttemptsExhausted = errors.New("otp: too many wrong attempts")
	ErrReplay            = errors.New("otp: code already used")
	ErrThrottled         = errors.New("otp: too many codes requested")
	ErrNotEnrolled       = errors.New("otp: no authenticator enrolled")
	ErrAlreadyEnrolled   = errors.New("otp: an authenticator is already enrolled")
	ErrNotFound          = errors.New("otp: not found")
	// ErrInvalidKeyURI is wrapped by every ParseKeyURI error.
	ErrInvalidKeyURI = errors.New("otp: invalid key URI")
)

// ThrottleReason says which resend limit refused a code.
type ThrottleReason string

// Throttle reasons.
const (
	// ThrottleInterval: the previous code was issued less than MinResendInterval ago.
	ThrottleInterval ThrottleReason = "interval"
	// ThrottleHourly: HourlyLimit codes were issued in the last hour.
	ThrottleHourly ThrottleReason = "hourly_limit"
	// ThrottleFailures: MaxFailures wrong codes in a row; wait for FailureCooldown.
	ThrottleFailures ThrottleReason = "failures"
	// ThrottleDestination: DestinationHourlyLimit codes went to this phone number or
	// email address in the last hour, for whichever subscribers. Codes reports the wait
	// as a full hour, so the error says nothing about when others' codes were sent.
	ThrottleDestination ThrottleReason = "destination_limit"
)

// ThrottleError is returned (by RateStore.ReserveIssue and then Codes.Issue) when a new
// code may not be issued yet. errors.Is(err, ErrThrottled) reports true for it.
type ThrottleError struct {
	Reason ThrottleReason
	// RetryAfter is how long until a new code may be issued: whole seconds, rounded up,
	// at least one, so a caller that waits that long is not refused for being early.
	RetryAfter time.Duration
}

func (e *ThrottleError) Error() string {
	return fmt.Sprintf("%v (%s): retry after %s", ErrThrottled, e.Reason, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottleError) Is(target error) bool { return target == ErrThrottled }
