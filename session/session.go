package session

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
)

// Errors returned by the Service.
var (
	// ErrNotAuthenticated is the one answer for every token that does not name a live
	// session: malformed, unknown, expired or revoked. Callers cannot tell these apart,
	// and neither can an attacker.
	ErrNotAuthenticated = errors.New("session: not authenticated")
	// ErrBindingViolation is returned when a live session is presented from another
	// device or after an impossible move. The session has been revoked. It wraps
	// ErrNotAuthenticated, so errors.Is(err, ErrNotAuthenticated) holds too.
	ErrBindingViolation = fmt.Errorf("%w: session binding violated, session revoked", ErrNotAuthenticated)
	// ErrInvalidClient is returned when a Client lacks a device fingerprint or a valid
	// IP address.
	ErrInvalidClient = errors.New("session: invalid client")
)

// Defaults, after NIST SP 800-63B rev 4 for AAL2 reauthentication.
const (
	DefaultIdleTimeout = time.Hour
	DefaultMaxLifetime = 24 * time.Hour
)

// Proof is a kind of authentication the subscriber performed within a session, for
// step-up freshness.
type Proof string

// Proof kinds.
const (
	// ProofSecondFactor is a passed second factor: an OTP, TOTP code, passkey or
	// recovery code.
	ProofSecondFactor Proof = "second_factor"
	// ProofPassword is the password entered again.
	ProofPassword Proof = "password"
)

// valid reports whether p is one of the Proof kinds above.
func (p Proof) valid() bool { return p == ProofSecondFactor || p == ProofPassword }

// Client is what a request presents alongside its token.
type Client struct {
	// Device is the device fingerprint the integrator derives for the request (app
	// install ID, platform attestation, a browser fingerprint). Required.
	Device string
	// UserAgent is informational, for the subscriber's session list.
	UserAgent string
	// IP is the request's address. Required.
	IP netip.Addr
}

func (c Client) check() error {
	switch {
	case c.Device == "":
		return fmt.Errorf("%w: Device fingerprint is empty", ErrInvalidClient)
	case !c.IP.IsValid():
		return fmt.Errorf("%w: IP is not a valid address", ErrInvalidClient)
	}
	return nil
}

// Session is one signed-in session. It carries no secret: the token is returned once, by
// Create, and only its hash is stored.
type Session struct {
	// ID is the session's public handle, for listing and revoking.
	ID         string
	Subscriber string
	// Device, UserAgent and IP are those presented at creation; the session is bound to
	// Device.
	Device    string
	UserAgent string
	IP        netip.Addr
	// LastIP is the address of the most recent successful validation.
	LastIP     netip.Addr
	CreatedAt  time.Time
	LastSeenAt time.Time
	// IdleExpiresAt moves forward with every validation; ExpiresAt never moves.
	IdleExpiresAt time.Time
	ExpiresAt     time.Time
	// SecondFactorAt and PasswordAt are when the subscriber last proved a second
	// factor or re-entered the password in this session; zero means never.
	SecondFactorAt time.Time
	PasswordAt     time.Time
}

// ProvedAt returns when proof p was last given in this session (zero if never).
func (s Session) ProvedAt(p Proof) time.Time {
	switch p {
	case ProofSecondFactor:
		return s.SecondFactorAt
	case ProofPassword:
		return s.PasswordAt
	}
	return time.Time{}
}

// live reports whether the session is within both its idle and absolute lifetimes at now.
func (s Session) live(now time.Time) bool {
	return now.Before(s.ExpiresAt) && now.Before(s.IdleExpiresAt)
}

// Fresh reports whether proof p was given in this session no longer than maxAge before
// now. It is the evidence package protection asks for before a sensitive change.
func (s Session) Fresh(p Proof, maxAge time.Duration, now time.Time) bool {
	at := s.ProvedAt(p)
	return !at.IsZero() && !at.After(now) && now.Sub(at) <= maxAge
}

// Move is a change of address between two uses of one session.
type Move struct {
	Subscriber string
	From       netip.Addr
	FromAt     time.Time
	To         netip.Addr
	ToAt       time.Time
}

// TravelCheck decides whether a move is impossible travel. RiskTravel builds one from
// package risk's impossible-travel judgement and a geolocation lookup; TravelFunc adapts
// a function. An error fails the validation closed (the session is kept, the request is
// refused).
type TravelCheck interface {
	ImpossibleTravel(ctx context.Context, m Move) (bool, error)
}

// TravelFunc adapts a function to TravelCheck.
type TravelFunc func(ctx context.Context, m Move) (bool, error)

// ImpossibleTravel calls f(ctx, m).
func (f TravelFunc) ImpossibleTravel(ctx context.Context, m Move) (bool, error) { return f(ctx, m) }

// DeviceMatch reports whether a presented device fingerprint is the one a session was
// bound to.
type DeviceMatch func(bound, presented string) bool

