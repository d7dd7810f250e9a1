package otp

import (
	"context"
	"time"
)

// Challenge is an out-of-band code as stored: everything but the code itself, which is
// present only as a keyed hash. Stores keep it as given and change only Attempts and
// their own record of consumption.
type Challenge struct {
	// ID is random (128 bits, hex) and unique.
	ID         string
	Subscriber string
	Purpose    Purpose
	// Channel is where the code was sent. The address is bound into Hash, not stored.
	Channel Channel
	// Hash is HMAC-SHA-256 over the challenge's ID, subscriber, purpose, destination and
	// code, under CodeConfig.HashKey.
	Hash      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	// Attempts is how many verification attempts have begun, right or wrong.
	Attempts    int
	MaxAttempts int
}

// ChallengeStore keeps out-of-band challenges. Implementations must be safe for concurrent
// use, must evaluate expiry with their own clock (the now function or Options they were
// built with), and must make BeginAttempt and ConsumeChallenge atomic: they are how the
// attempt limit and single use hold when many requests race.
//
// The verification protocol is: BeginAttempt (reserve one of the attempts, before the
// code is compared), compare in constant time, then ConsumeChallenge if it matched.
// Because the attempt is counted before the comparison, no more than MaxAttempts guesses
// are ever compared, however many arrive at once; because ConsumeChallenge succeeds once,
// 64 concurrent correct submissions give one success.
//
// In SQL each atomic method is one conditional UPDATE, for example
//
//	UPDATE otp_challenges SET attempts = attempts + 1
//	WHERE id = $1 AND NOT consumed AND expires_at > $2 AND attempts < max_attempts
//	RETURNING ...
//
// and, when no row is updated, a SELECT of the same row to tell which sentinel applies.
// ConsumeChallenge is the same with SET consumed = true and no attempts condition.
type ChallengeStore interface {
	// CreateChallenge stores a new challenge (c.Attempts is 0). An existing ID is an
	// error: IDs are 128 random bits, so a clash means a broken random source.
	CreateChallenge(ctx context.Context, c Challenge) error
	// BeginAttempt atomically checks the challenge and counts one attempt. It returns the
	// challenge with Attempts already incremented, or: ErrNotFound if there is no such
	// challenge (or it was deleted); ErrReplay if it was consumed; ErrExpired if now is
	// at or after ExpiresAt; ErrAttemptsExhausted if Attempts had reached MaxAttempts.
	// The checks are made in that order and a refused attempt changes nothing.
	BeginAttempt(ctx context.Context, id string) (Challenge, error)
	// ConsumeChallenge atomically marks the challenge used. It succeeds exactly once per
	// challenge; later calls return ErrReplay. ErrNotFound and ErrExpired as above. The
	// store keeps a consumed challenge (so a replay is recognised) at least until it
	// expires, and may drop it after.
	ConsumeChallenge(ctx context.Context, id string) error
	// DeleteChallenge removes a challenge, for instance when the code could not be sent.
	// ErrNotFound if there is none.
	DeleteChallenge(ctx context.Context, id string) error
}

// RateKey identifies what resend limits and failure counts apply to.
type RateKey struct {
	Subscriber string
	Purpose    Purpose
}

// Reservation is one code issue as the resend limits see it.
type Reservation struct {
	// ID names the issue so that ReleaseIssue can forget exactly it. Codes uses the
	// challenge ID (128 random bits), so it is unique.
	ID string
	// Key is the subscriber and purpose the issue counts against.
	Key RateKey
	// Destination is an opaque key for where the code goes, counted across subscribers
	// and purposes. Codes passes a keyed hash (hex), never the address itself, so a
	// database copy does not list subscribers' numbers. Empty means the issue counts
	// against no destination.
	Destination string
}

// RateLimits are the limits RateStore.ReserveIssue enforces. A zero field disables
// that limit (the Codes service always passes non-zero values).
type RateLimits struct {
	// MinInterval is the least time between two issued codes.
	MinInterval time.Duration
	// PerHour is how many codes may be issued in any sliding hour.
	PerHour int
	// MaxFailures consecutive wrong codes stop issuing until FailureCooldown has passed
	// since the last of them.
	MaxFailures     int
	FailureCooldown time.Duration
	// DestinationPerHour is how many codes may go to one Reservation.Destination in any
	// sliding hour, whoever they are for.
	DestinationPerHour int
}

// RateStore keeps resend throttling and consecutive-failure counts per subscriber and
// purpose, and issue counts per destination. It must be safe for concurrent use, use its
// own clock, and make ReserveIssue and ReleaseIssue atomic (check and record in one
// step). Durable adapters keep these records across restarts: that is what makes the
// limits hold against an attacker who waits for one.
//
// In SQL the issues fit one table, one row per reservation: (id primary key, subscriber,
// purpose, destination, issued_at). ReserveIssue counts and inserts under a lock on the
// subscriber and purpose and one on the destination; ReleaseIssue is
// DELETE ... WHERE id = $1; rows older than an hour may be dropped at any time.
type RateStore interface {
	// ReserveIssue checks lim for r and, if a code may be issued now, records the issue
	// under r.ID and returns nil. Otherwise it returns a *ThrottleError (ErrThrottled)
	// with the reason and how long to wait, and records nothing. The failure limit of
	// r.Key is checked first (and forgotten once its cooldown has passed), then
	// MinInterval, then PerHour, then DestinationPerHour (ThrottleDestination) if
	// r.Destination is not empty. Issuing never resets the failure count. An r.ID
	// already recorded is an error (IDs are random; a clash means a broken source).
	ReserveIssue(ctx context.Context, r Reservation, lim RateLimits) error
	// ReleaseIssue forgets the issue recorded under id, for a code that was never
	// delivered: it no longer counts toward PerHour or DestinationPerHour, and
	// MinInterval runs from the subscriber and purpose's previous issue, if any. It never
	// changes the failure count. An unknown or already released id is not an error.
	ReleaseIssue(ctx context.Context, id string) error
	// RecordFailure adds one consecutive failure for key and remembers when.
	RecordFailure(ctx context.Context, key RateKey) error
	// ResetFailures sets the consecutive failure count for key to zero after a success.
	ResetFailures(ctx context.Context, key RateKey) error
	// BudgetStore counts the SMS budgets: a RateStore keeps them too, so that every
	// store that throttles codes also bounds what they cost.
	BudgetStore
}

