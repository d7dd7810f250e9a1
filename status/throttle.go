package status

import (
	"errors"
	"fmt"
	"time"
)

// Default resend limits for verification links.
const (
	// DefaultMinResendInterval is the least time between two links for a subscriber.
	DefaultMinResendInterval = 60 * time.Second
	// DefaultHourlyLimit is how many links a subscriber may be sent in any sliding hour.
	DefaultHourlyLimit = 5
)

// ErrThrottled is wrapped by every refusal of the resend limits: SendLink (and
// ChangeEmail) return it as a *ThrottleError that says how long to wait.
var ErrThrottled = errors.New("status: too many verification links requested")

// ThrottleReason says which resend limit refused a link.
type ThrottleReason string

// Throttle reasons.
const (
	// ThrottleInterval: the previous link was sent less than the minimum interval ago.
	ThrottleInterval ThrottleReason = "interval"
	// ThrottleHourly: the hourly limit of links was reached in the last hour.
	ThrottleHourly ThrottleReason = "hourly_limit"
)

// ThrottleError is returned (by VerificationStore.ReserveLink, and then by SendLink and
// ChangeEmail) when no link may be sent yet. errors.Is(err, ErrThrottled) reports true
// for it. It says nothing about the address, so it is safe to show.
type ThrottleError struct {
	Reason ThrottleReason
	// RetryAfter is how long until a link may be sent: whole seconds, at least one.
	RetryAfter time.Duration
}

func (e *ThrottleError) Error() string {
	return fmt.Sprintf("%v (%s): retry after %s", ErrThrottled, e.Reason, e.RetryAfter)
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottleError) Is(target error) bool { return target == ErrThrottled }

// ResendLimits are the limits VerificationStore.ReserveLink enforces. A zero field
// disables that limit; the Service always passes non-zero values.
type ResendLimits struct {
	// MinInterval is the least time between two links for a subscriber.
	MinInterval time.Duration
	// PerHour is how many links a subscriber may be sent in any sliding hour.
	PerHour int
}
