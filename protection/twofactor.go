package protection

import (
	"context"
	"errors"
	"fmt"
	"time"

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
// old proof converts, and then counts as stale in the decision. Purpose and
// FactorAddedAt are the proof's, so the policy counts it only toward actions of its
// purpose (a sign-in proof toward none) and, for the actions with a probation, only
// once its factor is established. The SIM status of an SMS code is left unknown for
// Service.Decide to fill in from the SIM-change history (Policy.Evaluate alone would
// not count it).
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
	e := Evidence{ObtainedAt: p.At, Purpose: p.Purpose, FactorAddedAt: p.FactorAddedAt}
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

// DecisionError is a refusal by the policy, with the decision that refused: its
// Message says why, and for a step-up its Missing says what would do. FactorGate
// returns it, wrapped with twofactor.ErrChangeRefused.
type DecisionError struct {
	Decision Decision
}

func (e *DecisionError) Error() string {
	return "protection: " + e.Decision.Action.String() + ": " + e.Decision.Outcome.String() + ": " + e.Decision.Message()
}

// FactorGate returns the twofactor.Gate that decides factor changes with svc: adding a
// trusted contact, an authenticator app or recovery codes is ActionAddFactor (or
// ActionAddFirstFactor when the account has no factor yet and 2FA is off), turning 2FA
// on is ActionEnableTwoFactor, so Account Lockdown, the risk assessment
// (Config.Risk) and the probation of new factors apply to them as to any change.
//
// The evidence is what the change carries: the session (Reauth.SignedInAt), the
// password (Reauth.PasswordAt) and the proof, which twofactor has checked before it
// asks (genuine, fresh, for the subscriber, given for otp.PurposeAddFactor) and which
// is converted as EvidenceFromProof does. The channel is the Origin's ("app" if empty).
// Anything but Allow refuses the change with an error wrapping
// twofactor.ErrChangeRefused and a *DecisionError; a fault refuses it too.
//
// The gate is a twofactor.ProbationGate: it reports the policy's probation for the
// changes twofactor checks itself (FactorProbation), so that twofactor.New takes it as
// the default of twofactor.Config.FactorProbation and refuses a shorter one. The two
// packages then agree on when a new factor starts to count.
//
//	protect, _ := protection.New(cfg, stores, outbox)
//	tf, _ := twofactor.New(tfCfg, twofactor.Deps{..., Gate: protection.FactorGate(protect)})
func FactorGate(svc *Service) twofactor.ProbationGate { return factorGate{svc: svc} }

// FactorGateRisk is FactorGate with the risk of each factor change assessed by r, for a
// service whose Config.Risk is unset because its caller scores its own requests (with
// the client's address and device, which the caller has and the gate does not): r is
// typically RiskFromScorer over the caller's scorer, with a build that reads the client
// from ctx (for example from the session.Session that session.NewContext put there).
// The level r gives is the change's risk (never below low); an error from r refuses the
// change, as a fault. With it, the gate is the one judge of a factor change: the caller
// need not decide ActionAddFactor itself as well.
func FactorGateRisk(svc *Service, r RiskAssessor) twofactor.ProbationGate {
	return factorGate{svc: svc, risk: r}
}

type factorGate struct {
	svc  *Service
	risk RiskAssessor
}

// factorProbationActions are the actions whose probation twofactor enforces itself,
// with twofactor.Config.FactorProbation: it takes the proof for them only from an
// established factor.
var factorProbationActions = [...]Action{ActionAddFactor, ActionEnableTwoFactor, ActionDisableTwoFactor, ActionRemoveTrustedContact}

// FactorProbation returns the longest probation the policy gives the actions twofactor
// enforces with its own FactorProbation: adding a factor, turning 2FA on or off, and
// removing a trusted contact (taking a factor away).
func (g factorGate) FactorProbation() time.Duration {
	if g.svc == nil {
		return 0
	}
	var longest time.Duration
	for _, a := range factorProbationActions {
		longest = max(longest, g.svc.policy.Probation(a))
	}
	return longest
}

func (g factorGate) AllowFactorChange(ctx context.Context, c twofactor.FactorChange) error {
	if g.svc == nil {
		return errors.New("protection: FactorGate has no service")
	}
	req := Request{Action: ActionAddFactor, Risk: RiskLow, Channel: ChannelApp}
	switch {
	case c.Action == twofactor.FactorEnable:
		req.Action = ActionEnableTwoFactor
	case c.First:
		req.Action = ActionAddFirstFactor
	}
	if c.Origin.Channel != "" {
		ch, err := ParseChannel(c.Origin.Channel)
		if err != nil {
			return fmt.Errorf("%w: %w", twofactor.ErrChangeRefused, err)
		}
		req.Channel = ch
	}
	if !c.SignedInAt.IsZero() {
		req.Evidence = append(req.Evidence, Evidence{Kind: EvidenceSession, ObtainedAt: c.SignedInAt})
	}
	if !c.PasswordAt.IsZero() {
		req.Evidence = append(req.Evidence, Evidence{Kind: EvidencePassword, ObtainedAt: c.PasswordAt})
	}
	if !c.Proof.IsZero() {
		if c.Proof.Subscriber != c.Subscriber {
			return fmt.Errorf("%w: the proof is for another subscriber", twofactor.ErrChangeRefused)
		}
		e, err := evidenceOf(c.Proof)
		if err != nil {
			return fmt.Errorf("%w: %w", twofactor.ErrChangeRefused, err)
		}
		req.Evidence = append(req.Evidence, e)
	}
	if g.risk != nil {
		lvl, err := g.risk.Assess(ctx, c.Subscriber, req)
		if err != nil {
			return fmt.Errorf("protection: assessing the risk of %s: %w", req.Action, err)
		}
		if !lvl.Valid() {
			return fmt.Errorf("protection: assessing the risk of %s: %w", req.Action, ErrRiskUnassessed)
		}
		req.Risk = max(req.Risk, lvl)
	}
	d, err := g.svc.Decide(ctx, c.Subscriber, req)
	if err != nil {
		return fmt.Errorf("protection: deciding %s: %w", req.Action, err)
	}
	if d.Outcome != Allow {
		return fmt.Errorf("%w: %w", twofactor.ErrChangeRefused, &DecisionError{Decision: d})
	}
	return nil
}

// FactorsFromTwoFactor returns the FactorChecker for Config.Factors over the twofactor
// service that holds the subscriber's factors:
//
//   - a contact code counts while a verified contact of its kind is on the account
//     whose verification time is the evidence's FactorAddedAt (twofactor's
//     Proof.FactorAddedAt of a contact code) and, for an SMS or voice code, whose number
//     is its Destination. A contact removed since, or removed and added again (a new
//     verification time), is gone;
//   - an authenticator code counts while an authenticator is confirmed on the account;
//   - a recovery code counts as given: it was spent when it was used, and new codes
//     are a change of their own that ends the other sessions.
//
// Evidence without a FactorAddedAt cannot be matched to a contact, so it is gone. A
// store error from twofactor is returned, and the re-decision fails closed.
//
// twofactor.New needs this service first (for FactorGate), so the checker cannot be
// built before New; wrap it in a FactorCheckerFunc that reads the twofactor service
// when asked:
//
//	var tf *twofactor.Service
//	cfg.Factors = protection.FactorCheckerFunc(func(ctx context.Context, sub string, ev protection.Evidence) (bool, error) {
//		return protection.FactorsFromTwoFactor(tf).FactorPresent(ctx, sub, ev)
//	})
//	protect, _ := protection.New(cfg, stores, outbox)
//	tf, _ = twofactor.New(tfCfg, twofactor.Deps{..., Gate: protection.FactorGate(protect)})
func FactorsFromTwoFactor(tf *twofactor.Service) FactorChecker { return tfFactors{tf: tf} }

type tfFactors struct{ tf *twofactor.Service }

func (f tfFactors) FactorPresent(ctx context.Context, subscriber string, ev Evidence) (bool, error) {
	if f.tf == nil {
		return false, errors.New("protection: FactorsFromTwoFactor has no twofactor service")
	}
	switch ev.Kind {
	case EvidenceContactCode:
		if ev.FactorAddedAt.IsZero() {
			return false, nil
		}
		cs, err := f.tf.Contacts(ctx, subscriber)
		if err != nil {
			return false, err
		}
		for _, c := range cs {
			if c.Verified() && c.VerifiedAt.Equal(ev.FactorAddedAt) && contactMatches(c, ev) {
				return true, nil
			}
		}
		return false, nil
	case EvidenceAuthenticator:
		// The same app, not one enrolled in its place since: its confirmation time is
		// the FactorAddedAt of the proofs it gives.
		st, err := f.tf.Status(ctx, subscriber)
		if err != nil {
			return false, err
		}
		return st.Authenticator && !ev.FactorAddedAt.IsZero() && st.AuthenticatorAt.Equal(ev.FactorAddedAt), nil
	}
	return true, nil
}

// contactMatches reports whether contact c is of the kind (and, for a phone, the
// number) that ev names.
func contactMatches(c twofactor.Contact, ev Evidence) bool {
	switch c.Kind {
	case twofactor.KindEmail:
		return ev.Contact == ContactEmail
	case twofactor.KindPhone:
		if !ev.Contact.phoneBased() {
			return false
		}
		num, err := NormalizeE164(c.Value)
		return err == nil && num == ev.Destination
	}
	return false
}

// ErrTwoFactorNotBuilt is returned by the TwoFactorLater functions while the twofactor
// service they read is not built yet (Decide then fails closed).
var ErrTwoFactorNotBuilt = errors.New("protection: the twofactor service is not built yet")

// TwoFactorLater returns, for Config.TwoFactor and Config.Factors, the 2FA state and
// the factor checker of the twofactor service that *tf points to when they are asked.
// twofactor.New needs this package's service first (Deps.SIMChanges, FactorGate), so
// the protection service is built while *tf is still nil: set *tf once twofactor.New
// returns, before serving requests. Until then both answer ErrTwoFactorNotBuilt.
func TwoFactorLater(tf **twofactor.Service) (TwoFactorState, FactorChecker) {
	state := TwoFactorStateFunc(func(ctx context.Context, subscriber string) (bool, error) {
		if *tf == nil {
			return false, ErrTwoFactorNotBuilt
		}
		return (*tf).TwoFactorEnabled(ctx, subscriber)
	})
	factors := FactorCheckerFunc(func(ctx context.Context, subscriber string, ev Evidence) (bool, error) {
		if *tf == nil {
			return false, ErrTwoFactorNotBuilt
		}
		return FactorsFromTwoFactor(*tf).FactorPresent(ctx, subscriber, ev)
	})
	return state, factors
}
