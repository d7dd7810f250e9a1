package session

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// ErrNotFound is returned by a Store when no live session matches: it never existed,
// it was revoked, or it has expired. The Service turns it into ErrNotAuthenticated for
// tokens and returns it as is from Revoke.
var ErrNotFound = errors.New("session: not found")

// ErrConflict is returned by Tokens.Create when a session with the same ID or token
// hash already exists. With 128-bit IDs and 256-bit tokens from crypto/rand it signals
// a broken random source or a store bug, never bad luck.
var ErrConflict = errors.New("session: already exists")

// TokenHash is the SHA-256 of a session token's 32 random bytes: what stores keep and
// look sessions up by. A store never sees the token itself.
type TokenHash [32]byte

// Record is a session as a store keeps it: the Session plus the hash of its token.
type Record struct {
	Session
	// Hash identifies the session's token. It is unique across all sessions.
	Hash TokenHash
}

// Touch is what a successful validation or step-up writes back to a session.
type Touch struct {
	// SeenAt becomes LastSeenAt and IP becomes LastIP.
	SeenAt time.Time
	IP     netip.Addr
	// IdleExpiresAt is the new idle deadline; the Service never moves it past ExpiresAt.
	IdleExpiresAt time.Time
	// SecondFactorAt and PasswordAt, when not zero, replace the stored proof times.
	SecondFactorAt time.Time
	PasswordAt     time.Time
}

// Tokens is the per-request half of a session store: it creates sessions and finds them
// by token hash.
//
// A session is live while the store's clock reads before both its ExpiresAt and its
// IdleExpiresAt; a store treats every other session as absent (ErrNotFound) and may drop
// it at any time. Implementations must be safe for concurrent use. Records are values:
// a store copies what it keeps and what it returns.
type Tokens interface {
	// Create stores a new session. It returns ErrConflict if r.ID or r.Hash is taken.
	Create(ctx context.Context, r Record) error
	// Get returns the live session whose token hashes to h, or ErrNotFound. Looking
	// sessions up by hash keeps the work independent of the token's secret bits.
	Get(ctx context.Context, h TokenHash) (Record, error)
	// Touch applies t to the live session with this ID, or returns ErrNotFound.
	Touch(ctx context.Context, id string, t Touch) error
}

// Registry is the per-subscriber half of a session store: listing and revocation.
// Implementations must be safe for concurrent use.
type Registry interface {
	// List returns the subscriber's live sessions, in any order; none is not an error.
	List(ctx context.Context, subscriber string) ([]Record, error)
	// Revoke deletes the subscriber's live session with this ID, or returns ErrNotFound
	// (also when the ID belongs to another subscriber).
	Revoke(ctx context.Context, subscriber, id string) error
	// RevokeAll deletes, as one atomic step, every live session of the subscriber except
	// the one whose ID is except (none when except is empty), and returns how many it
	// deleted. A session created after RevokeAll returns is not affected.
	RevokeAll(ctx context.Context, subscriber, except string) (int, error)
	// ClearProofs sets SecondFactorAt and PasswordAt of the subscriber's live session
	// with this ID to zero (never proved), or returns ErrNotFound (also when the ID
	// belongs to another subscriber). A later Touch may set them again.
	ClearProofs(ctx context.Context, subscriber, id string) error
}

// Store is everything the Service needs from storage. store/memory.Session is the
// in-memory implementation; store/storetest.TestSessionStore is the contract.
type Store interface {
	Tokens
	Registry
}
