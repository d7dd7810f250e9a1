package session

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/carrierguard/carrierguard/notify"
)

// RevokeRule reports whether an account event changed a credential, so that every
// other session of the event's subscriber must end and the step-up proofs of the one
// that made the change must be given again. Config.RevokeOn holds one.
type RevokeRule func(e notify.Event) bool

// RevokeOnCredentialChange is the default RevokeRule. It matches the events that mean a
// credential or a way to recover the account changed or leaked:
//
//	notify.PasswordChanged        a change, or a reset after a lock was lifted
//	notify.PasswordCompromised    the password is known or suspected to be out
//	notify.EmailChanged           the account address moved
//	notify.TrustedContactRemoved  a verified contact was removed (attribute verified is
//	                              not "false"; dropping a pending, never-verified
//	                              contact changes no credential)
//	notify.AuthenticatorRemoved   the authenticator app was removed
//	notify.TwoFactorDisabled      two-step verification was turned off
//	notify.RecoveryCodesGenerated new recovery codes replaced every earlier one (the
//	                              owner's answer to a "recovery code used" notice);
//	                              this one ends the other sessions but keeps the
//	                              step-up proofs: it removes no factor they were
//	                              given with
//
// A thief who signed in with a stolen password, a phished code or a recovery code keeps
// his session no longer than it takes the owner to change the credential he used (new
// recovery codes are the change for a leaked recovery code); and a
// thief who changed a credential himself cannot keep a proof given before the change.
func RevokeOnCredentialChange(e notify.Event) bool {
	switch e.Type {
	case notify.PasswordChanged, notify.PasswordCompromised, notify.EmailChanged,
		notify.AuthenticatorRemoved, notify.TwoFactorDisabled, notify.RecoveryCodesGenerated:
		return true
	case notify.TrustedContactRemoved:
		return e.Attributes["verified"] != "false"
	}
	return false
}

// ProofRevoker forgets step-up proofs that are kept outside the registry (for example
// the twofactor.Proof values a server keeps for each session, to present as evidence).
// RevokeOthers calls it after a credential change: every proof of the subscriber given
// before at must stop counting, in every session, including the one that is kept.
// Implementations must be safe for concurrent use; an error fails the revocation.
type ProofRevoker interface {
	RevokeProofs(ctx context.Context, subscriber string, at time.Time) error
}

// ProofRevokerFunc adapts a function to ProofRevoker.
type ProofRevokerFunc func(ctx context.Context, subscriber string, at time.Time) error

// RevokeProofs calls f(ctx, subscriber, at).
func (f ProofRevokerFunc) RevokeProofs(ctx context.Context, subscriber string, at time.Time) error {
	return f(ctx, subscriber, at)
}

// actingKey is the context key of the session making a request.
type actingKey struct{}

// NewContext returns a copy of ctx that carries s, the validated session making the
// request. The Service's Publisher reads it to know which session made a credential
// change, so that session is kept (with its step-up proofs cleared) while every other
// one ends. Put it on the request context right after Validate:
//
//	s, err := sessions.Validate(r.Context(), token, client)
//	...
//	r = r.WithContext(session.NewContext(r.Context(), s))
func NewContext(ctx context.Context, s Session) context.Context {
	return context.WithValue(ctx, actingKey{}, s)
}

// FromContext returns the session NewContext put on ctx, if any.
func FromContext(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(actingKey{}).(Session)
	return s, ok && s.ID != ""
}

// Publisher returns a notify.Publisher that publishes through the publisher the Service
// was built with and, first, ends the other sessions of the subscriber of every event
// Config.RevokeOn matches (a password change, a factor removal, 2FA turned off; see
// RevokeOnCredentialChange), with RevokeOthers.
//
// Give it, instead of the plain publisher, to every service that changes credentials
// (password, twofactor, otp.Authenticators, status): those services publish their
// events from inside the library, so the revocation cannot be forgotten by a handler.
//
// The session kept is the one the event's context carries (NewContext), if it belongs to
// the event's subscriber and the subscriber made the change. Without one (an agent made
// the change, a background job, or a handler that did not call NewContext), every
// session of the subscriber ends, the acting one included: the safe answer, at the cost
// of signing in again.
//
// The event is published even if the revocation fails, so the subscriber still hears of
// the change; the error returned then says the sessions may live on, and the operation
// that published it fails as it would for an event that could not be published.
func (s *Service) Publisher() notify.Publisher { return revokingPublisher{s} }

