package protection

import (
	"fmt"

	"github.com/carrierguard/carrierguard/twofactor"
)

// ErrUnsupportedProof is returned (wrapping ErrInvalidRequest) by EvidenceFromProof for
// a twofactor proof that has no evidence kind here: a method or contact kind this
// package does not know, or an SMS proof without the number the code went to (whose
// SIM-change history could then not be checked).
var ErrUnsupportedProof = fmt.Errorf("%w: the twofactor proof cannot be used as evidence", ErrInvalidRequest)

// EvidenceFromProof checks a second-factor proof from package twofactor and converts it
// into Evidence for a decision about subscriber:
//
//	twofactor.MethodContactCode, KindPhone → EvidenceContactCode, ContactSMS, Destination: the number
//	twofactor.MethodContactCode, KindEmail → EvidenceContactCode, ContactEmail
//	twofactor.MethodAuthenticator          → EvidenceAuthenticator
//	twofactor.MethodRecoveryCode           → EvidenceRecoveryCode
//
// ObtainedAt is the proof's time, so this package's freshness windows apply to it: an
// old proof converts, and then counts as stale in the decision. The SIM status of an
// SMS code is left unknown for Service.Decide to fill in from the SIM-change history
// (Policy.Evaluate alone would not count it).
//
// A Proof is plain data that anyone can fill in; only its Tag makes it a proof, and the
// Evidence it becomes carries no subscriber. So the proof is checked here, with the
// twofactor service that issued it (twofactor.Service.VerifyProof), before anything is
// converted: it must be genuine and be for subscriber, which must be the subscriber the
// decision is about. A forged, altered or future-dated proof, or one for another
// subscriber, is refused with an error wrapping twofactor.ErrProofRequired; a proof
// with no mapping, with ErrUnsupportedProof. Either way no Evidence is given: decide
// without it, which asks for more proof.
func EvidenceFromProof(tf *twofactor.Service, subscriber string, p twofactor.Proof) (Evidence, error) {
	if tf == nil {
		return Evidence{}, fmt.Errorf("%w: EvidenceFromProof needs the twofactor service that issued the proof, to check it", ErrInvalidRequest)
	}
	e, err := evidenceOf(p)
	if err != nil {
		return Evidence{}, err
	}
	if err := tf.VerifyProof(subscriber, p); err != nil {
		return Evidence{}, fmt.Errorf("protection: twofactor proof refused: %w", err)
	}
	return e, nil
}

// evidenceOf maps a proof to Evidence, refusing what it cannot map.
func evidenceOf(p twofactor.Proof) (Evidence, error) {
	e := Evidence{ObtainedAt: p.At}
	switch p.Method {
	case twofactor.MethodContactCode:
		e.Kind = EvidenceContactCode
		switch p.Kind {
		case twofactor.KindEmail:
			e.Contact = ContactEmail
		case twofactor.KindPhone:
			num, err := NormalizeE164(p.Destination)
			if err != nil {
				return Evidence{}, fmt.Errorf("%w: an SMS proof must name the E.164 number the code went to", ErrUnsupportedProof)
			}
			e.Contact, e.Destination = ContactSMS, num
		default:
			return Evidence{}, fmt.Errorf("%w: contact kind %q", ErrUnsupportedProof, clip(string(p.Kind)))
		}
	case twofactor.MethodAuthenticator:
		e.Kind = EvidenceAuthenticator
	case twofactor.MethodRecoveryCode:
		e.Kind = EvidenceRecoveryCode
	default:
		return Evidence{}, fmt.Errorf("%w: method %q", ErrUnsupportedProof, clip(string(p.Method)))
	}
	if p.At.IsZero() {
		return Evidence{}, fmt.Errorf("%w: the proof has no time", ErrUnsupportedProof)
	}
	return e, nil
}
