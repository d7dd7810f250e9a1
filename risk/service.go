package risk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/carrierguard/carrierguard/internal/validate"
)

// Config configures a [Service]. Every zero field means the documented default.
type Config struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ClockSkew is how far in the future a request time may lie. Zero means 2 minutes.
	ClockSkew time.Duration `validate:"gte=0"`

	// Weights override DefaultWeights by signal name (built-in or Config.Scorers). A
	// weight of 0 disables a signal. Weights must lie in [0, 1].
	Weights map[string]float64
	// MediumAt and HighAt are the score thresholds of Medium and High. Zero means 0.3
	// and 0.6. They must satisfy 0 < MediumAt < HighAt <= 1.
	MediumAt float64 `validate:"gte=0,lte=1"`
	HighAt   float64 `validate:"gte=0,lte=1"`

	// HomeRadiusKm is the distance from home (or the last location) that counts as "the
	// same place", the precision of IP geolocation. Zero means 100 km.
	HomeRadiusKm float64 `validate:"gte=0"`
	// FarKm is the distance from home at which the home-distance signal is full. Zero
	// means 2,000 km.
	FarKm float64 `validate:"gte=0"`
	// MaxSpeedKmh is the fastest plausible travel. Zero means 900 km/h (an airliner).
	MaxSpeedKmh float64 `validate:"gte=0"`
	// VelocityWindow, MaxSensitive and MaxFailures: the velocity signal fires when the
	// window (zero means 1 hour) holds MaxSensitive earlier sensitive requests (zero
	// means 3) or MaxFailures failures (zero means 5). Both limits are at most 16.
	VelocityWindow time.Duration `validate:"gte=0"`
	MaxSensitive   int           `validate:"gte=0,lte=16"`
	MaxFailures    int           `validate:"gte=0,lte=16"`
	// PortWindow and MaxPortRequests: the port_velocity signal fires on a port-out when
	// the line had MaxPortRequests failed port-out requests (zero means 4, the most)
	// within PortWindow (zero means 24 hours). A port-out may take a few tries (a
	// mistyped PIN, a refusal while No Port Out was on); after four failures in a day the
	// next request is probing, from a partner or a thief with a partner's credential.
	PortWindow      time.Duration `validate:"gte=0"`
	MaxPortRequests int           `validate:"gte=0,lte=4"`
	// CredentialChangeWindow: a SIM swap or port-out this soon after a password, email,
	// contact or second-factor change, or a flag lift, fires the credential-change
	// signal. Zero means 72 hours.
	CredentialChangeWindow time.Duration `validate:"gte=0"`
	// YoungAccount: accounts younger than this raise risk. Zero means 30 days.
	YoungAccount time.Duration `validate:"gte=0"`
	// SIMChangeWindow: a SIM change on the line this recent raises risk. Zero means 7 days.
	SIMChangeWindow time.Duration `validate:"gte=0"`

	// StrangerTTL and MaxStrangers bound the provisional profiles: those with no learned
	// sign-in and no recorded change, which are all that failed or unauthenticated
	// requests for invented subscribers create (see Profile). A provisional profile
	// last seen longer than StrangerTTL ago is read as empty and may be deleted; zero
	// means 24 hours, and it must cover VelocityWindow and PortWindow, the only history
	// such a profile holds. At most MaxStrangers provisional profiles are kept: creating
	// one more deletes the least recently seen. Zero means 10,000 (about 70 MB in the
	// in-memory store). Established profiles are never expired nor evicted.
	StrangerTTL  time.Duration `validate:"gte=0"`
	MaxStrangers int           `validate:"gte=0"`

	// UntrustedIPs lists untrusted addresses (an *IPList, or the carrier's own
	// reputation service). Nil means no address is listed; a missing IP still counts.
	UntrustedIPs IPReputation
	// Model configures the Freeman model; its Now and ClockSkew default to these.
	Model ModelConfig
	// Scorers are further models (a carrier's own) combined like built-in signals; each
	// contributes its Score as the value of a signal named by its Name.
	Scorers []NamedScorer `validate:"dive"`
}

// NamedScorer is a plugged-in Scorer and the signal name its score is reported under.
type NamedScorer struct {
	Name   string `validate:"required"`
	Scorer Scorer `validate:"required"`
}

// Service is the built-in [Scorer]: the built-in signals and the Freeman model combined
// with configurable weights. It is safe for concurrent use.
type Service struct {
	cfg      Config
	model    *Model
	profiles ProfileStore
	global   GlobalStore
	weight   map[string]float64
}

var _ Scorer = (*Service)(nil)

