package twofactor

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
)

// Config configures the 2FA service. Zero fields mean the defaults given; New validates
// the whole struct once.
type Config struct {
	// HashKey keys the HMAC-SHA-256 that recovery codes are stored as, and the tag that
	// makes a Proof unforgeable: at least 32 random bytes from configuration
	// (keyring.GenerateKey makes one; keyring.CheckKeyMaterial refuses placeholders).
	// Use a key of its own, not otp's. Changing it invalidates every recovery code and
	// every proof in flight.
	HashKey []byte `validate:"required,min=32"`
	// Phone says how phone numbers are parsed (default region, VoIP).
	Phone PhoneOptions
	// Lockout is the failure policy. Zero fields mean DefaultLockoutPolicy's.
	Lockout LockoutPolicy
	// SIMChangeWindow: an SMS code is not sent to a number that had a SIM change or port
	// within this window (NIST SP 800-63B). Default 7 days; CAMARA's maxAge allows up to
	// 2400 hours.
	SIMChangeWindow time.Duration `validate:"omitempty,min=1h,max=2400h"`
	// ProofMaxAge is how old a Proof may be and still authorise removing a contact,
	// disabling 2FA or regenerating recovery codes. Default 5 minutes.
	ProofMaxAge time.Duration `validate:"omitempty,min=30s,max=1h"`
	// FactorProbation is how long a factor is new after it was added or changed (a
	// contact's verification, an app's confirmation, a recovery-code set's generation).
	// A proof from a new factor does not take a factor away (Disable, RemoveContact,
	// RemoveAuthenticator), add one while 2FA is on, or turn 2FA on: a thief who got
	// his own factor in cannot use it to push the owner's out.
	//
	// Package protection's policy has a probation of its own (PolicyConfig.Probation) for
	// the same changes, and the two must agree: were this one shorter, this package
	// would take a proof from a factor the policy still holds to be new. So when
	// Deps.Gate reports its probation (a ProbationGate, as protection.FactorGate is),
	// zero here means the gate's, and New refuses a FactorProbation shorter than it.
	// Otherwise zero means 7 days, protection's default. A longer one than the policy's
	// is allowed: it is only stricter.
	FactorProbation time.Duration `validate:"omitempty,min=1h,max=2400h"`
	// PasswordMaxAge is how recently the password must have been entered (Reauth's
	// PasswordAt) to add a factor or turn 2FA on while 2FA is off. Default 15 minutes,
	// package protection's freshness for a re-entered password.
	PasswordMaxAge time.Duration `validate:"omitempty,min=1m,max=1h"`
	// Purposes are the purposes Begin accepts besides otp's own (sign-in, SIM swap,
	// port-out, account change, account recovery, disabling 2FA). otp limits resends per
	// subscriber and purpose, so accepting any purpose would let a caller that passes one
	// through from a client send unlimited codes; list your own here (at most 32).
	Purposes []otp.Purpose
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Rand is the source of contact IDs and recovery codes. Nil means crypto/rand.Reader.
	Rand io.Reader
	// Logger receives warnings about faults (never codes or addresses). Nil discards.
	Logger *slog.Logger
}

// Deps are the service's collaborators. All are required except Authenticators.
type Deps struct {
	// Codes issues and verifies the out-of-band codes (sign-in and contact verification).
	Codes *otp.Codes
	// Authenticators, if set, lets subscribers sign in with an authenticator app and
	// enable 2FA with one. Enrollment itself is otp.Authenticators' job.
	Authenticators *otp.Authenticators
	Contacts       ContactStore
	Recovery       RecoveryStore
	Failures       FailureStore
	// Sender delivers codes by SMS and email.
	Sender Sender
	// SIMChanges answers the SIM-change question before an SMS code is sent.
	// *protection.Service satisfies it.
	SIMChanges SIMChanges
	Publisher  notify.Publisher
	// Challenges binds each contact-code challenge to the flow that asked for it. If
	// nil, Contacts is used when it implements ChallengeStore (memory.TwoFactor does).
	Challenges ChallengeStore
	// Gate decides every change that adds a way to sign in (see Gate), after this
	// package's own checks. Required: protection.FactorGate(protectionService) makes
	// Account Lockdown and the risk assessment apply.
	Gate Gate
}