// BudgetCounter is one budget that a code counts against.
type BudgetCounter struct {
	// Limit names the budget; a refusal reports it.
	Limit BudgetLimit
	// Key is opaque: "global", "country/44", or "client/" and a keyed hash (never an
	// address). At most 80 bytes.
	Key string
	// Max is how many sends may be recorded under Key after Since; the send being
	// reserved must leave the count at or below Max.
	Max int
	// Since opens the window: sends recorded at or before it no longer count. For one
	// Key it never moves back (the core's windows are fixed), so a store may forget
	// records at or before the latest Since it was given for a key.
	Since time.Time
}

// BudgetReservation is one SMS or voice code as the budgets see it.
type BudgetReservation struct {
	// ID names the send so that ReleaseBudget can give exactly it back. Codes uses the
	// challenge ID, as for Reservation.
	ID string
	// At is when the send is recorded: the core's clock, never the store's.
	At time.Time
	// Counters are checked in order; the first that is full refuses. The slice
	// belongs to the caller: a store keeps nothing of it after ReserveBudget returns.
	Counters []BudgetCounter
}

// BudgetStore counts sends against shared budgets (SMSBudgets): across subscribers, so
// an adapter must keep them where every replica sees them. It must be safe for
// concurrent use and make ReserveBudget and ReleaseBudget atomic: 64 concurrent
// reservations against a budget with room for 3 record exactly 3. It never reads a
// clock: the core passes every time in.
//
// In SQL the sends fit one table, one row per counter of a reservation: (id, key, at),
// with an index on (key, at). ReserveBudget locks each key (SELECT ... FOR UPDATE on a
// row per key, or an advisory lock on its hash, in Key order to avoid deadlocks),
// counts rows with at > since, and inserts; ReleaseBudget is DELETE ... WHERE id = $1.
// Rows older than the longest window may be dropped at any time.
type BudgetStore interface {
	// ReserveBudget checks every counter of r in order: if Max or more sends are
	// recorded under its Key at times after its Since, it returns a *BudgetError whose
	// Limit is that counter's (errors.Is ErrBudgetExceeded; RetryAfter is left zero, the
	// core fills it in) and records nothing. Otherwise it records one send at r.At under
	// r.ID for every counter and returns nil. An r.ID already recorded is an error.
	ReserveBudget(ctx context.Context, r BudgetReservation) error
	// ReleaseBudget forgets the sends recorded under id, for a code that was never
	// delivered: they no longer count toward any budget. An unknown or already released
	// id is not an error.
	ReleaseBudget(ctx context.Context, id string) error
}

// Authenticator is an authenticator-app (TOTP) or hardware-token (HOTP) registration as
// stored. The secret is sealed with the keyring, bound to the subscriber and the record ID.
type Authenticator struct {
	// ID is random and changes with every enrollment, so a confirmation cannot land on a
	// record other than the one whose code was checked.
	ID           string
	Subscriber   string
	Kind         Kind
	Params       Params
	SealedSecret []byte
	CreatedAt    time.Time
	// ConfirmedAt is zero while the enrollment is pending.
	ConfirmedAt time.Time
	// LastStep is the last accepted TOTP time step or HOTP counter, NoStep if none.
	LastStep int64
}

// Confirmed reports whether the enrollment was confirmed with a valid code.
func (a Authenticator) Confirmed() bool { return !a.ConfirmedAt.IsZero() }

// AuthenticatorStore keeps one authenticator per subscriber. It must be safe for
// concurrent use; AdvanceAuthenticator must be atomic (it is the replay protection).
type AuthenticatorStore interface {
	// PutAuthenticator stores a pending enrollment (ConfirmedAt zero), replacing any
	// pending one. It returns ErrAlreadyEnrolled, and changes nothing, if the subscriber
	// has a confirmed authenticator.
	PutAuthenticator(ctx context.Context, a Authenticator) error
	// GetAuthenticator returns the subscriber's authenticator, or ErrNotFound.
	GetAuthenticator(ctx context.Context, subscriber string) (Authenticator, error)
	// AdvanceAuthenticator atomically sets LastStep to step if the stored record has this
	// id and step is greater than its LastStep. A non-zero confirmedAt confirms a pending
	// record as well (sets ConfirmedAt). The checks, in this order: ErrNotFound if the
	// subscriber has no record with this id; ErrAlreadyEnrolled if confirmedAt is
	// non-zero and the record is already confirmed (so of racing confirmations exactly
	// one succeeds); ErrReplay if step is not greater than LastStep. A refused call
	// changes nothing.
	AdvanceAuthenticator(ctx context.Context, subscriber, id string, step int64, confirmedAt time.Time) error
	// DeleteAuthenticator removes the subscriber's authenticator, or returns ErrNotFound.
	DeleteAuthenticator(ctx context.Context, subscriber string) error
}
