package questions

import (
	"fmt"
	"slices"
	"time"
)

// Proof is evidence that the subscriber just passed a strong second factor, such as a
// one-time passcode sent to a trusted contact or an authenticator-app code. Changing
// security questions requires one, no older than Config.ProofMaxAge.
//
// Package twofactor's proof value implements this interface; until it exists, an
// integrator can satisfy it with any value built only after its own second-factor check
// has succeeded. Never build a Proof from request input: the service trusts it.
type Proof interface {
	// ProofSubscriber is the subscriber who passed the check.
	ProofSubscriber() string
	// ProofMethod names the factor used, such as "sms", "email" or "totp".
	ProofMethod() string
	// ProofTime is when the check was passed.
	ProofTime() time.Time
}

// checkProof returns nil if p is a fresh proof for subscriber by an accepted method.
func (s *Service) checkProof(p Proof, subscriber string, now time.Time) error {
	if p == nil {
		return fmt.Errorf("%w: none given", ErrProofRequired)
	}
	if p.ProofSubscriber() != subscriber {
		return fmt.Errorf("%w: the proof is for another subscriber", ErrProofRequired)
	}
	m := p.ProofMethod()
	if m == "" || (len(s.cfg.ProofMethods) > 0 && !slices.Contains(s.cfg.ProofMethods, m)) {
		return fmt.Errorf("%w: method %q is not accepted here", ErrProofRequired, m)
	}
	at := p.ProofTime()
	switch {
	case at.IsZero():
		return fmt.Errorf("%w: the proof has no time", ErrProofRequired)
	case at.After(now.Add(time.Minute)):
		return fmt.Errorf("%w: the proof is dated in the future", ErrProofRequired)
	case now.Sub(at) > s.cfg.ProofMaxAge:
		return fmt.Errorf("%w: the proof is %s old; at most %s is accepted, ask for a new one", ErrProofRequired, now.Sub(at).Round(time.Second), s.cfg.ProofMaxAge)
	}
	return nil
}
