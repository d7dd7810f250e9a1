package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/carrierguard/carrierguard/protection"
)

// Config configures Cases. Zero values are the documented defaults.
type Config struct {
	// TTL is how long a case lasts from when it is opened. Zero means 30 minutes; at most
	// 8 hours (a shift).
	TTL time.Duration
	// MaxEvidence is the most evidence a case holds. Zero means 16.
	MaxEvidence int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Rand is the source of case IDs. Nil means crypto/rand.
	Rand io.Reader
}

// Defaults and bounds of Config.
const (
	DefaultTTL         = 30 * time.Minute
	MaxTTL             = 8 * time.Hour
	DefaultMaxEvidence = 16
)

// Cases runs agent cases: it opens them for an authenticated Identity, lets only that
// agent on that channel use them, adds evidence the channel can give, expires them, and
// audits each step with the agent's ID. It is safe for concurrent use.
type Cases struct {
	cfg   Config
	store CaseStore
	audit Auditor
}

// New returns a Cases over store, auditing to audit. Both are required.
func New(cfg Config, store CaseStore, audit Auditor) (*Cases, error) {
	switch {
	case store == nil:
		return nil, fmt.Errorf("%w: the case store is nil", ErrInvalidConfig)
	case audit == nil:
		return nil, fmt.Errorf("%w: the auditor is nil (use LogAuditor for a log-only trail)", ErrInvalidConfig)
	case cfg.TTL < 0 || cfg.TTL > MaxTTL:
		return nil, fmt.Errorf("%w: Config.TTL must be between 0 (default %v) and %v", ErrInvalidConfig, DefaultTTL, MaxTTL)
	case cfg.MaxEvidence < 0 || cfg.MaxEvidence > 1000:
		return nil, fmt.Errorf("%w: Config.MaxEvidence must be between 0 (default %d) and 1000", ErrInvalidConfig, DefaultMaxEvidence)
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.MaxEvidence == 0 {
		cfg.MaxEvidence = DefaultMaxEvidence
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Cases{cfg: cfg, store: store, audit: audit}, nil
}

// TTL is how long a case lasts.
func (s *Cases) TTL() time.Duration { return s.cfg.TTL }

// ErrEvidenceChannel is evidence the case's channel cannot give: a government ID
// checked anywhere but in a store, a session or password that only the subscriber's own
// app has.
var ErrEvidenceChannel = errors.New("agent: this evidence cannot be given on the case's channel")

// Open opens a case for who, about subscriber, on who's channel. Expired cases are swept
// first. The opening is audited (AuditCaseOpened); if the audit fails, the case is
// removed again and the error returned.
func (s *Cases) Open(ctx context.Context, who Identity, subscriber string) (Case, error) {
	if !who.Valid() {
		return Case{}, fmt.Errorf("%w: the identity must name an agent and an agent channel", ErrInvalidRequest)
	}
	if subscriber == "" || len(subscriber) > 128 {
		return Case{}, fmt.Errorf("%w: the subscriber must be 1 to 128 bytes", ErrInvalidRequest)
	}
	now := s.cfg.Now()
	if _, err := s.store.DeleteExpiredCases(ctx, now); err != nil {
		return Case{}, fmt.Errorf("agent: sweeping expired cases: %w", err)
	}
	var b [16]byte
	if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
		return Case{}, fmt.Errorf("agent: case ID randomness: %w", err)
	}
	c := Case{ID: "case_" + hex.EncodeToString(b[:]), Agent: who.Agent, Channel: who.Channel,
		Subscriber: subscriber, Opened: now, Expires: now.Add(s.cfg.TTL)}
	if err := s.store.CreateCase(ctx, c); err != nil {
		return Case{}, fmt.Errorf("agent: saving the case: %w", err)
	}
	if err := s.record(ctx, who, c, AuditCaseOpened, ""); err != nil {
		_ = s.store.DeleteCase(ctx, c.ID)
		return Case{}, err
	}
	return c, nil
}

// Get returns the live case id of who: ErrNotFound if there is none, if it expired, or
// if it was opened by another agent or with a credential of another channel (the same
// agent's store credential cannot continue a phone case). Reading a case is not audited;
// what the agent then does with it is.
func (s *Cases) Get(ctx context.Context, who Identity, id string) (Case, error) {
	if !who.Valid() || id == "" || len(id) > 64 {
		return Case{}, ErrNotFound
	}
	c, err := s.store.Case(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Case{}, ErrNotFound
	}
	if err != nil {
		return Case{}, fmt.Errorf("agent: loading the case: %w", err)
	}
	if !s.cfg.Now().Before(c.Expires) || c.Agent != who.Agent || c.Channel != who.Channel {
		return Case{}, ErrNotFound
	}
	return c, nil
}

// AddEvidence adds ev to case id of who and returns the case as it now is. Evidence must
// be something the case's channel can give: a government ID only in a store case, never
// a session or password; a code proof must carry the Purpose it was sent for (see
// EvidenceFor), and ObtainedAt must be set and not in the future. Refusals are audited
// (AuditRefused) and return ErrEvidenceChannel or ErrInvalidRequest; a case already
// holding Config.MaxEvidence pieces returns ErrEvidenceFull.
func (s *Cases) AddEvidence(ctx context.Context, who Identity, id string, ev protection.Evidence) (Case, error) {
	c, err := s.Get(ctx, who, id)
	if err != nil {
		return Case{}, err
	}
	if err := s.checkEvidence(c, ev); err != nil {
		if aerr := s.record(ctx, who, c, AuditRefused, "evidence "+ev.Kind.String()); aerr != nil {
			return Case{}, aerr
		}
		return Case{}, err
	}
	// Audit first: evidence that was not recorded must not count.
	if err := s.record(ctx, who, c, AuditEvidenceAdded, evidenceDetail(ev)); err != nil {
		return Case{}, err
	}
	if err := s.store.AddEvidence(ctx, c.ID, ev, s.cfg.MaxEvidence); err != nil {
		if errors.Is(err, ErrEvidenceFull) || errors.Is(err, ErrNotFound) {
			return Case{}, err
		}
		return Case{}, fmt.Errorf("agent: saving evidence: %w", err)
	}
	c.Evidence = append(c.Evidence, ev)
	return c, nil
}

func (s *Cases) checkEvidence(c Case, ev protection.Evidence) error {
	switch {
	case !ev.Kind.Valid():
		return fmt.Errorf("%w: unknown evidence kind", ErrInvalidRequest)
	case ev.ObtainedAt.IsZero() || ev.ObtainedAt.After(s.cfg.Now()):
		return fmt.Errorf("%w: evidence must have an ObtainedAt, not in the future", ErrInvalidRequest)
	case ev.Kind == protection.EvidenceSession || ev.Kind == protection.EvidencePassword:
		return fmt.Errorf("%w: %s evidence comes from the subscriber's own session, not from an agent", ErrEvidenceChannel, ev.Kind)
	case ev.Kind == protection.EvidenceGovernmentID && c.Channel != protection.ChannelStore:
		return fmt.Errorf("%w: an ID is checked in person, in a store case, not on %s", ErrEvidenceChannel, c.Channel)
	case secondFactor(ev.Kind) && ev.Purpose.Validate() != nil:
		return fmt.Errorf("%w: a code proof must carry the purpose it was sent for", ErrInvalidRequest)
	case ev.SIM != protection.SIMStatusUnknown:
		// protection.Service.Decide looks the number up in the SIM-change history only
		// for an unknown status: a case never vouches for a number's SIM itself.
		return fmt.Errorf("%w: leave the SIM status of a code's number unknown; the decision looks it up", ErrInvalidRequest)
	}
	return nil
}

func evidenceDetail(ev protection.Evidence) string {
	if ev.Purpose != "" {
		return ev.Kind.String() + " for " + string(ev.Purpose)
	}
	return ev.Kind.String()
}

// Close ends case id of who before it expires (AuditCaseClosed).
func (s *Cases) Close(ctx context.Context, who Identity, id string) error {
	c, err := s.Get(ctx, who, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteCase(ctx, c.ID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return ErrNotFound
		}
		return fmt.Errorf("agent: closing the case: %w", err)
	}
	return s.record(ctx, who, c, AuditCaseClosed, "")
}

// Record audits an action who took in case c that Cases does not do itself: account
// details shown, a code sent, a SIM change requested. Call it before acting and do not
// act if it fails. c must be a case Get returned for who.
func (s *Cases) Record(ctx context.Context, who Identity, c Case, action AuditAction, detail string) error {
	if c.Agent != who.Agent || c.Channel != who.Channel {
		return ErrNotFound
	}
	return s.record(ctx, who, c, action, detail)
}

func (s *Cases) record(ctx context.Context, who Identity, c Case, action AuditAction, detail string) error {
	err := s.audit.Audit(ctx, Record{At: s.cfg.Now(), Agent: who.Agent, Channel: who.Channel, Case: c.ID,
		Subscriber: c.Subscriber, Action: action, Detail: detail})
	if err != nil {
		return fmt.Errorf("agent: audit trail: %w", err)
	}
	return nil
}
