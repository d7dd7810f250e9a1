package password

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/netkey"
	"github.com/carrierguard/carrierguard/notify"
)

// Config configures a Service. Every zero field means its documented default.
type Config struct {
	// Policy for new passwords and rotation. The zero Policy means DefaultPolicy().
	Policy Policy
	// ContextWords, Blocklists, Breach and BreachFailOpen are as in CheckerConfig.
	ContextWords   []string
	Blocklists     []*Blocklist
	Breach         BreachChecker
	BreachFailOpen bool
	// Hasher configures hashing; the zero value is OWASP argon2id without a pepper.
	Hasher HasherConfig
	// Lockout limits failed sign-ins.
	Lockout LockoutPolicy
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// LockoutPolicy limits consecutive failed password checks (sign-ins and the current
// password in Change). Failures are counted per subscriber and, when the caller gives a
// client key such as an IP address, per subscriber and client too. Reaching a threshold
// locks for Base; every further failure doubles the lock, up to Max. Temporary locks
// expire; the count does not, and only a correct password, LiftHardLock or
// ResetFailures clears it. At MaxConsecutive failures the subscriber is locked until
// LiftHardLock or ResetFailures.
//
// One client cannot reach that hard lock alone: a client that has failed
// ClientMaxConsecutive times in a row on an account is refused there before its
// attempts are checked or counted, until ClientRetention after its last failure, so at
// most ClientMaxConsecutive of the subscriber's consecutive failures come from any one
// client, and ClientsToHardLock clients are needed to lock the owner out (10 with the
// defaults). Credential stuffing spread over many addresses still trips the subscriber
// lock, as NIST SP 800-63B asks: never more than MaxConsecutive guesses in a row.
//
// Failures on a subscriber ID that has no password (an invented email address) are
// kept StrangerRetention after the last one, and every client count ClientRetention:
// the AttemptStore forgets them then, and may forget the stranger ones sooner to stay
// within its capacity, so a flood of invented identities cannot grow memory without
// bound. A known subscriber's own count never expires.
type LockoutPolicy struct {
	// Threshold is the per-subscriber failures before the first lock. Zero means 10.
	Threshold int `validate:"gte=0"`
	// ClientThreshold is the per-subscriber-and-client failures before that client is
	// locked out of that account. Zero means 5.
	ClientThreshold int `validate:"gte=0"`
	// Base is the first lock's length. Zero means 1 minute.
	Base time.Duration `validate:"gte=0"`
	// Max caps a temporary lock. Zero means 1 hour.
	Max time.Duration `validate:"gte=0"`
	// MaxConsecutive is the hard cap on consecutive failures per subscriber (NIST SP
	// 800-63B: at most 100). Zero means 100.
	MaxConsecutive int `validate:"gte=0,lte=100"`
	// ClientMaxConsecutive is the hard cap per subscriber and client: a client with
	// this many consecutive failures on an account is refused there (and its attempts
	// no longer count toward MaxConsecutive) until ClientRetention has passed. An IPv6
	// client is capped by its /64 and, as a whole, by its /48 (the site one home line
	// or office gets), so rotating /64s does not make one stranger many clients. Zero
	// means 10, or MaxConsecutive if that is lower. It must not exceed MaxConsecutive.
	ClientMaxConsecutive int `validate:"gte=0,lte=100"`
	// ClientRetention is how long a client's failures on an account are kept after
	// the last one. Zero means 30 days.
	ClientRetention time.Duration `validate:"gte=0"`
	// StrangerRetention is how long failures on a subscriber ID without a password are
	// kept after the last one. Zero means 24 hours. It must not exceed ClientRetention,
	// so a store that makes room by forgetting what expires first forgets strangers
	// before the client counts that protect real accounts.
	StrangerRetention time.Duration `validate:"gte=0"`
}

func (l *LockoutPolicy) defaults() {
	if l.Threshold == 0 {
		l.Threshold = 10
	}
	if l.ClientThreshold == 0 {
		l.ClientThreshold = 5
	}
	if l.Base == 0 {
		l.Base = time.Minute
	}
	if l.Max == 0 {
		l.Max = time.Hour
	}
	if l.MaxConsecutive == 0 {
		l.MaxConsecutive = 100
	}
	if l.ClientMaxConsecutive == 0 {
		l.ClientMaxConsecutive = min(10, l.MaxConsecutive)
	}
	if l.ClientRetention == 0 {
		l.ClientRetention = 30 * 24 * time.Hour
	}
	if l.StrangerRetention == 0 {
		l.StrangerRetention = 24 * time.Hour
	}
}

// ClientsToHardLock returns how many distinct clients it takes to hard-lock a subscriber
// under this policy (zero fields meaning their defaults): each client contributes at
// most ClientMaxConsecutive consecutive failures before it is refused, so the
// subscriber-wide cap of MaxConsecutive needs
//
//	ceil(MaxConsecutive / ClientMaxConsecutive)
//
// of them: 10 with the defaults (100 / 10). A stranger with fewer addresses (or, for
// IPv6, fewer /64 networks) cannot lock the owner out, however long he spreads his
// guesses; credential stuffing from many addresses still can, which is what the cap is
// for. Attempts without a client key count fully, so pass one.
func (l LockoutPolicy) ClientsToHardLock() int {
	l.defaults()
	return (l.MaxConsecutive + l.ClientMaxConsecutive - 1) / l.ClientMaxConsecutive
}

// lockedUntil returns when a key with these attempts is unlocked (zero if it is not
// locked by the threshold rule).
func (l LockoutPolicy) lockedUntil(a Attempts, threshold int) time.Time {
	if a.Failures < threshold {
		return time.Time{}
	}
	d := l.Max
	if shift := a.Failures - threshold; shift < 32 {
		if b := l.Base << shift; b > 0 && b < l.Max && b>>shift == l.Base {
			d = b
		}
	}
	return a.Last.Add(d)
}

// Service runs the password lifecycle for subscribers: policy checks, enrolment,
// sign-in verification with lockout and rehash, changes with reuse history, rotation
// and compromise. It is safe for concurrent use.
type Service struct {
	checker  *Checker
	hasher   *Hasher
	lockout  LockoutPolicy
	creds    CredentialStore
	attempts AttemptStore
	pub      notify.Publisher
	now      func() time.Time
}

// New validates cfg and returns a Service using the given stores and publisher.
func New(cfg Config, creds CredentialStore, attempts AttemptStore, pub notify.Publisher) (*Service, error) {
	switch {
	case creds == nil:
		return nil, validate.Errorf("password", "CredentialStore is nil (use memory.NewPassword for development)")
	case attempts == nil:
		return nil, validate.Errorf("password", "AttemptStore is nil (use memory.NewPasswordAttempts for development)")
	case pub == nil:
		return nil, validate.Errorf("password", "notify.Publisher is nil")
	}
	checker, err := NewChecker(CheckerConfig{
		Policy: cfg.Policy, ContextWords: cfg.ContextWords, Blocklists: cfg.Blocklists,
		Breach: cfg.Breach, BreachFailOpen: cfg.BreachFailOpen,
	})
	if err != nil {
		return nil, err
	}
	hasher, err := NewHasher(cfg.Hasher)
	if err != nil {
		return nil, err
	}
	return newService(cfg, checker, hasher, creds, attempts, pub)
}

func newService(cfg Config, checker *Checker, hasher *Hasher, creds CredentialStore, attempts AttemptStore, pub notify.Publisher) (*Service, error) {
	if err := validate.Struct("password", cfg.Lockout); err != nil {
		return nil, err
	}
	l := cfg.Lockout
	l.defaults()
	switch {
	case l.Max < l.Base:
		return nil, validate.Errorf("password", "Config.Lockout.Max %s is below Base %s", l.Max, l.Base)
	case l.ClientMaxConsecutive > l.MaxConsecutive:
		return nil, validate.Errorf("password", "Config.Lockout.ClientMaxConsecutive %d exceeds MaxConsecutive %d",
			l.ClientMaxConsecutive, l.MaxConsecutive)
	case l.StrangerRetention > l.ClientRetention:
		return nil, validate.Errorf("password", "Config.Lockout.StrangerRetention %s exceeds ClientRetention %s", l.StrangerRetention, l.ClientRetention)
	}
	s := &Service{checker: checker, hasher: hasher, lockout: l, creds: creds, attempts: attempts, pub: pub, now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Policy returns the policy in force.
func (s *Service) Policy() Policy { return s.checker.policy }

// Hasher returns the service's hasher, for importing hashes from another system.
func (s *Service) Hasher() *Hasher { return s.hasher }

// Check checks a candidate password for sub; see Checker.Check.
func (s *Service) Check(ctx context.Context, password string, sub Subject) (Result, error) {
	return s.checker.Check(ctx, password, sub)
}

// Enroll sets the first password of a new subscriber. The password must pass the
// policy (otherwise the Result lists why and the error is ErrRejected). ErrExists if
// the subscriber already has a password. Enrolment publishes no event.
func (s *Service) Enroll(ctx context.Context, subscriber, password string, sub Subject) (Result, error) {
	if subscriber == "" {
		return Result{Policy: s.checker.policy.Name, Strength: -1}, ErrNoSubscriber
	}
	res, err := s.checker.Check(ctx, password, sub)
	if err != nil {
		return res, err
	}
	if !res.OK() {
		return res, ErrRejected
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return res, err
	}
	if err := s.creds.Set(ctx, subscriber, "", hash, s.now(), 0); err != nil {
		return res, fmt.Errorf("password: storing the new hash: %w", err)
	}
	return res, nil
}

// SignIn is one password sign-in attempt.
type SignIn struct {
	Subscriber string
	Password   string
	// ClientKey optionally identifies the client, such as its IP address or a device
	// ID, so that one noisy client is locked out of the account before the subscriber
	// is. Empty means per-subscriber limiting only.
	ClientKey string
	// Channel is where the attempt came from ("app", "web"…), for events.
	Channel string
}

// SignInResult describes a successful sign-in.
type SignInResult struct {
	// Rehashed is true when the stored hash was upgraded (bcrypt to argon2id, older
	// parameters, a new pepper). An upgrade that fails leaves the old hash in place
	// and does not fail the sign-in; it is retried at the next one.
	Rehashed bool
	// Rotation is the password's rotation status. When Rotation.MustChange() the
	// caller should send the subscriber straight to Change.
	Rotation Rotation
}

// Verify checks a sign-in. It returns ErrMismatch for a wrong password or an unknown
// subscriber (for an unknown subscriber it still spends one hash, so the two take
// about as long), a *LockedError (errors.Is ErrLocked) while
// locked out, and input errors for passwords that cannot be valid. Each call counts as a
// failure until the password is proven right, so concurrent guesses cannot exceed the
// limits. On success the failure counts are cleared and an outdated hash is upgraded.
func (s *Service) Verify(ctx context.Context, in SignIn) (SignInResult, error) {
	rec, rehash, err := s.verifyCurrent(ctx, in)
	if err != nil {
		return SignInResult{}, err
	}
	out := SignInResult{Rotation: rotationOf(s.checker.policy, rec, s.now())}
	if rehash {
		if hash, err := s.hasher.Hash(ctx, in.Password); err == nil {
			out.Rehashed = s.creds.Rehash(ctx, in.Subscriber, rec.Hash, hash) == nil
		}
	}
	return out, nil
}

func subscriberKey(sub string) string { return "s:" + sub }
func clientKey(sub, client string) string {
	client = clientNetwork(client)
	return "c:" + strconv.Itoa(len(sub)) + ":" + sub + ":" + client
}

// networkKey is the key of the wider tier of an IPv6 client on an account: its /48
// (netkey.NetworkBits), the site a home line or an office is given, which counts as one
// client toward ClientMaxConsecutive too. It is "" for IPv4 clients and keys that are not
// addresses, which have no tier of their own.
func networkKey(sub, client string) string {
	k, err := netkey.Parse(client)
	if err != nil || !k.Tiered() {
		return ""
	}
	return "n:" + strconv.Itoa(len(sub)) + ":" + sub + ":" + k.NetworkString()
}

// clientNetwork keys an IPv6 client by its /64 (netkey), the block one subscriber line
// or host is given, so a client cannot dodge its limits by rotating addresses within it.
// IPv4 addresses (also IPv4-mapped IPv6) are themselves; keys that are not addresses (a
// device ID) are kept as they are. The /48 tier is networkKey's.
func clientNetwork(client string) string {
	ip, err := netip.ParseAddr(client)
	if err != nil {
		return client
	}
	k, err := netkey.Of(ip)
	if err != nil {
		return client
	}
	return k.ClientString()
}

// verifyCurrent runs the rate-limited password check shared by Verify and Change and
// returns the record on success, with whether its hash should be upgraded (as the
// Hasher's Verify reported it).
func (s *Service) verifyCurrent(ctx context.Context, in SignIn) (rec Record, needsRehash bool, err error) {
	pw, err := Normalize(in.Password)
	if err != nil {
		return Record{}, false, err
	}
	if in.Subscriber == "" {
		return Record{}, false, ErrNoSubscriber
	}
	// Whether the subscriber exists decides only how long its failures are kept; both
	// kinds go through the same steps, so the answer and its timing stay alike.
	rec, err = s.creds.Get(ctx, in.Subscriber)
	known := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Record{}, false, fmt.Errorf("password: reading record: %w", err)
	}
	now := s.now()
	subExpires, clientExpires := time.Time{}, now.Add(s.lockout.ClientRetention)
	if !known {
		subExpires, clientExpires = now.Add(s.lockout.StrangerRetention), now.Add(s.lockout.StrangerRetention)
	}
	sk := subscriberKey(in.Subscriber)
	var ck, nk string
	if in.ClientKey != "" {
		ck, nk = clientKey(in.Subscriber, in.ClientKey), networkKey(in.Subscriber, in.ClientKey)
	}
	seenSub, seenClient, err := s.checkLocked(ctx, sk, ck, now)
	if err != nil {
		return Record{}, false, err
	}
	// An IPv6 client's site is capped like one client: a stranger who moves to a new /64
	// each time one is capped stays within ClientMaxConsecutive, so the ClientsToHardLock
	// clients a hard lock takes cannot all come from one site.
	if nk != "" {
		na, err := s.attempts.Failures(ctx, nk)
		if err != nil {
			return Record{}, false, fmt.Errorf("password: reading attempts: %w", err)
		}
		if na = na.at(now); na.Failures >= s.lockout.ClientMaxConsecutive {
			return Record{}, false, &LockedError{Until: na.Expires}
		}
	}
	// Count the attempt as a failure before checking it; success takes it back. The
	// client is counted first, against its own cap, so a client at its cap adds
	// nothing to the subscriber's count, even with many guesses in flight.
	if ck != "" {
		ca, err := s.attempts.AddFailure(ctx, ck, s.lockout.ClientMaxConsecutive, now, clientExpires)
		if errors.Is(err, ErrFailureLimit) {
			return Record{}, false, &LockedError{Until: ca.Expires}
		}
		if err != nil {
			return Record{}, false, fmt.Errorf("password: recording attempt: %w", err)
		}
		if err := s.raced(ca, seenClient, s.lockout.ClientThreshold, now); err != nil {
			return Record{}, false, err
		}
	}
	if nk != "" {
		na, err := s.attempts.AddFailure(ctx, nk, s.lockout.ClientMaxConsecutive, now, clientExpires)
		if errors.Is(err, ErrFailureLimit) {
			return Record{}, false, &LockedError{Until: na.Expires}
		}
		if err != nil {
			return Record{}, false, fmt.Errorf("password: recording attempt: %w", err)
		}
	}
	a, err := s.attempts.AddFailure(ctx, sk, s.lockout.MaxConsecutive, now, subExpires)
	if errors.Is(err, ErrFailureLimit) {
		return Record{}, false, &LockedError{}
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("password: recording attempt: %w", err)
	}
	if err := s.raced(a, seenSub, s.lockout.Threshold, now); err != nil {
		return Record{}, false, err
	}

	if !known {
		s.hasher.burn(ctx, pw)
		return Record{}, false, s.failed(ctx, in, a)
	}
	needsRehash, err = s.hasher.Verify(ctx, rec.Hash, in.Password)
	if err != nil {
		if errors.Is(err, ErrMismatch) {
			return Record{}, false, s.failed(ctx, in, a)
		}
		return Record{}, false, err
	}
	if err := s.attempts.Reset(ctx, sk); err != nil {
		return Record{}, false, fmt.Errorf("password: clearing failures: %w", err)
	}
	for _, k := range []string{ck, nk} {
		if k == "" {
			continue
		}
		if err := s.attempts.Reset(ctx, k); err != nil {
			return Record{}, false, fmt.Errorf("password: clearing failures: %w", err)
		}
	}
	return rec, needsRehash, nil
}

// checkLocked refuses a locked key and returns the failure counts it saw, for raced.
// State past its Expires is no state at all.
func (s *Service) checkLocked(ctx context.Context, sk, ck string, now time.Time) (sub, client int, err error) {
	a, err := s.attempts.Failures(ctx, sk)
	if err != nil {
		return 0, 0, fmt.Errorf("password: reading attempts: %w", err)
	}
	a = a.at(now)
	if a.Failures >= s.lockout.MaxConsecutive {
		return 0, 0, &LockedError{}
	}
	if until := s.lockout.lockedUntil(a, s.lockout.Threshold); now.Before(until) {
		return 0, 0, &LockedError{Until: until}
	}
	if ck == "" {
		return a.Failures, 0, nil
	}
	c, err := s.attempts.Failures(ctx, ck)
	if err != nil {
		return 0, 0, fmt.Errorf("password: reading attempts: %w", err)
	}
	c = c.at(now)
	if c.Failures >= s.lockout.ClientMaxConsecutive {
		return 0, 0, &LockedError{Until: c.Expires}
	}
	if until := s.lockout.lockedUntil(c, s.lockout.ClientThreshold); now.Before(until) {
		return 0, 0, &LockedError{Until: until}
	}
	return a.Failures, c.Failures, nil
}

// raced closes the gap between checkLocked's read and AddFailure: if other failures
// were added in between (concurrent guesses), the state this attempt really follows is
// after.Failures-1 failures, the latest of them just now. If that state is locked, the
// attempt is refused (and stays counted), so a burst of concurrent guesses gets no more
// tries past a threshold than sequential ones would.
func (s *Service) raced(after Attempts, seen, threshold int, now time.Time) error {
	if after.Failures == seen+1 {
		return nil
	}
	if until := s.lockout.lockedUntil(Attempts{Failures: after.Failures - 1, Last: now}, threshold); now.Before(until) {
		return &LockedError{Until: until}
	}
	return nil
}

// failed publishes a Lockout event when this failure started a lock, and returns
// ErrMismatch (or the publishing error, which fails closed).
func (s *Service) failed(ctx context.Context, in SignIn, a Attempts) error {
	var attrs map[string]string
	switch {
	case a.Failures == s.lockout.MaxConsecutive:
		attrs = map[string]string{"scope": "until_recovery"}
	case a.Failures == s.lockout.Threshold:
		attrs = map[string]string{"scope": "temporary", "until": s.lockout.lockedUntil(a, s.lockout.Threshold).UTC().Format(time.RFC3339)}
	default:
		return ErrMismatch
	}
	attrs["failures"] = strconv.Itoa(a.Failures)
	attrs["reason"] = "failed_password_attempts"
	if err := s.publish(ctx, notify.Lockout, in.Subscriber, notify.Actor{Kind: notify.ActorSystem, ID: "password"}, in.Channel, attrs); err != nil {
		return err
	}
	return ErrMismatch
}

// ResetFailures clears a subscriber's failure count (lifting any lockout, including
// the one at MaxConsecutive) after the account has been recovered by other means, and
// publishes LockoutLifted. Per-client counts are left to expire. To lift a hard lock
// with the proof it needs (an agent's identity check, or a contact code and a new
// password), use LiftHardLock.
func (s *Service) ResetFailures(ctx context.Context, subscriber string, actor notify.Actor, channel string) error {
	if err := s.attempts.Reset(ctx, subscriberKey(subscriber)); err != nil {
		return fmt.Errorf("password: clearing failures: %w", err)
	}
	return s.publish(ctx, notify.LockoutLifted, subscriber, actor, channel, map[string]string{"reason": "failed_password_attempts"})
}

// ChangeRequest is a subscriber changing their own password.
type ChangeRequest struct {
	Subscriber string
	// Current is the password in use; it is verified (and rate-limited) first.
	Current string
	// New is the password wanted.
	New string
	// Subject feeds the context-word check.
	Subject Subject
	// ClientKey and Channel are as in SignIn.
	ClientKey string
	Channel   string
}

// Change verifies the current password, checks the new one against the policy and the
// reuse history (by verifying it against the stored hashes of the last Policy.History
// passwords, never by keeping plaintext), stores its hash and publishes
// notify.PasswordChanged with the attribute next_step=offer_sign_out_other_sessions.
// Give the Service the session registry's publisher (session.Service.Publisher) and
// that event ends every other session of the subscriber by itself (keeping the one on
// ctx, see session.NewContext); otherwise offer the subscriber to end them.
//
// A new password that fails returns the Result with every reason (including
// ReasonReused) and ErrRejected. If the event cannot be published after the change is
// stored, the new password is in place and the error says the event was not accepted.
func (s *Service) Change(ctx context.Context, req ChangeRequest) (Result, error) {
	if _, err := Normalize(req.New); err != nil {
		return Result{Policy: s.checker.policy.Name, Strength: -1}, err
	}
	rec, _, err := s.verifyCurrent(ctx, SignIn{Subscriber: req.Subscriber, Password: req.Current, ClientKey: req.ClientKey, Channel: req.Channel})
	if err != nil {
		return Result{Policy: s.checker.policy.Name, Strength: -1}, err
	}
	res, err := s.checkNew(ctx, rec, req.New, req.Subject)
	if err != nil {
		return res, err
	}
	hash, err := s.hasher.Hash(ctx, req.New)
	if err != nil {
		return res, err
	}
	now := s.now()
	if err := s.creds.Set(ctx, req.Subscriber, rec.Hash, hash, now, s.checker.policy.History-1); err != nil {
		return res, fmt.Errorf("password: storing the new hash: %w", err)
	}
	reason := "voluntary"
	switch r := rotationOf(s.checker.policy, rec, now); r.State {
	case RotationCompromised:
		reason = "compromise"
	case RotationExpired, RotationDueSoon:
		reason = "rotation"
	}
	attrs := map[string]string{"policy": s.checker.policy.Name, "reason": reason, "next_step": "offer_sign_out_other_sessions"}
	if err := s.publish(ctx, notify.PasswordChanged, req.Subscriber, notify.Actor{Kind: notify.ActorSubscriber}, req.Channel, attrs); err != nil {
		return res, fmt.Errorf("password: changed, but the PasswordChanged event was not accepted: %w", err)
	}
	return res, nil
}

// checkNew checks a new password for the subscriber whose record is rec against the
// policy and the reuse history: ErrRejected with every reason if it fails.
func (s *Service) checkNew(ctx context.Context, rec Record, password string, sub Subject) (Result, error) {
	res, err := s.checker.Check(ctx, password, sub)
	if err != nil {
		return res, err
	}
	reused, err := s.reused(ctx, rec, password)
	if err != nil {
		return res, err
	}
	if reused {
		res.add(ReasonReused, "Choose a password you have not used for this account recently (the last %d cannot be reused).", s.checker.policy.History)
	}
	if !res.OK() {
		return res, ErrRejected
	}
	return res, nil
}

// reused reports whether password matches the current hash or one of the newest
// History-1 older hashes. History entries that cannot be read (malformed, unknown
// pepper) cannot match anything and are skipped.
func (s *Service) reused(ctx context.Context, rec Record, password string) (bool, error) {
	hashes := append([]string{rec.Hash}, rec.History...)
	if n := s.checker.policy.History; len(hashes) > n {
		hashes = hashes[:n]
	}
	for _, h := range hashes {
		_, err := s.hasher.Verify(ctx, h, password)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, ErrMismatch), errors.Is(err, ErrMalformedHash), errors.Is(err, ErrUnknownPepper):
		default:
			return false, err
		}
	}
	return false, nil
}

