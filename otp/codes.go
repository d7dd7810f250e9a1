package otp

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/netkey"
	"github.com/carrierguard/carrierguard/notify"
)

// CodeConfig configures the out-of-band code service. Zero fields mean the defaults
// given; New validates the whole struct once.
type CodeConfig struct {
	// HashKey keys the HMAC-SHA-256 that codes are stored as: at least 32 random bytes
	// from configuration (keyring.GenerateKey makes one); placeholders such as all zeros
	// or text are refused (keyring.CheckKeyMaterial). Changing it invalidates codes in
	// flight, which live minutes, so rotation needs no migration.
	HashKey []byte `validate:"required,min=32"`
	// Digits is the code length, 6 to 10. Default 6.
	Digits int `validate:"omitempty,min=6,max=10"`
	// TTL is how long an SMS or voice code stays valid: at most 10 minutes (NIST SP
	// 800-63B). Default 10 minutes.
	TTL time.Duration `validate:"omitempty,min=30s,max=10m"`
	// EmailTTL is how long an email code stays valid, at most 1 hour. Default TTL.
	EmailTTL time.Duration `validate:"omitempty,min=30s,max=1h"`
	// MaxAttempts is how many attempts one code allows before it is dead. Default 5.
	MaxAttempts int `validate:"omitempty,min=1,max=10"`
	// MinResendInterval is the least time between two codes for the same subscriber and
	// purpose. Default 30 seconds.
	MinResendInterval time.Duration `validate:"omitempty,min=1s,max=1h"`
	// HourlyLimit is how many codes a subscriber may be sent for one purpose in any
	// hour. Default 5.
	HourlyLimit int `validate:"omitempty,min=1,max=60"`
	// DestinationHourlyLimit is how many codes may go to one phone number or email
	// address in any hour, whichever subscribers and purposes they are for. It stops
	// many accounts that each name the same number as their contact from flooding it
	// with codes (SMS bombing) or running up messages to it (SMS pumping). SMS and
	// voice to one number count together. Default 10.
	DestinationHourlyLimit int `validate:"omitempty,min=1,max=1000"`
	// MaxFailures is how many wrong codes in a row (across all codes of a subscriber and
	// purpose; a new code does not reset the count, a correct one does) stop new codes
	// being issued until FailureCooldown has passed since the last one. Default 10; at most
	// 100 (NIST SP 800-63B).
	MaxFailures int `validate:"omitempty,min=1,max=100"`
	// FailureCooldown: default 15 minutes.
	FailureCooldown time.Duration `validate:"omitempty,min=1m,max=24h"`
	// Budgets caps SMS and voice codes across subscribers: a global cap, caps per client
	// IP and per destination calling code, and the countries codes may go to. See
	// SMSBudgets for each field's default. Budgets.HomeRegions is required (or the
	// unsafe Budgets.AnyCountry): NewCodes refuses a configuration with neither.
	Budgets SMSBudgets
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Rand is the source of codes and challenge IDs. Nil means crypto/rand.Reader.
	Rand io.Reader
}

// Codes issues and verifies out-of-band one-time codes (SMS, voice, email). It is safe
// for concurrent use.
type Codes struct {
	cfg        CodeConfig
	challenges ChallengeStore
	rates      RateStore
	pub        notify.Publisher
	limits     RateLimits
	budget     budgetPolicy
	macs       sync.Pool // of *macState, pre-keyed with HashKey
	counters   sync.Pool // of *counterSet
}

// macState is a pre-keyed HMAC with its input and output buffers, reused across calls.
type macState struct {
	h   hash.Hash
	in  []byte
	out [sha256.Size]byte
}

