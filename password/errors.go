package password

import (
	"errors"
	"fmt"
	"time"
)

// Input errors: the password could not be examined at all. They are returned by every
// method that takes a password, before any policy check, store read or hash.
var (
	// ErrEmpty is returned for an empty password.
	ErrEmpty = errors.New("password: password is empty")
	// ErrTooLong is returned for a password over MaxBytes bytes. It protects the
	// service (normalisation, strength estimation and hashing all grow with length);
	// the policy's MaxLength, in characters, is reported as a Reason instead.
	ErrTooLong = fmt.Errorf("password: password is longer than %d bytes", MaxBytes)
	// ErrInvalidUTF8 is returned for a password that is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("password: password is not valid UTF-8")
)

// Service errors.
var (
	// ErrNoSubscriber is returned when a subscriber ID is empty.
	ErrNoSubscriber = errors.New("password: subscriber ID is empty")
	// ErrNotFound is returned by stores (and wrapped by the service) when a subscriber
	// has no password record.
	ErrNotFound = errors.New("password: no password for subscriber")
	// ErrConflict is returned by stores when a compare-and-swap finds that the stored
	// hash changed underneath the caller (a concurrent change or rehash).
	ErrConflict = errors.New("password: password record changed concurrently")
	// ErrExists is returned by Enroll when the subscriber already has a password.
	ErrExists = errors.New("password: subscriber already has a password")
	// ErrMismatch is returned when a password does not match the stored hash. Sign-in
	// for an unknown subscriber returns it too, so callers cannot tell the two apart.
	ErrMismatch = errors.New("password: wrong password")
	// ErrLocked is wrapped by *LockedError when too many consecutive failures locked
	// sign-in.
	ErrLocked = errors.New("password: sign-in is locked after too many failed attempts")
	// ErrRejected is returned by Enroll and Change when the new password fails the
	// policy; the accompanying Result lists every reason.
	ErrRejected = errors.New("password: new password rejected by policy")
	// ErrBreachUnavailable is wrapped by breach checkers when the breach source could
	// not be consulted (timeout, network error, 5xx, malformed answer).
	ErrBreachUnavailable = errors.New("password: breached-password check unavailable")
	// ErrMalformedHash is returned for a stored hash that cannot be parsed, or whose
	// parameters are outside the range this package will compute.
	ErrMalformedHash = errors.New("password: malformed password hash")
	// ErrUnknownPepper is returned for a hash made with a pepper ID the Hasher does
	// not hold. It fails closed: the password is not considered verified.
	ErrUnknownPepper = errors.New("password: hash was made with an unknown pepper")
)

// LockedError reports a sign-in lockout. It wraps ErrLocked.
type LockedError struct {
	// Until is when the lockout ends. It is the zero time for a lockout that does not
	// expire (the consecutive-failure cap was reached); only ResetFailures lifts it.
	Until time.Time
}

func (e *LockedError) Error() string {
	if e.Until.IsZero() {
		return ErrLocked.Error() + " (until reset by account recovery)"
	}
	return fmt.Sprintf("%s (until %s)", ErrLocked, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }
