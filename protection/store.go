package protection

import (
	"context"
	"errors"
	"time"
)

// Store errors. Adapters return them (possibly wrapped) so the service can tell a miss
// or a refused transition from a fault.
var (
	// ErrNotFound: no such record (no pending disable, no live transfer PIN, no SIM
	// change for the number, no such request).
	ErrNotFound = errors.New("protection: not found")
	// ErrFlagOff: a disable was requested for a flag that is not on.
	ErrFlagOff = errors.New("protection: flag is not on")
	// ErrDisablePending: a disable was requested while one is already pending.
	ErrDisablePending = errors.New("protection: a disable is already pending for this flag")
	// ErrPINMismatch: the transfer PIN given was wrong; the failure was counted.
	ErrPINMismatch = errors.New("protection: wrong transfer PIN")
	// ErrPINLocked: too many wrong transfer PINs in a row; the PIN was destroyed and no
	// transfer PIN of the subscriber works until the lockout ends.
	ErrPINLocked = errors.New("protection: transfer PIN locked after too many failures")
	// ErrConflict: a conditional write found the record in another state than the one
	// the caller read (for example, a concurrent call completed the SIM change first).
	ErrConflict = errors.New("protection: the record changed concurrently")
	// ErrApprovalExpired: an approval was not completed before its ExpiresAt; it can no
	// longer be completed (request the change again).
	ErrApprovalExpired = errors.New("protection: the approval has expired")
)

// FlagState is one protection flag of one subscriber, as stored.
type FlagState struct {
	Flag Flags // a single flag
	// On reports whether the flag protects the account now. It stays true while a
	// disable is pending.
	On bool
	// Since is when the flag was last turned on.
	Since time.Time
	// DisableRequestedAt and DisableAt are set while a disable is pending: the flag goes
	// off at DisableAt unless the subscriber cancels first. Both are zero otherwise.
	DisableRequestedAt time.Time
	DisableAt          time.Time
}

// Pending reports whether a disable is pending.
func (s FlagState) Pending() bool { return !s.DisableAt.IsZero() }

// FlagStore keeps protection flags. Implementations must be safe for concurrent use and
// make each method atomic.
type FlagStore interface {
	// Flags returns the state of every flag the subscriber has turned on (including
	// those with a pending disable). A subscriber with none gets an empty slice, not an
	// error.
	Flags(ctx context.Context, subscriber string) ([]FlagState, error)
	// EnableFlag turns flag on at the given time and cancels any pending disable of it,
	// and returns the flag's state just before (On false if it was off), read in the
	// same atomic step so the caller announces exactly what changed. Enabling a flag
	// that is on keeps its Since.
	EnableFlag(ctx context.Context, subscriber string, flag Flags, at time.Time) (FlagState, error)
	// ScheduleDisable records a pending disable of an on flag, taking effect at
	// effectiveAt. It returns ErrFlagOff if the flag is off and ErrDisablePending if a
	// disable is already pending.
	ScheduleDisable(ctx context.Context, subscriber string, flag Flags, requestedAt, effectiveAt time.Time) error
	// CancelDisable drops a pending disable; the flag stays on. It returns ErrNotFound
	// if none is pending.
	CancelDisable(ctx context.Context, subscriber string, flag Flags) error
	// CompleteDisable turns the flag off if a disable is pending and due at now, and
	// reports whether it did. Of concurrent callers, exactly one gets true.
	CompleteDisable(ctx context.Context, subscriber string, flag Flags, now time.Time) (bool, error)
}

// DueDisables is an optional FlagStore capability that Service.ApplyDue uses to sweep
// pending disables; without it, disables still take effect when the flags are read.
type DueDisables interface {
	// DueDisables returns up to limit pending disables due at now, oldest first, with
	// the subscriber each belongs to.
	DueDisables(ctx context.Context, now time.Time, limit int) ([]DueDisable, error)
}

// DueDisable is a pending disable that has come due.
type DueDisable struct {
	Subscriber string
	FlagState
}

// ChangeKind is the kind of a SIM-change history record.
type ChangeKind uint8

// Change kinds.
const (
	ChangeSIMSwap      ChangeKind = iota + 1 // physical SIM replaced
	ChangeESIMTransfer                       // eSIM transferred or activated
	ChangePortOut                            // number ported to another carrier
	ChangePortIn                             // number ported in from another carrier
)

