package protection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carrierguard/carrierguard/notify"
)

// ErrPartnerLimited: the partner sent more port-outs that were not accepted than
// Config.PartnerLimit allows per Config.PartnerWindow. It is about the partner, never
// about the number asked for, so a partner may be told.
var ErrPartnerLimited = errors.New("protection: too many partner port-out requests; try again later")

// PartnerRequest is another carrier asking, through its machine-to-machine API, to port
// a number away.
type PartnerRequest struct {
	// Partner identifies the partner: from its credential, never from the request body.
	// The per-partner limit and the audit record use it.
	Partner string
	// Subscriber is the customer whose line Number is, as the integrator's directory
	// says, or empty if no customer has the number. It is never echoed to the partner.
	Subscriber string
	// Number is the number to port (E.164; NormalizeE164 is applied).
	Number string
	// PIN is the transfer PIN the partner sent; empty if none.
	PIN string
	// Risk is the request's risk level (a floor, if the service has a RiskAssessor).
	// Required, even for a number that is no customer's, so that a malformed request is
	// refused alike for every number.
	Risk RiskLevel
}

// PartnerAnswer is all a partner learns of a port-out request: accepted or not. Every
// request that is not accepted gets the zero PartnerAnswer, whatever the reason (no
// customer has the number, no PIN, a wrong, locked or used PIN, a protection flag, the
// risk, the policy), so that a partner cannot tell customers' numbers from others, nor
// learn anything about a customer. The reasons are in the SIM-change history, for the
// carrier.
type PartnerAnswer struct {
	// Accepted reports whether the port-out was approved (possibly held: completing it
	// returns ErrHeld until then).
	Accepted bool
	// Reference is the request ID of an accepted port-out, to pass to CompleteSIMChange
	// when the port is carried out; empty otherwise.
	Reference string
}

