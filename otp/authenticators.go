package otp

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"io"
	"time"

	potp "github.com/pquerna/otp"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
)

// AuthenticatorConfig configures authenticator apps (TOTP) and hardware tokens (HOTP).
// Zero fields mean the defaults given, which every authenticator app supports.
type AuthenticatorConfig struct {
	// Issuer is the name the app shows above the account, such as the carrier's brand.
	// Required; it may not contain ':'.
	Issuer string `validate:"required,max=64,excludes=:"`
	// Algorithm: SHA1 (default), SHA256 or SHA512. Many apps ignore anything but SHA1.
	Algorithm Algorithm `validate:"omitempty,oneof=SHA1 SHA256 SHA512"`
	// Digits: 6 (default) or 8.
	Digits int `validate:"omitempty,oneof=6 8"`
	// Period is the TOTP time step. Default 30 seconds.
	Period time.Duration `validate:"omitempty,min=15s,max=2m"`
	// Skew is how many steps either side of the current one are accepted, for clock drift
	// and typing time. Zero means 1; negative means none (current step only).
	Skew int `validate:"max=5"`
	// SecretSize is the secret length in bytes: at least 20 (160 bits). Default 20.
	SecretSize int `validate:"omitempty,min=20,max=64"`
	// LookAhead is how many HOTP counters past the expected one are accepted. Default 10.
	LookAhead int `validate:"omitempty,min=1,max=50"`
	// ResyncWindow is how far ahead Resync searches for two consecutive HOTP codes.
	// Default 200.
	ResyncWindow int `validate:"omitempty,min=1,max=1000"`
	// PendingTTL is how long an enrollment may wait for its confirming code. Default 15
	// minutes.
	PendingTTL time.Duration `validate:"omitempty,min=1m,max=24h"`
	// QRSize is the side of the enrollment QR code PNG in pixels. Default 256.
	QRSize int `validate:"omitempty,min=100,max=1024"`
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Rand is the source of secrets and IDs. Nil means crypto/rand.Reader.
	Rand io.Reader
}

// Authenticators enrolls, confirms and verifies authenticator apps and tokens, one per
// subscriber. Secrets are sealed with the keyring, bound to the subscriber and the
// enrollment; every accepted code advances the stored step, so no code is accepted twice.
// It is safe for concurrent use.
//
// It does not count failures: a wrong code returns ErrInvalidCode and the caller (package
// twofactor) counts it toward the subscriber's lockout.
type Authenticators struct {
	cfg   AuthenticatorConfig
	store AuthenticatorStore
	keys  keyring.Keyring
	pub   notify.Publisher
}

// NewAuthenticators validates cfg and returns the service. All dependencies are required.
func NewAuthenticators(cfg AuthenticatorConfig, store AuthenticatorStore, keys keyring.Keyring, pub notify.Publisher) (*Authenticators, error) {
	if err := validate.Struct("otp", cfg); err != nil {
		return nil, err
	}
	switch {
	case store == nil:
		return nil, validate.Errorf("otp", "NewAuthenticators needs an AuthenticatorStore (memory.NewOTP gives one)")
	case keys == nil:
		return nil, validate.Errorf("otp", "NewAuthenticators needs a keyring.Keyring to seal secrets")
	case pub == nil:
		return nil, validate.Errorf("otp", "NewAuthenticators needs a notify.Publisher")
	}
	cfg.Algorithm = cmp.Or(cfg.Algorithm, SHA1)
	cfg.Digits = cmp.Or(cfg.Digits, 6)
	cfg.Period = cmp.Or(cfg.Period, 30*time.Second)
	if cfg.Period%time.Second != 0 {
		return nil, validate.Errorf("otp", "AuthenticatorConfig.Period %s must be a whole number of seconds", cfg.Period)
	}
	switch {
	case cfg.Skew == 0:
		cfg.Skew = 1
	case cfg.Skew < 0:
		cfg.Skew = 0
	}
	cfg.SecretSize = cmp.Or(cfg.SecretSize, 20)
	cfg.LookAhead = cmp.Or(cfg.LookAhead, 10)
	cfg.ResyncWindow = cmp.Or(cfg.ResyncWindow, 200)
	cfg.PendingTTL = cmp.Or(cfg.PendingTTL, 15*time.Minute)
	cfg.QRSize = cmp.Or(cfg.QRSize, 256)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Authenticators{cfg: cfg, store: store, keys: keys, pub: pub}, nil
}

// EnrollRequest starts an enrollment.
type EnrollRequest struct {
	Subscriber string
	// Account is the label the app shows under the issuer, such as a masked number
	// ("•••• 1234"). Required; it is in the QR code, so keep it free of CPNI.
	Account string
	// Kind is TOTP (default, authenticator apps) or HOTP (counter tokens).
	Kind Kind
}

