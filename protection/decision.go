package protection

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors. Test for them with errors.Is.
var (
	ErrUnknownAction  = errors.New("protection: unknown action")
	ErrUnknownChannel = errors.New("protection: unknown channel")
	ErrUnknownFlag    = errors.New("protection: unknown flag")
	// ErrInvalidRequest is wrapped by every error about a malformed Request: an unknown
	// action, channel or risk level, unknown flags, or malformed evidence.
	ErrInvalidRequest = errors.New("protection: invalid request")
	// ErrFutureEvidence is returned (wrapping ErrInvalidRequest) for evidence obtained
	// after the time of the request.
	ErrFutureEvidence = fmt.Errorf("%w: evidence obtained in the future", ErrInvalidRequest)
	// ErrInvalidPolicy is wrapped by every error NewPolicy returns.
	ErrInvalidPolicy = errors.New("protection: invalid policy")
)

// Outcome is what the policy decided. Outcomes are ordered from most to least
// permissive: Allow < Hold < StepUp < Deny.
type Outcome uint8

// Outcomes.
const (
	// Allow: carry the request out now.
	Allow Outcome = iota + 1
	// Hold: the evidence suffices but the request may only be carried out at
	// Decision.HoldUntil; the subscriber is told meanwhile and can object.
	Hold
	// StepUp: more evidence is needed; Decision.Alternatives lists what would do.
	StepUp
	// Deny: the request cannot be carried out on this channel at this time, whatever
	// evidence is added here.
	Deny
)

