package risk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/internal/validate"
)

// The Freeman feature hierarchies and their default weights (Wiefling et al. fitted the
// user-agent weights on their public login dataset).
var (
	ipChain = [...]Feature{FeatureIP, FeatureASN, FeatureCountry}
	uaChain = [...]Feature{FeatureUserAgent, FeatureBrowser, FeatureOS, FeatureDeviceType}
)

// DefaultIPWeights returns the weights of IP address, ASN and country.
func DefaultIPWeights() [3]float64 { return [3]float64{0.6, 0.3, 0.1} }

// DefaultUAWeights returns the weights of user agent, browser+version, OS+version and
// device type.
func DefaultUAWeights() [4]float64 { return [4]float64{0.5387, 0.2680, 0.1882, 0.0051} }

// ModelConfig configures the Freeman model. Zero fields mean the documented defaults.
type ModelConfig struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ClockSkew is how far in the future a request time may lie. Zero means 2 minutes.
	ClockSkew time.Duration `validate:"gte=0"`
	// PriorOdds are the prior odds that a login is an attack, used to turn the
	// likelihood ratio S into a probability (see the package doc). Zero means 0.2.
	PriorOdds float64 `validate:"gte=0"`
	// IPWeights and UAWeights weigh the levels of each hierarchy; all zero means
	// DefaultIPWeights() and DefaultUAWeights(). Weights must be non-negative.
	IPWeights [3]float64
	UAWeights [4]float64
	// NoHistoryScore is the model's score for a subscriber with no learned logins, in
	// [0, 1]. Zero (the default) means the model abstains: it has nothing to compare
	// with, so it neither vouches nor accuses, and a brand-new account is left to the
	// young_account and unverified_email signals, which know its age (see the package
	// doc). A carrier that wants every subscriber's first scored request stepped up sets
	// it, e.g. 0.5 (0.3 at the default model weight: Medium on its own).
	NoHistoryScore float64 `validate:"gte=0,lte=1"`
}

func (c *ModelConfig) defaults() error {
	if err := validate.Struct("risk", *c); err != nil {
		return err
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = 2 * time.Minute
	}
	if math.IsInf(c.PriorOdds, 0) {
		return validate.Errorf("risk", "ModelConfig.PriorOdds is %v; want finite odds such as 0.2", c.PriorOdds)
	}
	if c.PriorOdds == 0 {
		c.PriorOdds = 0.2
	}
	if c.IPWeights == [3]float64{} {
		c.IPWeights = DefaultIPWeights()
	}
	if c.UAWeights == [4]float64{} {
		c.UAWeights = DefaultUAWeights()
	}
	for i, w := range c.IPWeights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return validate.Errorf("risk", "ModelConfig.IPWeights[%d] is %v; want a finite weight >= 0", i, w)
		}
	}
	for i, w := range c.UAWeights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return validate.Errorf("risk", "ModelConfig.UAWeights[%d] is %v; want a finite weight >= 0", i, w)
		}
	}
	return nil
}

// Model is the statistical model of Freeman et al. (NDSS 2016) as a [Scorer] on its own.
// [Service] uses the same model as its SignalModel signal. Learn (or Service.Record)
// updates it online after every successful authentication.
type Model struct {
	cfg      ModelConfig
	profiles ProfileStore
	global   GlobalStore
	uas      uaCache // parsed user agents
}

// NewModel returns the model over the given stores.
func NewModel(cfg ModelConfig, profiles ProfileStore, global GlobalStore) (*Model, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if profiles == nil {
		return nil, validate.Errorf("risk", "profiles store is nil; pass a ProfileStore such as memory.NewRiskProfiles")
	}
	if global == nil {
		return nil, validate.Errorf("risk", "global store is nil; pass a GlobalStore such as memory.NewRiskGlobal")
	}
	return &Model{cfg: cfg, profiles: profiles, global: global}, nil
}

// Freeman is the model's result for one request.
type Freeman struct {
	S         float64 // the likelihood ratio: above 1 looks more like an attack
	User      float64 // p(u|A) / p(u|L)
	IP, UA    float64 // the factor of each hierarchy; 1 when the request lacks it
	Score     float64 // S mapped onto [0, 1]
	NoHistory bool    // the subscriber has no learned logins
}

// Score implements [Scorer]: one signal, SignalModel, with weight 1, and the level by
// the Service's default thresholds (Medium from 0.3, High from 0.6). The model measures
// how familiar the client is, so on a channel whose client is not the subscriber's own
// (an agent's desk, a partner's server: see [Channel.SubscriberClient]) it abstains:
// Low, score 0, no signal.
func (m *Model) Score(ctx context.Context, req Request) (Assessment, error) {
	if _, err := req.check(m.cfg.Now(), m.cfg.ClockSkew); err != nil {
		return failClosed(req.Channel), err
	}
	if !req.Channel.SubscriberClient() {
		return Assessment{Level: Low, Channel: req.Channel}, nil
	}
	keys := req.keys(&m.uas)
	p := getProfile()
	defer profilePool.Put(p)
	if err := m.profiles.LoadProfile(ctx, req.Subscriber, p); err != nil && !errors.Is(err, ErrNotFound) {
		return failClosed(req.Channel), fmt.Errorf("risk: loading profile: %w", err)
	}
	g, err := m.global.GlobalStats(ctx, &keys)
	if err != nil {
		return failClosed(req.Channel), fmt.Errorf("risk: loading global counts: %w", err)
	}
	f := m.Evaluate(p, &g, &keys)
	a := Assessment{Score: f.Score, Level: level(f.Score, defaultMediumAt, defaultHighAt), Channel: req.Channel}
	if f.Score > 0 {
		a.Signals = []Signal{{Name: SignalModel, Value: f.Score, Weight: 1, Reason: f.reason()}}
	}
	return a, nil
}

