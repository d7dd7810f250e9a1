package notify

import (
	"context"
	"errors"
	"time"
)

// Errors returned by Outbox implementations.
var (
	// ErrNotFound is returned by Outbox.Lookup for an unknown message ID.
	ErrNotFound = errors.New("notify: message not found")
	// ErrLeaseLost is returned by Outbox.Complete when the caller no longer holds the
	// message's lease: it expired and another dispatcher claimed the message, or the
	// message was already completed.
	ErrLeaseLost = errors.New("notify: lease not held")
)

// State is where a message is in its life.
type State string

// Message states.
const (
	// StatePending messages wait to be claimed, now or at NextAttempt.
	StatePending State = "pending"
	// StateSent messages were accepted by their sender. Final.
	StateSent State = "sent"
	// StateAbandoned messages failed permanently or too many times. Final.
	StateAbandoned State = "abandoned"
)

// Message is one notification for one recipient on one channel, as stored in the outbox.
//
// By default messages are rendered when the event is published, so the outbox holds
// exactly what will be sent. A Service with Config.DeferRendering stores instead the
// masked event data the content is rendered from (Render), and the Dispatcher renders
// it when it delivers. Either way messages hold the recipient's address (needed to
// deliver) but never a secret or an unmasked identifier: events carry no secrets,
// attributes are masked before they are stored, and OTP codes are not delivered
// through the outbox.
type Message struct {
	// ID is the idempotency key: derived from the event ID, channel and address (see
	// MessageID), so publishing the same event twice stores each message once, and the
	// key a sender sees is the same on every attempt.
	ID         string
	EventID    string
	Type       Type
	Subscriber string
	Recipient  Recipient
	// Former is true when Recipient is an address that was recently removed or replaced
	// (the old-address rule).
	Former bool
	// Content is the rendered message; empty when Render is set.
	Content Content
	// Render, for a message published by a Service with Config.DeferRendering, is the
	// event data Content is rendered from at delivery. Nil for a message rendered at
	// publish. It is shared by the messages of one event and must not be modified.
	Render *RenderData
	// Created is when the message was stored.
	Created time.Time

	// Fields below are maintained by the Outbox.

	State State
	// Attempts counts claims: a claim that never completes (a crash) still counts, so a
	// message that crashes its dispatcher is not retried forever.
	Attempts int
	// NextAttempt is when a pending message becomes claimable.
	NextAttempt time.Time
	// LastError is the sanitized error of the last failed attempt.
	LastError string
	// Lease is the token of the claim that holds the message, and LeaseUntil when that
	// claim expires. Empty when not claimed.
	Lease      string
	LeaseUntil time.Time
}

// RenderData is what a deferred message is rendered from (see Config.DeferRendering):
// the parts of its event that templates read, with the attributes already masked as
// rendering masks them, so nothing unmasked is stored. The event's ID, subscriber and
// actor ID are not part of it (templates never show them).
type RenderData struct {
	// Time is when the event happened.
	Time time.Time
	// Channel is where the request came from (Event.Channel): a known channel name, or
	// an unknown one as templates show it (masked, at most 16 characters).
	Channel string
	// Actor is who made it (Event.Actor.Kind).
	Actor ActorKind
	// Attributes are the event's attributes, masked.
	Attributes map[string]string
}

// event returns an event of type typ that renders like the one d was taken from.
func (d *RenderData) event(typ Type) Event {
	return Event{Type: typ, Time: d.Time, Channel: d.Channel, Actor: Actor{Kind: d.Actor}, Attributes: d.Attributes}
}

// Outcome is what a dispatcher reports for a message it claimed.
type Outcome struct {
	// State is StateSent, StateAbandoned, or StatePending to retry at RetryAt.
	State State
	// RetryAt is when a StatePending message becomes claimable again.
	RetryAt time.Time
	// Error is the sanitized reason of a failure, kept in Message.LastError.
	Error string
	// Release, with StatePending, returns a message that was claimed but never handed to
	// a sender (for example at shutdown): its attempt is not counted.
	Release bool
}

// Outbox is the durable store of messages waiting to be sent. Implementations must be
// safe for concurrent use by many dispatchers, in one process or many; the conformance
// suite is storetest.TestNotifyOutbox.
type Outbox interface {
	// Enqueue stores msgs in StatePending, claimable from their NextAttempt, all or
	// none. A message whose ID is already stored is left as it is (republishing an event
	// is harmless).
	Enqueue(ctx context.Context, msgs []Message) error
	// Claim leases up to max claimable messages to the claim identified by token until
	// now+lease, counting an attempt on each, and returns them in enqueue order. A message is
	// claimable when it is pending, due, and not leased or its lease expired. No two
	// claims ever hold the same message at the same time.
	Claim(ctx context.Context, token string, max int, lease time.Duration) ([]Message, error)
	// Complete records the outcome of the message id held by the claim token and ends
	// the lease. It returns ErrLeaseLost if the message is final or another claim has
	// taken it since (a lease that expired but was not re-claimed may still complete),
	// and ErrNotFound for an unknown id.
	Complete(ctx context.Context, id, token string, o Outcome) error
	// Lookup returns the stored message, or ErrNotFound.
	Lookup(ctx context.Context, id string) (Message, error)
}
