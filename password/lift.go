package password

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/carrierguard/carrierguard/notify"
)

// LiftProofMaxAge is how old the contact-code proof behind a subscriber's own lift may
// be: the freshness package protection gives a one-time code.
const LiftProofMaxAge = 10 * time.Minute

// Errors returned by LiftHardLock.
var (
	// ErrNotHardLocked is returned when the subscriber's sign-in is not hard-locked:
	// there is nothing to lift (a temporary lock expires by itself).
	ErrNotHardLocked = errors.New("password: sign-in is not hard-locked")
	// ErrLiftProof is returned when the LiftProof does not show what a lift needs:
	// an agent with an ID and the identity check, or a fresh contact code and a new
	// password. Nothing changes.
	ErrLiftProof = errors.New("password: not enough proof to lift the sign-in lock")
)

// LiftProof is what lifts a hard sign-in lock (LiftHardLock). Fill one of its two halves.
//
// By a support agent: Agent (kind notify.ActorAgent, with the agent's ID) who has
// verified the subscriber's identity by the carrier's procedure, and IdentityCheck,
// which names that procedure for the audit event.
//
// By the subscriber: ContactCodeAt, from a one-time code the subscriber received on a
// verified trusted contact, and NewPassword, the reset. The password being guessed is
// the one the stranger was after, so the lift replaces it.
type LiftProof struct {
	// Agent is the support agent lifting the lock (agent path).
	Agent notify.Actor
	// IdentityCheck names how the agent verified the subscriber's identity, such as
	// "government_id_in_store" or "security_questions_and_callback"; recorded in the
	// LockoutLifted event (never a document number or an answer). Required with Agent.
	IdentityCheck string

	// ContactCodeAt is when the subscriber proved a code sent to a verified trusted
	// contact for account recovery (subscriber path): the At of a twofactor.Proof of
	// method contact code and purpose otp.PurposeAccountRecovery that the caller has
	// checked with twofactor's CheckProof. This package cannot check the proof itself
	// (package twofactor is not its dependency): never fill it from a request field.
	// It must be at most LiftProofMaxAge old.
	//
	// The contact must be established: past the factor probation
	// (twofactor.Service.Established of the proof's FactorAddedAt), so send the code only
	// to such a contact and refuse a proof from any other. A thief who added his own
	// contact and then hard-locked the account with wrong guesses would otherwise get
	// the code that resets the password, since this package cannot see the factor's age.
	ContactCodeAt time.Time
	// NewPassword is the reset (subscriber path). It must pass the policy and the reuse
	// history, as in Change.
	NewPassword string
	// Subject feeds the context-word check of NewPassword.
	Subject Subject
	// ClientKey is the client asking (subscriber path): its own failure count on the
	// account is cleared with the lock.
	ClientKey string

	// Channel is where the lift came from ("app", "phone", "store"…), for the events.
	Channel string
}