// Sender delivers a one-time code to a trusted contact. It must be safe for concurrent
// use. Message.Code is the only plaintext copy of the code anywhere: put it in the SMS
// or email and nowhere else (not in logs, errors or queues that outlive the delivery).
// An error means the code was not accepted for delivery: the service withdraws it
// (otp.Codes.Undelivered) and returns the error (and logs it); it counts neither toward
// the lockout nor toward otp's resend limits. So return an error only when the message
// surely did not go out: if it may have (a timeout after the gateway took it), return
// nil and let the subscriber ask again. Errors must not contain the code or the message
// text; as a safeguard, the code is cut out of an error's message before it is logged
// or returned.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, m Message) error

// Send calls f(ctx, m).
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// Message is a code to deliver. Its String, GoString and LogValue methods leave the code
// out, so printing or logging a Message by mistake does not leak it.
type Message struct {
	Subscriber string
	// Kind is KindPhone (send an SMS to To, an E.164 number) or KindEmail.
	Kind Kind
	To   string
	// Code is the one-time code, in plaintext.
	Code string
	// Purpose is what the code is for (otp.PurposeSignIn, otp.PurposeContactVerification…),
	// to choose the wording: a message should say what the code is for and that staff
	// never ask for it.
	Purpose   otp.Purpose
	ExpiresAt time.Time
}

func (m Message) String() string {
	return fmt.Sprintf("twofactor.Message{%s to %s for %s, code redacted}", m.Kind, Mask(m.Kind, m.To), m.Purpose)
}

// GoString is String, so %#v does not print the code either.
func (m Message) GoString() string { return m.String() }

// LogValue implements slog.LogValuer without the code or the full address.
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", string(m.Kind)), slog.String("to", Mask(m.Kind, m.To)),
		slog.String("purpose", string(m.Purpose)))
}

// SIMChanges reports recent SIM changes and ports of a number. *protection.Service
// satisfies it from the carrier's SIM-change history; an MVNO can answer from the host
// network or a CAMARA SIM Swap API. An error fails closed: no SMS is sent.
type SIMChanges interface {
	SIMChangedWithin(ctx context.Context, number string, d time.Duration) (bool, error)
}

// SIMChangesFunc adapts a function to SIMChanges.
type SIMChangesFunc func(ctx context.Context, number string, d time.Duration) (bool, error)

// SIMChangedWithin calls f(ctx, number, d).
func (f SIMChangesFunc) SIMChangedWithin(ctx context.Context, number string, d time.Duration) (bool, error) {
	return f(ctx, number, d)
}

// Service runs 2FA for subscribers: trusted contacts, the on/off switch, challenges,
// recovery codes and the lockout. It is safe for concurrent use.
type Service struct {
	cfg        Config
	policy     LockoutPolicy
	codes      *otp.Codes
	auths      *otp.Authenticators
	states     ContactStore
	rec        RecoveryStore
	fails      FailureStore
	sender     Sender
	sims       SIMChanges
	challenges ChallengeStore
	gate       Gate
	pub        notify.Publisher
	log        *slog.Logger
	proofMK    []byte // proof tag key, derived from HashKey
	recMK      []byte // recovery hash key, derived from HashKey
	// purposes are those Begin accepts.
	purposes map[otp.Purpose]bool
}

// maxPurposes bounds Config.Purposes, and so how many resend limits one subscriber has.
const maxPurposes = 32

// builtinPurposes are the otp purposes Begin accepts without configuration.
var builtinPurposes = [...]otp.Purpose{otp.PurposeSignIn, otp.PurposeSIMSwap, otp.PurposePortOut,
	otp.PurposeAccountChange, otp.PurposeAccountRecovery, otp.PurposeDisableTwoFactor, otp.PurposeAddFactor,
	otp.PurposeSupportIdentity}

// factorProbation returns Config.FactorProbation with its default: the gate's, if it
// reports one (ProbationGate), else 7 days. A configured one shorter than the gate's is
// refused.
func factorProbation(configured time.Duration, g Gate) (time.Duration, error) {
	pg, ok := g.(ProbationGate)
	if !ok {
		return cmp.Or(configured, 7*24*time.Hour), nil
	}
	policy := pg.FactorProbation()
	switch {
	case configured == 0 && policy == 0:
		return 7 * 24 * time.Hour, nil
	case configured == 0 && (policy < time.Hour || policy > 2400*time.Hour):
		return 0, validate.Errorf("twofactor", "the Gate's probation of new factors is %s; Config.FactorProbation must be 1h to 2400h, so set it (at least as long as the gate's)", policy)
	case configured == 0:
		return policy, nil
	case configured < policy:
		return 0, validate.Errorf("twofactor", "Config.FactorProbation (%s) is shorter than the probation of new factors in the Gate's policy (%s): a factor would count here while the policy still holds it new; set it to at least %s, or leave it zero to take the gate's", configured, policy, policy)
	}
	return configured, nil
}

