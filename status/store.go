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

// VerificationStore keeps email verification state. A subscriber has at most one
// pending link and at most one verification, and a history of when links were sent
// (for the resend limits). Implementations must be safe for concurrent use and copy
// what they keep and return. Durable adapters keep all of it across restarts: that is
// what makes the resend limits hold against a client that waits for one.
type VerificationStore interface {
	// ReserveLink checks lim against the links recorded for subscriber in the last hour,
	// measured by the store's clock, and if another may be sent now, records one and
	// returns nil. Otherwise it records nothing and returns a *ThrottleError
	// (ErrThrottled) with the reason and how long to wait (rounded up to whole seconds,
	// at least one): MinInterval is checked first, then PerHour. Check and record are
	// one atomic step, so goroutines racing for one subscriber are never sent more than
	// lim allows. Records older than an hour may be forgotten; Reset keeps them.
	ReserveLink(ctx context.Context, subscriber string, lim ResendLimits) error
	// PutLink stores l as the subscriber's pending link, replacing (and so
	// invalidating) any earlier one.
	PutLink(ctx context.Context, l Link) error
	// ConsumeLink is the atomic "click": it removes the pending link whose hash is h
	// and records its Email as the subscriber's Verification at verifiedAt, in one
	// step, so a link verifies exactly once however many requests race for it. It
	// returns ErrNotFound for an unknown, used or replaced link. For a link whose
	// ExpiresAt has passed by the store's clock it changes nothing and returns the link
	// with ErrExpired, so the caller can offer to send a new one; the expired link stays
	// until replaced or reset.
	ConsumeLink(ctx context.Context, h LinkHash, verifiedAt time.Time) (Link, error)
	// Verification returns the subscriber's verification, or ErrNotFound.
	Verification(ctx context.Context, subscriber string) (Verification, error)
	// Reset forgets the subscriber's verification and pending link, because the email
	// address of record changed. Resetting a subscriber with neither is not an error.
	// It keeps the history ReserveLink counts, so changing the address never lifts the
	// resend limits.
	Reset(ctx context.Context, subscriber string) error
}