// RotationStatus returns the subscriber's rotation status. The first time a password
// is seen due soon, and the first time it is seen expired, it publishes
// notify.PasswordRotationDue (attributes state, days_left, due); later calls do not
// repeat it. If publishing fails the error is returned and the next call tries again. ErrNotFound (wrapped) for a subscriber without a password.
func (s *Service) RotationStatus(ctx context.Context, subscriber string) (Rotation, error) {
	rec, err := s.creds.Get(ctx, subscriber)
	if err != nil {
		return Rotation{}, fmt.Errorf("password: reading record: %w", err)
	}
	r := rotationOf(s.checker.policy, rec, s.now())
	if r.State != RotationDueSoon && r.State != RotationExpired {
		return r, nil
	}
	notice := "rotation:" + r.State.String() + ":" + strconv.FormatInt(r.DueAt.Unix(), 10)
	first, err := s.creds.ClaimNotice(ctx, subscriber, notice)
	if err != nil {
		return r, fmt.Errorf("password: recording rotation notice: %w", err)
	}
	if first {
		attrs := map[string]string{
			"state":     r.State.String(),
			"days_left": strconv.Itoa(r.DaysLeft),
			"due":       r.DueAt.UTC().Format(time.RFC3339),
			"policy":    s.checker.policy.Name,
		}
		if err := s.publish(ctx, notify.PasswordRotationDue, subscriber, notify.Actor{Kind: notify.ActorSystem, ID: "password"}, "system", attrs); err != nil {
			// Give the claim back so that the next call tries again.
			_, _ = s.creds.ClaimNotice(ctx, subscriber, "")
			return r, err
		}
	}
	return r, nil
}

// ReportCompromise records that the subscriber's password is known or suspected to be
// compromised (found in a breach, phished, reported by the subscriber or an agent): the
// password must change at the next sign-in (Rotation state RotationCompromised, under
// every policy), and notify.PasswordCompromised is published.
func (s *Service) ReportCompromise(ctx context.Context, subscriber string, actor notify.Actor, channel string) error {
	if err := s.creds.MarkCompromised(ctx, subscriber); err != nil {
		return fmt.Errorf("password: marking compromised: %w", err)
	}
	return s.publish(ctx, notify.PasswordCompromised, subscriber, actor, channel,
		map[string]string{"next_step": "change_password_and_sign_out_other_sessions"})
}

func (s *Service) publish(ctx context.Context, t notify.Type, subscriber string, actor notify.Actor, channel string, attrs map[string]string) error {
	if channel == "" {
		channel = "system"
	}
	e := notify.Event{ID: notify.NewID(), Type: t, Subscriber: subscriber, Time: s.now(), Actor: actor, Channel: channel, Attributes: attrs}
	if err := s.pub.Publish(ctx, e); err != nil {
		return fmt.Errorf("password: publishing %s: %w", t, err)
	}
	return nil
}