// profilePool recycles the 7 KiB scratch profiles that scoring loads into.
var profilePool = sync.Pool{New: func() any { return new(Profile) }}

// getProfile returns a zero Profile from the pool.
func getProfile() *Profile {
	p := profilePool.Get().(*Profile)
	*p = Profile{}
	return p
}

// Learn updates the model online with one successful authentication. Call it only for
// a sign-in that passed a second factor established before it, on the subscriber's own
// device, as Service.Record does for [Verified]: whatever it learns stops looking like an
// attack. (risk/cmd/rbaeval replays a dataset's successful logins through it.)
func (m *Model) Learn(ctx context.Context, req Request) error {
	t, err := req.check(m.cfg.Now(), m.cfg.ClockSkew)
	if err != nil {
		return err
	}
	keys := req.keys(&m.uas)
	var first bool
	err = m.profiles.UpdateProfile(ctx, req.Subscriber, func(p *Profile) error {
		first = p.logins == 0
		p.learn(&req, &keys, t)
		return nil
	})
	if err != nil {
		return fmt.Errorf("risk: updating profile: %w", err)
	}
	if err := m.global.AddLogin(ctx, &keys, first); err != nil {
		return fmt.Errorf("risk: updating global counts: %w", err)
	}
	return nil
}

func (f Freeman) reason() string {
	if f.NoHistory {
		return "no login history to compare with"
	}
	return fmt.Sprintf("attacker/subscriber likelihood ratio S=%.3g (IP x%.3g, user agent x%.3g)", f.S, f.IP, f.UA)
}

// Evaluate computes the Freeman score of a request with keys against profile p and
// global counts g. It is pure and allocation-free.
//
//	S = p(u|A)/p(u|L) × Π_k p(x_k) / p(x_k | u, L)
func (m *Model) Evaluate(p *Profile, g *GlobalStats, keys *Keys) Freeman {
	var f Freeman
	users := max(g.Subscribers, 1)
	logins := max(g.Logins, 1)
	mine := max(p.logins, 1)
	f.NoHistory = p.logins == 0
	// p(u|A) = 1/users; p(u|L) = mine/logins.
	f.User = float64(logins) / (float64(users) * float64(mine))
	f.IP = chainFactor(ipChain[:], m.cfg.IPWeights[:], p, g, keys)
	f.UA = chainFactor(uaChain[:], m.cfg.UAWeights[:], p, g, keys)
	f.S = f.User * f.IP * f.UA
	f.Score = calibrate(f.S, m.cfg.PriorOdds)
	if f.NoHistory {
		// Nothing to compare with: the model can vouch for nothing, nor accuse, so it
		// reports ModelConfig.NoHistoryScore (by default 0: it abstains).
		f.Score = m.cfg.NoHistoryScore
	}
	return f
}

// calibrate maps S onto [0, 1] as the posterior probability of an attack given prior
// odds: P(A | x, u) = S·odds / (1 + S·odds).
func calibrate(s, odds float64) float64 {
	o := s * odds
	if math.IsInf(o, 1) {
		return 1
	}
	if math.IsNaN(o) {
		return 1 // fail closed
	}
	return o / (1 + o)
}

// unseenFactor is a hierarchy's factor when none of its values was ever seen in the
// subscriber's history: the local likelihood is taken as a quarter of the global one, as
// the das-group reference implementation does. Smoothing the local likelihood instead
// would make a value new to everyone look ordinary.
const unseenFactor = 4

// chainFactor returns p(x)/p(x|u,L) for one hierarchy: the weighted sums over its levels
// of the global frequency (smoothed) and of the subscriber's frequency. Levels whose
// value is missing are left out of both sums; a hierarchy with no value at all, or a
// subscriber with no history of it, is neutral (1).
func chainFactor(chain []Feature, w []float64, p *Profile, g *GlobalStats, keys *Keys) float64 {
	var local, global float64
	present, history := false, false
	for i, f := range chain {
		k := keys[f]
		if k == 0 || w[i] == 0 {
			continue
		}
		present = true
		if n := p.tables[f].total; n > 0 {
			history = true
			local += w[i] * float64(p.tables[f].count(k)) / float64(n)
		}
		// M pseudo-values: 1 + the distinct values of every level above this one.
		m := 1.0
		for _, up := range chain[i+1:] {
			m += float64(g.Distinct[up])
		}
		global += w[i] * smoothed(float64(g.Count[f]), float64(g.Total[f]), m)
	}
	switch {
	case !present || !history:
		return 1
	case local == 0:
		return unseenFactor
	}
	return global / local
}

// smoothed is the global frequency of a value seen c times in n observations, with M
// pseudo-observations reserved for unseen values: c/(n+M), and 1/(n+M) when unseen.
func smoothed(c, n, m float64) float64 { return max(c, 1) / (n + m) }