// NewCodes validates cfg and returns the service. All three dependencies are required.
func NewCodes(cfg CodeConfig, challenges ChallengeStore, rates RateStore, pub notify.Publisher) (*Codes, error) {
	if err := validate.Struct("otp", cfg); err != nil {
		return nil, err
	}
	if err := keyring.CheckKeyMaterial(cfg.HashKey); err != nil {
		return nil, validate.Field("otp", "CodeConfig.HashKey", err)
	}
	switch {
	case challenges == nil:
		return nil, validate.Errorf("otp", "NewCodes needs a ChallengeStore (memory.NewOTP gives one)")
	case rates == nil:
		return nil, validate.Errorf("otp", "NewCodes needs a RateStore (memory.NewOTP gives one)")
	case pub == nil:
		return nil, validate.Errorf("otp", "NewCodes needs a notify.Publisher")
	}
	budget, err := newBudgetPolicy(cfg.Budgets)
	if err != nil {
		return nil, err
	}
	cfg.Budgets = budget.SMSBudgets
	cfg.HashKey = append([]byte(nil), cfg.HashKey...)
	cfg.Digits = cmp.Or(cfg.Digits, 6)
	cfg.TTL = cmp.Or(cfg.TTL, 10*time.Minute)
	cfg.EmailTTL = cmp.Or(cfg.EmailTTL, cfg.TTL)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, 5)
	cfg.MinResendInterval = cmp.Or(cfg.MinResendInterval, 30*time.Second)
	cfg.HourlyLimit = cmp.Or(cfg.HourlyLimit, 5)
	cfg.DestinationHourlyLimit = cmp.Or(cfg.DestinationHourlyLimit, 10)
	cfg.MaxFailures = cmp.Or(cfg.MaxFailures, 10)
	cfg.FailureCooldown = cmp.Or(cfg.FailureCooldown, 15*time.Minute)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	s := &Codes{
		cfg: cfg, challenges: challenges, rates: rates, pub: pub,
		limits: RateLimits{
			MinInterval: cfg.MinResendInterval, PerHour: cfg.HourlyLimit,
			MaxFailures: cfg.MaxFailures, FailureCooldown: cfg.FailureCooldown,
			DestinationPerHour: cfg.DestinationHourlyLimit,
		},
		budget: budget,
	}
	s.macs.New = func() any { return &macState{h: hmac.New(sha256.New, s.cfg.HashKey)} }
	s.counters.New = func() any { return new(counterSet) }
	return s, nil
}

// IssueRequest asks for a new code.
type IssueRequest struct {
	Subscriber  string
	Purpose     Purpose
	Destination Destination
	// ClientIP is the address of the client that asked for the code ("192.0.2.1",
	// "2001:db8::1", or with a port, as http.Request.RemoteAddr has it): the address your
	// server or its proxy vouches for, never a header the client wrote. SMS and voice
	// codes count against its SMSBudgets.PerClient (an IPv4 address, or an IPv6 /64)
	// and PerNetwork (the IPv6 /48). Every request a client makes must pass it; leave it
	// empty only for codes no client asked for (a job of your own, a support agent's
	// console), which count against the global and country budgets alone. An address
	// that does not parse is an error, never "no limit".
	ClientIP string
}

// Issued is a new code. Code is the only copy of the plaintext: send it to the
// destination, then drop it. Keep ChallengeID (it is not secret) to verify later.
type Issued struct {
	ChallengeID string
	Code        string
	ExpiresAt   time.Time
}

