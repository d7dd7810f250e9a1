package risk_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	epoch  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	miami  = risk.Geo{Country: "US", Region: "FL", City: "Miami", ASN: 7922, Coordinates: &risk.Coordinates{Lat: 25.76, Lon: -80.19}}
	la     = risk.Geo{Country: "US", Region: "CA", City: "Los Angeles", ASN: 20115, Coordinates: &risk.Coordinates{Lat: 34.05, Lon: -118.24}}
	oldAcc = risk.Account{EmailVerified: true, Created: epoch.AddDate(-2, 0, 0)}
)

func newService(t testing.TB, clock *fakeclock.Clock, cfg risk.Config) *risk.Service {
	t.Helper()
	cfg.Now = clock.Now
	s, err := risk.New(cfg, memory.NewRiskProfiles(memory.Options{}), memory.NewRiskGlobal(memory.Options{}))
	require.NoError(t, err)
	return s
}

func homeReq(action risk.Action) risk.Request {
	return risk.Request{Subscriber: "alice", Action: action, IP: netip.MustParseAddr("203.0.113.7"),
		Geo: miami, Device: "alice-phone", UserAgent: iPhone, Account: oldAcc, Channel: risk.ChannelApp}
}

// history: 30 days of daily sign-ins for alice in Miami and 50 others elsewhere.
func history(t testing.TB, s *risk.Service, clock *fakeclock.Clock) {
	t.Helper()
	ctx := context.Background()
	for d := 30; d >= 1; d-- {
		at := clock.Now().Add(-time.Duration(d) * 24 * time.Hour)
		r := homeReq(risk.ActionSignIn)
		r.Time = at
		require.NoError(t, s.Record(ctx, r, risk.Verified))
		for i := range 50 {
			o := risk.Request{Subscriber: fmt.Sprintf("u%d", i), Action: risk.ActionSignIn, Time: at,
				IP: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), Geo: la, UserAgent: iPhone,
				Device: fmt.Sprintf("d%d", i), Account: oldAcc}
			require.NoError(t, s.Record(ctx, o, risk.Verified))
		}
	}
}

func names(a risk.Assessment) []string {
	var n []string
	for _, s := range a.Signals {
		n = append(n, s.Name)
	}
	return n
}

func signal(a risk.Assessment, name string) (risk.Signal, bool) {
	for _, s := range a.Signals {
		if s.Name == name {
			return s, true
		}
	}
	return risk.Signal{}, false
}

func TestMiamiToCaliforniaRaisesTheLevel(t *testing.T) {
	clock := fakeclock.New(epoch)
	s := newService(t, clock, risk.Config{})
	history(t, s, clock)
	ctx := context.Background()

	home, err := s.Assess(ctx, homeReq(risk.ActionSIMSwap))
	require.NoError(t, err)
	assert.Equal(t, risk.Low, home.Level, "%+v", home)

	away := homeReq(risk.ActionSIMSwap)
	away.Geo, away.IP, away.Device = la, netip.MustParseAddr("192.0.2.9"), "other-phone"
	a, err := s.Assess(ctx, away)
	require.NoError(t, err)
	assert.Equal(t, risk.High, a.Level, "%+v", a)
	assert.Greater(t, a.Score, home.Score)
	assert.Subset(t, names(a), []string{risk.SignalNewLocation, risk.SignalHomeDistance, risk.SignalNewDevice})
	assert.Equal(t, risk.ChannelApp, a.Channel)
	for i := 1; i < len(a.Signals); i++ {
		assert.GreaterOrEqual(t, a.Signals[i-1].Weight*a.Signals[i-1].Value, a.Signals[i].Weight*a.Signals[i].Value, "strongest first")
	}

	// Even on her own phone, California is a step up from Miami.
	away.Device = "alice-phone"
	a, err = s.Assess(ctx, away)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, a.Level, risk.Medium, "%+v", a)
}

func TestLevels(t *testing.T) {
	assert.True(t, risk.Low < risk.Medium && risk.Medium < risk.High)
	assert.Equal(t, "low", risk.Low.String())
	assert.Equal(t, "medium", risk.Medium.String())
	assert.Equal(t, "high", risk.High.String())
	assert.Equal(t, "unassessed", risk.Level(0).String())
}