func (k ChangeKind) String() string {
	switch k {
	case ChangeSIMSwap:
		return "sim_swap"
	case ChangeESIMTransfer:
		return "esim_transfer"
	case ChangePortOut:
		return "port_out"
	case ChangePortIn:
		return "port_in"
	}
	return "ChangeKind(?)"
}

// action returns the policy action for the kind; port-ins are not decided here.
func (k ChangeKind) action() Action {
	switch k {
	case ChangeSIMSwap:
		return ActionSIMSwap
	case ChangeESIMTransfer:
		return ActionESIMTransfer
	case ChangePortOut:
		return ActionPortOut
	}
	return 0
}

// ChangeStatus is the state a SIM-change history record documents.
type ChangeStatus uint8

// Change statuses.
const (
	StatusRequested ChangeStatus = iota + 1
	StatusApproved
	StatusDenied
	StatusCompleted
	// StatusPending: more evidence was asked for (step-up).
	StatusPending
	// StatusApproving: the policy approved the request but the approved event is not
	// published yet; approved (or, if it cannot be published, denied) follows. It cannot
	// be completed.
	StatusApproving
	// StatusCancelled: the subscriber or an agent cancelled an approved request, or a
	// flag turned on forbade it. Final.
	StatusCancelled
	// StatusExpired: the approval was not completed before its ExpiresAt. Final.
	StatusExpired
	// StatusRejected: a partner port-out turned away before any decision (no transfer
	// PIN, a wrong or locked one, or a number that is no customer's). Audited only:
	// never announced to the subscriber. Rejection says why.
	StatusRejected
)

func (s ChangeStatus) String() string {
	switch s {
	case StatusRequested:
		return "requested"
	case StatusApproved:
		return "approved"
	case StatusDenied:
		return "denied"
	case StatusCompleted:
		return "completed"
	case StatusPending:
		return "pending"
	case StatusApproving:
		return "approving"
	case StatusCancelled:
		return "cancelled"
	case StatusExpired:
		return "expired"
	case StatusRejected:
		return "rejected"
	}
	return "ChangeStatus(?)"
}

// Open reports whether a request in this status is approved and not yet finished: it can
// still be completed, cancelled, expire or be denied when re-decided.
func (s ChangeStatus) Open() bool { return s == StatusApproved }

// Rejection says why a partner port-out was rejected before any decision. Its values
// are stable codes, for audit only: a partner is never told which one applied.
type Rejection string

// Rejections.
const (
	RejectNotCustomer Rejection = "not_customer" // no subscriber has the number
	RejectNoPIN       Rejection = "no_pin"       // the request carried no transfer PIN
	RejectWrongPIN    Rejection = "wrong_pin"    // the PIN did not match (counted)
	RejectPINLocked   Rejection = "pin_locked"   // the subscriber's PINs are locked
	RejectNoLivePIN   Rejection = "no_live_pin"  // the subscriber has no live PIN
)

// SIMChange is one record of the SIM-change history the FCC requires carriers to keep:
// every SIM change, eSIM change and port, requested or done, with the authentication
// used. Records are appended, never changed; one request has a record per status.
//
// A decided record also keeps what re-deciding the request needs when it is completed
// (see Service.CompleteSIMChange): the evidence as given, the risk floor, the decision
// time and the approval's hold and expiry. Each later record of the request carries
// them forward.
type SIMChange struct {
	// RequestID ties together the records of one request.
	RequestID  string
	Subscriber string
	// Number is the phone number in E.164 form.
	Number  string
	Kind    ChangeKind
	Status  ChangeStatus
	Time    time.Time
	Channel Channel
	// Actor is who asked ("subscriber", or an agent's ID).
	Actor string
	// Outcome and Reasons are the policy decision, for decided records.
	Outcome Outcome
	Reasons ReasonSet
	// Evidence is the evidence that counted.
	Evidence EvidenceKinds
	// HoldUntil is set on the approved record of a held request.
	HoldUntil time.Time
	// ExpiresAt is set on the approved record: the approval cannot be completed at or
	// after it (Config.ApprovalTTL after the decision, or after HoldUntil if held).
	ExpiresAt time.Time
	// DecidedAt is when the policy decided the request: re-deciding at completion judges
	// the evidence's freshness as of this time.
	DecidedAt time.Time
	// Risk is the risk floor the request was made with (the RiskAssessor, if any, is
	// asked again when re-deciding).
	Risk RiskLevel
	// Given is the evidence as the request gave it (it holds no secret: a transfer PIN
	// appears only as its kind and time), for re-deciding.
	Given []Evidence
	// CancelHash is the keyed hash of the cancel token issued with the approval (never
	// the token), so a link in the notice can cancel it; nil if none.
	CancelHash []byte
	// Rejection, on a StatusRejected record, says why.
	Rejection Rejection
}