// New returns a Service over the given stores (memory.NewRiskProfiles and
// memory.NewRiskGlobal, or adapters of your own).
func New(cfg Config, profiles ProfileStore, global GlobalStore) (*Service, error) {
	if err := validate.Struct("risk", cfg); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"HomeRadiusKm", cfg.HomeRadiusKm}, {"FarKm", cfg.FarKm}, {"MaxSpeedKmh", cfg.MaxSpeedKmh}} {
		if math.IsInf(f.v, 0) || math.IsNaN(f.v) {
			return nil, validate.Errorf("risk", "Config.%s is %v; want a finite distance or speed (an infinite one silently disables its signal)", f.name, f.v)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	def := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	defd := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	defd(&cfg.ClockSkew, 2*time.Minute)
	def(&cfg.MediumAt, defaultMediumAt)
	def(&cfg.HighAt, defaultHighAt)
	def(&cfg.HomeRadiusKm, 100)
	def(&cfg.FarKm, 2000)
	def(&cfg.MaxSpeedKmh, 900)
	defd(&cfg.VelocityWindow, time.Hour)
	defd(&cfg.PortWindow, 24*time.Hour)
	defd(&cfg.StrangerTTL, 24*time.Hour)
	defd(&cfg.CredentialChangeWindow, 72*time.Hour)
	defd(&cfg.YoungAccount, 30*24*time.Hour)
	defd(&cfg.SIMChangeWindow, 7*24*time.Hour)
	if cfg.MaxSensitive == 0 {
		cfg.MaxSensitive = 3
	}
	if cfg.MaxFailures == 0 {
		cfg.MaxFailures = 5
	}
	if cfg.MaxPortRequests == 0 {
		cfg.MaxPortRequests = 4
	}
	if cfg.MaxStrangers == 0 {
		cfg.MaxStrangers = 10_000
	}
	if cfg.StrangerTTL < cfg.VelocityWindow || cfg.StrangerTTL < cfg.PortWindow {
		return nil, validate.Errorf("risk", "Config.StrangerTTL (%s) must cover Config.VelocityWindow (%s) and Config.PortWindow (%s): a provisional profile holds their history", cfg.StrangerTTL, cfg.VelocityWindow, cfg.PortWindow)
	}
	if cfg.MediumAt >= cfg.HighAt {
		return nil, validate.Errorf("risk", "Config.MediumAt (%v) must be below Config.HighAt (%v)", cfg.MediumAt, cfg.HighAt)
	}
	if cfg.FarKm <= cfg.HomeRadiusKm {
		return nil, validate.Errorf("risk", "Config.FarKm (%v) must exceed Config.HomeRadiusKm (%v)", cfg.FarKm, cfg.HomeRadiusKm)
	}
	w := DefaultWeights()
	names := map[string]bool{}
	for _, s := range cfg.Scorers {
		if _, builtin := defaultWeights[s.Name]; builtin || names[s.Name] {
			return nil, validate.Errorf("risk", "Config.Scorers: name %q is used twice or by a built-in signal; pick a unique name", s.Name)
		}
		names[s.Name] = true
		w[s.Name] = 0.5
	}
	for k, v := range cfg.Weights {
		if _, ok := w[k]; !ok {
			return nil, validate.Errorf("risk", "Config.Weights names %q, which is neither a built-in signal nor a Config.Scorers name", k)
		}
		if !(v >= 0 && v <= 1) {
			return nil, validate.Errorf("risk", "Config.Weights[%q] is %v; want a weight in [0, 1]", k, v)
		}
		w[k] = v
	}
	if cfg.Model.Now == nil {
		cfg.Model.Now = cfg.Now
	}
	if cfg.Model.ClockSkew == 0 {
		cfg.Model.ClockSkew = cfg.ClockSkew
	}
	m, err := NewModel(cfg.Model, profiles, global)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, model: m, profiles: profiles, global: global, weight: w}, nil
}

// Score implements [Scorer]; it is Assess.
func (s *Service) Score(ctx context.Context, req Request) (Assessment, error) {
	return s.Assess(ctx, req)
}