func TestCombinerAndThresholds(t *testing.T) {
	clock := fakeclock.New(epoch)
	ctx := context.Background()
	// Only the unverified-email signal: the score is its weight.
	only := map[string]float64{}
	for n := range risk.DefaultWeights() {
		only[n] = 0
	}
	only[risk.SignalUnverifiedEmail] = 0.4
	s := newService(t, clock, risk.Config{Weights: only, MediumAt: 0.3, HighAt: 0.5})
	r := homeReq(risk.ActionSignIn)
	r.Account.EmailVerified = false
	a, err := s.Assess(ctx, r)
	require.NoError(t, err)
	assert.InDelta(t, 0.4, a.Score, 1e-12)
	assert.Equal(t, risk.Medium, a.Level)
	require.Len(t, a.Signals, 1)
	assert.Equal(t, risk.Signal{Name: risk.SignalUnverifiedEmail, Value: 1, Weight: 0.4, Reason: "email address not verified"}, a.Signals[0])

	// Two signals combine as a noisy-OR: 1 − (1−0.4)(1−0.25·1) = 0.55 ≥ HighAt.
	only[risk.SignalYoungAccount] = 0.25
	s = newService(t, clock, risk.Config{Weights: only, MediumAt: 0.3, HighAt: 0.5})
	r.Account.Created = epoch
	a, err = s.Assess(ctx, r)
	require.NoError(t, err)
	assert.InDelta(t, 0.55, a.Score, 1e-12)
	assert.Equal(t, risk.High, a.Level)

	r.Account = oldAcc
	a, err = s.Assess(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, risk.Assessment{Score: 0, Level: risk.Low, Signals: []risk.Signal{}, Channel: risk.ChannelApp}, a)
}

type scorerFunc func(context.Context, risk.Request) (risk.Assessment, error)

func (f scorerFunc) Score(ctx context.Context, r risk.Request) (risk.Assessment, error) {
	return f(ctx, r)
}

type failingProfiles struct{ risk.ProfileStore }

func (failingProfiles) LoadProfile(context.Context, string, *risk.Profile) error {
	return errors.New("database down")
}

type failingGlobal struct{ risk.GlobalStore }

func (failingGlobal) GlobalStats(context.Context, *risk.Keys) (risk.GlobalStats, error) {
	return risk.GlobalStats{}, errors.New("database down")
}

type panickingReputation struct{}

func (panickingReputation) Check(context.Context, netip.Addr) (string, bool, error) {
	panic("reputation cache corrupted")
}

type failingReputation struct{}

func (failingReputation) Check(context.Context, netip.Addr) (string, bool, error) {
	return "", false, errors.New("timeout")
}

