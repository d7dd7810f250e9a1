package protection

import (
	"context"
	"fmt"
)

// FactorChecker tells whether the factor a piece of second-factor evidence came from
// is still on the subscriber's account. Config.Factors takes one; package twofactor's
// service becomes one with FactorsFromTwoFactor.
//
// An approval is re-decided when it is completed (CompleteSIMChange, ApplyDueHolds)
// with the evidence given at the request. A factor removed since then (typically the
// thief's own contact, which the subscriber found and removed during a 24 h hold) must
// not carry the change: with a FactorChecker the re-decision drops the evidence of
// every factor that is gone, so the request then rests on what is left.
type FactorChecker interface {
	// FactorPresent reports whether the factor that gave ev (an EvidenceContactCode,
	// EvidenceAuthenticator or EvidenceRecoveryCode) is still the subscriber's, the same
	// factor and not one added since in its place: matched by what Evidence carries (the
	// kind, the contact kind, the number for an SMS or voice code, and FactorAddedAt).
	// An error fails the re-decision closed.
	FactorPresent(ctx context.Context, subscriber string, ev Evidence) (bool, error)
}

// FactorsAsGiven is the Config.Factors that answers every factor is still there: the
// evidence of a re-decided approval counts as it was given, even a code from a contact
// removed since. Prefer FactorsFromTwoFactor.
var FactorsAsGiven FactorChecker = FactorCheckerFunc(func(context.Context, string, Evidence) (bool, error) { return true, nil })

// FactorCheckerFunc adapts a function to FactorChecker.
type FactorCheckerFunc func(ctx context.Context, subscriber string, ev Evidence) (bool, error)

// FactorPresent calls f.
func (f FactorCheckerFunc) FactorPresent(ctx context.Context, subscriber string, ev Evidence) (bool, error) {
	return f(ctx, subscriber, ev)
}

// secondFactor reports whether evidence of kind k comes from a factor on the account.
func secondFactor(k EvidenceKind) bool {
	switch k {
	case EvidenceContactCode, EvidenceAuthenticator, EvidenceRecoveryCode:
		return true
	}
	return false
}

// presentFactors returns ev without the second-factor evidence whose factor is no
// longer the subscriber's (see FactorChecker). Without a checker it returns ev.
func (s *Service) presentFactors(ctx context.Context, subscriber string, ev []Evidence) ([]Evidence, error) {
	out := ev[:0:0]
	for _, e := range ev {
		if secondFactor(e.Kind) {
			ok, err := s.factors.FactorPresent(ctx, subscriber, e)
			if err != nil {
				return nil, fmt.Errorf("protection: checking the evidence's factor: %w", err)
			}
			if !ok {
				continue
			}
		}
		out = append(out, e)
	}
	return out, nil
}