// New validates cfg and deps and returns the service.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := validate.Struct("twofactor", cfg); err != nil {
		return nil, err
	}
	if err := keyring.CheckKeyMaterial(cfg.HashKey); err != nil {
		return nil, validate.Field("twofactor", "Config.HashKey", err)
	}
	switch {
	case deps.Codes == nil:
		return nil, validate.Errorf("twofactor", "Deps.Codes is required (otp.NewCodes makes one)")
	case deps.Contacts == nil, deps.Recovery == nil, deps.Failures == nil:
		return nil, validate.Errorf("twofactor", "Deps.Contacts, Deps.Recovery and Deps.Failures are required (memory.NewTwoFactor gives all three)")
	case deps.Sender == nil:
		return nil, validate.Errorf("twofactor", "Deps.Sender is required: codes must reach the subscriber")
	case deps.SIMChanges == nil:
		return nil, validate.Errorf("twofactor", "Deps.SIMChanges is required (a *protection.Service, or a SIMChangesFunc over your SIM-change source)")
	case deps.Publisher == nil:
		return nil, validate.Errorf("twofactor", "Deps.Publisher is required")
	case deps.Gate == nil:
		return nil, validate.Errorf("twofactor", "Deps.Gate is required (protection.FactorGate makes one from a *protection.Service)")
	}
	if deps.Challenges == nil {
		cs, ok := deps.Contacts.(ChallengeStore)
		if !ok {
			return nil, validate.Errorf("twofactor", "Deps.Challenges is required: Deps.Contacts does not implement ChallengeStore")
		}
		deps.Challenges = cs
	}
	p := cfg.Lockout.withDefaults()
	if p.Threshold > p.HardLimit {
		return nil, validate.Errorf("twofactor", "Config.Lockout.Threshold (%d) must not exceed Config.Lockout.HardLimit (%d)", p.Threshold, p.HardLimit)
	}
	if p.Base > p.MaxLockout {
		return nil, validate.Errorf("twofactor", "Config.Lockout.Base (%s) must not exceed Config.Lockout.MaxLockout (%s)", p.Base, p.MaxLockout)
	}
	if len(cfg.Purposes) > maxPurposes {
		return nil, validate.Errorf("twofactor", "Config.Purposes lists %d purposes; at most %d are allowed", len(cfg.Purposes), maxPurposes)
	}
	purposes := map[otp.Purpose]bool{}
	for _, p := range builtinPurposes {
		purposes[p] = true
	}
	for _, p := range cfg.Purposes {
		if err := p.Validate(); err != nil {
			return nil, validate.Errorf("twofactor", "Config.Purposes: %q: %v", p, err)
		}
		if p == otp.PurposeContactVerification {
			return nil, validate.Errorf("twofactor", "Config.Purposes: %s is reserved for AddContact", p)
		}
		purposes[p] = true
	}
	if r := cfg.Phone.DefaultRegion; r != "" && !supportedRegion(r) {
		return nil, validate.Errorf("twofactor", "Config.Phone.DefaultRegion %q is not a known ISO 3166-1 alpha-2 region", r)
	}
	cfg.HashKey = append([]byte(nil), cfg.HashKey...)
	cfg.Purposes = append([]otp.Purpose(nil), cfg.Purposes...)
	cfg.Lockout = p
	cfg.SIMChangeWindow = cmp.Or(cfg.SIMChangeWindow, 7*24*time.Hour)
	cfg.ProofMaxAge = cmp.Or(cfg.ProofMaxAge, 5*time.Minute)
	probation, err := factorProbation(cfg.FactorProbation, deps.Gate)
	if err != nil {
		return nil, err
	}
	cfg.FactorProbation = probation
	cfg.PasswordMaxAge = cmp.Or(cfg.PasswordMaxAge, 15*time.Minute)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		cfg: cfg, policy: p, codes: deps.Codes, auths: deps.Authenticators,
		states: deps.Contacts, rec: deps.Recovery, fails: deps.Failures,
		sender: deps.Sender, sims: deps.SIMChanges, pub: deps.Publisher, log: cfg.Logger, purposes: purposes,
		challenges: deps.Challenges, gate: deps.Gate,
		proofMK: deriveKey(cfg.HashKey, "carrierguard/twofactor/proof/v1"),
		recMK:   deriveKey(cfg.HashKey, "carrierguard/twofactor/recovery/v1"),
	}, nil
}

