// Package stepup keeps the second-factor proofs given within each signed-in session, so
// that later requests of the session can present them again: as evidence to package
// protection, and as the proof package twofactor or questions asks for a factor change.
//
// A session records only that a second factor was proved (session.Session's
// SecondFactorAt); the twofactor.Proof itself says how, to which contact, from a factor
// of what age and, above all, for which purpose. The proofs live in a [Store], not in
// handler memory, so two replicas of a server on one database see the same proofs, and
// clients never hold them.
//
// The Service keeps the rules an integrator would otherwise have to invent:
//
//   - Remember takes only a genuine proof of the session's own subscriber (the proof's
//     HMAC tag is checked with twofactor.Service.VerifyProof).
//   - A session keeps the newest proof per method, contact kind and purpose, at most
//     Config.MaxPerSession proofs, each for Config.Keep.
//   - Latest and Proofs return only proofs given for the purpose asked about: a code
//     sent "for account change" is never handed out as a SIM-swap proof, and a sign-in
//     proof proves the sign-in only. Each is checked again (tag and subscriber) on the
//     way out, so a store row altered or moved to another session counts for nothing.
//   - The Service is a session.ProofRevoker: wire it as session.Config.Proofs, and a
//     credential change (password change, factor removal, 2FA off) forgets every proof
//     the subscriber gave until then, in every session.
//
// Typical wiring, in a server's step-up handler and its decisions:
//
//	proof, err := tf.Complete(ctx, twofactor.CompleteRequest{...})     // the library checks the code
//	sess, err = sessions.StepUp(ctx, token, client, session.ProofSecondFactor)
//	err = steps.Remember(ctx, sess, proof)
//	...
//	p, ok, err := steps.Latest(ctx, sess, protection.PurposeFor(protection.ActionSIMSwap))
package stepup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/twofactor"
)

// Defaults of Config.
const (
	// DefaultKeep is how long a proof is kept: longer than any freshness window that
	// accepts a second factor (protection counts codes for 10 minutes, twofactor's
	// ProofMaxAge is 5), so nothing that could still count is forgotten early.
	DefaultKeep = time.Hour
	// DefaultMaxPerSession bounds the proofs one session keeps. Three methods, two
	// contact kinds and the step-up purposes make fewer than that in practice; the bound
	// keeps a session that asks for codes of made-up purposes from growing its record.
	DefaultMaxPerSession = 16
)

// ErrInvalidProof is returned by Remember for a proof that is not a genuine proof of
// the session's subscriber; it wraps the verifier's reason.
var ErrInvalidProof = errors.New("stepup: proof refused")

// ErrInvalidSession is returned for a session that is not a signed-in session (no ID or
// no subscriber).
var ErrInvalidSession = errors.New("stepup: not a signed-in session")

// Verifier checks that a proof is genuine and belongs to subscriber.
// *twofactor.Service implements it (VerifyProof); freshness is left to whoever judges
// the proof (protection's windows, twofactor's ProofMaxAge).
type Verifier interface {
	VerifyProof(subscriber string, p twofactor.Proof) error
}