// Enrollment is what the subscriber needs to add the key to an app. URI, Secret and
// QRCodePNG all carry the secret: show them once, over the signed-in session, and never
// store or log them.
type Enrollment struct {
	// ID identifies this enrollment.
	ID string
	// URI is the otpauth:// key URI.
	URI string
	// Secret is the base32 secret, for typing in by hand.
	Secret string
	// QRCodePNG is the URI as a QR code.
	QRCodePNG []byte
	// ConfirmBy is when the pending enrollment lapses if no code confirms it.
	ConfirmBy time.Time
}

// Enroll generates a secret, seals it and stores a pending enrollment, replacing any
// pending one. It becomes active only after Confirm. ErrAlreadyEnrolled if the subscriber
// has a confirmed authenticator: Remove it first (after a fresh second-factor proof).
func (a *Authenticators) Enroll(ctx context.Context, req EnrollRequest) (Enrollment, error) {
	if err := checkSubscriber(req.Subscriber); err != nil {
		return Enrollment{}, err
	}
	if req.Account == "" || len(req.Account) > 128 || !printable(req.Account) {
		return Enrollment{}, errors.New("otp: enroll: Account must be 1 to 128 bytes of printable text")
	}
	kind := cmp.Or(req.Kind, TOTP)
	if kind != TOTP && kind != HOTP {
		return Enrollment{}, fmt.Errorf("otp: enroll: kind %q is not totp or hotp", req.Kind)
	}
	secret := make([]byte, a.cfg.SecretSize)
	defer clear(secret)
	var idb [16]byte
	if _, err := io.ReadFull(a.cfg.Rand, secret); err != nil {
		return Enrollment{}, fmt.Errorf("otp: enroll: read random: %w", err)
	}
	if _, err := io.ReadFull(a.cfg.Rand, idb[:]); err != nil {
		return Enrollment{}, fmt.Errorf("otp: enroll: read random: %w", err)
	}
	now := a.cfg.Now()
	rec := Authenticator{
		ID:         hex.EncodeToString(idb[:]),
		Subscriber: req.Subscriber,
		Kind:       kind,
		Params:     Params{Algorithm: a.cfg.Algorithm, Digits: a.cfg.Digits, Period: a.cfg.Period},
		CreatedAt:  now,
		LastStep:   NoStep,
	}
	sealed, err := a.keys.Seal(ctx, secret, seedAD(rec.Subscriber, rec.ID))
	if err != nil {
		return Enrollment{}, fmt.Errorf("otp: enroll: seal: %w", err)
	}
	rec.SealedSecret = sealed
	uri := KeyURI{Kind: kind, Issuer: a.cfg.Issuer, Account: req.Account, Secret: secret, Params: rec.Params}.String()
	qr, err := qrPNG(uri, a.cfg.QRSize)
	if err != nil {
		return Enrollment{}, err
	}
	if err := a.store.PutAuthenticator(ctx, rec); err != nil {
		if errors.Is(err, ErrAlreadyEnrolled) {
			return Enrollment{}, ErrAlreadyEnrolled
		}
		return Enrollment{}, fmt.Errorf("otp: enroll: store: %w", err)
	}
	return Enrollment{ID: rec.ID, URI: uri, Secret: b32.EncodeToString(secret), QRCodePNG: qr, ConfirmBy: now.Add(a.cfg.PendingTTL)}, nil
}

// qrPNG renders uri with pquerna/otp's QR encoder.
func qrPNG(uri string, size int) ([]byte, error) {
	k, err := potp.NewKeyFromURL(uri)
	if err != nil {
		return nil, fmt.Errorf("otp: enroll: key URI: %w", err)
	}
	img, err := k.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("otp: enroll: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("otp: enroll: QR code: %w", err)
	}
	return buf.Bytes(), nil
}

// seedAD binds a sealed secret to its subscriber and enrollment.
func seedAD(subscriber, id string) []byte {
	return keyring.AssociatedData("carrierguard/otp/authenticator-secret/v1", subscriber, id)
}

// Match is an accepted authenticator code.
type Match struct {
	Kind Kind
	// Step is the TOTP time step or HOTP counter the code matched. It is now the last
	// accepted one: no code for it, or for an earlier one, is accepted again.
	Step int64
	// ConfirmedAt is when the authenticator that matched was confirmed (for Confirm, the
	// time of this confirmation): the factor's age, for probation rules.
	ConfirmedAt time.Time
}