// SameDevice is the default DeviceMatch: exact equality, in constant time.
func SameDevice(bound, presented string) bool {
	return subtle.ConstantTimeCompare([]byte(bound), []byte(presented)) == 1
}

// Config configures a Service. The zero value is ready to use.
type Config struct {
	// IdleTimeout ends a session this long after its last use. Zero means
	// DefaultIdleTimeout (1 h). It must not exceed MaxLifetime.
	IdleTimeout time.Duration `validate:"gte=0"`
	// MaxLifetime ends a session this long after creation, however active. Zero means
	// DefaultMaxLifetime (24 h).
	MaxLifetime time.Duration `validate:"gte=0"`
	// DeviceMatch compares fingerprints. Nil means SameDevice.
	DeviceMatch DeviceMatch
	// Travel flags impossible travel when a session's address changes. Nil means no
	// travel check (device binding still applies).
	Travel TravelCheck
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Rand is the source of tokens and IDs. Nil means crypto/rand.Reader.
	Rand io.Reader
	// Logger receives operational warnings; never tokens. Nil discards.
	Logger *slog.Logger
	// RevokeOn picks the account events after which the Service's Publisher ends the
	// subscriber's other sessions and clears the step-up proofs of the acting one (see
	// RevokeOthers). Nil means RevokeOnCredentialChange: a password change, a verified
	// contact or the authenticator removed, 2FA turned off, the email changed, the
	// password reported compromised, new recovery codes. Keeping sessions across those is possible (a rule
	// that returns false) but leaves a thief signed in after the owner's fix.
	RevokeOn RevokeRule
	// Proofs forgets step-up proofs kept outside the registry when RevokeOthers runs.
	// Nil means there are none: the registry's own SecondFactorAt and PasswordAt are
	// the only proofs, and RevokeOthers clears those itself.
	Proofs ProofRevoker
	// SigninTimeout is how long a pending sign-in (BeginSignin) waits for its second
	// factor. Zero means DefaultSigninTimeout (10 min).
	SigninTimeout time.Duration `validate:"gte=0"`
}

// Service is the session registry. It is safe for concurrent use.
type Service struct {
	idle, max time.Duration
	match     DeviceMatch
	travel    TravelCheck
	now       func() time.Time
	rand      io.Reader
	log       *slog.Logger
	store     Store
	pub       notify.Publisher
	revokeOn  RevokeRule
	proofs    ProofRevoker
	// pending is the store's PendingStore capability, if it has one.
	pending       PendingStore
	signinTimeout time.Duration
}