// Config configures a Service. Zero values are the documented defaults.
type Config struct {
	// Keep is how long a proof is kept after it was given. Zero means DefaultKeep.
	Keep time.Duration
	// MaxPerSession is how many proofs one session keeps at most; the oldest go first.
	// Zero means DefaultMaxPerSession.
	MaxPerSession int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Service keeps step-up proofs per session. It is safe for concurrent use.
type Service struct {
	keep  time.Duration
	max   int
	now   func() time.Time
	store Store
	v     Verifier
}

var _ session.ProofRevoker = (*Service)(nil)

// New returns a Service over store, checking proofs with v (the *twofactor.Service that
// issues them).
func New(cfg Config, store Store, v Verifier) (*Service, error) {
	switch {
	case cfg.Keep < 0:
		return nil, errors.New("stepup: Config.Keep is negative")
	case cfg.MaxPerSession < 0:
		return nil, errors.New("stepup: Config.MaxPerSession is negative")
	case store == nil:
		return nil, errors.New("stepup: store is nil")
	case v == nil:
		return nil, errors.New("stepup: verifier is nil (pass the *twofactor.Service)")
	}
	s := &Service{keep: cmp.Or(cfg.Keep, DefaultKeep), max: cmp.Or(cfg.MaxPerSession, DefaultMaxPerSession),
		now: cfg.Now, store: store, v: v}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Slot is the key under which a session keeps a proof: its method, contact kind and
// purpose. A newer proof in the same slot replaces the older one, so a session keeps one
// SMS code, one email code, one app code and one recovery code per purpose.
func Slot(p twofactor.Proof) string {
	return string(p.Method) + "/" + string(p.Kind) + "/" + string(p.Purpose)
}

func checkSession(sess session.Session) error {
	if sess.ID == "" || sess.Subscriber == "" {
		return ErrInvalidSession
	}
	return nil
}

// Remember keeps proof p with session sess. The proof must be genuine and given by the
// session's subscriber (ErrInvalidProof otherwise, keeping nothing); it replaces the
// session's older proof of the same Slot, and the session's oldest proofs go when it
// holds more than Config.MaxPerSession.
func (s *Service) Remember(ctx context.Context, sess session.Session, p twofactor.Proof) error {
	if err := checkSession(sess); err != nil {
		return err
	}
	if err := s.v.VerifyProof(sess.Subscriber, p); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	if p.Purpose == "" {
		return fmt.Errorf("%w: the proof names no purpose", ErrInvalidProof)
	}
	r := Record{Session: sess.ID, Slot: Slot(p), Proof: p, ExpiresAt: p.At.Add(s.keep)}
	if err := s.store.PutProof(ctx, r, s.max, s.now()); err != nil {
		return fmt.Errorf("stepup: store: %w", err)
	}
	return nil
}

// Proofs returns the session's proofs given for purpose, newest first: kept, not past
// Config.Keep, genuine and of the session's subscriber. None is not an error.
func (s *Service) Proofs(ctx context.Context, sess session.Session, purpose otp.Purpose) ([]twofactor.Proof, error) {
	if err := checkSession(sess); err != nil {
		return nil, err
	}
	if purpose == "" {
		return nil, nil
	}
	recs, err := s.store.Proofs(ctx, sess.ID)
	if err != nil {
		return nil, fmt.Errorf("stepup: store: %w", err)
	}
	now := s.now()
	var out []twofactor.Proof
	for _, r := range recs {
		p := r.Proof
		if r.Session != sess.ID || p.Purpose != purpose || !now.Before(r.ExpiresAt) || now.Sub(p.At) >= s.keep {
			continue
		}
		if s.v.VerifyProof(sess.Subscriber, p) != nil {
			continue // altered, moved from another subscriber's session, or from another key
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b twofactor.Proof) int { return b.At.Compare(a.At) })
	return out, nil
}

// Latest returns the session's newest proof given for purpose (see Proofs), and false
// if there is none.
func (s *Service) Latest(ctx context.Context, sess session.Session, purpose otp.Purpose) (twofactor.Proof, bool, error) {
	ps, err := s.Proofs(ctx, sess, purpose)
	if err != nil || len(ps) == 0 {
		return twofactor.Proof{}, false, err
	}
	return ps[0], true, nil
}

// Forget drops every proof of the session, for a sign-out or a revoked session.
func (s *Service) Forget(ctx context.Context, sessionID string) error {
	if sessionID == "" {
		return ErrInvalidSession
	}
	if err := s.store.DeleteSession(ctx, sessionID); err != nil {
		return fmt.Errorf("stepup: store: %w", err)
	}
	return nil
}

// RevokeProofs implements session.ProofRevoker: every proof subscriber gave until at
// stops counting, in every session, the one that made the change included.
func (s *Service) RevokeProofs(ctx context.Context, subscriber string, at time.Time) error {
	if subscriber == "" {
		return errors.New("stepup: RevokeProofs: subscriber is empty")
	}
	if _, err := s.store.DeleteSubscriber(ctx, subscriber, at); err != nil {
		return fmt.Errorf("stepup: store: %w", err)
	}
	return nil
}