func TestFailsClosed(t *testing.T) {
	clock := fakeclock.New(epoch)
	ctx := context.Background()
	boom := errors.New("model offline")
	mem := func() (risk.ProfileStore, risk.GlobalStore) {
		return memory.NewRiskProfiles(memory.Options{}), memory.NewRiskGlobal(memory.Options{})
	}
	p, g := mem()
	tests := []struct {
		name     string
		profiles risk.ProfileStore
		global   risk.GlobalStore
		cfg      risk.Config
		req      func(*risk.Request)
		is       error
		msg      string
	}{
		{name: "profile store", profiles: failingProfiles{p}, global: g, msg: "database down"},
		{name: "global store", profiles: p, global: failingGlobal{g}, msg: "database down"},
		{name: "IP reputation", profiles: p, global: g, cfg: risk.Config{UntrustedIPs: failingReputation{}}, msg: "timeout"},
		{name: "IP reputation panics", profiles: p, global: g, cfg: risk.Config{UntrustedIPs: panickingReputation{}}, msg: "panicked"},
		{name: "plugged-in scorer", profiles: p, global: g, cfg: risk.Config{Scorers: []risk.NamedScorer{{Name: "carrier_ml", Scorer: scorerFunc(func(context.Context, risk.Request) (risk.Assessment, error) {
			return risk.Assessment{}, boom
		})}}}, is: boom},
		{name: "plugged-in scorer panics", profiles: p, global: g, cfg: risk.Config{Scorers: []risk.NamedScorer{{Name: "carrier_ml", Scorer: scorerFunc(func(context.Context, risk.Request) (risk.Assessment, error) {
			panic("carrier model: weights not loaded")
		})}}}, is: risk.ErrScorer, msg: "panicked"},
		{name: "scorer out of range", profiles: p, global: g, cfg: risk.Config{Scorers: []risk.NamedScorer{{Name: "carrier_ml", Scorer: scorerFunc(func(context.Context, risk.Request) (risk.Assessment, error) {
			return risk.Assessment{Score: math.NaN()}, nil
		})}}}, is: risk.ErrScorer},
		{name: "request from the future", profiles: p, global: g, req: func(r *risk.Request) { r.Time = epoch.Add(time.Hour) }, is: risk.ErrFutureTime},
		{name: "account change in the future", profiles: p, global: g, req: func(r *risk.Request) { r.Account.PasswordChanged = epoch.Add(time.Hour) }, is: risk.ErrFutureTime},
		{name: "invalid coordinates", profiles: p, global: g, req: func(r *risk.Request) { r.Geo.Coordinates = &risk.Coordinates{Lat: 91} }, is: risk.ErrInvalidCoordinates},
		{name: "NaN coordinates", profiles: p, global: g, req: func(r *risk.Request) { r.Geo.Coordinates = &risk.Coordinates{Lon: math.NaN()} }, is: risk.ErrInvalidCoordinates},
		{name: "no subscriber", profiles: p, global: g, req: func(r *risk.Request) { r.Subscriber = "" }, is: risk.ErrInvalidRequest},
		{name: "no action", profiles: p, global: g, req: func(r *risk.Request) { r.Action = "" }, is: risk.ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Now = clock.Now
			s, err := risk.New(tt.cfg, tt.profiles, tt.global)
			require.NoError(t, err)
			r := homeReq(risk.ActionSIMSwap)
			if tt.req != nil {
				tt.req(&r)
			}
			a, err := s.Assess(ctx, r)
			require.Error(t, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.Contains(t, err.Error(), tt.msg)
			assert.Equal(t, risk.High, a.Level)
			assert.Equal(t, 1.0, a.Score)
		})
	}
}

// A subscriber with no learned logins: the model abstains, and newness is weighed by
// the account facts (young_account, unverified_email) rather than counted twice.
func TestNewSubscriber(t *testing.T) {
	clock := fakeclock.New(epoch)
	s := newService(t, clock, risk.Config{})
	history(t, s, clock)
	ctx := context.Background()
	r := homeReq(risk.ActionSignIn)
	r.Subscriber = "newcomer"

	// An established, verified account with no recorded sign-in yet (say, on the day
	// carrierguard is deployed): nothing to compare with, nothing fires.
	a, err := s.Assess(ctx, r)
	require.NoError(t, err)
	assert.Empty(t, names(a), "%+v", a)
	assert.Equal(t, risk.Low, a.Level)

	// A brand-new, verified account's first sign-in: young_account alone.
	r.Account.Created = epoch.Add(-time.Minute)
	a, err = s.Assess(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, []string{risk.SignalYoungAccount}, names(a))
	assert.Equal(t, risk.Low, a.Level, "%+v", a)

	// The same account with its email unverified is untrusted: Medium.
	r.Account.EmailVerified = false
	a, err = s.Assess(ctx, r)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{risk.SignalYoungAccount, risk.SignalUnverifiedEmail}, names(a))
	assert.Equal(t, risk.Medium, a.Level, "%+v", a)

	// A carrier that wants every first request stepped up says so.
	strict := newService(t, clock, risk.Config{Model: risk.ModelConfig{NoHistoryScore: 0.5}})
	r = homeReq(risk.ActionSIMSwap)
	r.Subscriber = "newcomer"
	a, err = strict.Assess(ctx, r)
	require.NoError(t, err)
	sg, ok := signal(a, risk.SignalModel)
	require.True(t, ok, "%+v", a)
	assert.Equal(t, 0.5, sg.Value)
	assert.Equal(t, "no login history to compare with", sg.Reason)
	assert.Equal(t, risk.Medium, a.Level)
}

