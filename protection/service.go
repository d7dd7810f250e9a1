package protection

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
)

// Config configures a Service. The zero value of every field but PINKey is a
// documented default.
type Config struct {
	// Policy decides requests. Nil means NewPolicy(PolicyConfig{Now: Now}): the default.
	Policy *Policy `validate:"-"`
	// CoolingOff is how long after a permitted request a flag actually goes off; the
	// subscriber is notified at once and can cancel meanwhile. Zero means 24 hours; at
	// least one hour.
	CoolingOff time.Duration `validate:"gte=0"`
	// HistoryRetention is how long SIM-change records are kept; PurgeHistory deletes
	// older ones. Zero means 3 years (1096 days), the FCC minimum.
	HistoryRetention time.Duration `validate:"gte=0"`
	// PINDigits is the length of a transfer PIN. Zero means 6; at most 12.
	PINDigits int `validate:"omitempty,min=6,max=12"`
	// PINTTL is how long a transfer PIN stays valid. Zero means 7 days.
	PINTTL time.Duration `validate:"gte=0"`
	// PINMaxFailures is how many wrong transfer PINs in a row destroy the live PIN and
	// lock the subscriber's transfer PINs for PINLockout. Zero means 5.
	PINMaxFailures int `validate:"omitempty,min=1,max=100"`
	// PINLockout is how long that lock lasts: a PIN issued meanwhile works only after it.
	// Zero means 1 hour; at most PINTTL.
	PINLockout time.Duration `validate:"gte=0"`
	// PINKey is the HMAC key transfer PINs are hashed with: at least 32 random bytes,
	// from configuration or a KMS, never stored next to the PINs (keyring.GenerateKey
	// makes one; keyring.CheckKeyMaterial refuses placeholders). Required.
	PINKey []byte `validate:"required,min=32"`
	// ApprovalTTL is how long an approved SIM change or port-out can be completed: from
	// the decision, or from the end of its hold if held. Zero means 1 hour.
	ApprovalTTL time.Duration `validate:"gte=0"`
	// PartnerLimit is how many partner port-outs not accepted (no PIN, a wrong PIN, a
	// number that is no customer's, a denial) one partner may send per PartnerWindow
	// before PartnerPortOut refuses with ErrPartnerLimited. Zero means 30.
	PartnerLimit int `validate:"gte=0"`
	// PartnerWindow is the window of PartnerLimit. Zero means 1 hour.
	PartnerWindow time.Duration `validate:"gte=0"`
	// Risk, if set, assesses every request Decide sees; the request's own Risk is then a
	// floor. Nil means callers set Request.Risk themselves.
	Risk RiskAssessor `validate:"-"`
	// TwoFactor tells Decide whether the subscriber has two-step verification on
	// (*twofactor.Service satisfies it): while it is off, a self-service SIM swap, eSIM
	// transfer or port-out is held (Request.TwoFactorOff). An error fails closed.
	// Required: TwoFactorFromRequest says that callers set Request.TwoFactorOff
	// themselves, explicitly.
	TwoFactor TwoFactorState `validate:"-"`
	// Factors is asked when an approval is re-decided (CompleteSIMChange,
	// ApplyDueHolds) whether each second factor its evidence came from is still on the
	// account; the evidence of one that is gone no longer counts. Required
	// (FactorsFromTwoFactor makes one); FactorsAsGiven says, explicitly, that evidence
	// counts as given, even a code from a contact removed since.
	Factors FactorChecker `validate:"-"`
	// Now is the clock. Nil means time.Now.
	Now func() time.Time `validate:"-"`
	// Rand is the source of transfer PINs and request IDs. Nil means crypto/rand.Reader.
	Rand io.Reader `validate:"-"`
	// Logger receives faults (never secrets). Nil means discard.
	Logger *slog.Logger `validate:"-"`
}