// Origin says who asks for a change and from where, for the events it publishes.
type Origin struct {
	// Actor is who made the request; the zero Actor means the subscriber.
	Actor notify.Actor
	// Channel is where it came from: "app", "web", "chat"… Default "app".
	Channel string
}

func (s *Service) event(t notify.Type, subscriber string, o Origin, attrs map[string]string) notify.Event {
	if o.Actor.Kind == "" {
		o.Actor.Kind = notify.ActorSubscriber
	}
	return notify.Event{
		ID: notify.NewID(), Type: t, Subscriber: subscriber, Time: s.cfg.Now(),
		Actor: o.Actor, Channel: cmp.Or(o.Channel, "app"), Attributes: attrs,
	}
}

// publish sends an event. The change it reports has been made; an error is returned so
// the caller knows the subscriber may not have heard of it.
func (s *Service) publish(ctx context.Context, e notify.Event) error {
	if err := s.pub.Publish(ctx, e); err != nil {
		s.log.Warn("twofactor: event not published", "type", string(e.Type), "error", err)
		return fmt.Errorf("twofactor: publishing %s: %w", e.Type, err)
	}
	return nil
}

// checkOrigin refuses, before anything changes, an Origin the event vocabulary would
// refuse (an agent without an ID, an unknown actor kind): otherwise the change would be
// made and its event rejected, and nobody would hear of it.
func (s *Service) checkOrigin(o Origin) error {
	e := s.event(notify.TwoFactorEnabled, "-", o, nil)
	if err := e.Validate(); err != nil {
		return fmt.Errorf("%w: Origin: %w", ErrInvalidRequest, err)
	}
	return nil
}

func checkSubscriber(sub string) error {
	if sub == "" || len(sub) > 256 {
		return fmt.Errorf("%w: subscriber ID must be 1 to 256 bytes, got %d", ErrInvalidRequest, len(sub))
	}
	return nil
}

func (s *Service) state(ctx context.Context, subscriber string) (State, error) {
	st, err := s.states.State(ctx, subscriber)
	if err != nil {
		return State{}, fmt.Errorf("twofactor: contact store: %w", err)
	}
	return st, nil
}

// authenticator returns the subscriber's authenticator status (zero if none).
func (s *Service) authenticator(ctx context.Context, subscriber string) (otp.Status, error) {
	if s.auths == nil {
		return otp.Status{}, nil
	}
	st, err := s.auths.Status(ctx, subscriber)
	switch {
	case errors.Is(err, otp.ErrNotEnrolled):
		return otp.Status{}, nil
	case err != nil:
		return otp.Status{}, fmt.Errorf("twofactor: authenticator status: %w", err)
	}
	return st, nil
}

// Status is what a UI shows about a subscriber's 2FA.
type Status struct {
	Enabled   bool
	EnabledAt time.Time
	// Contacts are the trusted contacts, verified or pending; show their Masked().
	Contacts []Contact
	// Authenticator is true if an authenticator app is enrolled and confirmed.
	Authenticator bool
	// AuthenticatorAt is when that app was confirmed (zero without one): the
	// FactorAddedAt of the proofs it gives, so a verifier can tell it from an app
	// enrolled in its place since.
	AuthenticatorAt time.Time
	// RecoveryCodesLeft is how many unused recovery codes remain.
	RecoveryCodesLeft int
	// Lock is the current lockout, nil if none.
	Lock *LockedError
}

