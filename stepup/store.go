package stepup

import (
	"context"
	"time"

	"github.com/carrierguard/carrierguard/twofactor"
)

// Record is a proof as a Store keeps it.
type Record struct {
	// Session is the ID of the session the proof was given in.
	Session string
	// Slot is Slot(Proof): a session keeps one record per slot.
	Slot  string
	Proof twofactor.Proof
	// ExpiresAt is when the record may go (Proof.At + Config.Keep).
	ExpiresAt time.Time
}

// Store keeps the proofs of every session. It only persists: the Service decides what a
// proof counts for. Implementations must be safe for concurrent use and make each method
// atomic; they never read a clock (times come from the Service). store/memory.StepUp
// implements it, and storetest.TestStepUpStore is its conformance suite.
type Store interface {
	// PutProof stores r, replacing the record of r.Session in the same r.Slot unless that
	// record's Proof.At is later than r's. Then, while the session holds more than max
	// records, it deletes the one with the earliest Proof.At. It may delete records of
	// any session whose ExpiresAt is not after now.
	PutProof(ctx context.Context, r Record, max int, now time.Time) error
	// Proofs returns the session's records in any order (none is not an error). It may
	// include expired records: the Service filters them.
	Proofs(ctx context.Context, sessionID string) ([]Record, error)
	// DeleteSession deletes every record of the session (none is not an error).
	DeleteSession(ctx context.Context, sessionID string) error
	// DeleteSubscriber deletes, in every session, each record whose Proof.Subscriber is
	// subscriber and whose Proof.At is not after at, and returns how many it deleted.
	DeleteSubscriber(ctx context.Context, subscriber string, at time.Time) (int, error)
}