// New returns a Service keeping sessions in store and publishing events to pub.
func New(cfg Config, store Store, pub notify.Publisher) (*Service, error) {
	if err := validate.Struct("session", cfg); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, validate.Errorf("session", "store is nil; pass a session.Store such as memory.NewSession")
	}
	if pub == nil {
		return nil, validate.Errorf("session", "publisher is nil; pass a notify.Publisher")
	}
	s := &Service{
		idle: cfg.IdleTimeout, max: cfg.MaxLifetime, match: cfg.DeviceMatch, travel: cfg.Travel,
		now: cfg.Now, rand: cfg.Rand, log: cfg.Logger, store: store, pub: pub,
		revokeOn: cfg.RevokeOn, proofs: cfg.Proofs, signinTimeout: cfg.SigninTimeout,
	}
	s.pending, _ = store.(PendingStore)
	if s.signinTimeout == 0 {
		s.signinTimeout = DefaultSigninTimeout
	}
	if s.revokeOn == nil {
		s.revokeOn = RevokeOnCredentialChange
	}
	if s.idle == 0 {
		s.idle = DefaultIdleTimeout
	}
	if s.max == 0 {
		s.max = DefaultMaxLifetime
	}
	if s.idle > s.max {
		return nil, validate.Errorf("session", "Config.IdleTimeout (%v) exceeds Config.MaxLifetime (%v); lower it or raise MaxLifetime", s.idle, s.max)
	}
	if s.match == nil {
		s.match = SameDevice
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Create starts a session for a subscriber who has just signed in from client c, and
// returns the token to hand to the client (once: only its hash is kept). proofs are the
// kinds of authentication the sign-in itself performed; they count as fresh from now.
func (s *Service) Create(ctx context.Context, subscriber string, c Client, proofs ...Proof) (string, Session, error) {
	if subscriber == "" {
		return "", Session{}, errors.New("session: subscriber is empty")
	}
	if err := c.check(); err != nil {
		return "", Session{}, err
	}
	for _, p := range proofs {
		if !p.valid() {
			return "", Session{}, fmt.Errorf("session: unknown proof %q", p)
		}
	}
	token, hash, err := newToken(s.rand)
	if err != nil {
		return "", Session{}, err
	}
	id, err := newID(s.rand)
	if err != nil {
		return "", Session{}, err
	}
	now := s.now()
	ip := c.IP.Unmap()
	sess := Session{
		ID: id, Subscriber: subscriber, Device: c.Device, UserAgent: c.UserAgent,
		IP: ip, LastIP: ip, CreatedAt: now, LastSeenAt: now,
		IdleExpiresAt: now.Add(s.idle), ExpiresAt: now.Add(s.max),
	}
	for _, p := range proofs {
		if p == ProofSecondFactor {
			sess.SecondFactorAt = now
		} else {
			sess.PasswordAt = now
		}
	}
	if err := s.store.Create(ctx, Record{Session: sess, Hash: hash}); err != nil {
		return "", Session{}, fmt.Errorf("session: creating session: %w", err)
	}
	return token, sess, nil
}

// Validate returns the live session named by token, presented by client c, and records
// the use (moving the idle deadline). Every token that does not name a live session gets
// ErrNotAuthenticated. A session presented from another device, or after a move that
// Config.Travel calls impossible, is revoked, a notify.SuspiciousActivity event is
// published, and ErrBindingViolation is returned. Any other error (store, travel check)
// also means the request must be refused.
func (s *Service) Validate(ctx context.Context, token string, c Client) (Session, error) {
	rec, now, err := s.check(ctx, token, c)
	if err != nil {
		return Session{}, err
	}
	return s.touch(ctx, rec, c, now, Touch{})
}

// StepUp records that the subscriber holding token, presented by client c, has just
// given proof p (passed a second factor or re-entered the password), after validating
// the session exactly as Validate does. Call it only after the proof was verified.
func (s *Service) StepUp(ctx context.Context, token string, c Client, p Proof) (Session, error) {
	if !p.valid() {
		return Session{}, fmt.Errorf("session: unknown proof %q", p)
	}
	rec, now, err := s.check(ctx, token, c)
	if err != nil {
		return Session{}, err
	}
	var t Touch
	if p == ProofSecondFactor {
		t.SecondFactorAt = now
	} else {
		t.PasswordAt = now
	}
	return s.touch(ctx, rec, c, now, t)
}

// check finds the live session for token and enforces expiry and binding.
func (s *Service) check(ctx context.Context, token string, c Client) (Record, time.Time, error) {
	if err := c.check(); err != nil {
		return Record{}, time.Time{}, err
	}
	hash, err := ParseToken(token)
	if err != nil {
		return Record{}, time.Time{}, err
	}
	rec, err := s.store.Get(ctx, hash)
	switch {
	case errors.Is(err, ErrNotFound):
		return Record{}, time.Time{}, ErrNotAuthenticated
	case err != nil:
		return Record{}, time.Time{}, fmt.Errorf("session: looking up session: %w", err)
	}
	// The store found the record by hash; comparing again in constant time guards
	// against an adapter that matches loosely.
	if subtle.ConstantTimeCompare(rec.Hash[:], hash[:]) != 1 {
		return Record{}, time.Time{}, ErrNotAuthenticated
	}
	now := s.now()
	// Enforce expiry here too, so a store with a lax clock cannot extend a session.
	if !rec.live(now) {
		return Record{}, time.Time{}, ErrNotAuthenticated
	}
	ip := c.IP.Unmap()
	if !s.match(rec.Device, c.Device) {
		return Record{}, time.Time{}, s.violation(ctx, rec, ip, now, "device_mismatch")
	}
	if s.travel != nil && ip != rec.LastIP {
		impossible, err := s.travel.ImpossibleTravel(ctx, Move{
			Subscriber: rec.Subscriber, From: rec.LastIP, FromAt: rec.LastSeenAt, To: ip, ToAt: now,
		})
		if err != nil {
			return Record{}, time.Time{}, fmt.Errorf("session: impossible-travel check failed, refusing: %w", err)
		}
		if impossible {
			return Record{}, time.Time{}, s.violation(ctx, rec, ip, now, "impossible_travel")
		}
	}
	return rec, now, nil
}

func (s *Service) touch(ctx context.Context, rec Record, c Client, now time.Time, t Touch) (Session, error) {
	t.SeenAt = now
	t.IP = c.IP.Unmap()
	t.IdleExpiresAt = now.Add(s.idle)
	if t.IdleExpiresAt.After(rec.ExpiresAt) {
		t.IdleExpiresAt = rec.ExpiresAt
	}
	err := s.store.Touch(ctx, rec.ID, t)
	switch {
	case errors.Is(err, ErrNotFound): // revoked or expired since Get
		return Session{}, ErrNotAuthenticated
	case err != nil:
		return Session{}, fmt.Errorf("session: recording use: %w", err)
	}
	sess := rec.Session
	sess.LastSeenAt, sess.LastIP, sess.IdleExpiresAt = t.SeenAt, t.IP, t.IdleExpiresAt
	if !t.SecondFactorAt.IsZero() {
		sess.SecondFactorAt = t.SecondFactorAt
	}
	if !t.PasswordAt.IsZero() {
		sess.PasswordAt = t.PasswordAt
	}
	return sess, nil
}

// violation revokes a hijacked-looking session and tells the subscriber. It always
// returns an error that wraps ErrBindingViolation.
func (s *Service) violation(ctx context.Context, rec Record, ip netip.Addr, now time.Time, reason string) error {
	err := s.store.Revoke(ctx, rec.Subscriber, rec.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		// The request is refused either way; the session may outlive this attempt.
		s.log.ErrorContext(ctx, "session: revoking session after binding violation failed",
			"subscriber", rec.Subscriber, "session", rec.ID, "error", err)
		return errors.Join(ErrBindingViolation, fmt.Errorf("session: revoking session: %w", err))
	}
	ev := notify.Event{
		ID: notify.NewID(), Type: notify.SuspiciousActivity, Subscriber: rec.Subscriber, Time: now,
		Actor: notify.Actor{Kind: notify.ActorSystem, ID: "session"}, Channel: "system",
		Attributes: map[string]string{
			"reason": reason, "session": rec.ID, "ip": ip.String(), "revoked": "1",
		},
	}
	if err := s.pub.Publish(ctx, ev); err != nil {
		return errors.Join(ErrBindingViolation, fmt.Errorf("session: session revoked but event not published: %w", err))
	}
	return ErrBindingViolation
}

// List returns the subscriber's live sessions, most recently used first.
func (s *Service) List(ctx context.Context, subscriber string) ([]Session, error) {
	recs, err := s.store.List(ctx, subscriber)
	if err != nil {
		return nil, fmt.Errorf("session: listing sessions: %w", err)
	}
	now := s.now()
	out := make([]Session, 0, len(recs))
	for _, r := range recs {
		if r.live(now) {
			out = append(out, r.Session)
		}
	}
	slices.SortFunc(out, func(a, b Session) int {
		if c := b.LastSeenAt.Compare(a.LastSeenAt); c != 0 {
			return c
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	return out, nil
}

// By says who asked for a revocation, for the event. The zero value is the subscriber.
type By struct {
	Actor notify.Actor
	// Channel is where the request came from ("app", "web", "chat", ...).
	Channel string
}

func (b By) check() error {
	if b.Actor.Kind == notify.ActorAgent && b.Actor.ID == "" {
		return errors.New("session: By.Actor is an agent without an ID; set the agent's ID")
	}
	return nil
}

// Revoke ends one of the subscriber's sessions and publishes notify.SessionsRevoked. It
// returns ErrNotFound if the subscriber has no live session with this ID.
func (s *Service) Revoke(ctx context.Context, subscriber, id string, by By) error {
	if err := by.check(); err != nil {
		return err
	}
	if err := s.store.Revoke(ctx, subscriber, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			return err
		}
		return fmt.Errorf("session: revoking session: %w", err)
	}
	return s.revoked(ctx, subscriber, by, 1, map[string]string{"session": id, "scope": "one"})
}

// RevokeAll signs the subscriber out everywhere: it ends every live session except the
// one whose ID is except (empty: none is spared, including the caller's own), publishes
// notify.SessionsRevoked (unless there was nothing to end) and returns how many sessions
// ended. Offer it after any credential scare; after a credential change the Service's
// Publisher already calls RevokeOthers.
func (s *Service) RevokeAll(ctx context.Context, subscriber, except string, by By) (int, error) {
	if err := by.check(); err != nil {
		return 0, err
	}
	n, err := s.store.RevokeAll(ctx, subscriber, except)
	if err != nil {
		return 0, fmt.Errorf("session: revoking sessions: %w", err)
	}
	attrs := map[string]string{"scope": "all"}
	if except != "" {
		attrs["scope"] = "all_but_current"
		attrs["kept"] = except
	}
	if n == 0 {
		return 0, nil
	}
	return n, s.revoked(ctx, subscriber, by, n, attrs)
}

func (s *Service) revoked(ctx context.Context, subscriber string, by By, n int, attrs map[string]string) error {
	if by.Actor.Kind == "" {
		by.Actor.Kind = notify.ActorSubscriber
	}
	attrs["count"] = strconv.Itoa(n)
	ev := notify.Event{
		ID: notify.NewID(), Type: notify.SessionsRevoked, Subscriber: subscriber, Time: s.now(),
		Actor: by.Actor, Channel: by.Channel, Attributes: attrs,
	}
	if err := s.pub.Publish(ctx, ev); err != nil {
		// The sessions are gone either way; report that the subscriber was not told.
		return fmt.Errorf("session: sessions revoked but event not published: %w", err)
	}
	return nil
}
