package protection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carrierguard/carrierguard/internal/cleanup"
	"github.com/carrierguard/carrierguard/notify"
)

// Errors about SIM-change requests.
var (
	// ErrInvalidNumber: a phone number is not in E.164 form (+ and 5 to 15 digits).
	ErrInvalidNumber = errors.New("protection: phone number is not E.164 (+ then 5 to 15 digits, no leading 0)")
	// ErrNotApproved: CompleteSIMChange was called for a request that is not approved.
	ErrNotApproved = errors.New("protection: SIM change is not approved")
	// ErrHeld: CompleteSIMChange was called before the request's hold ended.
	ErrHeld = errors.New("protection: SIM change is held")
	// ErrNoLongerPermitted: CompleteSIMChange re-decided an approval and the policy no
	// longer permits it now (a flag turned on, a higher risk, a SIM change of a contact);
	// the request was denied and the subscriber told.
	ErrNoLongerPermitted = errors.New("protection: the SIM change is no longer permitted")
)

// maxNumberInput bounds what NormalizeE164 reads.
const maxNumberInput = 64

// NormalizeE164 returns s as an E.164 number ("+" then 5 to 15 digits, the first not 0,
// the form the CAMARA APIs use), after removing spaces, hyphens, dots and parentheses.
// Anything else is an error wrapping ErrInvalidNumber.
func NormalizeE164(s string) (string, error) {
	if len(s) > maxNumberInput {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidNumber, maxNumberInput)
	}
	var b [maxNumberInput]byte
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		case c == '+' && n == 0, c >= '0' && c <= '9' && n > 0:
			b[n] = c
			n++
		default:
			return "", ErrInvalidNumber
		}
	}
	if n < 6 || n > 16 || b[1] == '0' {
		return "", ErrInvalidNumber
	}
	return string(b[:n]), nil
}

// maskNumber shows only the last four digits, for events.
func maskNumber(e164 string) string {
	if len(e164) < 4 {
		return "••••"
	}
	return "•••• " + e164[len(e164)-4:]
}

// ChangeRequest asks for a SIM swap, an eSIM transfer or a port-out.
type ChangeRequest struct {
	// RequestID continues a request that stepped up (give the ID the first call
	// returned, with more evidence); empty starts a new request.
	RequestID  string
	Subscriber string
	// Number is the phone number to move (E.164; NormalizeE164 is applied).
	Number  string
	Kind    ChangeKind // ChangeSIMSwap, ChangeESIMTransfer or ChangePortOut
	Channel Channel
	Actor   notify.Actor
	// Risk is the request's risk level (a floor, if the service has a RiskAssessor).
	Risk     RiskLevel
	Evidence []Evidence
}

// ChangeResult is the answer to a ChangeRequest.
type ChangeResult struct {
	// RequestID identifies the request in the history; pass it to CompleteSIMChange
	// once approved, or back in ChangeRequest.RequestID after a step-up.
	RequestID string
	Decision  Decision
}

// changeEvents maps a kind to its requested/approved/denied/completed events. eSIM
// transfers use the SIM-swap events with attribute sim=esim.
func changeEvents(k ChangeKind) (requested, approved, denied, completed notify.Type) {
	if k == ChangePortOut {
		return notify.PortOutRequested, notify.PortOutApproved, notify.PortOutDenied, notify.PortOutCompleted
	}
	return notify.SIMSwapRequested, notify.SIMSwapApproved, notify.SIMSwapDenied, notify.SIMSwapCompleted
}

func changeAttrs(k ChangeKind, number string) map[string]string {
	attrs := map[string]string{"number": maskNumber(number), "kind": k.String()}
	switch k {
	case ChangeESIMTransfer:
		attrs["sim"] = "esim"
	case ChangeSIMSwap:
		attrs["sim"] = "physical"
	}
	return attrs
}

// RequestSIMChange decides on a SIM swap, eSIM transfer or port-out and records it.
//
// The subscriber is notified immediately: the requested event is published before
// anything is decided, and the request is denied if it cannot be published. Then the
// decision is recorded in the SIM-change history and, for allow/hold and deny, the
// approved or denied event is published. An approval is recorded as approved (and so
// can be completed) only after its event is published; if it cannot be, the request
// is denied with ReasonFault, recorded as denied and announced as denied (best effort).
// A step-up records a pending status and publishes nothing more; call again with
// RequestID and more evidence. Faults deny.
//
// An approval expires (Config.ApprovalTTL after the decision, or after the hold ends)
// and is re-decided when completed: see CompleteSIMChange. Its approved event carries
// the attribute "cancel", a single-use token for a link in the notice that cancels the
// request (CancelSIMChangeByToken); only its keyed hash is stored.
func (s *Service) RequestSIMChange(ctx context.Context, cr ChangeRequest) (ChangeResult, error) {
	return s.requestSIMChange(ctx, cr, nil)
}

