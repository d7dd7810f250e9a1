package questions

import (
	"context"
	"errors"
	"time"
)

// Store errors.
var (
	// ErrNotFound is returned by AnswerStore.Get when the subscriber has no record.
	ErrNotFound = errors.New("questions: not found")
	// ErrConflict is returned by AnswerStore.Put when the stored version is not the one
	// the record replaces (someone else enrolled or changed questions meanwhile).
	ErrConflict = errors.New("questions: record changed concurrently")
)

// Record is what is stored for a subscriber: the chosen questions and their sealed
// answers. Nothing in it reveals an answer without the keyring.
type Record struct {
	Subscriber string
	// Version is 1 at enrollment and grows by one at each change. It is bound into every
	// sealed answer, so answers from an older version cannot be replayed into a newer one.
	Version uint64
	// Answers are exactly three, in the order the subscriber chose them.
	Answers []SealedAnswer
	// UpdatedAt is when the questions were set.
	UpdatedAt time.Time
}

// SealedAnswer is one chosen question and its answer, sealed with the keyring under
// associated data that binds it to the subscriber, question ID and record version.
type SealedAnswer struct {
	QuestionID string
	// Question is the question text the subscriber chose (catalog or custom).
	Question string
	Custom   bool
	Sealed   []byte
}

// AnswerStore keeps one Record per subscriber.
//
// Implementations must be safe for concurrent use, must copy what they are given and
// what they return (callers may modify either), and must make Put's version check and
// write one atomic step.
type AnswerStore interface {
	// Get returns the subscriber's record, or an error wrapping ErrNotFound.
	Get(ctx context.Context, subscriber string) (Record, error)
	// Put stores rec if it is the next version: when rec.Version is 1 there must be no
	// record for rec.Subscriber, otherwise the stored version must be rec.Version-1.
	// Anything else is an error wrapping ErrConflict and changes nothing.
	Put(ctx context.Context, rec Record) error
	// Delete removes the subscriber's record if its version is version. With no record
	// it returns an error wrapping ErrNotFound; with another version stored, one
	// wrapping ErrConflict, and changes nothing. The service uses it only to withdraw
	// a first enrollment it could not announce.
	Delete(ctx context.Context, subscriber string, version uint64) error
}

// AttemptStore counts verification attempts per subscriber in a sliding window.
//
// An attempt is charged before the answer is judged and refunded if it matched, so a
// burst of concurrent attempts can never exceed the limit and a crash mid-verification
// counts as a failure. Implementations must be safe for concurrent use, and Charge must
// be atomic: of many concurrent calls at the limit, only as many succeed as there are
// free places. Times are those passed in; an implementation never reads its own clock.
type AttemptStore interface {
	// Charge counts the attempts recorded for subscriber after at-window (including
	// any recorded at later times by concurrent callers). If there are fewer than limit, it records one more at at and returns the new count and true;
	// otherwise it records nothing and returns the count and false.
	Charge(ctx context.Context, subscriber string, at time.Time, window time.Duration, limit int) (int, bool, error)
	// Refund removes one attempt recorded at exactly at, if there is one.
	Refund(ctx context.Context, subscriber string, at time.Time) error
	// Clear removes every attempt recorded for subscriber.
	Clear(ctx context.Context, subscriber string) error
}