// Assess scores req from the subscriber's history and recorded account changes. With
// an error (a malformed request, a store, IP reputation or scorer failure) it returns
// Level High and Score 1: it fails closed.
//
// On channels whose client is not the subscriber's own device (agents and partners, see
// [Channel.SubscriberClient]) only the account signals are evaluated.
func (s *Service) Assess(ctx context.Context, req Request) (Assessment, error) {
	now := s.cfg.Now()
	t, err := req.check(now, s.cfg.ClockSkew)
	if err != nil {
		return failClosed(req.Channel), err
	}
	client := req.Channel.SubscriberClient()
	var keys Keys // only the client signals and the model read them
	if client {
		keys = req.keys(&s.model.uas)
	}
	p := getProfile()
	defer profilePool.Put(p)
	if err := s.profiles.LoadProfile(ctx, req.Subscriber, p); err != nil && !errors.Is(err, ErrNotFound) {
		return failClosed(req.Channel), fmt.Errorf("risk: loading profile: %w", err)
	}
	if p.expired(now.Add(-s.cfg.StrangerTTL)) {
		*p = Profile{}
	}
	acct := withChanges(req.Account, p, t)
	e := env{req: &req, keys: &keys, p: p, acct: &acct, t: t, cfg: &s.cfg}
	sig := make([]Signal, 0, 8)
	add := func(name string, v float64, reason string) {
		w := s.weight[name]
		if v > 0 && w > 0 {
			sig = append(sig, Signal{Name: name, Value: min(v, 1), Weight: w, Reason: reason})
		}
	}
	for _, b := range builtins {
		if s.weight[b.name] > 0 && (client || !b.client) {
			v, r := b.fn(&e)
			add(b.name, v, r)
		}
	}
	if client && s.weight[SignalUntrustedIP] > 0 {
		v, r, err := s.untrusted(ctx, req.IP)
		if err != nil {
			return failClosed(req.Channel), fmt.Errorf("risk: IP reputation: %w", err)
		}
		add(SignalUntrustedIP, v, r)
	}
	if client && s.weight[SignalModel] > 0 {
		g, err := s.global.GlobalStats(ctx, &keys)
		if err != nil {
			return failClosed(req.Channel), fmt.Errorf("risk: loading global counts: %w", err)
		}
		f := s.model.Evaluate(p, &g, &keys)
		add(SignalModel, f.Score, f.reason())
	}
	for _, sc := range s.cfg.Scorers {
		if s.weight[sc.Name] == 0 {
			continue
		}
		a, err := safeScore(ctx, sc.Scorer, req)
		if err != nil {
			return failClosed(req.Channel), fmt.Errorf("%w: %s: %w", ErrScorer, sc.Name, err)
		}
		if math.IsNaN(a.Score) || a.Score < 0 || a.Score > 1 {
			return failClosed(req.Channel), fmt.Errorf("%w: %s returned score %v outside [0, 1]", ErrScorer, sc.Name, a.Score)
		}
		add(sc.Name, a.Score, fmt.Sprintf("%s scored %.2f", sc.Name, a.Score))
	}
	return s.combine(sig, req.Channel), nil
}

// withChanges returns the request's account facts with each change time replaced by
// the later of it and the change recorded in p. A recorded change later than the
// request (a clock ahead of the request's) counts as made at the request's time t: it
// still fires, it is never skipped.
func withChanges(a Account, p *Profile, t time.Time) Account {
	for _, f := range []struct {
		dst *time.Time
		c   Change
	}{
		{&a.PasswordChanged, ChangePassword}, {&a.EmailChanged, ChangeEmail}, {&a.ContactChanged, ChangeContact},
		{&a.FactorChanged, ChangeFactor}, {&a.FlagLifted, ChangeFlagLifted}, {&a.SIMChanged, ChangeSIM},
	} {
		rec := p.Changed(f.c)
		if rec.After(t) {
			rec = t
		}
		if rec.After(*f.dst) {
			*f.dst = rec
		}
	}
	return a
}

// safeScore calls a plugged-in scorer, turning a panic into an error so that a bug in a
// carrier's model fails closed (High) instead of crashing the caller.
func safeScore(ctx context.Context, sc Scorer, req Request) (a Assessment, err error) {
	defer func() {
		if r := recover(); r != nil {
			a, err = Assessment{}, fmt.Errorf("panicked: %v", r)
		}
	}()
	return sc.Score(ctx, req)
}

// safeCheck calls the IP reputation service, turning a panic into an error.
func safeCheck(ctx context.Context, r IPReputation, ip netip.Addr) (cat string, listed bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			cat, listed, err = "", false, fmt.Errorf("panicked: %v", p)
		}
	}()
	return r.Check(ctx, ip)
}

func (s *Service) untrusted(ctx context.Context, ip netip.Addr) (float64, string, error) {
	if !ip.IsValid() {
		return 0.5, "no client IP address supplied", nil
	}
	if s.cfg.UntrustedIPs == nil {
		return 0, "", nil
	}
	cat, listed, err := safeCheck(ctx, s.cfg.UntrustedIPs, ip)
	if err != nil || !listed {
		return 0, "", err
	}
	return 1, "client IP address is listed as " + cat, nil
}

