package questions

import (
	"errors"
	"fmt"
)

// ErrInvalidEnrollment is wrapped by every error that rejects a set of questions and
// answers. The more precise sentinels below wrap it, and an [*EnrollmentError] says which
// choice broke which rule.
var ErrInvalidEnrollment = errors.New("questions: invalid enrollment")

// Enrollment rules. Each wraps [ErrInvalidEnrollment].
var (
	ErrTooFewQuestions    = fmt.Errorf("%w: too few questions", ErrInvalidEnrollment)
	ErrTooManyQuestions   = fmt.Errorf("%w: too many questions", ErrInvalidEnrollment)
	ErrUnknownQuestion    = fmt.Errorf("%w: unknown question ID", ErrInvalidEnrollment)
	ErrDuplicateQuestion  = fmt.Errorf("%w: question chosen twice", ErrInvalidEnrollment)
	ErrCustomQuestion     = fmt.Errorf("%w: custom question not acceptable", ErrInvalidEnrollment)
	ErrAnswerEmpty        = fmt.Errorf("%w: answer is empty", ErrInvalidEnrollment)
	ErrAnswerTooLong      = fmt.Errorf("%w: answer is too long", ErrInvalidEnrollment)
	ErrAnswerTooShort     = fmt.Errorf("%w: answer is too short", ErrInvalidEnrollment)
	ErrAnswerTooCommon    = fmt.Errorf("%w: answer is a single common word", ErrInvalidEnrollment)
	ErrAnswerRepeated     = fmt.Errorf("%w: answer repeats another answer", ErrInvalidEnrollment)
	ErrAnswerInQuestion   = fmt.Errorf("%w: answer is contained in its question", ErrInvalidEnrollment)
	ErrAnswerPersonalFact = fmt.Errorf("%w: answer is a readily available personal fact", ErrInvalidEnrollment)
)

// Errors from other operations.
var (
	// ErrInvalidRequest is wrapped when a call is missing something it needs (a
	// subscriber, agent ID, channel or question ID) or the spoken answer is empty or too
	// long. The message names the field.
	ErrInvalidRequest = errors.New("questions: invalid request")
	// ErrNotEnrolled means the subscriber has no security questions.
	ErrNotEnrolled = errors.New("questions: subscriber has no security questions")
	// ErrAlreadyEnrolled is returned by Enroll for a subscriber who has questions; use
	// Change with a fresh second-factor proof.
	ErrAlreadyEnrolled = errors.New("questions: subscriber already has security questions; changing them needs a fresh second-factor proof (use Change)")
	// ErrQuestionNotChosen means the agent asked a question the subscriber did not choose.
	ErrQuestionNotChosen = errors.New("questions: subscriber did not choose this question")
	// ErrLocked means too many recent failed verifications: question verification is
	// locked for the subscriber until failures age out of the window. See [LockedError].
	ErrLocked = errors.New("questions: verification locked after too many failures")
	// ErrProofRequired means Change was called without an acceptable second-factor proof:
	// missing, not genuine (the ProofVerifier refused it; its error is wrapped too), for
	// another subscriber, of a method not accepted, or not fresh.
	ErrProofRequired = errors.New("questions: a fresh second-factor proof is required")
	// ErrUnavailable wraps a store, keyring or publisher failure. Verification fails
	// closed: the verdict is NoMatch.
	ErrUnavailable = errors.New("questions: unavailable")
)

// EnrollmentError says which choice (0-based, in the order given) broke which rule.
// Err is one of the ErrAnswer*/Err*Question sentinels. The message never contains an
// answer.
type EnrollmentError struct {
	Index      int
	QuestionID string
	Err        error
	detail     string
}

func (e *EnrollmentError) Error() string {
	id := e.QuestionID
	if id == "" {
		id = "custom"
	}
	msg := fmt.Sprintf("%v (choice %d, question %q)", e.Err, e.Index+1, id)
	if e.detail != "" {
		msg += ": " + e.detail
	}
	return msg
}

func (e *EnrollmentError) Unwrap() error { return e.Err }

// LockedError is returned (wrapping [ErrLocked]) when verification is locked. Failures is
// how many failures the window holds.
type LockedError struct {
	Failures int
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%v (%d failures in the window)", ErrLocked, e.Failures)
}

func (e *LockedError) Unwrap() error { return ErrLocked }