// HistoryStore keeps SIM-change records. Implementations must be safe for concurrent use.
//
// Records are only ever appended, and every append is a compare-and-set on the state of
// the request: a request moves requested → pending* → approving | denied, approving →
// approved | denied, then approved → completed | denied | cancelled | expired, and two
// concurrent callers can never both make the same move (so a SIM change is never approved or completed twice,
// nor announced so twice, and a cancelled request is never completed). A partner
// rejection is a request of one StatusRejected record.
type HistoryStore interface {
	// AppendSIMChange atomically appends rec if the latest record of rec.RequestID is in
	// state prev, and returns nil; of concurrent callers with the same prev, exactly one
	// succeeds. prev == 0 means the request must have no record yet (a new request or a
	// port-in). Otherwise it appends nothing and returns ErrNotFound (prev != 0 and the
	// request has no record) or ErrConflict (the latest record is in another state, or
	// prev == 0 and the request exists); and, only when rec.Status is StatusCompleted,
	// ErrHeld (rec.Time is before the latest record's HoldUntil: a
	// held approval cannot be completed early) or ErrApprovalExpired (the latest record
	// has an ExpiresAt and rec.Time is not before it). The adapter keeps rec.Given,
	// rec.CancelHash and every other field as given.
	AppendSIMChange(ctx context.Context, rec SIMChange, prev ChangeStatus) error
	// OpenSIMChanges returns the latest record of every request of the subscriber whose
	// latest status is approved (ChangeStatus.Open), in any order: the approvals a flag
	// turned on must cancel.
	OpenSIMChanges(ctx context.Context, subscriber string) ([]SIMChange, error)
	// LatestForRequest returns the newest record of a request, or ErrNotFound.
	LatestForRequest(ctx context.Context, requestID string) (SIMChange, error)
	// LastCompleted returns the newest record with StatusCompleted for the number, of any
	// kind, or ErrNotFound.
	LastCompleted(ctx context.Context, number string) (SIMChange, error)
	// SIMChanges returns the number's records at or after since, oldest first.
	SIMChanges(ctx context.Context, number string, since time.Time) ([]SIMChange, error)
	// PurgeSIMChanges deletes records older than before and returns how many it deleted.
	PurgeSIMChanges(ctx context.Context, before time.Time) (int, error)
}

// DueHolds is an optional HistoryStore capability that Service.ApplyDueHolds uses to
// find held approvals whose hold has ended; without it, holds are still re-decided when
// completed.
type DueHolds interface {
	// DueHolds returns up to limit requests whose latest record is approved with a
	// non-zero HoldUntil at or before now, oldest HoldUntil first.
	DueHolds(ctx context.Context, now time.Time, limit int) ([]SIMChange, error)
}

// TransferPIN is a subscriber's transfer-PIN record: the live PIN, if any (only its
// keyed hash), and the failure count and lockout, which outlive any one PIN.
type TransferPIN struct {
	Subscriber string
	// Hash is the keyed hash of the live PIN (never the PIN); nil if there is none (it
	// was used, revoked, expired or destroyed by a lockout).
	Hash      []byte
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Failures counts wrong PINs in a row, across PINs: issuing a new PIN never resets
	// it, only a correct PIN does.
	Failures int
	// LockedUntil is set when Failures reaches a multiple of PINLimits.MaxFailures: until
	// then no PIN of the subscriber is even compared.
	LockedUntil time.Time
}

// PINLimits are the limits a PINStore enforces atomically.
type PINLimits struct {
	// MaxFailures wrong PINs in a row destroy the live PIN and start a lockout.
	MaxFailures int
	// Lockout is how long a lockout lasts.
	Lockout time.Duration
}

