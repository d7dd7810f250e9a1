package questions

import (
	"fmt"
	"slices"
	"time"

	"github.com/carrierguard/carrierguard/twofactor"
)

// ProofVerifier checks that a second-factor proof is genuine: issued by the verifier's
// own twofactor service (its tag checks out, so no field was made up or altered), for
// subscriber, and not dated in the future. Every refusal is an error.
//
// *twofactor.Service implements it with [twofactor.Service.VerifyProof]: pass the
// service that issues the proofs to [New]. A [twofactor.Proof] is plain data that anyone
// can fill in; only this check makes it a proof, which is why Change never trusts one
// without it.
type ProofVerifier interface {
	VerifyProof(subscriber string, p twofactor.Proof) error
}

// Second-factor methods, as listed in Config.ProofMethods and reported in the
// proof_method attribute of notify.SecurityQuestionsChanged. They are the names
// [twofactor.Proof.ProofMethod] gives.
const (
	// ProofAuthenticator is a code from the subscriber's authenticator app.
	ProofAuthenticator = "totp"
	// ProofSMS is a one-time code sent by SMS to a verified trusted contact.
	ProofSMS = "sms"
	// ProofEmail is a one-time code sent by email to a verified trusted contact.
	ProofEmail = "email"
	// ProofRecoveryCode is one of the subscriber's single-use recovery codes. It is not
	// accepted by default: see Config.ProofMethods.
	ProofRecoveryCode = "recovery_code"
)

// defaultProofMethods are the methods accepted when Config.ProofMethods is empty (its
// doc says why a recovery code is not among them).
var defaultProofMethods = []string{ProofAuthenticator, ProofSMS, ProofEmail}

var knownProofMethods = []string{ProofAuthenticator, ProofSMS, ProofEmail, ProofRecoveryCode}

// checkProof returns nil if p is a genuine, fresh proof for subscriber by an accepted
// method. Every refusal wraps ErrProofRequired.
func (s *Service) checkProof(p twofactor.Proof, subscriber string, now time.Time) error {
	if p.IsZero() {
		return fmt.Errorf("%w: none given", ErrProofRequired)
	}
	// Authenticity first: nothing else in a proof means anything until its tag is checked.
	if err := s.proofs.VerifyProof(subscriber, p); err != nil {
		return fmt.Errorf("%w: %w", ErrProofRequired, err)
	}
	// The verifier checks these too; a verifier that is wrapped or replaced must not be
	// the only thing between another subscriber's proof, or one that says nothing of how
	// it was given (ProofMethod would call it email), and a change.
	if p.Subscriber != subscriber {
		return fmt.Errorf("%w: the proof is for another subscriber", ErrProofRequired)
	}
	switch p.Method {
	case twofactor.MethodContactCode, twofactor.MethodAuthenticator, twofactor.MethodRecoveryCode:
	case "":
		return fmt.Errorf("%w: the proof names no method", ErrProofRequired)
	default:
		return fmt.Errorf("%w: the proof names an unknown method %q", ErrProofRequired, p.Method)
	}
	if m := p.ProofMethod(); !slices.Contains(s.cfg.ProofMethods, m) {
		return fmt.Errorf("%w: method %q is not accepted for changing security questions (accepted: %v)", ErrProofRequired, m, s.cfg.ProofMethods)
	}
	switch at := p.At; {
	case at.IsZero():
		return fmt.Errorf("%w: the proof has no time", ErrProofRequired)
	case at.After(now.Add(time.Minute)):
		return fmt.Errorf("%w: the proof is dated in the future", ErrProofRequired)
	case now.Sub(at) > s.cfg.ProofMaxAge:
		return fmt.Errorf("%w: the proof is %s old; at most %s is accepted, ask for a new one", ErrProofRequired, now.Sub(at).Round(time.Second), s.cfg.ProofMaxAge)
	}
	return nil
}