func (o Outcome) String() string {
	switch o {
	case Allow:
		return "allow"
	case Hold:
		return "hold"
	case StepUp:
		return "step_up"
	case Deny:
		return "deny"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Permits reports whether the request may go ahead (now or at HoldUntil).
func (o Outcome) Permits() bool { return o == Allow || o == Hold }

// Reason is a machine-readable reason for a decision. Its String form is a stable
// snake_case code.
type Reason uint8

// Reasons.
const (
	ReasonEvidenceSatisfied    Reason = iota + 1 // the evidence given meets a policy alternative
	ReasonEvidenceRequired                       // more evidence is needed (StepUp)
	ReasonChannelNotAllowed                      // the action is never carried out on this channel
	ReasonSIMChangeChannel                       // SIM changes need a signed-in session or a store, never a phone call
	ReasonChannelCannotSatisfy                   // no evidence obtainable on this channel satisfies the policy
	ReasonFlagNeverSIMSwap                       // Never SIM Swap is on
	ReasonFlagNoPortOut                          // No Port Out is on
	ReasonFlagAccountLockdown                    // Account Lockdown is on
	ReasonRiskMedium                             // the request was assessed as medium risk
	ReasonRiskHigh                               // the request was assessed as high risk
	ReasonVisitStore                             // the request must be made in a retail store
	ReasonRiskHold                               // the request is held because of its risk
	ReasonEvidenceStale                          // some evidence was older than its freshness window
	ReasonEvidenceWrongChannel                   // some evidence cannot be obtained on this channel and was ignored
	ReasonContactSIMChanged                      // an SMS/voice code went to a number with a recent SIM change or port
	ReasonContactSIMUnknown                      // an SMS/voice code went to a number whose SIM-change status is unknown
	ReasonInvalidRequest                         // the request was malformed
	ReasonFault                                  // an internal fault: the request was denied to fail closed
	ReasonRiskFault                              // the risk assessor failed
	ReasonStoreFault                             // a store failed
	ReasonEvidenceWrongPurpose                   // some second-factor proof was given for another purpose and was ignored
	ReasonFactorInProbation                      // some second-factor proof came from a factor added too recently to count
	ReasonProbationHold                          // the number would move on a new factor alone, so the request is held
	ReasonTwoFactorOffHold                       // the number would move while 2FA is off, so the request is held
	numReasons
)

var reasonCodes = [numReasons]string{
	"", "evidence_satisfied", "evidence_required", "channel_not_allowed", "sim_change_channel",
	"channel_cannot_satisfy", "flag_never_sim_swap", "flag_no_port_out", "flag_account_lockdown",
	"risk_medium", "risk_high", "visit_store", "risk_hold", "evidence_stale",
	"evidence_wrong_channel", "contact_sim_changed", "contact_sim_unknown", "invalid_request",
	"fault", "fault_risk", "fault_store", "evidence_wrong_purpose", "factor_in_probation",
	"probation_hold", "two_factor_off_hold",
}

// reasonSentences explain each reason to a person; used by Decision.Message.
var reasonSentences = [numReasons]string{
	"",
	"The evidence given meets the policy.",
	"", // the outcome already says it
	"This request cannot be made on this channel.",
	"SIM changes are never carried out on a phone call or chat: use the signed-in app or website, or visit a store with a government ID.",
	"This channel cannot provide the verification this request needs: use the signed-in app or website, or visit a store with a government ID.",
	"Never SIM Swap is on: a SIM change needs a government ID and a code sent to a trusted contact, in a store, or the flag turned off first.",
	"No Port Out is on: a port-out needs the transfer PIN, a code sent to a trusted contact and security questions verified by an agent.",
	"Account Lockdown is on: changes need a code sent to a trusted contact plus security questions, or a government ID in a store.",
	"The request looks unusual, so one more verification step is needed.",
	"The request looks risky, so it cannot be completed here.",
	"Please visit a store with a government ID.",
	"The request looks risky, so it will take effect only after a waiting period.",
	"Some verification was too old to count.",
	"Some verification cannot be obtained on this channel and was ignored.",
	"A code sent by SMS or voice call did not count: the number had a recent SIM change or port.",
	"A code sent by SMS or voice call did not count: the number's SIM-change status is not known.",
	"The request was malformed.",
	"The request could not be checked, so it was denied for safety.",
	"The risk of the request could not be assessed, so it was denied for safety.",
	"Account records could not be read, so the request was denied for safety.",
	"A code given for something else did not count: ask for a code for this request.",
	"A code from a contact, app or recovery codes added recently did not count: use one that has been on the account longer.",
	"The only second factor given was added recently, so the request will take effect only after a waiting period, during which every contact on file is told and can cancel it.",
	"Two-step verification is off, so the request will take effect only after a waiting period, during which every contact on file is told and can cancel it.",
}

func (r Reason) String() string {
	if r == 0 || r >= numReasons {
		return fmt.Sprintf("Reason(%d)", uint8(r))
	}
	return reasonCodes[r]
}

// ReasonSet is a set of reasons. It is a value: decisions carry it without allocating.
type ReasonSet uint32

func reasons(rs ...Reason) ReasonSet {
	var s ReasonSet
	for _, r := range rs {
		s |= 1 << r
	}
	return s
}

// Has reports whether r is in s.
func (s ReasonSet) Has(r Reason) bool { return s&(1<<r) != 0 }

// List returns the reasons in s in declaration order.
func (s ReasonSet) List() []Reason {
	var out []Reason
	for r := Reason(1); r < numReasons; r++ {
		if s.Has(r) {
			out = append(out, r)
		}
	}
	return out
}

// Codes returns the reason codes in s, for logs, events and APIs.
func (s ReasonSet) Codes() []string {
	var out []string
	for _, r := range s.List() {
		out = append(out, r.String())
	}
	return out
}

func (s ReasonSet) String() string { return strings.Join(s.Codes(), ",") }

// Decision is the policy's answer to one request.
//
// A Decision is a value; Alternatives is shared with the policy that made it and must
// not be modified (clone it first).
type Decision struct {
	Action  Action
	Channel Channel
	Outcome Outcome
	// Reasons say why, as machine-readable codes. Message turns them into a sentence.
	Reasons ReasonSet
	// Alternatives, for StepUp, are the evidence sets that would satisfy the policy:
	// any one of them, complete, suffices. Missing says what to ask for.
	Alternatives []EvidenceKinds
	// Counted is the evidence that counted (fresh, from this channel, trustworthy).
	Counted EvidenceKinds
	// HoldUntil, for Hold, is when the request may be carried out.
	HoldUntil time.Time
}

// Missing returns, for each alternative, the evidence still to be given: the choices a
// step-up screen can offer.
func (d Decision) Missing() []EvidenceKinds {
	out := make([]EvidenceKinds, 0, len(d.Alternatives))
	for _, a := range d.Alternatives {
		out = append(out, a&^d.Counted)
	}
	return out
}

// messageOrder is the priority in which reasons explain a decision.
var messageOrder = [...]Reason{
	ReasonInvalidRequest, ReasonRiskFault, ReasonStoreFault, ReasonFault,
	ReasonSIMChangeChannel, ReasonFlagNeverSIMSwap, ReasonFlagNoPortOut,
	ReasonFlagAccountLockdown, ReasonRiskHigh, ReasonChannelNotAllowed,
	ReasonChannelCannotSatisfy, ReasonProbationHold, ReasonTwoFactorOffHold, ReasonRiskHold, ReasonFactorInProbation,
	ReasonEvidenceWrongPurpose, ReasonContactSIMChanged,
	ReasonContactSIMUnknown, ReasonEvidenceStale, ReasonEvidenceWrongChannel,
	ReasonRiskMedium, ReasonEvidenceRequired, ReasonEvidenceSatisfied,
}

// Message returns a sentence for a person (subscriber or agent) explaining the decision.
// It never contains secrets.
func (d Decision) Message() string {
	var b strings.Builder
	switch d.Outcome {
	case Allow:
		b.WriteString("Allowed. ")
	case Hold:
		fmt.Fprintf(&b, "Held until %s. ", d.HoldUntil.UTC().Format(time.RFC3339))
	case StepUp:
		b.WriteString("More verification is needed.")
	default:
		b.WriteString("Denied. ")
	}
	for _, r := range messageOrder {
		if d.Reasons.Has(r) && reasonSentences[r] != "" {
			if d.Outcome == StepUp {
				b.WriteString(" ")
			}
			b.WriteString(reasonSentences[r])
			break
		}
	}
	if d.Outcome == StepUp && len(d.Alternatives) > 0 {
		b.WriteString(" Any one of: ")
		for i, m := range d.Missing() {
			if i > 0 {
				b.WriteString("; or ")
			}
			b.WriteString(m.String())
		}
		b.WriteString(".")
	}
	return b.String()
}

// faultDecision is the fail-closed answer to an internal error.
func faultDecision(a Action, c Channel, r Reason) Decision {
	return Decision{Action: a, Channel: c, Outcome: Deny, Reasons: reasons(ReasonFault, r)}
}
