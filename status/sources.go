package status

import (
	"context"
	"time"
)

// The status reads the other three steps from the packages that own them, through
// these small interfaces. Each method has a distinct name, so one adapter type can
// satisfy all three; the Func types adapt plain functions. Every error fails the status
// closed: Status returns the error rather than guessing "done" or "not done".

// TwoFactorState reports whether a subscriber has two-factor authentication enabled.
// *twofactor.Service satisfies it; TwoFactorFunc adapts a function.
type TwoFactorState interface {
	TwoFactorEnabled(ctx context.Context, subscriber string) (bool, error)
}

// QuestionsState reports whether a subscriber has set all three security questions.
// Wrap package questions' Service with FromQuestions, or a function in QuestionsFunc.
type QuestionsState interface {
	QuestionsSet(ctx context.Context, subscriber string) (bool, error)
}

// Rotation is what the status needs to know about a subscriber's password.
type Rotation struct {
	// ChangedAt is when the password was last set; zero means no password on record.
	ChangedAt time.Time
	// Period is how long a password stays current before it must be updated (the
	// carrier default is a year). Zero means no periodic rotation, the NIST SP 800-63B
	// profile: a set password stays current.
	Period time.Duration
	// MustChange says the password must change now whatever its age, because a
	// compromise was reported (password.RotationCompromised). The step is then not done.
	MustChange bool
}

// DueAt is when the password stops being current: zero if there is no password or no
// rotation.
func (r Rotation) DueAt() time.Time {
	if r.ChangedAt.IsZero() || r.Period <= 0 {
		return time.Time{}
	}
	return r.ChangedAt.Add(r.Period)
}

// Current reports whether the password is set, not reported compromised and, under
// rotation, still within its period at now. This is the "Secure Password Update" step.
func (r Rotation) Current(now time.Time) bool {
	if r.ChangedAt.IsZero() || r.MustChange {
		return false
	}
	due := r.DueAt()
	return due.IsZero() || now.Before(due)
}

// PasswordState reports a subscriber's password rotation state. Wrap package password's
// Service with FromPassword; integrators can adapt any other source with PasswordFunc.
type PasswordState interface {
	PasswordRotation(ctx context.Context, subscriber string) (Rotation, error)
}

// TwoFactorFunc adapts a function to TwoFactorState.
type TwoFactorFunc func(ctx context.Context, subscriber string) (bool, error)

// TwoFactorEnabled calls f(ctx, subscriber).
func (f TwoFactorFunc) TwoFactorEnabled(ctx context.Context, subscriber string) (bool, error) {
	return f(ctx, subscriber)
}

// QuestionsFunc adapts a function to QuestionsState.
type QuestionsFunc func(ctx context.Context, subscriber string) (bool, error)

// QuestionsSet calls f(ctx, subscriber).
func (f QuestionsFunc) QuestionsSet(ctx context.Context, subscriber string) (bool, error) {
	return f(ctx, subscriber)
}

// PasswordFunc adapts a function to PasswordState.
type PasswordFunc func(ctx context.Context, subscriber string) (Rotation, error)

// PasswordRotation calls f(ctx, subscriber).
func (f PasswordFunc) PasswordRotation(ctx context.Context, subscriber string) (Rotation, error) {
	return f(ctx, subscriber)
}

// Sources are where the status reads the steps it does not own. All three are required.
type Sources struct {
	TwoFactor TwoFactorState
	Questions QuestionsState
	Password  PasswordState
}