// ConfirmRequest confirms a pending enrollment with the first code from the app.
type ConfirmRequest struct {
	Subscriber string
	Code       string
	// Channel is where the request came from ("app", "web"...), for the event.
	Channel string
}

// Confirm activates a pending enrollment with a valid code. ErrNotEnrolled if nothing is
// pending (or the subscriber is already confirmed, also by a racing Confirm: only one
// succeeds), ErrExpired if the enrollment lapsed; code errors as for Verify.
//
// notify.AuthenticatorEnrolled is published once the code has checked out and before
// the enrollment is confirmed, like every other factor change: whoever subscribes
// hears of the new app before it counts as a factor. If publishing fails nothing is
// confirmed and the code is not used up. If the confirmation then fails (a racing
// Confirm won, or the store failed) the announcement stands: it errs toward telling.
// The event's ID is derived from the enrollment, so every Confirm of one enrollment
// announces the same event, which a notify.Outbox keeps once: racing Confirms, or a
// retry after a store failure, do not tell the subscriber twice.
func (a *Authenticators) Confirm(ctx context.Context, req ConfirmRequest) (Match, error) {
	rec, err := a.get(ctx, req.Subscriber)
	if err != nil {
		return Match{}, err
	}
	if rec.Confirmed() {
		return Match{}, ErrNotEnrolled
	}
	now := a.cfg.Now()
	if !now.Before(rec.CreatedAt.Add(a.cfg.PendingTTL)) {
		return Match{}, ErrExpired
	}
	step, err := a.match(ctx, rec, req.Code, now)
	if err != nil {
		return Match{}, err
	}
	// Told first: the app is a factor only once the subscriber's channels have it.
	err = a.pub.Publish(ctx, notify.Event{
		ID: enrolledEventID(rec.ID), Type: notify.AuthenticatorEnrolled, Subscriber: rec.Subscriber, Time: now,
		Actor: notify.Actor{Kind: notify.ActorSubscriber}, Channel: cmp.Or(req.Channel, "app"),
		Attributes: map[string]string{"method": string(rec.Kind)},
	})
	if err != nil {
		return Match{}, fmt.Errorf("otp: confirm: publish: %w", err)
	}
	return a.advance(ctx, rec, step, now)
}

// enrolledEventID is the ID of the notify.AuthenticatorEnrolled event of enrollment id:
// the same for every Confirm of it (see Confirm), and like notify.NewID in form. The
// enrollment ID is random and not secret.
func enrolledEventID(id string) string {
	sum := sha256.Sum256([]byte("carrierguard/otp/authenticator-enrolled/v1\x00" + id))
	return hex.EncodeToString(sum[:16])
}

// Verify checks a code from the subscriber's confirmed authenticator. TOTP codes are
// accepted within Skew steps of now, HOTP codes up to LookAhead counters ahead; either
// way the matched step must be later than the last accepted one, so a code is never
// accepted twice (ErrReplay), even by concurrent requests. ErrNotEnrolled if there is no
// confirmed authenticator; ErrInvalidCode for a wrong code; ErrMalformedCode or
// ErrWrongLength for input that is not a code.
func (a *Authenticators) Verify(ctx context.Context, subscriber, code string) (Match, error) {
	rec, err := a.get(ctx, subscriber)
	if err != nil {
		return Match{}, err
	}
	if !rec.Confirmed() {
		return Match{}, ErrNotEnrolled
	}
	return a.check(ctx, rec, code, a.cfg.Now(), time.Time{})
}

// Resync re-aligns a drifted HOTP token from two consecutive codes (RFC 4226 §7.4),
// searching ResyncWindow counters ahead, and accepts them as one use.
func (a *Authenticators) Resync(ctx context.Context, subscriber, code1, code2 string) (Match, error) {
	rec, err := a.get(ctx, subscriber)
	if err != nil {
		return Match{}, err
	}
	if !rec.Confirmed() || rec.Kind != HOTP {
		return Match{}, ErrNotEnrolled
	}
	k, err := a.key(ctx, rec)
	if err != nil {
		return Match{}, err
	}
	c, err := k.ResyncHOTP(code1, code2, uint64(rec.LastStep+1), a.cfg.ResyncWindow)
	if err != nil {
		return Match{}, err
	}
	return a.advance(ctx, rec, int64(c), time.Time{})
}

// RemoveRequest removes a subscriber's authenticator. The caller must have required a
// fresh second-factor proof first.
type RemoveRequest struct {
	Subscriber string
	Actor      notify.Actor
	Channel    string
}