// Status reports the subscriber's 2FA state. A store error is returned, never guessed.
func (s *Service) Status(ctx context.Context, subscriber string) (Status, error) {
	if err := checkSubscriber(subscriber); err != nil {
		return Status{}, err
	}
	st, err := s.state(ctx, subscriber)
	if err != nil {
		return Status{}, err
	}
	app, err := s.authenticator(ctx, subscriber)
	if err != nil {
		return Status{}, err
	}
	left, err := s.rec.RecoveryCodesLeft(ctx, subscriber)
	if err != nil {
		return Status{}, fmt.Errorf("twofactor: recovery store: %w", err)
	}
	f, err := s.fails.Failures(ctx, subscriber)
	if err != nil {
		return Status{}, fmt.Errorf("twofactor: failure store: %w", err)
	}
	out := Status{Enabled: st.Enabled, EnabledAt: st.EnabledAt, Contacts: st.Contacts, Authenticator: app.Confirmed,
		RecoveryCodesLeft: left}
	if app.Confirmed {
		out.AuthenticatorAt = app.ConfirmedAt
	}
	var le *LockedError
	if errors.As(s.policy.Locked(f, s.cfg.Now()), &le) {
		out.Lock = le
	}
	return out, nil
}

// TwoFactorEnabled reports whether the subscriber has 2FA on. It satisfies
// status.TwoFactorState.
func (s *Service) TwoFactorEnabled(ctx context.Context, subscriber string) (bool, error) {
	st, err := s.state(ctx, subscriber)
	if err != nil {
		return false, err
	}
	return st.Enabled, nil
}

// Enable turns 2FA on. It is a factor change (see Reauth and Gate): the subscriber needs
// a verified contact or a confirmed authenticator app (ErrNoSecondFactor otherwise) and a
// fresh proof from one of them sent for otp.PurposeAddFactor, from a factor past its
// probation (ErrFactorInProbation), so a thief who added his own contact to an account
// without one cannot turn 2FA on with it and lock the owner out; while 2FA is off, the
// password entered within Config.PasswordMaxAge as well. Then the Gate decides.
// notify.TwoFactorEnabled is published before 2FA goes on, so every contact hears of it
// first; enabling when already on does nothing.
func (s *Service) Enable(ctx context.Context, subscriber string, re Reauth, o Origin) error {
	if err := checkSubscriber(subscriber); err != nil {
		return err
	}
	if err := s.checkOrigin(o); err != nil {
		return err
	}
	fs, err := s.factors(ctx, subscriber)
	if err != nil {
		return err
	}
	if fs.state.Enabled {
		return nil
	}
	if err := s.authorizeFactorChange(ctx, fs, FactorEnable, "", re, o); err != nil {
		return err
	}
	auth := fs.auth.Confirmed
	attrs := map[string]string{"authenticator": strconv.FormatBool(auth), "contacts": strconv.Itoa(fs.state.verified())}
	if err := s.publish(ctx, s.event(notify.TwoFactorEnabled, subscriber, o, attrs)); err != nil {
		return err
	}
	_, err = s.states.SetEnabled(ctx, subscriber, true, s.cfg.Now(), !auth)
	switch {
	case errors.Is(err, ErrNoSecondFactor): // its contact was removed meanwhile
		return ErrNoSecondFactor
	case err != nil:
		return fmt.Errorf("twofactor: contact store: %w", err)
	}
	return nil
}

// Disable turns 2FA off. It needs a fresh proof (see CheckProof) for the subscriber,
// given for this (otp.PurposeDisableTwoFactor), whatever its factor: a contact code's
// message said what it was for, and a subscriber who read out a sign-in code or one "for
// account change" has not agreed to lose 2FA. The proof's factor must be past its
// probation (Config.FactorProbation; ErrFactorInProbation otherwise): an app or a
// contact a thief added today does not take 2FA away.
// Contacts, recovery codes and the authenticator stay, ready for re-enabling. Publishes
// notify.TwoFactorDisabled; disabling when already off does nothing.
func (s *Service) Disable(ctx context.Context, subscriber string, proof Proof, o Origin) error {
	if err := checkSubscriber(subscriber); err != nil {
		return err
	}
	if err := s.checkOrigin(o); err != nil {
		return err
	}
	if err := s.checkDisableProof(subscriber, proof); err != nil {
		return err
	}
	changed, err := s.states.SetEnabled(ctx, subscriber, false, s.cfg.Now(), false)
	switch {
	case err != nil:
		return fmt.Errorf("twofactor: contact store: %w", err)
	case !changed:
		return nil
	}
	return s.publish(ctx, s.event(notify.TwoFactorDisabled, subscriber, o, map[string]string{"method": string(proof.Method)}))
}

