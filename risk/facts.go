package risk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/carrierguard/carrierguard/notify"
)

// Change is a kind of account change that the credential_change and recent_sim_change
// signals weigh. The risk [Service] learns them from the account events the library
// publishes (see [Facts] and [ChangeOf]), so that the takeover chain "change a
// credential, then swap the SIM" is seen without the integrator filling [Account].
type Change uint8

// The changes, each with the [notify.Type]s that report it.
const (
	// ChangePassword: password.changed (a change or a reset).
	ChangePassword Change = iota + 1
	// ChangeEmail: email.changed.
	ChangeEmail
	// ChangeContact: contact.added, contact.verified, contact.removed.
	ChangeContact
	// ChangeFactor: authenticator.enrolled, authenticator.removed,
	// recovery_codes.generated, recovery_codes.used, twofactor.enabled,
	// twofactor.disabled, questions.set, questions.changed.
	ChangeFactor
	// ChangeFlagLifted: protection.flag_disabled (Never SIM Swap, No Port Out or Account
	// Lockdown turned off).
	ChangeFlagLifted
	// ChangeSIM: sim_swap.completed (a SIM swap or eSIM transfer carried out).
	ChangeSIM

	numChanges = iota
)

func (c Change) valid() bool { return c >= ChangePassword && c <= ChangeSIM }

// String returns the change's name, e.g. "password".
func (c Change) String() string {
	if !c.valid() {
		return fmt.Sprintf("change(%d)", uint8(c))
	}
	return [...]string{"password", "email", "trusted contact", "second factor", "protection flag lifted", "SIM"}[c-1]
}

// changeOf maps event types to the change they report. Events that change nothing the
// signals weigh (a SIM swap requested, a code sent, a flag turned on) are absent.
var changeOf = map[notify.Type]Change{
	notify.PasswordChanged:          ChangePassword,
	notify.EmailChanged:             ChangeEmail,
	notify.TrustedContactAdded:      ChangeContact,
	notify.TrustedContactVerified:   ChangeContact,
	notify.TrustedContactRemoved:    ChangeContact,
	notify.AuthenticatorEnrolled:    ChangeFactor,
	notify.AuthenticatorRemoved:     ChangeFactor,
	notify.RecoveryCodesGenerated:   ChangeFactor,
	notify.RecoveryCodeUsed:         ChangeFactor,
	notify.TwoFactorEnabled:         ChangeFactor,
	notify.TwoFactorDisabled:        ChangeFactor,
	notify.SecurityQuestionsSet:     ChangeFactor,
	notify.SecurityQuestionsChanged: ChangeFactor,
	notify.ProtectionFlagDisabled:   ChangeFlagLifted,
	notify.SIMSwapCompleted:         ChangeSIM,
}

// ChangeOf returns the account change an event of type t reports, and false for events
// that report none.
func ChangeOf(t notify.Type) (Change, bool) {
	c, ok := changeOf[t]
	return c, ok
}

// ErrInvalidChange is returned by [Service.NoteChange] for an unknown [Change] or an
// empty subscriber.
var ErrInvalidChange = errors.New("risk: invalid account change")

// NoteChange records, durably in the profile store, that the subscriber's account
// changed in the way c says at time at (zero means now; a time later than now is read as
// now, so a skewed clock can delay nothing). A later SIM swap or port-out within
// Config.CredentialChangeWindow then fires credential_change, and a recorded SIM change
// feeds recent_sim_change, with no [Account] field filled by the caller: the service
// takes the later of the recorded time and the request's own.
//
// [Facts] calls it for every account event; call it yourself only for changes made
// outside carrierguard (a password reset in the carrier's own CRM, say).
func (s *Service) NoteChange(ctx context.Context, subscriber string, c Change, at time.Time) error {
	if subscriber == "" {
		return fmt.Errorf("%w: subscriber is empty", ErrInvalidChange)
	}
	if !c.valid() {
		return fmt.Errorf("%w: unknown change %d", ErrInvalidChange, uint8(c))
	}
	now := s.cfg.Now()
	if at.IsZero() || at.After(now) {
		at = now
	}
	cutoff := now.Add(-s.cfg.StrangerTTL)
	err := s.profiles.UpdateProfile(ctx, subscriber, func(p *Profile) error {
		if p.expired(cutoff) {
			*p = Profile{}
		}
		p.NoteChange(c, at)
		return nil
	})
	if err != nil {
		return fmt.Errorf("risk: recording %s change: %w", c, err)
	}
	return nil
}

// Observe records the account change an event reports (see [ChangeOf]); events that
// report none are ignored. It is [Service.NoteChange] for integrators who consume the
// library's events themselves, from their own bus or outbox, instead of wrapping the
// publisher with [Facts].
func (s *Service) Observe(ctx context.Context, e notify.Event) error {
	c, ok := ChangeOf(e.Type)
	if !ok {
		return nil
	}
	return s.NoteChange(ctx, e.Subscriber, c, e.Time)
}

// Facts is a [notify.Publisher] that passes every event on to the publisher it wraps
// and records the account changes among them (see [ChangeOf]) in the risk service's
// profile store. Wrap the publisher every carrierguard service publishes through (the
// notify outbox) once, before handing it to them:
//
//	pub, err := risk.NewFacts(outbox, riskSvc, logger)
//	twofactor.New(cfg, deps) // with pub, and likewise password, protection, questions, ...
//
// Every contact, factor, password, email and flag change then reaches risk by itself:
// the library publishes an event for each, so an integrator cannot forget one.
//
// Order and failures. Each event is published first and its change recorded after,
// whatever the publish returned: carrierguard's services publish a change they have
// already made, so the change is recorded even when its notice could not be queued
// (recording a change that did not happen would only raise risk for a while). The
// change is recorded with the request's cancellation removed, so a client that hangs
// up cannot skip it. Publish returns the wrapped publisher's result and nothing else:
// the event is never lost or refused because risk could not record it. A change that
// cannot be recorded (the profile store is down) is logged at Error level with the
// event's ID and type; it is not turned into a later "allow", but risk cannot see it
// either, so a SIM swap in the next CredentialChangeWindow misses that one
// credential_change reason. While the store stays down, every assessment fails closed
// (High) anyway; and the rules that decide which factor counts as evidence (factor age
// and probation, in twofactor and protection) are kept with the factors themselves and
// do not depend on this record.
type Facts struct {
	next notify.Publisher
	svc  *Service
	log  *slog.Logger
}

var _ notify.Publisher = (*Facts)(nil)

// NewFacts returns a Facts that publishes to next and records changes with svc. A nil
// logger discards.
func NewFacts(next notify.Publisher, svc *Service, logger *slog.Logger) (*Facts, error) {
	if next == nil {
		return nil, errors.New("risk: NewFacts: the wrapped publisher is nil")
	}
	if svc == nil {
		return nil, errors.New("risk: NewFacts: the risk service is nil")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Facts{next: next, svc: svc, log: logger}, nil
}

// Publish implements [notify.Publisher]: it publishes e, then records its change.
func (f *Facts) Publish(ctx context.Context, e notify.Event) error {
	err := f.next.Publish(ctx, e)
	if e.Subscriber != "" {
		if rerr := f.svc.Observe(context.WithoutCancel(ctx), e); rerr != nil {
			f.log.ErrorContext(ctx, "risk: account change not recorded; the credential_change signal will not see it",
				"event_id", e.ID, "event_type", string(e.Type), "error", rerr.Error())
		}
	}
	return err
}