// Issue creates a code for the subscriber, purpose and destination, subject to the
// resend limits (a *ThrottleError, ErrThrottled, if refused): those of the subscriber and
// purpose, and DestinationHourlyLimit for the destination, which counts under a keyed
// hash of the address. An SMS or voice code is also subject to the SMSBudgets: a number
// outside the allowed regions is refused first, with a *BudgetError wrapping
// ErrCountryNotAllowed, and a spent budget after the resend limits, with a *BudgetError
// wrapping ErrBudgetExceeded (and so ErrThrottled). Only a keyed hash of the code is
// stored. If the code cannot be sent, call Undelivered.
func (s *Codes) Issue(ctx context.Context, req IssueRequest) (Issued, error) {
	if err := checkSubscriber(req.Subscriber); err != nil {
		return Issued{}, err
	}
	if err := req.Purpose.Validate(); err != nil {
		return Issued{}, err
	}
	if err := req.Destination.validate(); err != nil {
		return Issued{}, err
	}
	var client netkey.Keys
	if req.ClientIP != "" {
		var err error
		if client, err = netkey.Parse(req.ClientIP); err != nil {
			return Issued{}, fmt.Errorf("otp: issue: client IP: %w", err)
		}
	}
	phone := req.Destination.Channel != ChannelEmail
	var dest destination
	if phone {
		var err error
		if dest, err = s.budget.classify(req.Destination.Address); err != nil {
			return Issued{}, err
		}
	}
	var idb [16]byte
	if _, err := io.ReadFull(s.cfg.Rand, idb[:]); err != nil {
		return Issued{}, fmt.Errorf("otp: issue: read random: %w", err)
	}
	code, err := randomCode(s.cfg.Rand, s.cfg.Digits)
	if err != nil {
		return Issued{}, err
	}
	id := hex.EncodeToString(idb[:])
	res := Reservation{ID: id, Key: RateKey{req.Subscriber, req.Purpose}, Destination: s.destinationKey(req.Destination)}
	if err := s.rates.ReserveIssue(ctx, res, s.limits); err != nil {
		return Issued{}, issueRefused(err)
	}
	now := s.cfg.Now()
	if phone {
		if err := s.reserveBudget(ctx, id, now, dest, client, req.ClientIP != ""); err != nil {
			// No code exists: the subscriber's reservation is given back too.
			if rerr := s.rates.ReleaseIssue(ctx, id); rerr != nil {
				err = errors.Join(err, fmt.Errorf("otp: issue: releasing the reservation: %w", rerr))
			}
			return Issued{}, err
		}
	}
	ttl := s.cfg.TTL
	if req.Destination.Channel == ChannelEmail {
		ttl = s.cfg.EmailTTL
	}
	c := Challenge{
		ID:          id,
		Subscriber:  req.Subscriber,
		Purpose:     req.Purpose,
		Channel:     req.Destination.Channel,
		CreatedAt:   now,
		ExpiresAt:   now.Add(ttl),
		MaxAttempts: s.cfg.MaxAttempts,
	}
	c.Hash = s.mac(nil, c.ID, req.Subscriber, req.Purpose, req.Destination, code)
	if err := s.challenges.CreateChallenge(ctx, c); err != nil {
		err = fmt.Errorf("otp: issue: challenge store: %w", err)
		// No code exists, so none counts toward the limits or the budgets.
		if rerr := s.release(ctx, id, phone); rerr != nil {
			err = errors.Join(err, fmt.Errorf("otp: issue: releasing the reservation: %w", rerr))
		}
		return Issued{}, err
	}
	return Issued{ChallengeID: c.ID, Code: code, ExpiresAt: c.ExpiresAt}, nil
}

// issueRefused turns a ReserveIssue error into Issue's. A destination's limit is reported
// with a wait of a full hour, whatever the store said: the exact wait would tell the
// caller when the code that opened the window was sent, and it may have been for another
// subscriber.
func issueRefused(err error) error {
	var te *ThrottleError
	switch {
	case errors.As(err, &te) && te.Reason == ThrottleDestination:
		return &ThrottleError{Reason: ThrottleDestination, RetryAfter: time.Hour}
	case errors.Is(err, ErrThrottled):
		return err
	}
	return fmt.Errorf("otp: issue: rate store: %w", err)
}

// Revoke deletes a challenge whose code may have reached the subscriber, for instance
// because a later step of the caller's failed after the code was sent. The issue still
// counts toward the resend limits, as every delivered code must: otherwise each revoke
// would let another code out. For a code that was never sent, use Undelivered.
// Revoking an unknown challenge is not an error.
func (s *Codes) Revoke(ctx context.Context, challengeID string) error {
	if err := s.challenges.DeleteChallenge(ctx, challengeID); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("otp: revoke: %w", err)
	}
	return nil
}

