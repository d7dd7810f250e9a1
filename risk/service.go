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
	// CredentialChangeWindow: a SIM swap or port-out this soon after a password, email or
	// contact change fires the credential-change signal. Zero means 72 hours.
	CredentialChangeWindow time.Duration `validate:"gte=0"`
	// YoungAccount: accounts younger than this raise risk. Zero means 30 days.
	YoungAccount time.Duration `validate:"gte=0"`
	// SIMChangeWindow: a SIM change on the line this recent raises risk. Zero means 7 days.
	SIMChangeWindow time.Duration `validate:"gte=0"`

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
	defd(&cfg.CredentialChangeWindow, 72*time.Hour)
	defd(&cfg.YoungAccount, 30*24*time.Hour)
	defd(&cfg.SIMChangeWindow, 7*24*time.Hour)
	if cfg.MaxSensitive == 0 {
		cfg.MaxSensitive = 3
	}
	if cfg.MaxFailures == 0 {
		cfg.MaxFailures = 5
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

// Assess scores req from the subscriber's history. With an error (a malformed request,
// a store, IP reputation or scorer failure) it returns Level High and Score 1: it fails
// closed.
func (s *Service) Assess(ctx context.Context, req Request) (Assessment, error) {
	t, err := req.check(s.cfg.Now(), s.cfg.ClockSkew)
	if err != nil {
		return failClosed(req.Channel), err
	}
	keys := req.keys(&s.model.uas)
	p := getProfile()
	defer profilePool.Put(p)
	if err := s.profiles.LoadProfile(ctx, req.Subscriber, p); err != nil && !errors.Is(err, ErrNotFound) {
		return failClosed(req.Channel), fmt.Errorf("risk: loading profile: %w", err)
	}
	e := env{req: &req, keys: &keys, p: p, t: t, cfg: &s.cfg}
	sig := make([]Signal, 0, 8)
	add := func(name string, v float64, reason string) {
		w := s.weight[name]
		if v > 0 && w > 0 {
			sig = append(sig, Signal{Name: name, Value: min(v, 1), Weight: w, Reason: reason})
		}
	}
	for _, b := range builtins {
		if s.weight[b.name] > 0 {
			v, r := b.fn(&e)
			add(b.name, v, r)
		}
	}
	if s.weight[SignalUntrustedIP] > 0 {
		v, r, err := s.untrusted(ctx, req.IP)
		if err != nil {
			return failClosed(req.Channel), fmt.Errorf("risk: IP reputation: %w", err)
		}
		add(SignalUntrustedIP, v, r)
	}
	if s.weight[SignalModel] > 0 {
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

// Outcomes.
const (
	// Succeeded: the subscriber authenticated; the request's features are learned.
	Succeeded Outcome = iota + 1
	// Failed: authentication failed; it counts towards the velocity signal only.
	Failed
	// Abandoned: neither (the subscriber gave up); it counts as a sensitive request.
	Abandoned
)

// Record tells the service how a request ended. Every request counts towards velocity;
// only a Succeeded one updates the subscriber's profile and the global counts (the
// online update of the model). Call it after the authentication step, not before.
func (s *Service) Record(ctx context.Context, req Request, o Outcome) error {
	if o < Succeeded || o > Abandoned {
		return fmt.Errorf("%w: unknown outcome %d", ErrInvalidRequest, o)
	}
	t, err := req.check(s.cfg.Now(), s.cfg.ClockSkew)
	if err != nil {
		return err
	}
	keys := req.keys(&s.model.uas)
	var first bool
	err = s.profiles.UpdateProfile(ctx, req.Subscriber, func(p *Profile) error {
		p.Attempt(req.Action, o == Failed, t)
		if o == Succeeded {
			first = p.logins == 0
			p.learn(&req, &keys, t)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("risk: updating profile: %w", err)
	}
	if o == Succeeded {
		if err := s.global.AddLogin(ctx, &keys, first); err != nil {
			return fmt.Errorf("risk: updating global counts: %w", err)
		}
	}
	return nil
}