// spendFunc spends what a request may use only once (a transfer PIN) after the policy
// permitted the request and before its approval is announced. On failure it returns the
// reasons to deny with.
type spendFunc func(ctx context.Context) (ReasonSet, error)

func (s *Service) requestSIMChange(ctx context.Context, cr ChangeRequest, spend spendFunc) (ChangeResult, error) {
	act := cr.Kind.action()
	deny := func(r ...Reason) ChangeResult {
		return ChangeResult{RequestID: cr.RequestID, Decision: Decision{Action: act, Channel: cr.Channel, Outcome: Deny, Reasons: reasons(r...)}}
	}
	if act == 0 || cr.Subscriber == "" || !cr.Channel.Valid() {
		return deny(ReasonInvalidRequest), fmt.Errorf("%w: a subscriber, a known channel and a kind of SIM swap, eSIM transfer or port-out are required", ErrInvalidRequest)
	}
	number, err := NormalizeE164(cr.Number)
	if err != nil {
		return deny(ReasonInvalidRequest), fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	requested, approved, denied, _ := changeEvents(cr.Kind)
	attrs := changeAttrs(cr.Kind, number)
	now := s.now()
	rec := SIMChange{
		RequestID: cr.RequestID, Subscriber: cr.Subscriber, Number: number, Kind: cr.Kind,
		Channel: cr.Channel, Actor: actorName(cr.Actor), Risk: cr.Risk, Given: cr.Evidence,
	}
	// The decision is appended only if the request is still in the state it was found in
	// (requested, or pending after a step-up), so two concurrent continuations of one
	// pending request cannot both be decided.
	prevStatus := StatusPending
	if cr.RequestID == "" {
		prevStatus = StatusRequested
		rec.RequestID = notify.NewID()
		cr.RequestID = rec.RequestID
		attrs["request"] = rec.RequestID
		if err := s.publish(ctx, s.event(requested, cr.Subscriber, cr.Actor, cr.Channel, attrs)); err != nil {
			return deny(ReasonFault), err
		}
		rec.Status, rec.Time = StatusRequested, now
		if err := s.history.AppendSIMChange(ctx, rec, 0); err != nil {
			err = fmt.Errorf("protection: recording SIM-change request: %w", err)
			s.notifyDenied(ctx, cr, denied, attrs, reasons(ReasonFault, ReasonStoreFault))
			return deny(ReasonFault, ReasonStoreFault), err
		}
	} else {
		attrs["request"] = rec.RequestID
		prev, err := s.history.LatestForRequest(ctx, cr.RequestID)
		if errors.Is(err, ErrNotFound) {
			return deny(ReasonInvalidRequest), fmt.Errorf("%w: unknown RequestID", ErrInvalidRequest)
		}
		if err != nil {
			return deny(ReasonFault, ReasonStoreFault), fmt.Errorf("protection: reading SIM-change request: %w", err)
		}
		if prev.Subscriber != cr.Subscriber || prev.Number != number || prev.Kind != cr.Kind || prev.Status != StatusPending {
			return deny(ReasonInvalidRequest), fmt.Errorf("%w: RequestID names a request that is not pending for this subscriber, number and kind", ErrInvalidRequest)
		}
	}

	d, derr := s.Decide(ctx, cr.Subscriber, Request{
		Action: act, Channel: cr.Channel, Risk: cr.Risk, Evidence: cr.Evidence, At: now,
	})
	rec.Time, rec.Outcome, rec.Reasons, rec.Evidence, rec.DecidedAt = s.now(), d.Outcome, d.Reasons, d.Counted, now
	var token string
	switch d.Outcome {
	case Allow, Hold:
		rec.Status = StatusApproving // approved only once announced: see approve
		rec.ExpiresAt = s.approvalExpiry(d, now)
		if token, rec.CancelHash, err = s.newCancelToken(rec.RequestID); err != nil {
			s.notifyDenied(ctx, cr, denied, attrs, reasons(ReasonFault))
			return deny(ReasonFault), errors.Join(derr, err)
		}
	case StepUp:
		rec.Status = StatusPending
	default:
		rec.Status = StatusDenied
	}
	if err := s.history.AppendSIMChange(ctx, rec, prevStatus); err != nil {
		if errors.Is(err, ErrConflict) {
			return deny(ReasonInvalidRequest), errors.Join(derr, fmt.Errorf("%w: the request was decided by a concurrent call: %w", ErrInvalidRequest, err))
		}
		err = errors.Join(derr, fmt.Errorf("protection: recording SIM-change decision: %w", err))
		s.notifyDenied(ctx, cr, denied, attrs, reasons(ReasonFault, ReasonStoreFault))
		return deny(ReasonFault, ReasonStoreFault), err
	}
	attrs["decision"] = d.Outcome.String()
	attrs["reasons"] = d.Reasons.String()
	switch rec.Status {
	case StatusApproving:
		rs, err := ReasonSet(0), error(nil)
		if spend != nil {
			// Spent only now: the policy permits the request and this call alone holds it
			// (the approving compare-and-set above).
			rs, err = spend(ctx)
		}
		if err == nil {
			rs, err = s.approve(ctx, cr, rec, d, approved, attrs, token)
		}
		if err != nil {
			s.withdrawApproval(ctx, cr, rec, denied, attrs, rs)
			return ChangeResult{RequestID: cr.RequestID, Decision: Decision{Action: act, Channel: cr.Channel, Outcome: Deny, Reasons: rs}},
				errors.Join(derr, err)
		}
	case StatusDenied:
		if err := s.publish(ctx, s.event(denied, cr.Subscriber, cr.Actor, cr.Channel, attrs)); err != nil {
			derr = errors.Join(derr, err)
		}
	}
	return ChangeResult{RequestID: cr.RequestID, Decision: d}, derr
}

// approvalExpiry is when an approval decided at now stops being completable.
func (s *Service) approvalExpiry(d Decision, now time.Time) time.Time {
	if d.Outcome == Hold && d.HoldUntil.After(now) {
		return d.HoldUntil.Add(s.approvalTTL)
	}
	return now.Add(s.approvalTTL)
}

// approve announces a decided approval and then records it as approved. On failure it
// returns the fault reasons to deny with.
//
// The subscriber must hear of an approval before the change can be carried out, and the
// history, the caller and the subscriber must never disagree about it. So an approval
// is written in two steps around its announcement: the decision is first recorded as
// approving (the compare-and-set that lets exactly one concurrent continuation decide,
// so the approval is announced once), which CompleteSIMChange refuses; then the approved
// event is published at once; only then is the approved record appended (approving →
// approved), the one CompleteSIMChange accepts. If either later step fails, the caller
// gets Deny and withdrawApproval records and announces the denial. Publishing before any
// record would announce duplicates under concurrency; recording approved before
// publishing would leave a window, and on a publish failure a record, in which an
// unannounced approval could be completed.
//
// The approving record carries no HoldUntil (the hold belongs to the approval; on the
// approving record it would make the next append fail with ErrHeld).
func (s *Service) approve(ctx context.Context, cr ChangeRequest, rec SIMChange, d Decision, approved notify.Type, attrs map[string]string, token string) (ReasonSet, error) {
	if d.Outcome == Hold {
		attrs["hold_until"] = d.HoldUntil.UTC().Format(time.RFC3339)
	}
	attrs["expires_at"] = rec.ExpiresAt.UTC().Format(time.RFC3339)
	attrs["cancel"] = token
	if err := s.publish(ctx, s.event(approved, cr.Subscriber, cr.Actor, cr.Channel, attrs)); err != nil {
		return reasons(ReasonFault), err
	}
	rec.Status, rec.Time, rec.HoldUntil = StatusApproved, s.now(), d.HoldUntil
	if err := s.history.AppendSIMChange(ctx, rec, StatusApproving); err != nil {
		return reasons(ReasonFault, ReasonStoreFault), fmt.Errorf("protection: recording SIM-change approval: %w", err)
	}
	return 0, nil
}

// withdrawApproval turns an approving request whose approval could not be announced or
// recorded into a denial for the fault reasons rs: it appends the denied record
// (approving → denied) and publishes the denied event, both best effort. If the record
// cannot be written the request stays approving, which CompleteSIMChange refuses as well.
func (s *Service) withdrawApproval(ctx context.Context, cr ChangeRequest, rec SIMChange, denied notify.Type, attrs map[string]string, rs ReasonSet) {
	ctx, cancel := cleanup.Context(ctx)
	defer cancel()
	rec.Status, rec.Time, rec.Outcome, rec.Reasons, rec.HoldUntil = StatusDenied, s.now(), Deny, rs, time.Time{}
	if err := s.history.AppendSIMChange(ctx, rec, StatusApproving); err != nil {
		s.log.Error("protection: could not record the withdrawal of an unannounced approval; it stays approving and cannot be completed",
			"request", rec.RequestID, "error", err)
	}
	delete(attrs, "hold_until")
	delete(attrs, "expires_at")
	delete(attrs, "cancel")
	s.notifyDenied(ctx, cr, denied, attrs, rs)
}

// notifyDenied publishes a denial on a fault path, best effort, on a clean-up context:
// the subscriber was told of the request and must hear how it ended even when the
// fault was the caller hanging up.
func (s *Service) notifyDenied(ctx context.Context, cr ChangeRequest, t notify.Type, attrs map[string]string, rs ReasonSet) {
	ctx, cancel := cleanup.Context(ctx)
	defer cancel()
	a := make(map[string]string, len(attrs)+2)
	for k, v := range attrs {
		a[k] = v
	}
	a["decision"], a["reasons"] = Deny.String(), rs.String()
	if err := s.publish(ctx, s.event(t, cr.Subscriber, cr.Actor, cr.Channel, a)); err != nil {
		s.log.Error("protection: could not publish a denial", "error", err)
	}
}

func actorName(a notify.Actor) string {
	switch {
	case a.Kind == "":
		return string(notify.ActorSubscriber)
	case a.ID != "":
		return string(a.Kind) + ":" + a.ID
	}
	return string(a.Kind)
}

// CompleteSIMChange records that an approved SIM change or port-out is carried out and
// publishes the completed event. Call it just before carrying the change out, and carry
// it out only if it returns nil. It returns ErrNotFound for an unknown request,
// ErrNotApproved unless the request is approved (it was denied, cancelled, completed or
// expired), ErrHeld before a held request's hold ends, ErrApprovalExpired once the
// approval has expired, and ErrNoLongerPermitted if re-deciding denies.
//
// An approval is re-decided here, not trusted: the stored request (action, channel,
// the evidence as given, the risk floor) goes through Decide again with the flags as
// they are now, the RiskAssessor asked again, and any hold the new decision imposes;
// evidence from a second factor removed since (Config.Factors) no longer counts.
// The evidence's freshness (and its factors' probation) is judged as of the original
// decision time, not now: the subscriber proved who they were when they asked, and a
// held request is completed a day later by design (judged as of now, a 24 h hold could
// never complete). Whatever changed since, a flag turned on, a risk that rose, a number
// whose SIM changed since an SMS code was sent to it, counts. A re-decision that no
// longer permits the change now (Deny, StepUp, or a hold that has not ended) denies the
// request: it is recorded as denied and announced with its reasons.
//
// Completion is one compare-and-set in the HistoryStore, after re-deciding: approved →
// completed. Of concurrent calls exactly one records and announces the completion; the
// others get ErrNotApproved. A cancel, or a flag turned on, while the re-decision runs
// appends cancelled first, so the compare-and-set fails and the change is not carried
// out; together with EnableFlag listing open approvals only after the flag is stored,
// no change a flag forbids completes once EnableFlag has returned. The record comes
// before the event because it documents a change being carried out (the
// subscriber was told at request and approval); if the completed event then cannot be
// published, the error says so and is not retried here: the integrator must alert,
// since calling again returns ErrNotApproved.
func (s *Service) CompleteSIMChange(ctx context.Context, requestID string, actor notify.Actor) error {
	prev, err := s.history.LatestForRequest(ctx, requestID)
	if err != nil {
		return fmt.Errorf("protection: reading SIM-change request: %w", err)
	}
	if !prev.Status.Open() {
		return fmt.Errorf("%w (it is %s)", ErrNotApproved, prev.Status)
	}
	now := s.now()
	if now.Before(prev.HoldUntil) {
		return fmt.Errorf("%w until %s", ErrHeld, prev.HoldUntil.UTC().Format(time.RFC3339))
	}
	// An approval without an expiry was recorded before approvals expired: fail closed.
	if prev.ExpiresAt.IsZero() || !now.Before(prev.ExpiresAt) {
		s.expire(ctx, prev, now)
		return fmt.Errorf("%w (at %s)", ErrApprovalExpired, prev.ExpiresAt.UTC().Format(time.RFC3339))
	}
	d, now, derr := s.redecide(ctx, prev)
	if derr != nil || !permitsAt(d, now) {
		outcome, fault := s.redecidedDenied(ctx, prev, d, actor)
		return errors.Join(outcome, derr, fault)
	}
	done := prev
	done.Status, done.Time, done.Actor = StatusCompleted, now, actorName(actor)
	done.Outcome, done.Reasons, done.Evidence = d.Outcome, d.Reasons, d.Counted
	if err := s.appendFinish(ctx, done, prev); err != nil {
		return err
	}
	_, _, _, completed := changeEvents(prev.Kind)
	attrs := changeAttrs(prev.Kind, prev.Number)
	attrs["request"] = requestID
	return s.publish(ctx, s.event(completed, prev.Subscriber, actor, prev.Channel, attrs))
}

// redecide decides an approved request again (see CompleteSIMChange) and returns the
// decision with the time it holds for.
//
// The evidence is the evidence as given, less that of second factors no longer on the
// account (Config.Factors), with SMS codes' SIM status to be looked up again.
func (s *Service) redecide(ctx context.Context, prev SIMChange) (Decision, time.Time, error) {
	req := Request{Action: prev.Kind.action(), Channel: prev.Channel, Risk: prev.Risk, At: prev.DecidedAt}
	ev, err := s.presentFactors(ctx, prev.Subscriber, redecidable(prev.Given))
	if err != nil {
		d, err := s.fault(req, ReasonStoreFault, err)
		return d, s.now(), err
	}
	req.Evidence = ev
	d, err := s.Decide(ctx, prev.Subscriber, req)
	return d, s.now(), err
}

// permitsAt reports whether d lets the change be carried out at now: allowed, or held
// with the hold over.
func permitsAt(d Decision, now time.Time) bool {
	return d.Outcome == Allow || d.Outcome == Hold && !now.Before(d.HoldUntil)
}

// redecidable returns a copy of the evidence given, with the SIM status of every SMS or
// voice code that names its destination set back to unknown, so that Decide looks the
// number up again: a code sent to a number whose SIM changed after the decision no
// longer counts.
func redecidable(given []Evidence) []Evidence {
	out := append([]Evidence(nil), given...)
	for i, ev := range out {
		if ev.Kind == EvidenceContactCode && ev.Contact.phoneBased() && ev.Destination != "" {
			out[i].SIM = SIMStatusUnknown
		}
	}
	return out
}

// appendFinish appends the completion rec after prev and maps the store's refusals to
// CompleteSIMChange's errors.
func (s *Service) appendFinish(ctx context.Context, rec, prev SIMChange) error {
	switch err := s.history.AppendSIMChange(ctx, rec, prev.Status); {
	case errors.Is(err, ErrHeld):
		return fmt.Errorf("%w until %s", ErrHeld, prev.HoldUntil.UTC().Format(time.RFC3339))
	case errors.Is(err, ErrApprovalExpired):
		s.expire(ctx, prev, rec.Time)
		return fmt.Errorf("%w (at %s)", ErrApprovalExpired, prev.ExpiresAt.UTC().Format(time.RFC3339))
	case errors.Is(err, ErrConflict):
		return fmt.Errorf("%w (completed, cancelled or changed by a concurrent call)", ErrNotApproved)
	case err != nil:
		return fmt.Errorf("protection: recording SIM-change completion: %w", err)
	}
	return nil
}

// expire records that an open approval expired, best effort: it cannot be completed
// either way (the expiry is checked on every completion), so the record only documents it.
func (s *Service) expire(ctx context.Context, prev SIMChange, now time.Time) {
	rec := prev
	rec.Status, rec.Time, rec.Actor = StatusExpired, now, string(notify.ActorSystem)
	if err := s.history.AppendSIMChange(ctx, rec, prev.Status); err != nil && !errors.Is(err, ErrConflict) {
		s.log.Warn("protection: could not record an expired approval", "request", prev.RequestID, "error", err)
	}
}

// redecidedDenied records and announces that an approval was re-decided as not
// permitted (approved → denied). It returns the outcome for CompleteSIMChange
// (ErrNoLongerPermitted, or ErrNotApproved if the request finished meanwhile) and,
// separately, any fault in recording or announcing it.
func (s *Service) redecidedDenied(ctx context.Context, prev SIMChange, d Decision, actor notify.Actor) (outcome, fault error) {
	ctx, cancel := cleanup.Context(ctx)
	defer cancel()
	rec := prev
	rec.Status, rec.Time, rec.Actor, rec.Outcome, rec.Reasons, rec.Evidence = StatusDenied, s.now(), actorName(actor), Deny, d.Reasons, d.Counted
	outcome = fmt.Errorf("%w: %s", ErrNoLongerPermitted, d.Reasons)
	if err := s.history.AppendSIMChange(ctx, rec, StatusApproved); err != nil {
		if errors.Is(err, ErrConflict) {
			return fmt.Errorf("%w (completed, cancelled or changed by a concurrent call)", ErrNotApproved), nil
		}
		// It stays approved; a later CompleteSIMChange re-decides again.
		return outcome, fmt.Errorf("protection: recording the denial: %w", err)
	}
	_, _, denied, _ := changeEvents(prev.Kind)
	attrs := changeAttrs(prev.Kind, prev.Number)
	attrs["request"], attrs["decision"], attrs["reasons"] = prev.RequestID, Deny.String(), d.Reasons.String()
	return outcome, s.publish(ctx, s.event(denied, prev.Subscriber, actor, prev.Channel, attrs))
}

// RecordPortIn records that number was ported in to this carrier for subscriber, so the
// history knows the number changed SIM. It publishes nothing: the subscriber is new.
func (s *Service) RecordPortIn(ctx context.Context, subscriber, number string, ch Channel) error {
	num, err := NormalizeE164(number)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if subscriber == "" || !ch.Valid() {
		return fmt.Errorf("%w: subscriber and a known channel are required", ErrInvalidRequest)
	}
	return s.history.AppendSIMChange(ctx, SIMChange{
		RequestID: notify.NewID(), Subscriber: subscriber, Number: num, Kind: ChangePortIn,
		Status: StatusCompleted, Time: s.now(), Channel: ch, Actor: string(notify.ActorSystem),
	}, 0)
}

// LastSIMChange returns when the number last had a completed SIM swap, eSIM change or
// port, or an error wrapping ErrNotFound. It implements SIMChangeChecker.
func (s *Service) LastSIMChange(ctx context.Context, number string) (time.Time, error) {
	num, err := NormalizeE164(number)
	if err != nil {
		return time.Time{}, err
	}
	rec, err := s.history.LastCompleted(ctx, num)
	if err != nil {
		return time.Time{}, fmt.Errorf("protection: reading SIM-change history: %w", err)
	}
	return rec.Time, nil
}

// SIMChangedWithin reports whether the number had a completed SIM swap, eSIM change or
// port within d before now (CAMARA's check with maxAge). It implements SIMChangeChecker.
func (s *Service) SIMChangedWithin(ctx context.Context, number string, d time.Duration) (bool, error) {
	num, err := NormalizeE164(number)
	if err != nil {
		return false, err
	}
	if d <= 0 {
		return false, fmt.Errorf("%w: the window must be positive", ErrInvalidRequest)
	}
	return s.changedSince(ctx, num, s.now().Add(-d))
}

func (s *Service) changedSince(ctx context.Context, e164 string, since time.Time) (bool, error) {
	rec, err := s.history.LastCompleted(ctx, e164)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("protection: reading SIM-change history: %w", err)
	}
	return !rec.Time.Before(since), nil
}

// SIMChangeHistory returns the number's records at or after since, oldest first: the
// FCC record of requests, decisions, evidence and completions.
func (s *Service) SIMChangeHistory(ctx context.Context, number string, since time.Time) ([]SIMChange, error) {
	num, err := NormalizeE164(number)
	if err != nil {
		return nil, err
	}
	return s.history.SIMChanges(ctx, num, since)
}

// PurgeHistory deletes SIM-change records older than the retention period (3 years by
// default) and returns how many it deleted. Run it daily.
func (s *Service) PurgeHistory(ctx context.Context) (int, error) {
	return s.history.PurgeSIMChanges(ctx, s.now().Add(-s.retention))
}