type revokingPublisher struct{ s *Service }

func (p revokingPublisher) Publish(ctx context.Context, e notify.Event) error {
	var rerr error
	if e.Subscriber != "" && p.s.revokeOn(e) {
		keep := ""
		if a, ok := FromContext(ctx); ok && a.Subscriber == e.Subscriber && e.Actor.Kind == notify.ActorSubscriber {
			keep = a.ID
		}
		if _, err := p.s.revokeOthers(ctx, e.Subscriber, keep, string(e.Type), !addsOnly(e.Type)); err != nil {
			rerr = fmt.Errorf("session: %s, but the other sessions were not all revoked: %w", e.Type, err)
		}
	}
	return errors.Join(rerr, p.s.pub.Publish(ctx, e))
}

// RevokeOthers ends every session of the subscriber except keep (none when keep is
// empty) after a credential change named by reason (such as "password.changed"). The
// kept session's step-up proofs are cleared (SecondFactorAt and PasswordAt become zero),
// and Config.Proofs, if set, forgets every proof of the subscriber given until now, so a
// proof from before the change cannot be presented after it: the subscriber proves a
// factor again for the next sensitive change. The subscriber's pending sign-ins (BeginSignin) are
// deleted too, so a sign-in begun with the old password cannot be finished with a code. It publishes notify.SessionsRevoked
// (scope credential_change, with the reason and the kept session's ID) when it ended a
// session, and returns how many it ended.
//
// The Service's Publisher calls it for the events Config.RevokeOn matches; call it
// directly for a credential change that publishes no event.
func (s *Service) RevokeOthers(ctx context.Context, subscriber, keep, reason string) (int, error) {
	return s.revokeOthers(ctx, subscriber, keep, reason, true)
}

// addsOnly reports whether an event that ends the other sessions leaves the step-up
// proofs alone: new recovery codes replace the old ones, so whoever signed in with a
// leaked one is signed out, but they take away none of the factors the acting session
// proved itself with, so its proofs (and the ledger's) stay.
func addsOnly(t notify.Type) bool { return t == notify.RecoveryCodesGenerated }

// revokeOthers is RevokeOthers; with clearProofs false it ends the other sessions only.
func (s *Service) revokeOthers(ctx context.Context, subscriber, keep, reason string, clearProofs bool) (int, error) {
	if subscriber == "" {
		return 0, errors.New("session: subscriber is empty")
	}
	if reason == "" {
		return 0, errors.New("session: RevokeOthers needs a reason, such as the event type of the change")
	}
	now := s.now()
	if keep != "" && clearProofs {
		err := s.store.ClearProofs(ctx, subscriber, keep)
		if err != nil && !errors.Is(err, ErrNotFound) { // a kept session that is gone needs nothing
			return 0, fmt.Errorf("session: clearing the kept session's proofs: %w", err)
		}
	}
	n, err := s.store.RevokeAll(ctx, subscriber, keep)
	if err != nil {
		return 0, fmt.Errorf("session: revoking sessions: %w", err)
	}
	if s.proofs != nil && clearProofs {
		if err := s.proofs.RevokeProofs(ctx, subscriber, now); err != nil {
			return n, fmt.Errorf("session: revoking step-up proofs: %w", err)
		}
	}
	if s.pending != nil {
		if _, err := s.pending.DeletePending(ctx, subscriber, now); err != nil {
			return n, fmt.Errorf("session: deleting pending sign-ins: %w", err)
		}
	}
	if n == 0 {
		return 0, nil
	}
	attrs := map[string]string{"scope": "credential_change", "reason": reason, "count": strconv.Itoa(n)}
	if keep != "" {
		attrs["kept"] = keep
	}
	ev := notify.Event{
		ID: notify.NewID(), Type: notify.SessionsRevoked, Subscriber: subscriber, Time: now,
		Actor: notify.Actor{Kind: notify.ActorSystem, ID: "session"}, Channel: "system", Attributes: attrs,
	}
	if err := s.pub.Publish(ctx, ev); err != nil {
		return n, fmt.Errorf("session: sessions revoked but event not published: %w", err)
	}
	return n, nil
}
