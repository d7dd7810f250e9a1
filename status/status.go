package status

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
)

// Step is one of the four steps of the Account Security Status.
type Step string

// The four steps, in the order the status presents them and suggests them.
const (
	// StepAccountVerification: the email address of record is verified.
	StepAccountVerification Step = "account_verification"
	// StepTwoFactor: two-factor authentication is on.
	StepTwoFactor Step = "two_factor"
	// StepSecurityQuestions: three security questions are set.
	StepSecurityQuestions Step = "security_questions"
	// StepPasswordUpdate: the password is within its rotation period.
	StepPasswordUpdate Step = "password_update"
)

// Steps returns the four steps in order.
func Steps() []Step {
	return []Step{StepAccountVerification, StepTwoFactor, StepSecurityQuestions, StepPasswordUpdate}
}

// Component is one step and whether it is done.
type Component struct {
	Step Step
	Done bool
}

// Status is a subscriber's Account Security Status.
type Status struct {
	Subscriber string
	// Components holds the four steps in Steps order.
	Components []Component
	// Percent is 25 per done step: 0, 25, 50, 75 or 100.
	Percent int
	// Next is the first step not done, in Steps order; empty when all are done.
	Next Step
	// EmailVerifiedAt is when the address of record was verified; zero if it is not.
	EmailVerifiedAt time.Time
	// PasswordDueAt is when the password step stops being done under rotation; zero if
	// there is no password or no rotation.
	PasswordDueAt time.Time
}

// Done reports whether step is done.
func (s Status) Done(step Step) bool {
	for _, c := range s.Components {
		if c.Step == step {
			return c.Done
		}
	}
	return false
}

// Remaining returns the steps not done, in order.
func (s Status) Remaining() []Step {
	var out []Step
	for _, c := range s.Components {
		if !c.Done {
			out = append(out, c.Step)
		}
	}
	return out
}

// Complete reports whether all four steps are done.
func (s Status) Complete() bool { return s.Percent == 100 }

// Errors returned by the Service.
var (
	// ErrInvalidLink is the answer for a verification token that is malformed,
	// unknown, already used or replaced by a newer link.
	ErrInvalidLink = errors.New("status: invalid or used verification link")
	// ErrLinkExpired is returned for a verification link past its lifetime. Verify
	// returns the subscriber and address with it, so the caller can send a new link.
	ErrLinkExpired = errors.New("status: verification link expired; send a new one")
	// ErrAlreadyVerified is returned by SendLink for an address that is already the
	// subscriber's verified address.
	ErrAlreadyVerified = errors.New("status: email address already verified")
	// ErrOtherAddressVerified is returned by SendLink for an address other than the
	// subscriber's verified one: a verified address is replaced only through
	// ChangeEmail, which drops the old verification and publishes notify.EmailChanged.
	ErrOtherAddressVerified = errors.New("status: another email address is verified; use ChangeEmail to change it")
	// ErrUnverified is returned by Allow for a capability that needs a verified email.
	ErrUnverified = errors.New("status: account not verified")
)

// DefaultLinkTTL is how long a verification link works by default.
const DefaultLinkTTL = 24 * time.Hour

// Config configures a Service. The zero value is ready to use.
type Config struct {
	// LinkTTL is how long a verification link works. Zero means DefaultLinkTTL (24 h);
	// at most 7 days.
	LinkTTL time.Duration `validate:"gte=0,lte=168h"`
	// MinResendInterval is the least time between two verification links for a
	// subscriber, whether sent by SendLink or ChangeEmail. Zero means
	// DefaultMinResendInterval (60 s); otherwise 1 s to 1 h.
	MinResendInterval time.Duration `validate:"omitempty,min=1s,max=1h"`
	// HourlyLimit is how many verification links a subscriber may be sent in any
	// sliding hour, by SendLink and ChangeEmail together. Zero means
	// DefaultHourlyLimit (5); otherwise 1 to 60.
	HourlyLimit int `validate:"omitempty,min=1,max=60"`
	// Restricted lists the capabilities an unverified account may not use. Nil or empty
	// means DefaultRestricted().
	Restricted []Capability `validate:"dive,required"`
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Rand is the source of link tokens. Nil means crypto/rand.Reader.
	Rand io.Reader
	// Logger is accepted like the other services' Logger but is currently unused: the
	// status has nothing to log, since every failure is returned to the caller.
	Logger *slog.Logger
}