// PINStore keeps one transfer-PIN record per subscriber. Implementations must be safe
// for concurrent use and make each method atomic.
type PINStore interface {
	// PutPIN makes pin's Hash, IssuedAt and ExpiresAt the subscriber's live PIN,
	// replacing any other, and keeps the record's Failures and LockedUntil (pin's own are
	// ignored): a new PIN inherits the failure count and any lockout. It returns the
	// record as stored.
	PutPIN(ctx context.Context, pin TransferPIN) (TransferPIN, error)
	// ConsumePIN checks hash against the subscriber's live PIN in constant time. On a
	// match it deletes the record (single use; the failure count ends) and returns nil;
	// of concurrent callers with the right PIN exactly one succeeds. Otherwise it returns
	// the record after the attempt (without Hash) and ErrPINLocked (now is before
	// LockedUntil; nothing is compared or counted), ErrNotFound (no live PIN, or it has
	// expired at now) or ErrPINMismatch (a failure was counted; if that made Failures a
	// multiple of limits.MaxFailures, the live PIN was destroyed and LockedUntil set to
	// now+limits.Lockout).
	ConsumePIN(ctx context.Context, subscriber string, hash []byte, now time.Time, limits PINLimits) (TransferPIN, error)
	// CheckPIN is ConsumePIN except on a match: the PIN stays live and the record
	// unchanged, and it returns nil. A mismatch is counted (and may lock) exactly as in
	// ConsumePIN. Service.PartnerPortOut checks a PIN with it before deciding, and
	// consumes it only if the request passes.
	CheckPIN(ctx context.Context, subscriber string, hash []byte, now time.Time, limits PINLimits) (TransferPIN, error)
	// RevokePIN destroys the subscriber's live PIN, keeping the failure count and
	// lockout, and reports whether there was one unexpired at now.
	RevokePIN(ctx context.Context, subscriber string, now time.Time) (bool, error)
}

// Probe is one partner port-out request, as the per-partner limit counts it.
type Probe struct {
	Partner string
	// ID identifies the probe, so that an accepted request can be taken back out.
	ID string
	At time.Time
}

// ProbeStore counts partner port-out requests for the per-partner limit of
// Service.PartnerPortOut. Implementations must be safe for concurrent use and make each
// method atomic.
type ProbeStore interface {
	// AddProbe forgets the partner's probes before since, then records p if fewer than
	// limit of the partner's probes remain, and reports whether it recorded it. Of
	// concurrent callers, never more than limit are recorded in a window.
	AddProbe(ctx context.Context, p Probe, since time.Time, limit int) (bool, error)
	// RemoveProbe takes back the partner's probe with this ID (a request that was
	// accepted does not count against the limit). Removing a missing probe is no error.
	RemoveProbe(ctx context.Context, partner, id string) error
}

// Stores are the stores a Service needs. Flags, History and PINs are required; Probes
// is needed only by PartnerPortOut (which fails without it).
type Stores struct {
	Flags   FlagStore
	History HistoryStore
	PINs    PINStore
	Probes  ProbeStore
}

// SIMChangeChecker answers the two questions other components ask of the SIM-change
// history: package twofactor, before trusting an SMS code, and a CAMARA SIM Swap API
// (check and retrieve-date). *Service implements it.
type SIMChangeChecker interface {
	// LastSIMChange returns when the number last had a completed SIM change, eSIM
	// change or port, or ErrNotFound if the history has none.
	LastSIMChange(ctx context.Context, number string) (time.Time, error)
	// SIMChangedWithin reports whether the number had one within d before now.
	SIMChangedWithin(ctx context.Context, number string, d time.Duration) (bool, error)
}

// RiskAssessor scores a request. Integrators adapt package risk (or their own scorer) to
// it; an error makes Service.Decide deny the request with ReasonRiskFault.
type RiskAssessor interface {
	Assess(ctx context.Context, subscriber string, req Request) (RiskLevel, error)
}

// RiskAssessorFunc adapts a function to RiskAssessor.
type RiskAssessorFunc func(ctx context.Context, subscriber string, req Request) (RiskLevel, error)

// Assess calls f.
func (f RiskAssessorFunc) Assess(ctx context.Context, subscriber string, req Request) (RiskLevel, error) {
	return f(ctx, subscriber, req)
}