// Service applies the policy to a subscriber's requests and keeps what the policy
// needs: protection flags with their cooling-off, the SIM-change history and transfer
// PINs. It is safe for concurrent use.
type Service struct {
	policy      *Policy
	coolingOff  time.Duration
	retention   time.Duration
	pinDigits   int
	pinTTL      time.Duration
	pinFailures int
	pinLockout  time.Duration
	pinKey      []byte
	approvalTTL time.Duration
	partnerMax  int
	partnerWin  time.Duration
	risk        RiskAssessor
	twoFactor   TwoFactorState
	factors     FactorChecker
	now         func() time.Time
	rand        io.Reader
	log         *slog.Logger
	flags       FlagStore
	history     HistoryStore
	pins        PINStore
	probes      ProbeStore
	pub         notify.Publisher
}

var _ SIMChangeChecker = (*Service)(nil)

// New validates cfg and returns a Service using stores and publishing through pub.
func New(cfg Config, stores Stores, pub notify.Publisher) (*Service, error) {
	if err := validate.Struct("protection", cfg); err != nil {
		return nil, err
	}
	if err := keyring.CheckKeyMaterial(cfg.PINKey); err != nil {
		return nil, validate.Field("protection", "Config.PINKey", err)
	}
	if cfg.CoolingOff != 0 && cfg.CoolingOff < time.Hour {
		return nil, validate.Errorf("protection", "Config.CoolingOff is %s; it must be at least 1h (or zero for the 24h default)", cfg.CoolingOff)
	}
	if stores.Flags == nil || stores.History == nil || stores.PINs == nil {
		return nil, validate.Errorf("protection", "Stores.Flags, Stores.History and Stores.PINs are all required")
	}
	if pub == nil {
		return nil, validate.Errorf("protection", "a notify.Publisher is required: every flag change, SIM change and port-out request must be notified")
	}
	if cfg.TwoFactor == nil {
		return nil, validate.Errorf("protection", "Config.TwoFactor is required: a self-service SIM change is held while 2FA is off, so Decide must know (pass your *twofactor.Service, or a TwoFactorStateFunc over it; TwoFactorFromRequest if you set Request.TwoFactorOff yourself)")
	}
	if cfg.Factors == nil {
		return nil, validate.Errorf("protection", "Config.Factors is required: a held SIM change must not complete on a factor removed meanwhile (pass FactorsFromTwoFactor(yourTwoFactorService), or a FactorCheckerFunc over it; FactorsAsGiven to count evidence as given)")
	}
	s := &Service{
		policy: cfg.Policy, coolingOff: cfg.CoolingOff, retention: cfg.HistoryRetention,
		pinDigits: cfg.PINDigits, pinTTL: cfg.PINTTL, pinFailures: cfg.PINMaxFailures, pinLockout: cfg.PINLockout,
		pinKey: append([]byte(nil), cfg.PINKey...), risk: cfg.Risk, twoFactor: cfg.TwoFactor, factors: cfg.Factors, now: cfg.Now,
		rand: cfg.Rand, log: cfg.Logger, approvalTTL: cfg.ApprovalTTL,
		partnerMax: cfg.PartnerLimit, partnerWin: cfg.PartnerWindow,
		flags: stores.Flags, history: stores.History, pins: stores.PINs, probes: stores.Probes, pub: pub,
	}
	if s.approvalTTL == 0 {
		s.approvalTTL = time.Hour
	}
	if s.partnerMax == 0 {
		s.partnerMax = 30
	}
	if s.partnerWin == 0 {
		s.partnerWin = time.Hour
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.policy == nil {
		p, err := NewPolicy(PolicyConfig{Now: s.now})
		if err != nil {
			return nil, err
		}
		s.policy = p
	}
	if s.coolingOff == 0 {
		s.coolingOff = 24 * time.Hour
	}
	if s.retention == 0 {
		s.retention = 1096 * 24 * time.Hour
	}
	if s.pinDigits == 0 {
		s.pinDigits = 6
	}
	if s.pinTTL == 0 {
		s.pinTTL = 7 * 24 * time.Hour
	}
	if s.pinFailures == 0 {
		s.pinFailures = 5
	}
	if s.pinLockout == 0 {
		s.pinLockout = time.Hour
	}
	if s.pinLockout > s.pinTTL {
		return nil, validate.Errorf("protection", "Config.PINLockout is %s; it must not be longer than PINTTL (%s)", s.pinLockout, s.pinTTL)
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// TwoFactorState says whether a subscriber has two-step verification on.
// *twofactor.Service satisfies it.
type TwoFactorState interface {
	TwoFactorEnabled(ctx context.Context, subscriber string) (bool, error)
}

// TwoFactorFromRequest is the Config.TwoFactor of a caller that sets
// Request.TwoFactorOff itself on every request: Decide then asks nothing. Leaving it
// false lets a self-service SIM change go ahead at once while 2FA is off; prefer
// passing the twofactor service.
var TwoFactorFromRequest TwoFactorState = TwoFactorStateFunc(func(context.Context, string) (bool, error) { return true, nil })

// TwoFactorStateFunc adapts a function to TwoFactorState, for wiring a twofactor
// service that is built after this one (it needs this service's SIM-change history).
type TwoFactorStateFunc func(ctx context.Context, subscriber string) (bool, error)

// TwoFactorEnabled calls f(ctx, subscriber).
func (f TwoFactorStateFunc) TwoFactorEnabled(ctx context.Context, subscriber string) (bool, error) {
	return f(ctx, subscriber)
}

// Policy returns the policy the service decides with.
func (s *Service) Policy() *Policy { return s.policy }

// Decide decides on a request by subscriber. It adds the subscriber's stored flags to
// req.Flags, raises req.Risk to the RiskAssessor's level (if one is configured), and
// fills in the SIM status of SMS and voice codes that name their Destination from the
// SIM-change history. It does not modify req.Evidence.
//
// Faults fail closed: a store or risk error returns a Deny decision with ReasonFault and
// ReasonStoreFault or ReasonRiskFault, together with the error.
func (s *Service) Decide(ctx context.Context, subscriber string, req Request) (Decision, error) {
	if subscriber == "" {
		return Decision{Action: req.Action, Channel: req.Channel, Outcome: Deny, Reasons: reasons(ReasonInvalidRequest)},
			fmt.Errorf("%w: subscriber is empty", ErrInvalidRequest)
	}
	if req.At.IsZero() {
		req.At = s.now()
	}
	st, err := s.Flags(ctx, subscriber)
	if err != nil {
		return s.fault(req, ReasonStoreFault, err)
	}
	req.Flags |= st.On
	if req.Action.movesNumber() && req.Channel.SelfService() {
		on, err := s.twoFactor.TwoFactorEnabled(ctx, subscriber)
		if err != nil {
			return s.fault(req, ReasonStoreFault, fmt.Errorf("protection: reading the 2FA state: %w", err))
		}
		req.TwoFactorOff = req.TwoFactorOff || !on
	}
	if s.risk != nil {
		lvl, err := s.risk.Assess(ctx, subscriber, req)
		if err != nil {
			return s.fault(req, ReasonRiskFault, fmt.Errorf("protection: assessing risk: %w", err))
		}
		if !lvl.Valid() {
			return s.fault(req, ReasonRiskFault, fmt.Errorf("protection: risk assessor returned invalid level %d", lvl))
		}
		req.Risk = max(req.Risk, lvl)
	}
	var copied bool
	for i, ev := range req.Evidence {
		if ev.Kind != EvidenceContactCode || !ev.Contact.phoneBased() || ev.SIM != SIMStatusUnknown || ev.Destination == "" {
			continue
		}
		num, err := NormalizeE164(ev.Destination)
		if err != nil {
			continue // stays unknown, so it does not count
		}
		changed, err := s.changedSince(ctx, num, req.At.Add(-s.policy.simWindow))
		if err != nil {
			return s.fault(req, ReasonStoreFault, err)
		}
		if !copied {
			req.Evidence, copied = append([]Evidence(nil), req.Evidence...), true
		}
		req.Evidence[i].SIM = SIMStatusStable
		if changed {
			req.Evidence[i].SIM = SIMStatusChanged
		}
	}
	return s.policy.Evaluate(&req)
}

func (s *Service) fault(req Request, r Reason, err error) (Decision, error) {
	s.log.Warn("protection: request denied on a fault", "action", req.Action.String(), "channel", req.Channel.String(), "error", err)
	return faultDecision(req.Action, req.Channel, r), err
}

// event builds an event with the service's clock.
func (s *Service) event(t notify.Type, subscriber string, actor notify.Actor, ch Channel, attrs map[string]string) notify.Event {
	if actor.Kind == "" {
		actor.Kind = notify.ActorSubscriber
	}
	channel := "system"
	if ch.Valid() {
		channel = ch.String()
	}
	return notify.Event{
		ID: notify.NewID(), Type: t, Subscriber: subscriber, Time: s.now(),
		Actor: actor, Channel: channel, Attributes: attrs,
	}
}

func (s *Service) publish(ctx context.Context, e notify.Event) error {
	if err := s.pub.Publish(ctx, e); err != nil {
		return fmt.Errorf("protection: publishing %s: %w", e.Type, err)
	}
	return nil
}

// FlagStatus is a subscriber's protection flags.
type FlagStatus struct {
	// On are the flags protecting the account now (including those with a pending disable).
	On Flags
	// States has one entry per flag that is on.
	States []FlagState
}

// Pending returns the state of flag if a disable of it is pending.
func (st FlagStatus) Pending(flag Flags) (FlagState, bool) {
	for _, s := range st.States {
		if s.Flag == flag && s.Pending() {
			return s, true
		}
	}
	return FlagState{}, false
}

// Flags returns the subscriber's flags. A disable whose cooling-off has ended takes
// effect here, so no background job is needed; ApplyDue does the same for every
// subscriber. notify.ProtectionFlagDisabled is published first: if it cannot be, the
// flag stays on and the error is returned (so Decide denies, failing closed) until a
// later call can announce it.
func (s *Service) Flags(ctx context.Context, subscriber string) (FlagStatus, error) {
	states, err := s.flags.Flags(ctx, subscriber)
	if err != nil {
		return FlagStatus{}, fmt.Errorf("protection: reading flags: %w", err)
	}
	now := s.now()
	applied := false
	for _, st := range states {
		if st.On && st.Pending() && !st.DisableAt.After(now) {
			if _, err := s.completeDisable(ctx, subscriber, st, now); err != nil {
				return FlagStatus{}, err
			}
			applied = true
		}
	}
	if applied {
		if states, err = s.flags.Flags(ctx, subscriber); err != nil {
			return FlagStatus{}, fmt.Errorf("protection: reading flags: %w", err)
		}
	}
	var out FlagStatus
	for _, st := range states {
		if st.On {
			out.On |= st.Flag
			out.States = append(out.States, st)
		}
	}
	return out, nil
}

// completeDisable turns a due flag off and reports whether this call did it.
//
// The event is published before the flag goes off. The Publisher is meant to be a
// durable outbox, so an error means the event was not recorded: the flag then stays on
// (fail closed) and the error is returned; the next read or ApplyDue tries again. The
// other order would leave a window, or on a publish error a permanent state, in which
// the account is unprotected and the subscriber has not been told. The price is that
// the event is delivered at least once, not exactly once: two callers racing at the due
// time may both publish it, and a cancel racing with it may follow it. Every such copy
// carries the same "effective_at", so (subscriber, flag, effective_at) identifies the
// change for de-duplication.
func (s *Service) completeDisable(ctx context.Context, subscriber string, st FlagState, now time.Time) (bool, error) {
	e := s.event(notify.ProtectionFlagDisabled, subscriber, notify.Actor{Kind: notify.ActorSystem, ID: "protection"}, 0,
		map[string]string{"flag": st.Flag.String(), "effective_at": st.DisableAt.UTC().Format(time.RFC3339)})
	if err := s.publish(ctx, e); err != nil {
		return false, fmt.Errorf("%w (the flag stays on until it can be announced)", err)
	}
	done, err := s.flags.CompleteDisable(ctx, subscriber, st.Flag, now)
	if err != nil {
		return false, fmt.Errorf("protection: completing disable of %s: %w", st.Flag, err)
	}
	if !done {
		// Another caller turned it off first (and published too), or it was cancelled.
		s.log.Warn("protection: a flag-disabled event was published for a disable completed or cancelled concurrently",
			"flag", st.Flag.String(), "event", e.ID)
	}
	return done, nil
}

// ApplyDue turns off every flag whose cooling-off has ended, for all subscribers, and
// returns how many it turned off. It needs a FlagStore that implements DueDisables;
// otherwise it returns an error wrapping errors.ErrUnsupported (disables still take
// effect when Flags or Decide read them).
func (s *Service) ApplyDue(ctx context.Context) (int, error) {
	lister, ok := s.flags.(DueDisables)
	if !ok {
		return 0, fmt.Errorf("protection: the flag store cannot list due disables: %w", errors.ErrUnsupported)
	}
	now := s.now()
	n := 0
	for {
		due, err := lister.DueDisables(ctx, now, 100)
		if err != nil {
			return n, fmt.Errorf("protection: listing due disables: %w", err)
		}
		if len(due) == 0 {
			return n, nil
		}
		progress := false
		for _, d := range due {
			done, err := s.completeDisable(ctx, d.Subscriber, d.FlagState, now)
			if done {
				n++
				progress = true
			}
			if err != nil {
				return n, err
			}
		}
		if !progress {
			return n, nil // what is listed was completed by others meanwhile
		}
	}
}

func checkFlag(flag Flags) error {
	if !flag.Single() {
		return fmt.Errorf("%w: %w: %s is not a single flag", ErrInvalidRequest, ErrUnknownFlag, flag)
	}
	return nil
}

// EnableFlag turns a flag on at once. It is free and needs no evidence beyond the
// authenticated channel the caller already has: a flag only ever tightens the policy.
// Enabling a flag with a pending disable cancels the disable. It publishes
// notify.ProtectionFlagEnabled (and notify.ProtectionFlagDisableCancelled if a disable
// was pending).
//
// Turning a flag on also cancels the subscriber's open approvals (approved, held or
// being completed) of the kinds it forbids: Never SIM Swap cancels SIM swaps and eSIM
// transfers, No Port Out port-outs, Account Lockdown all three (see cancelForbidden).
// The flag is stored first and the open approvals are listed after, so once EnableFlag
// returns no forbidden change can complete: a completion that read the flags before
// they changed finds its approval cancelled at its compare-and-set (approved →
// completed) and fails; one that reads them after is re-decided with the flag on.
func (s *Service) EnableFlag(ctx context.Context, subscriber string, flag Flags, ch Channel, actor notify.Actor) error {
	if err := checkFlag(flag); err != nil {
		return err
	}
	if subscriber == "" || !ch.Valid() {
		return fmt.Errorf("%w: subscriber and a known channel are required", ErrInvalidRequest)
	}
	// A disable that is already due takes effect (and is announced) first.
	if _, err := s.Flags(ctx, subscriber); err != nil {
		return err
	}
	// The store reports the state it replaced, in the same atomic step, so a disable
	// scheduled concurrently is never cancelled without being announced.
	prev, err := s.flags.EnableFlag(ctx, subscriber, flag, s.now())
	if err != nil {
		return fmt.Errorf("protection: enabling %s: %w", flag, err)
	}
	var cerr error
	if !prev.On {
		// Only a flag that was off can have let an approval through that it forbids; an
		// approval decided while it was on (in a store, say) met its overlay.
		cerr = s.cancelForbidden(ctx, subscriber, flag)
	}
	attrs := map[string]string{"flag": flag.String()}
	if prev.On && prev.Pending() {
		if err := s.publish(ctx, s.event(notify.ProtectionFlagDisableCancelled, subscriber, actor, ch, attrs)); err != nil {
			return errors.Join(cerr, err)
		}
	}
	if prev.On {
		return cerr // already on: nothing changed that the subscriber must hear about
	}
	return errors.Join(cerr, s.publish(ctx, s.event(notify.ProtectionFlagEnabled, subscriber, actor, ch, attrs)))
}

// RequestFlagDisable asks to turn a flag off. The request is decided as
// ActionDisableFlag (req.Action is set for you); if the policy does not permit it, the
// decision is returned and nothing changes. If it does, the flag goes off at the
// returned time, after the cooling-off period (or the policy's hold, if later), unless
// the subscriber cancels first; whenever an error is returned the decision is Deny and
// nothing is scheduled.
//
// notify.ProtectionFlagDisableRequested is published before the disable is scheduled,
// so a request the subscriber cannot hear about is never scheduled (if scheduling then
// fails, notify.ProtectionFlagDisableCancelled follows); notify.ProtectionFlagDisabled
// is published before the flag actually goes off (see Flags).
func (s *Service) RequestFlagDisable(ctx context.Context, subscriber string, flag Flags, req Request, actor notify.Actor) (Decision, time.Time, error) {
	req.Action, req.Flag = ActionDisableFlag, flag
	if err := checkFlag(flag); err != nil {
		return Decision{Action: req.Action, Channel: req.Channel, Outcome: Deny, Reasons: reasons(ReasonInvalidRequest)}, time.Time{}, err
	}
	d, err := s.Decide(ctx, subscriber, req)
	if err != nil || !d.Outcome.Permits() {
		return d, time.Time{}, err
	}
	now := s.now()
	at := now.Add(s.coolingOff)
	if d.Outcome == Hold && d.HoldUntil.After(at) {
		at = d.HoldUntil
	}
	// Refuse the obvious invalid requests before announcing anything.
	st, err := s.Flags(ctx, subscriber)
	if err != nil {
		return faultDecision(req.Action, req.Channel, ReasonStoreFault), time.Time{}, err
	}
	if _, pending := st.Pending(flag); pending || !st.On.Has(flag) {
		err := ErrFlagOff
		if pending {
			err = ErrDisablePending
		}
		return Decision{Action: req.Action, Channel: req.Channel, Outcome: Deny, Reasons: reasons(ReasonInvalidRequest)}, time.Time{},
			fmt.Errorf("protection: scheduling disable of %s: %w", flag, err)
	}
	// Announce first: the subscriber must hear of the request to be able to cancel it, so
	// a disable that could not be announced is never scheduled.
	attrs := map[string]string{"flag": flag.String(), "effective_at": at.UTC().Format(time.RFC3339)}
	if err := s.publish(ctx, s.event(notify.ProtectionFlagDisableRequested, subscriber, actor, req.Channel, attrs)); err != nil {
		return faultDecision(req.Action, req.Channel, ReasonFault), time.Time{}, err
	}
	if err := s.flags.ScheduleDisable(ctx, subscriber, flag, now, at); err != nil {
		d = faultDecision(req.Action, req.Channel, ReasonStoreFault)
		if errors.Is(err, ErrFlagOff) || errors.Is(err, ErrDisablePending) {
			d.Reasons = reasons(ReasonInvalidRequest)
		}
		// The request was announced but is not pending: say so (best effort; the flag
		// stays as it was, which is the safe side).
		if perr := s.publish(ctx, s.event(notify.ProtectionFlagDisableCancelled, subscriber,
			notify.Actor{Kind: notify.ActorSystem, ID: "protection"}, req.Channel, attrs)); perr != nil {
			s.log.Error("protection: could not announce that a disable request was not recorded", "flag", flag.String(), "error", perr)
		}
		return d, time.Time{}, fmt.Errorf("protection: scheduling disable of %s: %w", flag, err)
	}
	return d, at, nil
}

// CancelFlagDisable cancels a pending disable; the flag stays on. Like turning a flag on,
// it only tightens, so any authenticated channel may do it. It returns ErrNotFound if
// no disable is pending (including one whose cooling-off has already ended: it takes
// effect first, and the flag must be turned on again), and publishes
// notify.ProtectionFlagDisableCancelled.
func (s *Service) CancelFlagDisable(ctx context.Context, subscriber string, flag Flags, ch Channel, actor notify.Actor) error {
	if err := checkFlag(flag); err != nil {
		return err
	}
	if _, err := s.Flags(ctx, subscriber); err != nil { // applies a disable that is due
		return err
	}
	if err := s.flags.CancelDisable(ctx, subscriber, flag); err != nil {
		return fmt.Errorf("protection: cancelling disable of %s: %w", flag, err)
	}
	return s.publish(ctx, s.event(notify.ProtectionFlagDisableCancelled, subscriber, actor, ch,
		map[string]string{"flag": flag.String()}))
}
