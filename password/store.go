package password

import (
	"context"
	"errors"
	"time"
)

// Record is a subscriber's stored password state. It holds hashes only, never a
// password.
type Record struct {
	// Hash is the current password's hash: an argon2id PHC string, or a legacy bcrypt
	// hash until the next successful sign-in upgrades it.
	Hash string
	// ChangedAt is when the current password was set; rotation is measured from it.
	ChangedAt time.Time
	// MustChange is set when a compromise is reported and cleared by the next change.
	MustChange bool
	// History holds the hashes of earlier passwords, newest first.
	History []string
	// Notice is the last rotation notice sent for the current password (see
	// CredentialStore.ClaimNotice); cleared by the next change.
	Notice string
}

// CredentialStore keeps password records. Implementations must be safe for concurrent
// use, return copies (a caller may modify the Record it gets), and make each method
// atomic: Set and Rehash are compare-and-swap on the current hash.
type CredentialStore interface {
	// Get returns the subscriber's record, or ErrNotFound.
	Get(ctx context.Context, subscriber string) (Record, error)
	// Set makes next the current hash if the current hash still equals prev. With prev
	// "" it creates the record and returns ErrExists if there is one. Otherwise the old
	// hash moves to the front of History, which is then cut to keep entries; ChangedAt
	// becomes changedAt, and MustChange and Notice are cleared. It returns ErrNotFound
	// for a missing record and ErrConflict if the current hash is not prev.
	Set(ctx context.Context, subscriber, prev, next string, changedAt time.Time, keep int) error
	// Rehash replaces the current hash by next, a new hash of the same password, if it
	// still equals prev; nothing else changes. ErrNotFound, ErrConflict as for Set.
	Rehash(ctx context.Context, subscriber, prev, next string) error
	// MarkCompromised sets MustChange, or returns ErrNotFound.
	MarkCompromised(ctx context.Context, subscriber string) error
	// ClaimNotice sets Notice to notice and returns true, unless Notice already equals
	// notice, in which case it returns false: of many concurrent callers with the same
	// notice, exactly one gets true. ClaimNotice(ctx, sub, "") clears the claim (used
	// when the notice could not be published). ErrNotFound for a missing record.
	ClaimNotice(ctx context.Context, subscriber, notice string) (bool, error)
}

// Attempts is the failed sign-in state of one limiter key.
type Attempts struct {
	// Failures counts consecutive failures; only Reset sets it back to zero, or the
	// key's expiry. Time alone does not: temporary lockouts expire, the count does not.
	Failures int
	// Last is when the latest failure was recorded.
	Last time.Time
	// Expires is when the key's state is forgotten (zero: never). The Service sets it
	// with every failure: never for a known subscriber's own count, a retention period
	// for client counts and for subscriber IDs without a password. State at or past
	// Expires counts as none.
	Expires time.Time
}

// at returns a as it stands at now: nothing once it has expired.
func (a Attempts) at(now time.Time) Attempts {
	if !a.Expires.IsZero() && !now.Before(a.Expires) {
		return Attempts{}
	}
	return a
}

// ErrFailureLimit is returned by AttemptStore.AddFailure when the count has already
// reached the limit.
var ErrFailureLimit = errors.New("password: consecutive failure limit reached")

// AttemptStore counts consecutive failed sign-ins per key (a subscriber, or a
// subscriber and client pair). Counts must survive restarts in production adapters.
// Implementations must be safe for concurrent use.
//
// Keys with an expiry are bounded state: most of them belong to strangers (invented
// subscriber IDs, passing clients), and a flood of them must not grow the store
// without bound. A store may drop a key once its Expires has passed, and may hold a
// bounded number of keys with an expiry: to make room it forgets those that expire
// soonest first. A key without an expiry (a real subscriber's own count) is never
// dropped or evicted. The Service passes every time in; a store reads no clock.
type AttemptStore interface {
	// Failures returns the state of key, Expires included; an unknown key has zero
	// Attempts and no error. The caller ignores state that has expired.
	Failures(ctx context.Context, key string) (Attempts, error)
	// AddFailure atomically adds one failure at time at and sets the key's Expires to
	// expires (zero: never), unless the count is already limit or more, in which case
	// it changes nothing and returns the current state with ErrFailureLimit. State
	// that expired at or before at counts as none: the count starts again from zero.
	// Of n concurrent calls starting below the limit, at most limit-count succeed.
	AddFailure(ctx context.Context, key string, limit int, at, expires time.Time) (Attempts, error)
	// Reset forgets key's failures.
	Reset(ctx context.Context, key string) error
}
