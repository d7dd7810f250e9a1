package protection

import (
	"fmt"

	"github.com/carrierguard/carrierguard/session"
)

// SessionEvidence turns a signed-in session from package session's registry into the
// evidence it provides, so that on the app and web channels the times the freshness
// windows judge come from the registry, not from the client:
//
//   - EvidenceSession, obtained at s.CreatedAt (the sign-in; it counts for 12 hours);
//   - EvidencePassword, obtained at s.PasswordAt, if the password was entered in this
//     session (at sign-in or a later step-up; it counts for 15 minutes);
//   - secondFactor, obtained at s.SecondFactorAt, if a second factor was proved in this
//     session and secondFactor.Kind is set.
//
// The registry records when a second factor was proved, not which, and the policy weighs
// them differently (an SMS code counts only for a number without a recent SIM change), so
// the caller, who verified it, says which: EvidenceContactCode with its Contact (and, for
// SMS or voice, the Destination Decide checks against the SIM-change history),
// EvidenceAuthenticator or EvidenceRecoveryCode, with the Purpose the proof was given
// for and its FactorAddedAt (EvidenceFromProof of the session's proof gives all of
// these). They are carried through as given, so the policy counts the second factor
// only toward actions of its purpose (a sign-in proof toward none) and not toward SIM
// changes, port-outs, flag lifts or taking factors away while its factor is new. It is
// dated s.SecondFactorAt, the registry's time of the session's newest second factor, or
// its own ObtainedAt if that is earlier: a proof older than the session's newest one
// (a SIM-swap code followed by an account-change code) never counts as fresher than it
// was. A zero secondFactor leaves the second factor out rather than guess its kind; one
// without a Purpose is refused (it would count for nothing).
//
// Pass only a session just returned by (*session.Service).Validate or StepUp for this
// request, and the subscriber the decision is for: a session of another subscriber, a
// zero Session or a secondFactor of another kind returns an error wrapping
// ErrInvalidRequest and no evidence.
func SessionEvidence(subscriber string, s session.Session, secondFactor Evidence) ([]Evidence, error) {
	switch {
	case s.ID == "" || s.Subscriber == "" || s.CreatedAt.IsZero():
		return nil, fmt.Errorf("%w: not a signed-in session", ErrInvalidRequest)
	case s.Subscriber != subscriber:
		return nil, fmt.Errorf("%w: the session belongs to another subscriber", ErrInvalidRequest)
	}
	switch secondFactor.Kind {
	case 0, EvidenceAuthenticator, EvidenceRecoveryCode:
	case EvidenceContactCode:
		if !secondFactor.Contact.valid() {
			return nil, fmt.Errorf("%w: a contact-code second factor needs its Contact kind (email, SMS or voice)", ErrInvalidRequest)
		}
	default:
		return nil, fmt.Errorf("%w: %s is not a second factor", ErrInvalidRequest, secondFactor.Kind)
	}
	if secondFactor.Kind != 0 && secondFactor.Purpose == "" {
		return nil, fmt.Errorf("%w: a second factor needs the Purpose its proof was given for", ErrInvalidRequest)
	}
	ev := make([]Evidence, 1, 3)
	ev[0] = Evidence{Kind: EvidenceSession, ObtainedAt: s.CreatedAt}
	if !s.PasswordAt.IsZero() {
		ev = append(ev, Evidence{Kind: EvidencePassword, ObtainedAt: s.PasswordAt})
	}
	if secondFactor.Kind != 0 && !s.SecondFactorAt.IsZero() {
		if secondFactor.ObtainedAt.IsZero() || secondFactor.ObtainedAt.After(s.SecondFactorAt) {
			secondFactor.ObtainedAt = s.SecondFactorAt
		}
		ev = append(ev, secondFactor)
	}
	return ev, nil
}
