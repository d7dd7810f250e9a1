package status

import (
	"context"
	"errors"
	"time"
)

// Store sentinels.
var (
	// ErrNotFound is returned when there is no such link or verification: never issued,
	// already used, replaced by a newer link, or cleared by Reset.
	ErrNotFound = errors.New("status: not found")
	// ErrExpired is returned by ConsumeLink for a link past its ExpiresAt.
	ErrExpired = errors.New("status: link expired")
	// ErrAddressChanged is returned by PutLink (and then by SendLink) for a link to an
	// address that is not the subscriber's address of record: the address changed
	// while the link was being issued, or the caller named a stale address.
	ErrAddressChanged = errors.New("status: not the subscriber's current email address")
)

// LinkHash is the SHA-256 of a verification link token's 32 random bytes: what stores
// keep and look links up by. A store never sees the token itself.
type LinkHash [32]byte

// Link is a pending email verification link as a store keeps it.
type Link struct {
	Subscriber string
	// Email is the address the link was sent to; verifying the link verifies this
	// address and no other.
	Email     string
	Hash      LinkHash
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Verification records that a subscriber proved control of an email address.
type Verification struct {
	Email      string
	VerifiedAt time.Time
}

// VerificationStore keeps email verification state. A subscriber has an address of
// record (the address links may be sent to), at most one pending link and at most one
// verification, and a history of when links were sent (for the resend limits).
// Implementations must be safe for concurrent use and copy what they keep and return.
// Durable adapters keep all of it across restarts: that is what makes the resend
// limits hold against a client that waits for one.
//
// The address of record is what makes a link safe against a racing email change: a
// link is stored only for the current address (PutLink compares and sets in one step)
// and verifies only while that address is still current (ConsumeLink), so a resend
// that read the old address just before a change can neither store nor verify a link
// to it. A SQL adapter keeps the address in the subscriber's row and does each method
// in one transaction (or one conditional statement) on that row.
type VerificationStore interface {
	// ReserveLink checks lim against the links recorded for subscriber in the last hour,
	// measured by the store's clock, and if another may be sent now, records one and
	// returns nil. Otherwise it records nothing and returns a *ThrottleError
	// (ErrThrottled) with the reason and how long to wait (rounded up to whole seconds,
	// at least one): MinInterval is checked first, then PerHour. Check and record are
	// one atomic step, so goroutines racing for one subscriber are never sent more than
	// lim allows. Records older than an hour may be forgotten; Reset keeps them.
	ReserveLink(ctx context.Context, subscriber string, lim ResendLimits) error
	// PutLink is a compare-and-set against the subscriber's address of record, with
	// l.Email as the expected address: if l.Email is the address of record, or the
	// subscriber has none yet (which then becomes l.Email), it stores l as the
	// subscriber's pending link, replacing (and so invalidating) any earlier one.
	// Otherwise it stores nothing and returns ErrAddressChanged. Compare and store are
	// one atomic step with respect to ResetAddress.
	PutLink(ctx context.Context, l Link) error
	// ConsumeLink is the atomic "click": it removes the pending link whose hash is h
	// and records its Email as the subscriber's Verification at verifiedAt, in one
	// step, so a link verifies exactly once however many requests race for it. It
	// returns ErrNotFound for an unknown, used or replaced link, and for a link whose
	// Email is not (or no longer) the address of record: such a link never verifies. For a link whose
	// ExpiresAt has passed by the store's clock it changes nothing and returns the link
	// with ErrExpired, so the caller can offer to send a new one; the expired link stays
	// until replaced or reset.
	ConsumeLink(ctx context.Context, h LinkHash, verifiedAt time.Time) (Link, error)
	// Verification returns the subscriber's verification, or ErrNotFound.
	Verification(ctx context.Context, subscriber string) (Verification, error)
	// ResetAddress records email as the subscriber's address of record and forgets the
	// verification and pending link, in one step, because the address changed (from
	// now on PutLink accepts links to email only). Resetting a subscriber with neither
	// is not an error. It keeps the history ReserveLink counts, so changing the address
	// never lifts the resend limits.
	ResetAddress(ctx context.Context, subscriber, email string) error
}