// combine is a noisy-OR: Score = 1 − Π (1 − weight·value). Each signal alone yields its
// weight·value; several signals raise the score without exceeding 1.
func (s *Service) combine(sig []Signal, ch Channel) Assessment {
	keep := 1.0
	for _, g := range sig {
		keep *= 1 - g.Weight*g.Value
	}
	slices.SortStableFunc(sig, func(a, b Signal) int {
		ca, cb := a.Weight*a.Value, b.Weight*b.Value
		switch {
		case ca > cb:
			return -1
		case ca < cb:
			return 1
		}
		return 0
	})
	score := 1 - keep
	return Assessment{Score: score, Level: level(score, s.cfg.MediumAt, s.cfg.HighAt), Signals: sig, Channel: ch}
}

// The default thresholds of Medium and High.
const (
	defaultMediumAt = 0.3
	defaultHighAt   = 0.6
)

// level maps a score to a Level. A score within 1e-9 of a threshold reaches it, so that
// weights chosen to land exactly on a threshold do despite floating-point rounding.
func level(score, mediumAt, highAt float64) Level {
	const eps = 1e-9
	switch {
	case score >= highAt-eps:
		return High
	case score >= mediumAt-eps:
		return Medium
	}
	return Low
}

// Outcome is how a request ended.
type Outcome uint8

// Outcomes. Only [Verified] teaches the profile a device or a place: a password is the
// one thing a thief is most likely to have, so a sign-in that proved only the password
// must never make the thief's phone look like the subscriber's.
const (
	// Succeeded: the request authenticated without a second factor established before
	// it (a password alone, or a code to a contact added in the same session). It
	// counts towards velocity; nothing is learned.
	Succeeded Outcome = iota + 1
	// Failed: authentication failed; it counts towards velocity.
	Failed
	// Abandoned: neither (the subscriber gave up); it counts as a sensitive request.
	Abandoned
	// Verified: the request passed a second factor that was established before it: an
	// out-of-band code to a trusted contact that was verified before this request, or an
	// authenticator code. It counts like Succeeded, and on the subscriber's own device
	// (see Channel.SubscriberClient) its device, client and place are learned into the
	// profile and the global counts (the online update of the Freeman model).
	//
	// With 2FA off nothing passes a second factor at sign-in, so nothing is learned:
	// until the subscriber proves a second factor, the device and location signals have
	// no history and stay quiet, and the account signals (credential_change from the
	// recorded changes, recent_sim_change, velocity, account age) carry the assessment.
	// A carrier that sends a code to a verified contact on a new-device sign-in even
	// with 2FA off records that sign-in as Verified. A recovery code is not a second
	// factor here: it is what a thief phishes, and the subscriber who really lost the
	// phone is on a new device anyway.
	Verified
)

// Record tells the service how a request ended. Every request counts towards velocity
// (and a failed port-out towards port_velocity); only a [Verified] one on the subscriber's own
// device updates the subscriber's profile and the global counts. Call it after the
// authentication step, not before.
//
// A request for a subscriber with no profile creates a provisional one (see [Profile]);
// the service then deletes provisional profiles last seen more than Config.StrangerTTL
// ago and keeps at most Config.MaxStrangers of them, so a flood of invented identities
// keeps the store's size flat.
func (s *Service) Record(ctx context.Context, req Request, o Outcome) error {
	if o < Succeeded || o > Verified {
		return fmt.Errorf("%w: unknown outcome %d", ErrInvalidRequest, o)
	}
	now := s.cfg.Now()
	t, err := req.check(now, s.cfg.ClockSkew)
	if err != nil {
		return err
	}
	learn := o == Verified && req.Channel.SubscriberClient()
	var keys Keys
	if learn {
		keys = req.keys(&s.model.uas)
	}
	cutoff := now.Add(-s.cfg.StrangerTTL)
	var first, created bool
	err = s.profiles.UpdateProfile(ctx, req.Subscriber, func(p *Profile) error {
		created = p.expired(cutoff)
		if created {
			*p = Profile{}
		}
		p.Attempt(req.Action, o == Failed, t)
		if learn {
			first = p.logins == 0
			p.learn(&req, &keys, t)
		}
		created = created && !p.Established()
		return nil
	})
	if err != nil {
		return fmt.Errorf("risk: updating profile: %w", err)
	}
	if learn {
		if err := s.global.AddLogin(ctx, &keys, first); err != nil {
			return fmt.Errorf("risk: updating global counts: %w", err)
		}
	}
	if created {
		if _, err := s.profiles.PruneProfiles(ctx, cutoff, s.cfg.MaxStrangers); err != nil {
			return fmt.Errorf("risk: pruning provisional profiles: %w", err)
		}
	}
	return nil
}