// Service computes the Account Security Status and runs email verification. It is safe
// for concurrent use.
type Service struct {
	ttl        time.Duration
	limits     ResendLimits
	restricted []Capability
	now        func() time.Time
	rand       io.Reader
	store      VerificationStore
	src        Sources
	pub        notify.Publisher
}

// New returns a Service that keeps verification state in store, reads the other steps
// from src and publishes events to pub.
func New(cfg Config, store VerificationStore, src Sources, pub notify.Publisher) (*Service, error) {
	if err := validate.Struct("status", cfg); err != nil {
		return nil, err
	}
	switch {
	case store == nil:
		return nil, validate.Errorf("status", "store is nil; pass a status.VerificationStore such as memory.NewStatus")
	case src.TwoFactor == nil:
		return nil, validate.Errorf("status", "Sources.TwoFactor is nil; pass the twofactor service or a status.TwoFactorFunc")
	case src.Questions == nil:
		return nil, validate.Errorf("status", "Sources.Questions is nil; pass the questions service or a status.QuestionsFunc")
	case src.Password == nil:
		return nil, validate.Errorf("status", "Sources.Password is nil; pass the password service or a status.PasswordFunc")
	case pub == nil:
		return nil, validate.Errorf("status", "publisher is nil; pass a notify.Publisher")
	}
	s := &Service{
		ttl: cfg.LinkTTL, restricted: slices.Clone(cfg.Restricted), now: cfg.Now, rand: cfg.Rand,
		store: store, src: src, pub: pub,
		limits: ResendLimits{
			MinInterval: cmp.Or(cfg.MinResendInterval, DefaultMinResendInterval),
			PerHour:     cmp.Or(cfg.HourlyLimit, DefaultHourlyLimit),
		},
	}
	if s.ttl == 0 {
		s.ttl = DefaultLinkTTL
	}
	if len(s.restricted) == 0 {
		s.restricted = DefaultRestricted()
	}
	slices.Sort(s.restricted)
	s.restricted = slices.Compact(s.restricted)
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s, nil
}

// Status returns the subscriber's Account Security Status. Any error reading a step
// (store or source) is returned: the status is never guessed.
func (s *Service) Status(ctx context.Context, subscriber string) (Status, error) {
	st := Status{Subscriber: subscriber}

	v, verified, err := s.verification(ctx, subscriber)
	if err != nil {
		return Status{}, err
	}
	if verified {
		st.EmailVerifiedAt = v.VerifiedAt
	}
	twoFactor, err := s.src.TwoFactor.TwoFactorEnabled(ctx, subscriber)
	if err != nil {
		return Status{}, fmt.Errorf("status: reading two-factor state: %w", err)
	}
	questions, err := s.src.Questions.QuestionsSet(ctx, subscriber)
	if err != nil {
		return Status{}, fmt.Errorf("status: reading security questions state: %w", err)
	}
	rot, err := s.src.Password.PasswordRotation(ctx, subscriber)
	if err != nil {
		return Status{}, fmt.Errorf("status: reading password rotation: %w", err)
	}
	st.PasswordDueAt = rot.DueAt()

	done := map[Step]bool{
		StepAccountVerification: verified,
		StepTwoFactor:           twoFactor,
		StepSecurityQuestions:   questions,
		StepPasswordUpdate:      rot.Current(s.now()),
	}
	for _, step := range Steps() {
		st.Components = append(st.Components, Component{Step: step, Done: done[step]})
		if done[step] {
			st.Percent += 25
		} else if st.Next == "" {
			st.Next = step
		}
	}
	return st, nil
}

// verification reads the subscriber's verification; a miss is "not verified".
func (s *Service) verification(ctx context.Context, subscriber string) (Verification, bool, error) {
	v, err := s.store.Verification(ctx, subscriber)
	switch {
	case errors.Is(err, ErrNotFound):
		return Verification{}, false, nil
	case err != nil:
		return Verification{}, false, fmt.Errorf("status: reading email verification: %w", err)
	}
	return v, true, nil
}