// Remove deletes the authenticator (pending or confirmed) and, if it was confirmed,
// publishes notify.AuthenticatorRemoved. ErrNotEnrolled if there is none.
func (a *Authenticators) Remove(ctx context.Context, req RemoveRequest) error {
	rec, err := a.get(ctx, req.Subscriber)
	if err != nil {
		return err
	}
	if err := a.store.DeleteAuthenticator(ctx, req.Subscriber); err != nil {
		if errors.Is(err, ErrNotFound) {
			return ErrNotEnrolled
		}
		return fmt.Errorf("otp: remove: store: %w", err)
	}
	if !rec.Confirmed() {
		return nil
	}
	actor := req.Actor
	if actor.Kind == "" {
		actor.Kind = notify.ActorSubscriber
	}
	err = a.pub.Publish(ctx, notify.Event{
		ID: notify.NewID(), Type: notify.AuthenticatorRemoved, Subscriber: rec.Subscriber, Time: a.cfg.Now(),
		Actor: actor, Channel: cmp.Or(req.Channel, "app"),
		Attributes: map[string]string{"method": string(rec.Kind)},
	})
	if err != nil {
		return fmt.Errorf("otp: remove: publish: %w", err)
	}
	return nil
}

// Status describes a subscriber's authenticator without its secret.
type Status struct {
	Kind      Kind
	Confirmed bool
	CreatedAt time.Time
	// ConfirmedAt is when the enrollment was confirmed (zero while pending): the time the
	// app became a second factor, which verifiers use as the factor's age.
	ConfirmedAt time.Time
}

// Status reports the subscriber's authenticator, or ErrNotEnrolled.
func (a *Authenticators) Status(ctx context.Context, subscriber string) (Status, error) {
	rec, err := a.get(ctx, subscriber)
	if err != nil {
		return Status{}, err
	}
	return Status{Kind: rec.Kind, Confirmed: rec.Confirmed(), CreatedAt: rec.CreatedAt, ConfirmedAt: rec.ConfirmedAt}, nil
}

func (a *Authenticators) get(ctx context.Context, subscriber string) (Authenticator, error) {
	if err := checkSubscriber(subscriber); err != nil {
		return Authenticator{}, err
	}
	rec, err := a.store.GetAuthenticator(ctx, subscriber)
	if errors.Is(err, ErrNotFound) {
		return Authenticator{}, ErrNotEnrolled
	}
	if err != nil {
		return Authenticator{}, fmt.Errorf("otp: authenticator store: %w", err)
	}
	return rec, nil
}

func (a *Authenticators) key(ctx context.Context, rec Authenticator) (*Key, error) {
	secret, err := a.keys.Open(ctx, rec.SealedSecret, seedAD(rec.Subscriber, rec.ID))
	if err != nil {
		return nil, fmt.Errorf("otp: open authenticator secret: %w", err)
	}
	defer clear(secret)
	k, err := NewKey(secret, rec.Params)
	if err != nil {
		return nil, fmt.Errorf("otp: stored authenticator: %w", err)
	}
	return k, nil
}

// check verifies code against rec and records the matched step atomically.
func (a *Authenticators) check(ctx context.Context, rec Authenticator, code string, now, confirmAt time.Time) (Match, error) {
	step, err := a.match(ctx, rec, code, now)
	if err != nil {
		return Match{}, err
	}
	return a.advance(ctx, rec, step, confirmAt)
}

// match returns the step code matches in rec, after LastStep, recording nothing.
func (a *Authenticators) match(ctx context.Context, rec Authenticator, code string, now time.Time) (int64, error) {
	k, err := a.key(ctx, rec)
	if err != nil {
		return 0, err
	}
	if rec.Kind == HOTP {
		c, err := k.VerifyHOTP(code, uint64(rec.LastStep+1), a.cfg.LookAhead)
		return int64(c), err
	}
	return k.VerifyTOTP(code, now, a.cfg.Skew, rec.LastStep)
}

func (a *Authenticators) advance(ctx context.Context, rec Authenticator, step int64, confirmAt time.Time) (Match, error) {
	switch err := a.store.AdvanceAuthenticator(ctx, rec.Subscriber, rec.ID, step, confirmAt); {
	case errors.Is(err, ErrReplay):
		return Match{}, ErrReplay
	case errors.Is(err, ErrNotFound): // removed or re-enrolled meanwhile
		return Match{}, ErrNotEnrolled
	case errors.Is(err, ErrAlreadyEnrolled): // another Confirm won
		return Match{}, ErrNotEnrolled
	case err != nil:
		return Match{}, fmt.Errorf("otp: authenticator store: %w", err)
	}
	confirmed := rec.ConfirmedAt
	if !confirmAt.IsZero() {
		confirmed = confirmAt
	}
	return Match{Kind: rec.Kind, Step: step, ConfirmedAt: confirmed}, nil
}