// PartnerPortOut decides a partner's port-out together with its transfer PIN, in one
// call, so that the partner learns nothing it does not need and the PIN is spent only
// by a request that passes:
//
//  1. The partner's requests are counted (Stores.Probes): beyond Config.PartnerLimit
//     per Config.PartnerWindow it returns ErrPartnerLimited and checks nothing. Accepted
//     requests are taken back out, so only rejected ones count.
//  2. A request for a number that is no customer's, or without a PIN, or with a PIN that
//     is wrong, locked or not live, is rejected before any decision. It is audited in
//     the SIM-change history (StatusRejected, with the Rejection and the partner as
//     actor) and announced to no one: a partner probing numbers must not be able to
//     flood subscribers with notices. A wrong PIN is counted as in VerifyTransferPIN;
//     the one that starts a lockout publishes notify.Lockout, once (the lockout destroys
//     the PIN, so later guesses find none and are not counted).
//  3. With the right PIN, the request is a real port-out: it goes through
//     RequestSIMChange (announced to the subscriber, recorded, decided with a fresh
//     EvidenceTransferPIN on ChannelPartner), and the PIN is consumed only once the
//     policy has permitted the request. A port-out the policy denies keeps its PIN.
//
// The answer is the zero PartnerAnswer for every request not accepted. An error is
// returned for a malformed request (ErrInvalidRequest), ErrPartnerLimited, or a fault;
// a fault's answer is a rejection too.
func (s *Service) PartnerPortOut(ctx context.Context, pr PartnerRequest) (PartnerAnswer, error) {
	var reject PartnerAnswer
	number, err := NormalizeE164(pr.Number)
	if err != nil {
		return reject, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if pr.Partner == "" || !pr.Risk.Valid() {
		return reject, fmt.Errorf("%w: a partner and a valid risk level are required", ErrInvalidRequest)
	}
	if s.probes == nil {
		return reject, fmt.Errorf("protection: partner port-outs need Stores.Probes: %w", errors.ErrUnsupported)
	}
	now := s.now()
	probe := Probe{Partner: pr.Partner, ID: notify.NewID(), At: now}
	ok, err := s.probes.AddProbe(ctx, probe, now.Add(-s.partnerWin), s.partnerMax)
	if err != nil {
		return reject, fmt.Errorf("protection: counting partner requests: %w", err)
	}
	if !ok {
		return reject, ErrPartnerLimited
	}
	actor := notify.Actor{Kind: notify.ActorSystem, ID: "partner:" + pr.Partner}
	audit := func(why Rejection) (PartnerAnswer, error) {
		err := s.history.AppendSIMChange(ctx, SIMChange{
			RequestID: notify.NewID(), Subscriber: pr.Subscriber, Number: number, Kind: ChangePortOut,
			Status: StatusRejected, Time: now, Channel: ChannelPartner, Actor: actorName(actor),
			Outcome: Deny, Risk: pr.Risk, Rejection: why,
		}, 0)
		if err != nil {
			return reject, fmt.Errorf("protection: auditing a rejected partner port-out: %w", err)
		}
		return reject, nil
	}
	// The PIN is hashed, and looked up, for every request with a PIN, customer or not, so
	// the work done before the answer depends less on whether the number is a
	// customer's. (A customer with a live PIN still costs a write for a wrong guess.)
	hash := s.pinHash(pr.Subscriber, capPIN(pr.PIN))
	limits := PINLimits{MaxFailures: s.pinFailures, Lockout: s.pinLockout}
	switch {
	case pr.Subscriber == "":
		if pr.PIN != "" {
			// The same store round trip as a customer without a live PIN: no subscriber
			// is the empty string, so this finds nothing and counts nothing.
			_, _ = s.pins.CheckPIN(ctx, "", hash, now, limits)
		}
		return audit(RejectNotCustomer)
	case pr.PIN == "":
		return audit(RejectNoPIN)
	}
	st, err := s.pins.CheckPIN(ctx, pr.Subscriber, hash, now, limits)
	switch {
	case errors.Is(err, ErrPINMismatch):
		s.announceLockout(ctx, pr.Subscriber, st, now)
		return audit(RejectWrongPIN)
	case errors.Is(err, ErrPINLocked):
		return audit(RejectPINLocked)
	case errors.Is(err, ErrNotFound):
		return audit(RejectNoLivePIN)
	case err != nil:
		return reject, fmt.Errorf("protection: checking transfer PIN: %w", err)
	}
	spend := func(ctx context.Context) (ReasonSet, error) {
		_, err := s.pins.ConsumePIN(ctx, pr.Subscriber, hash, s.now(), limits)
		switch {
		case err == nil:
			return 0, nil
		case errors.Is(err, ErrPINMismatch), errors.Is(err, ErrPINLocked), errors.Is(err, ErrNotFound):
			// Used, revoked or locked between the check and now.
			return reasons(ReasonInvalidRequest), fmt.Errorf("protection: transfer PIN no longer valid: %w", err)
		}
		return reasons(ReasonFault, ReasonStoreFault), fmt.Errorf("protection: consuming transfer PIN: %w", err)
	}
	res, err := s.requestSIMChange(ctx, ChangeRequest{
		Subscriber: pr.Subscriber, Number: number, Kind: ChangePortOut, Channel: ChannelPartner,
		Actor: actor, Risk: pr.Risk, Evidence: []Evidence{{Kind: EvidenceTransferPIN, ObtainedAt: now}},
	}, spend)
	if !res.Decision.Outcome.Permits() {
		// The reasons are in the history, and the subscriber was told. err is a fault,
		// if any (or the PIN was used concurrently, which only its holder can cause).
		return reject, err
	}
	if rerr := s.probes.RemoveProbe(ctx, pr.Partner, probe.ID); rerr != nil {
		s.log.Warn("protection: could not take an accepted partner request out of the limit", "error", rerr)
	}
	return PartnerAnswer{Accepted: true, Reference: res.RequestID}, err
}

// capPIN bounds the PIN input that is hashed.
func capPIN(pin string) string {
	if len(pin) > maxPINInput {
		return pin[:maxPINInput] // still counted as a (wrong) attempt
	}
	return pin
}

// announceLockout publishes notify.Lockout if the wrong PIN whose record st is started a
// lockout (best effort: the lock is in place whatever happens to the event), and
// reports whether it did.
func (s *Service) announceLockout(ctx context.Context, subscriber string, st TransferPIN, now time.Time) bool {
	if !now.Before(st.LockedUntil) {
		return false
	}
	e := s.event(notify.Lockout, subscriber, notify.Actor{Kind: notify.ActorSystem, ID: "protection"}, 0,
		map[string]string{"locked": "transfer_pin", "until": st.LockedUntil.UTC().Format(time.RFC3339)})
	if err := s.publish(ctx, e); err != nil {
		s.log.Error("protection: could not announce a transfer-PIN lockout", "error", err)
	}
	return true
}