// LiftHardLock lifts a hard sign-in lock: the one reached at MaxConsecutive consecutive
// failures, which no amount of waiting ends. It returns ErrNotHardLocked when there is
// none, and ErrLiftProof when proof is missing or stale (nothing changes then).
//
// An agent lift clears the failure count and publishes notify.LockoutLifted with the
// agent as actor and the identity check; the password stays as it is.
//
// A subscriber lift first resets the password to NewPassword (checked like Change; the
// Result lists every reason, ErrRejected if it fails), clears the failure count and
// the asking client's count, then publishes notify.PasswordChanged (reason
// lock_reset) and notify.LockoutLifted. Give the Service the session registry's
// publisher (session.Service.Publisher) and the password change signs out every session,
// the stranger's included.
func (s *Service) LiftHardLock(ctx context.Context, subscriber string, p LiftProof) (Result, error) {
	none := Result{Policy: s.checker.policy.Name, Strength: -1}
	if subscriber == "" {
		return none, ErrNoSubscriber
	}
	agent := p.Agent.Kind != ""
	if agent {
		switch {
		case p.Agent.Kind != notify.ActorAgent || p.Agent.ID == "":
			return none, fmt.Errorf("%w: Agent must be a support agent (kind %s) with an ID", ErrLiftProof, notify.ActorAgent)
		case p.IdentityCheck == "":
			return none, fmt.Errorf("%w: IdentityCheck must name how the agent verified the subscriber's identity", ErrLiftProof)
		case p.NewPassword != "" || !p.ContactCodeAt.IsZero():
			return none, fmt.Errorf("%w: an agent lift takes no contact code or new password; the subscriber resets their own", ErrLiftProof)
		}
	} else if _, err := Normalize(p.NewPassword); err != nil {
		return none, err
	}
	now := s.now()
	if !agent {
		if age := now.Sub(p.ContactCodeAt); p.ContactCodeAt.IsZero() || age < 0 || age > LiftProofMaxAge {
			return none, fmt.Errorf("%w: a code to a verified trusted contact, at most %s old, is needed", ErrLiftProof, LiftProofMaxAge)
		}
	}
	sk := subscriberKey(subscriber)
	a, err := s.attempts.Failures(ctx, sk)
	if err != nil {
		return none, fmt.Errorf("password: reading attempts: %w", err)
	}
	if a = a.at(now); a.Failures < s.lockout.MaxConsecutive {
		return none, ErrNotHardLocked
	}
	if agent {
		if err := s.attempts.Reset(ctx, sk); err != nil {
			return none, fmt.Errorf("password: clearing failures: %w", err)
		}
		return none, s.publish(ctx, notify.LockoutLifted, subscriber, p.Agent, p.Channel, map[string]string{
			"reason": "failed_password_attempts", "method": "agent_identity_check",
			"identity_check": p.IdentityCheck, "failures": strconv.Itoa(a.Failures),
		})
	}

	rec, err := s.creds.Get(ctx, subscriber)
	if err != nil {
		return none, fmt.Errorf("password: reading record: %w", err)
	}
	res, err := s.checkNew(ctx, rec, p.NewPassword, p.Subject)
	if err != nil {
		return res, err
	}
	hash, err := s.hasher.Hash(ctx, p.NewPassword)
	if err != nil {
		return res, err
	}
	if err := s.creds.Set(ctx, subscriber, rec.Hash, hash, now, s.checker.policy.History-1); err != nil {
		return res, fmt.Errorf("password: storing the new hash: %w", err)
	}
	if err := s.attempts.Reset(ctx, sk); err != nil {
		return res, fmt.Errorf("password: clearing failures: %w", err)
	}
	if p.ClientKey != "" {
		for _, k := range []string{clientKey(subscriber, p.ClientKey), networkKey(subscriber, p.ClientKey)} {
			if k == "" {
				continue
			}
			if err := s.attempts.Reset(ctx, k); err != nil {
				return res, fmt.Errorf("password: clearing failures: %w", err)
			}
		}
	}
	me := notify.Actor{Kind: notify.ActorSubscriber}
	if err := s.publish(ctx, notify.PasswordChanged, subscriber, me, p.Channel, map[string]string{
		"policy": s.checker.policy.Name, "reason": "lock_reset", "next_step": "review_account_activity",
	}); err != nil {
		return res, fmt.Errorf("password: reset, but the PasswordChanged event was not accepted: %w", err)
	}
	return res, s.publish(ctx, notify.LockoutLifted, subscriber, me, p.Channel, map[string]string{
		"reason": "failed_password_attempts", "method": "contact_code_and_reset", "failures": strconv.Itoa(a.Failures),
	})
}

// Format implements fmt.Formatter: every verb prints the proof with the new password
// redacted and without the Subject.
func (p LiftProof) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{Agent:%v IdentityCheck:%q ContactCodeAt:%s NewPassword:%s ClientKey:%q Channel:%q}",
		p.Agent, p.IdentityCheck, p.ContactCodeAt.Format(time.RFC3339), redacted, p.ClientKey, p.Channel)
}

// LogValue implements slog.LogValuer with the new password redacted and without the
// Subject.
func (p LiftProof) LogValue() slog.Value {
	return slog.GroupValue(slog.String("agent", p.Agent.ID), slog.String("identity_check", p.IdentityCheck),
		slog.Time("contact_code_at", p.ContactCodeAt), slog.String("new_password", redacted),
		slog.String("client_key", p.ClientKey), slog.String("channel", p.Channel))
}

// MarshalJSON encodes the proof with the new password redacted and without the Subject.
func (p LiftProof) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Agent                           notify.Actor
		IdentityCheck                   string
		ContactCodeAt                   time.Time
		NewPassword, ClientKey, Channel string
	}{p.Agent, p.IdentityCheck, p.ContactCodeAt, redacted, p.ClientKey, p.Channel})
}