// Undelivered withdraws a code that never left: it deletes the challenge, as Revoke
// does, and gives back what its issue took from the resend limits (the subscriber and
// purpose's minimum interval and hourly count, and the destination's hourly count) and
// from the SMS budgets, so a gateway outage neither makes the subscriber wait nor uses
// up their codes or the service's budget. It never touches the failure count. Call it
// only when the sender reports that the message was not accepted; if it may have gone
// out (a timeout after the gateway took it), use Revoke: a sent message was paid for.
// Calling it again, or for an unknown challenge, is not an error.
func (s *Codes) Undelivered(ctx context.Context, challengeID string) error {
	if err := s.Revoke(ctx, challengeID); err != nil {
		return err
	}
	if err := s.release(ctx, challengeID, true); err != nil {
		return fmt.Errorf("otp: undelivered: rate store: %w", err)
	}
	return nil
}

// release gives back the resend-limit reservation id and, if budgets (a phone code), its
// budget sends.
func (s *Codes) release(ctx context.Context, id string, budgets bool) error {
	err := s.rates.ReleaseIssue(ctx, id)
	if budgets {
		err = errors.Join(err, s.rates.ReleaseBudget(ctx, id))
	}
	return err
}

// VerifyRequest is a code submitted for a challenge. Subscriber, Purpose and
// Destination must be those the code was issued for; the caller knows them from its own
// state (never from the submitting client alone).
type VerifyRequest struct {
	ChallengeID string
	Subscriber  string
	Purpose     Purpose
	Destination Destination
	// Code is what the subscriber typed; it is normalised (see NormalizeCode).
	Code string
}

// Verified describes a successfully verified code.
type Verified struct {
	ChallengeID string
	Subscriber  string
	Purpose     Purpose
	Channel     Channel
	VerifiedAt  time.Time
}

// Verify checks a submitted code. It succeeds at most once per challenge. A wrong code,
// an unknown challenge, and a code for another subscriber, purpose or destination all
// return ErrInvalidCode. Other results: ErrMalformedCode (and ErrWrongLength), decided
// from the input alone and not counted as an attempt; ErrExpired; ErrAttemptsExhausted;
// ErrReplay for a code already used. Any other error is internal: treat it as a
// rejection. When a code takes its last wrong attempt, a notify.SuspiciousActivity
// event is published.
func (s *Codes) Verify(ctx context.Context, req VerifyRequest) (Verified, error) {
	code, err := NormalizeCode(req.Code, s.cfg.Digits)
	if err != nil {
		return Verified{}, err
	}
	if req.ChallengeID == "" || len(req.ChallengeID) > 64 {
		return Verified{}, ErrInvalidCode
	}
	c, err := s.challenges.BeginAttempt(ctx, req.ChallengeID)
	switch {
	case errors.Is(err, ErrNotFound):
		return Verified{}, ErrInvalidCode
	case errors.Is(err, ErrReplay):
		return Verified{}, ErrReplay
	case errors.Is(err, ErrExpired):
		return Verified{}, ErrExpired
	case errors.Is(err, ErrAttemptsExhausted):
		return Verified{}, ErrAttemptsExhausted
	case err != nil:
		return Verified{}, fmt.Errorf("otp: verify: challenge store: %w", err)
	}
	var buf [sha256.Size]byte
	want := s.mac(buf[:0], c.ID, req.Subscriber, req.Purpose, req.Destination, code)
	if !hmac.Equal(want, c.Hash) {
		return Verified{}, s.failed(ctx, c)
	}
	switch err := s.challenges.ConsumeChallenge(ctx, c.ID); {
	case errors.Is(err, ErrReplay), errors.Is(err, ErrExpired):
		return Verified{}, err
	case errors.Is(err, ErrNotFound): // revoked in the meantime
		return Verified{}, ErrInvalidCode
	case err != nil:
		return Verified{}, fmt.Errorf("otp: verify: challenge store: %w", err)
	}
	if err := s.rates.ResetFailures(ctx, RateKey{c.Subscriber, c.Purpose}); err != nil {
		return Verified{}, fmt.Errorf("otp: verify: rate store: %w", err)
	}
	return Verified{ChallengeID: c.ID, Subscriber: c.Subscriber, Purpose: c.Purpose, Channel: c.Channel, VerifiedAt: s.cfg.Now()}, nil
}