func TestClockSkewIsTolerated(t *testing.T) {
	clock := fakeclock.New(epoch)
	s := newService(t, clock, risk.Config{})
	r := homeReq(risk.ActionSignIn)
	r.Time = epoch.Add(time.Minute)
	_, err := s.Assess(context.Background(), r)
	assert.NoError(t, err)
}

func TestMissingIPIsASignal(t *testing.T) {
	clock := fakeclock.New(epoch)
	s := newService(t, clock, risk.Config{})
	history(t, s, clock)
	r := homeReq(risk.ActionSignIn)
	r.IP = netip.Addr{}
	r.Geo = risk.Geo{}
	a, err := s.Assess(context.Background(), r)
	require.NoError(t, err)
	sg, ok := signal(a, risk.SignalUntrustedIP)
	require.True(t, ok)
	assert.Equal(t, "no client IP address supplied", sg.Reason)
	assert.Equal(t, 0.5, sg.Value)
}

func TestUntrustedIP(t *testing.T) {
	clock := fakeclock.New(epoch)
	list := risk.NewIPList()
	require.NoError(t, list.Load("tor", strings.NewReader("192.0.2.0/24\n")))
	s := newService(t, clock, risk.Config{UntrustedIPs: list})
	r := homeReq(risk.ActionSignIn)
	r.IP = netip.MustParseAddr("192.0.2.50")
	a, err := s.Assess(context.Background(), r)
	require.NoError(t, err)
	sg, ok := signal(a, risk.SignalUntrustedIP)
	require.True(t, ok)
	assert.Equal(t, "client IP address is listed as tor", sg.Reason)
	assert.Equal(t, 1.0, sg.Value)
}

func TestPluggedInScorer(t *testing.T) {
	clock := fakeclock.New(epoch)
	var got risk.Request
	s := newService(t, clock, risk.Config{
		Scorers: []risk.NamedScorer{{Name: "carrier_ml", Scorer: scorerFunc(func(_ context.Context, r risk.Request) (risk.Assessment, error) {
			got = r
			return risk.Assessment{Score: 0.8, Level: risk.High}, nil
		})}},
		Weights: map[string]float64{"carrier_ml": 0.9},
	})
	a, err := s.Assess(context.Background(), homeReq(risk.ActionPortOut))
	require.NoError(t, err)
	assert.Equal(t, "alice", got.Subscriber)
	assert.Contains(t, names(a), "carrier_ml")
	assert.GreaterOrEqual(t, a.Score, 0.72)
	assert.Equal(t, risk.High, a.Level)
}

func TestConfigValidation(t *testing.T) {
	p, g := memory.NewRiskProfiles(memory.Options{}), memory.NewRiskGlobal(memory.Options{})
	sc := scorerFunc(func(context.Context, risk.Request) (risk.Assessment, error) { return risk.Assessment{}, nil })
	tests := []struct {
		cfg  risk.Config
		want string
	}{
		{risk.Config{MediumAt: 0.7, HighAt: 0.5}, "MediumAt"},
		{risk.Config{HighAt: 1.5}, "HighAt"},
		{risk.Config{Weights: map[string]float64{"nope": 0.5}}, `"nope"`},
		{risk.Config{Weights: map[string]float64{risk.SignalNewDevice: 2}}, "new_device"},
		{risk.Config{Weights: map[string]float64{risk.SignalNewDevice: math.NaN()}}, "new_device"},
		{risk.Config{FarKm: 50}, "FarKm"},
		{risk.Config{MaxFailures: 17}, "MaxFailures"},
		{risk.Config{FarKm: math.Inf(1)}, "FarKm"},
		{risk.Config{MaxSpeedKmh: math.Inf(1)}, "MaxSpeedKmh"},
		{risk.Config{HomeRadiusKm: math.NaN()}, "HomeRadiusKm"},
		{risk.Config{Model: risk.ModelConfig{PriorOdds: math.Inf(1)}}, "PriorOdds"},
		{risk.Config{Scorers: []risk.NamedScorer{{Name: risk.SignalModel, Scorer: sc}}}, "used twice or by a built-in"},
		{risk.Config{Scorers: []risk.NamedScorer{{Scorer: sc}}}, "Name is required"},
	}
	for _, tt := range tests {
		_, err := risk.New(tt.cfg, p, g)
		assert.ErrorContains(t, err, tt.want)
	}
}

