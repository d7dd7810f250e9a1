package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultSigninTimeout is how long a pending sign-in waits for its second factor
// (Config.SigninTimeout): as long as a sign-in code lives.
const DefaultSigninTimeout = 10 * time.Minute

// ErrNoPendingStore is returned by the pending sign-in methods when the Service's
// store does not implement PendingStore.
var ErrNoPendingStore = errors.New("session: the store keeps no pending sign-ins (it does not implement session.PendingStore)")

// Pending is a sign-in whose password was right, waiting for the second factor. It lives
// in the store, not in a server's memory, so the replica that checks the code need not be
// the one that checked the password, and it is used once.
type Pending struct {
	// ID is random (128 bits, "signin_" and hex); the client sends it back with the code.
	ID         string
	Subscriber string
	// Device is the fingerprint of the device that entered the password: only that
	// device may continue the sign-in (Config.DeviceMatch).
	Device string
	// PasswordAt is when the password was verified.
	PasswordAt time.Time
	// ExpiresAt is PasswordAt + Config.SigninTimeout.
	ExpiresAt time.Time
}

// PendingStore keeps pending sign-ins. It is an optional capability of a Store: New
// uses it when the store implements it (memory.Session does). Implementations must be
// safe for concurrent use and make TakePending atomic: of any number of concurrent calls
// for one ID, exactly one gets the record. They never read a clock; storetest's
// TestSessionPending is the contract.
type PendingStore interface {
	// PutPending stores p. It returns ErrConflict if p.ID is taken. It may delete
	// records whose ExpiresAt is not after now.
	PutPending(ctx context.Context, p Pending, now time.Time) error
	// GetPending returns the record with this ID, or ErrNotFound. It may return an
	// expired record: the Service checks ExpiresAt.
	GetPending(ctx context.Context, id string) (Pending, error)
	// TakePending deletes the record with this ID and returns it, or returns
	// ErrNotFound, in one atomic step.
	TakePending(ctx context.Context, id string) (Pending, error)
	// DeletePending deletes every record of the subscriber whose PasswordAt is not after
	// until, and returns how many it deleted.
	DeletePending(ctx context.Context, subscriber string, until time.Time) (int, error)
}

// BeginSignin records that subscriber has just entered the right password on client c
// and must now give a second factor. The returned Pending's ID names the sign-in to
// PendingSignin and TakeSignin; it expires after Config.SigninTimeout. A credential
// change (RevokeOthers) deletes the subscriber's pending sign-ins, so a password that
// was changed cannot be finished with a code.
func (s *Service) BeginSignin(ctx context.Context, subscriber string, c Client) (Pending, error) {
	if s.pending == nil {
		return Pending{}, ErrNoPendingStore
	}
	if subscriber == "" {
		return Pending{}, errors.New("session: subscriber is empty")
	}
	if err := c.check(); err != nil {
		return Pending{}, err
	}
	id, err := newID(s.rand)
	if err != nil {
		return Pending{}, err
	}
	now := s.now()
	p := Pending{ID: "signin_" + id, Subscriber: subscriber, Device: c.Device, PasswordAt: now, ExpiresAt: now.Add(s.signinTimeout)}
	if err := s.pending.PutPending(ctx, p, now); err != nil {
		return Pending{}, fmt.Errorf("session: storing the pending sign-in: %w", err)
	}
	return p, nil
}

// PendingSignin returns the live pending sign-in with this ID, presented from the device
// that began it. An unknown, expired or completed sign-in, and one presented from
// another device, all get ErrNotAuthenticated.
func (s *Service) PendingSignin(ctx context.Context, id string, c Client) (Pending, error) {
	if s.pending == nil {
		return Pending{}, ErrNoPendingStore
	}
	if id == "" || len(id) > 128 {
		return Pending{}, ErrNotAuthenticated
	}
	p, err := s.pending.GetPending(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return Pending{}, ErrNotAuthenticated
	case err != nil:
		return Pending{}, fmt.Errorf("session: reading the pending sign-in: %w", err)
	}
	if !s.now().Before(p.ExpiresAt) || !s.match(p.Device, c.Device) {
		return Pending{}, ErrNotAuthenticated
	}
	return p, nil
}

// TakeSignin ends the pending sign-in with this ID and returns it, once: of any number
// of concurrent calls, one gets it and the others ErrNotAuthenticated. Call it after
// the second factor was checked, then Create the session. Like PendingSignin, it
// refuses an expired sign-in and one presented from another device (and then leaves it
// in place for its own device).
func (s *Service) TakeSignin(ctx context.Context, id string, c Client) (Pending, error) {
	if _, err := s.PendingSignin(ctx, id, c); err != nil {
		return Pending{}, err
	}
	p, err := s.pending.TakePending(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return Pending{}, ErrNotAuthenticated
	case err != nil:
		return Pending{}, fmt.Errorf("session: taking the pending sign-in: %w", err)
	}
	if !s.now().Before(p.ExpiresAt) {
		return Pending{}, ErrNotAuthenticated
	}
	return p, nil
}