// failed records a wrong code against the challenge's own subscriber and purpose (never
// against whoever the request claimed, so a stranger cannot run up someone's count
// without holding their challenge ID) and reports exhaustion once.
func (s *Codes) failed(ctx context.Context, c Challenge) error {
	if err := s.rates.RecordFailure(ctx, RateKey{c.Subscriber, c.Purpose}); err != nil {
		return fmt.Errorf("otp: verify: rate store: %w", err)
	}
	if c.Attempts == c.MaxAttempts {
		err := s.pub.Publish(ctx, notify.Event{
			ID:         notify.NewID(),
			Type:       notify.SuspiciousActivity,
			Subscriber: c.Subscriber,
			Time:       s.cfg.Now(),
			Actor:      notify.Actor{Kind: notify.ActorSystem, ID: "otp"},
			Channel:    "system",
			Attributes: map[string]string{
				"reason":  "otp_attempts_exhausted",
				"purpose": string(c.Purpose),
				"channel": string(c.Channel),
			},
		})
		if err != nil {
			return fmt.Errorf("otp: verify: publish: %w", err)
		}
	}
	return ErrInvalidCode
}

// mac appends to dst the stored form of a code: HMAC-SHA-256 under HashKey over the
// fields.
func (s *Codes) mac(dst []byte, id, subscriber string, p Purpose, d Destination, code string) []byte {
	return s.sum(dst, "carrierguard/otp/code/v1", id, subscriber, string(p), string(d.Channel), d.Address, code)
}

// destinationKey is what DestinationHourlyLimit counts under: hex HMAC-SHA-256 under
// HashKey over the kind of address (SMS and voice to one number are one destination) and
// the address. The store never sees the address, and without the key a copy of it
// cannot be matched against a list of numbers. The label is short so that the input for
// any E.164 number fits one SHA-256 block.
func (s *Codes) destinationKey(d Destination) string {
	label := "carrierguard/otp/dest/phone"
	if d.Channel == ChannelEmail {
		label = "carrierguard/otp/dest/email"
	}
	return s.hexSum(label, d.Address)
}

// hexSum is sum over parts, in hex.
func (s *Codes) hexSum(parts ...string) string {
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], s.sum(sum[:0], parts...))
	return string(out[:])
}

// sum appends to dst HMAC-SHA-256 under HashKey over parts, each length-prefixed (as
// keyring.AssociatedData does), so no part can bleed into another.
func (s *Codes) sum(dst []byte, parts ...string) []byte {
	m := s.macs.Get().(*macState)
	defer s.macs.Put(m)
	m.in = m.in[:0]
	for _, part := range parts {
		m.in = binary.BigEndian.AppendUint32(m.in, uint32(len(part)))
		m.in = append(m.in, part...)
	}
	m.h.Reset()
	m.h.Write(m.in)
	clear(m.in) // it may have held a code
	// Summing into m.out rather than dst keeps dst from escaping through the interface,
	// so callers can sum into an array on their stack.
	return append(dst, m.h.Sum(m.out[:0])...)
}

// randomCode returns a uniformly random code of n digits. It draws 64-bit values and
// rejects the few at the top of the range that would bias the result modulo 10^n.
func randomCode(r io.Reader, n int) (string, error) {
	mod := pow10[n]
	limit := ^uint64(0) - (^uint64(0) % mod) // largest multiple of mod, exclusive bound
	var b [8]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", fmt.Errorf("otp: read random: %w", err)
		}
		if v := binary.BigEndian.Uint64(b[:]); v < limit {
			v %= mod
			var out [10]byte
			for i := n - 1; i >= 0; i-- {
				out[i] = byte('0' + v%10)
				v /= 10
			}
			return string(out[:n]), nil
		}
	}
}

func checkSubscriber(s string) error {
	if s == "" || len(s) > 256 {
		return fmt.Errorf("otp: subscriber ID must be 1 to 256 bytes, got %d", len(s))
	}
	return nil
}