func TestRecord(t *testing.T) {
	clock := fakeclock.New(epoch)
	profiles, global := memory.NewRiskProfiles(memory.Options{}), memory.NewRiskGlobal(memory.Options{})
	s, err := risk.New(risk.Config{Now: clock.Now}, profiles, global)
	require.NoError(t, err)
	ctx := context.Background()
	r := homeReq(risk.ActionSIMSwap)
	require.NoError(t, s.Record(ctx, r, risk.Failed))
	var p risk.Profile
	require.NoError(t, profiles.LoadProfile(ctx, "alice", &p))
	assert.Zero(t, p.Logins(), "a failure teaches the model nothing")
	require.NoError(t, s.Record(ctx, r, risk.Succeeded))
	require.NoError(t, s.Record(ctx, r, risk.Abandoned))
	require.NoError(t, profiles.LoadProfile(ctx, "alice", &p))
	assert.Zero(t, p.Logins(), "a request without a second factor teaches nothing")
	require.NoError(t, s.Record(ctx, r, risk.Verified))
	require.NoError(t, profiles.LoadProfile(ctx, "alice", &p))
	assert.Equal(t, uint64(1), p.Logins())
	k := r.Keys()
	st, err := global.GlobalStats(ctx, &k)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), st.Subscribers)
	assert.Equal(t, uint64(1), st.Count[risk.FeatureIP])

	assert.ErrorIs(t, s.Record(ctx, r, risk.Outcome(0)), risk.ErrInvalidRequest)
	assert.ErrorIs(t, s.Record(ctx, r, risk.Outcome(9)), risk.ErrInvalidRequest)
	r.Time = epoch.Add(time.Hour)
	assert.ErrorIs(t, s.Record(ctx, r, risk.Verified), risk.ErrFutureTime)
}

// fullProfile drives a profile to its bounds: MaxValues distinct values of every
// feature, plus velocity history.
func fullProfile(p *risk.Profile, sub int) {
	for i := range risk.MaxValues + 8 {
		r := risk.Request{Subscriber: "s", Action: risk.ActionSignIn,
			IP:     netip.AddrFrom4([4]byte{10, byte(sub), byte(sub >> 8), byte(i)}),
			Geo:    risk.Geo{Country: fmt.Sprint("C", i), Region: "R", City: "X", ASN: uint32(i + 1), Coordinates: &risk.Coordinates{Lat: 1, Lon: 2}},
			Device: fmt.Sprint("dev", i), UserAgent: fmt.Sprint("UA", i),
			Client: risk.Client{Browser: fmt.Sprint("B", i), OS: fmt.Sprint("O", i), DeviceType: fmt.Sprint("T", i)},
		}
		p.Learn(&r, epoch)
		p.Attempt(risk.ActionSIMSwap, true, epoch)
	}
}

// TestProfileMemoryAtBounds measures the heap a profile at its bounds takes in the
// in-memory store (profile, map entry and key), averaged over many subscribers.
func TestProfileMemoryAtBounds(t *testing.T) {
	const n = 2000
	per := measureProfiles(t, n)
	t.Logf("memory per profile at bounds: %.0f bytes", per)
	assert.LessOrEqual(t, per, 8192.0)
}

func measureProfiles(t testing.TB, n int) float64 {
	ctx := context.Background()
	var tmpl risk.Profile
	fullProfile(&tmpl, 0)
	for f := range risk.Feature(risk.NumFeatures) {
		require.Equal(t, risk.MaxValues, tmpl.Distinct(f), f.String())
	}
	subs := make([]string, n)
	for i := range subs {
		subs[i] = fmt.Sprintf("subscriber-%06d", i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	store := memory.NewRiskProfiles(memory.Options{})
	for _, s := range subs {
		require.NoError(t, store.UpdateProfile(ctx, s, func(p *risk.Profile) error { *p = tmpl; return nil }))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(store)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}