// checkDisableProof is CheckProof for taking a second factor away: the proof, whatever
// its method, must have been given for otp.PurposeDisableTwoFactor, by a factor past
// its probation.
func (s *Service) checkDisableProof(subscriber string, p Proof) error {
	return s.checkPurposeProof(subscriber, p, otp.PurposeDisableTwoFactor, true)
}

// checkPurposeProof is CheckProof, plus: the proof was given for want, and, if
// established, by a factor past Config.FactorProbation.
func (s *Service) checkPurposeProof(subscriber string, p Proof, want otp.Purpose, established bool) error {
	if err := s.CheckProof(subscriber, p); err != nil {
		return err
	}
	if p.Purpose != want {
		return fmt.Errorf("%w: a proof given for %s does not authorise this; give one for %s",
			ErrProofRequired, cmp.Or(p.Purpose, "nothing"), want)
	}
	if established && !s.Established(p.FactorAddedAt) {
		return ErrFactorInProbation
	}
	return nil
}

// Established reports whether a factor added or changed at added is past
// Config.FactorProbation. The zero time (unknown) is never established.
func (s *Service) Established(added time.Time) bool {
	return !added.IsZero() && s.cfg.Now().Sub(added) >= s.cfg.FactorProbation
}

// Unlock lifts a lockout, timed or hard, and resets the failure count. It is for support
// agents after they have verified the subscriber's identity by the carrier's procedure:
// o.Actor must be a notify.ActorAgent with an ID (ErrInvalidRequest otherwise), so no
// self-service path can reset the count the lockout rests on. Publishes
// notify.LockoutLifted if there was a lockout.
func (s *Service) Unlock(ctx context.Context, subscriber string, o Origin) error {
	if err := checkSubscriber(subscriber); err != nil {
		return err
	}
	if err := s.checkOrigin(o); err != nil {
		return err
	}
	if o.Actor.Kind != notify.ActorAgent {
		return fmt.Errorf("%w: only a support agent (Origin.Actor of kind %s, with an ID) can lift a lockout", ErrInvalidRequest, notify.ActorAgent)
	}
	f, err := s.fails.Failures(ctx, subscriber)
	if err != nil {
		return fmt.Errorf("twofactor: failure store: %w", err)
	}
	if err := s.fails.ResetFailures(ctx, subscriber); err != nil {
		return fmt.Errorf("twofactor: failure store: %w", err)
	}
	if s.policy.Locked(f, s.cfg.Now()) == nil {
		return nil
	}
	return s.publish(ctx, s.event(notify.LockoutLifted, subscriber, o, map[string]string{"failures": strconv.Itoa(f.Count)}))
}

// newID returns 64 random bits in hex, for contact IDs.
func (s *Service) newID() (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
		return "", fmt.Errorf("twofactor: read random: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// RemoveAuthenticator removes the subscriber's authenticator app (through
// otp.Authenticators.Remove, which publishes notify.AuthenticatorRemoved). It needs the
// proof Disable does (a contact code only if sent for otp.PurposeDisableTwoFactor), and
// while 2FA is on it is refused with ErrLastContact if the subscriber has no verified
// contact to fall back on. Enrolling and confirming an app is otp.Authenticators' job.
func (s *Service) RemoveAuthenticator(ctx context.Context, subscriber string, proof Proof, o Origin) error {
	if err := checkSubscriber(subscriber); err != nil {
		return err
	}
	if err := s.checkOrigin(o); err != nil {
		return err
	}
	if s.auths == nil {
		return fmt.Errorf("%w: no authenticator service is configured (Deps.Authenticators)", ErrInvalidRequest)
	}
	if err := s.checkDisableProof(subscriber, proof); err != nil {
		return err
	}
	st, err := s.state(ctx, subscriber)
	if err != nil {
		return err
	}
	if st.Enabled && st.verified() == 0 {
		return errLastAuthenticator
	}
	err = s.auths.Remove(ctx, otp.RemoveRequest{Subscriber: subscriber, Actor: o.Actor, Channel: o.Channel})
	if err != nil {
		return fmt.Errorf("twofactor: removing the authenticator: %w", err)
	}
	return nil
}
