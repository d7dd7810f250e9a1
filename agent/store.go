package agent

import (
	"context"
	"errors"
	"time"

	"github.com/carrierguard/carrierguard/protection"
)

// Store errors.
var (
	// ErrNotFound is a case the store does not hold. Cases.Get also returns it for a
	// case that expired or belongs to another agent or channel, so an agent learns
	// nothing about cases that are not theirs.
	ErrNotFound = errors.New("agent: case not found")
	// ErrCaseExists is a case ID the store already holds.
	ErrCaseExists = errors.New("agent: case exists")
	// ErrEvidenceFull is a case that already holds the most evidence allowed.
	ErrEvidenceFull = errors.New("agent: the case holds the most evidence allowed")
)

// Case is one support interaction: an agent, on the channel of their credential, with a
// caller who claims to be a subscriber, and the evidence gathered so far. It is library
// state, not handler memory, so every replica of a console behind a load balancer sees
// the same cases.
type Case struct {
	ID string
	// Agent is the ID of the agent who opened the case; only they can use it.
	Agent string
	// Channel is the channel of the credential that opened the case; the case is used
	// only with a credential bound to the same channel.
	Channel    protection.Channel
	Subscriber string
	Opened     time.Time
	// Expires is when the case stops working (Opened plus Config.TTL).
	Expires time.Time
	// Evidence is what the caller has proved, in the order it was added. Second-factor
	// evidence carries the purpose its code was sent for (see EvidenceFor).
	Evidence []protection.Evidence
}

// CaseStore persists cases. The core decides who may use a case and when it has
// expired; the store saves, loads and counts. Implementations must be safe for
// concurrent use; AddEvidence must be atomic (64 concurrent additions to a case with
// room for 10 leave exactly 10). Adapters never read a clock: times come from the core.
// storetest.TestAgentCases is the conformance suite.
type CaseStore interface {
	// CreateCase saves a new case, or returns ErrCaseExists if its ID is taken.
	CreateCase(ctx context.Context, c Case) error
	// Case returns the case with id, expired or not, or ErrNotFound. The returned
	// Evidence slice is the caller's own.
	Case(ctx context.Context, id string) (Case, error)
	// AddEvidence appends ev to the case's evidence if it holds fewer than max pieces;
	// otherwise it returns ErrEvidenceFull and leaves the case as it was. ErrNotFound
	// for an unknown case.
	AddEvidence(ctx context.Context, id string, ev protection.Evidence, max int) error
	// DeleteCase removes the case with id, or returns ErrNotFound.
	DeleteCase(ctx context.Context, id string) error
	// DeleteExpiredCases removes every case whose Expires is not after now and says how
	// many it removed.
	DeleteExpiredCases(ctx context.Context, now time.Time) (int, error)
}
