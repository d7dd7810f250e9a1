package password

import (
	"fmt"
	"time"
)

// RotationState says whether a subscriber's password must change.
type RotationState int

// Rotation states.
const (
	// RotationCurrent: nothing to do. Under a policy without rotation this is the
	// state until a compromise is reported.
	RotationCurrent RotationState = iota
	// RotationDueSoon: the password expires within Policy.RotationWarning.
	RotationDueSoon
	// RotationExpired: the password is older than Policy.RotationPeriod.
	RotationExpired
	// RotationCompromised: a compromise was reported (ReportCompromise); the password
	// must change before anything else.
	RotationCompromised
)

func (s RotationState) String() string {
	switch s {
	case RotationCurrent:
		return "current"
	case RotationDueSoon:
		return "due_soon"
	case RotationExpired:
		return "expired"
	case RotationCompromised:
		return "compromised"
	}
	return fmt.Sprintf("RotationState(%d)", int(s))
}

// Rotation is a subscriber's password rotation status.
type Rotation struct {
	State RotationState
	// ChangedAt is when the password was last set.
	ChangedAt time.Time
	// DueAt is when the password expires; zero when the policy has no rotation.
	DueAt time.Time
	// DaysLeft is the number of started days until DueAt (1 on its last day), 0 once
	// expired or when the policy has no rotation.
	DaysLeft int
}

// MustChange reports whether the subscriber must change the password now.
func (r Rotation) MustChange() bool {
	return r.State == RotationExpired || r.State == RotationCompromised
}

const day = 24 * time.Hour

func rotationOf(p Policy, rec Record, now time.Time) Rotation {
	r := Rotation{ChangedAt: rec.ChangedAt}
	if p.RotationPeriod > 0 {
		r.DueAt = rec.ChangedAt.Add(p.RotationPeriod)
		switch left := r.DueAt.Sub(now); {
		case left <= 0:
			r.State = RotationExpired
		default:
			r.DaysLeft = int((left + day - 1) / day)
			if left <= p.RotationWarning {
				r.State = RotationDueSoon
			}
		}
	}
	if rec.MustChange {
		r.State = RotationCompromised
	}
	return r
}
