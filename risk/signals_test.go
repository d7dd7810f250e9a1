package risk

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	t0      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	miami   = Coordinates{Lat: 25.76, Lon: -80.19}
	la      = Coordinates{Lat: 34.05, Lon: -118.24}
	miamiFL = Geo{Country: "US", Region: "FL", City: "Miami", ASN: 7922, Coordinates: &miami}
	laCA    = Geo{Country: "US", Region: "CA", City: "Los Angeles", ASN: 20115, Coordinates: &la}
)

func testConfig(t *testing.T, clock *fakeclock.Clock) *Config {
	t.Helper()
	s, err := New(Config{Now: clock.Now}, &fakeProfiles{}, &fakeGlobal{})
	require.NoError(t, err)
	return &s.cfg
}

// learned returns a profile that learned req n times, an hour apart, ending at end.
func learned(req Request, n int, end time.Time) *Profile {
	var p Profile
	for i := n - 1; i >= 0; i-- {
		p.Learn(&req, end.Add(-time.Duration(i)*time.Hour))
	}
	return &p
}

func run(fn func(*env) (float64, string), cfg *Config, p *Profile, req Request, now time.Time) (float64, string) {
	if req.Time.IsZero() {
		req.Time = now
	}
	k := req.Keys()
	acct := withChanges(req.Account, p, req.Time)
	return fn(&env{req: &req, keys: &k, p: p, acct: &acct, t: req.Time, cfg: cfg})
}

func TestSignals(t *testing.T) {
	clock := fakeclock.New(t0)
	cfg := testConfig(t, clock)
	home := Request{Subscriber: "s", Action: ActionSignIn, IP: netip.MustParseAddr("203.0.113.7"), Geo: miamiFL, Device: "phone-1", UserAgent: "UA-1"}
	hist := learned(home, 10, t0.Add(-24*time.Hour))
	with := func(mod func(*Request)) Request { r := home; mod(&r); return r }

	tests := []struct {
		name   string
		fn     func(*env) (float64, string)
		p      *Profile
		req    Request
		want   float64
		reason string // substring
	}{
		{"new device: known", newDevice, hist, home, 0, ""},
		{"new device: unknown", newDevice, hist, with(func(r *Request) { r.Device = "phone-2" }), 1, "device not seen"},
		{"new device: no fingerprint, known user agent", newDevice, hist, with(func(r *Request) { r.Device = "" }), 0, ""},
		{"new device: no fingerprint, new user agent", newDevice, hist, with(func(r *Request) { r.Device = ""; r.UserAgent = "UA-2" }), 1, "user agent not seen"},
		{"new device: nothing supplied", newDevice, hist, with(func(r *Request) { r.Device = ""; r.UserAgent = "" }), 0.5, "no device"},
		{"new device: no history", newDevice, &Profile{}, home, 0, ""},

		{"new location: same city", newLocation, hist, home, 0, ""},
		{"new location: new city", newLocation, hist, with(func(r *Request) { r.Geo.City = "Hialeah" }), 0.3, "city"},
		{"new location: new region", newLocation, hist, with(func(r *Request) { r.Geo = laCA }), 0.6, "region"},
		{"new location: new country", newLocation, hist, with(func(r *Request) { r.Geo = Geo{Country: "DE"} }), 1, "country"},
		{"new location: unknown location", newLocation, hist, with(func(r *Request) { r.Geo = Geo{} }), 0, ""},

		{"home distance: at home", homeDistance, hist, home, 0, ""},
		{"home distance: Los Angeles", homeDistance, hist, with(func(r *Request) { r.Geo = laCA }), 1, "3759 km"},
		{"home distance: Orlando, part way", homeDistance, hist, with(func(r *Request) {
			r.Geo = Geo{Country: "US", Region: "FL", City: "Orlando", Coordinates: &Coordinates{Lat: 28.54, Lon: -81.38}}
		}), (329.0 - 100) / 1900, "km from"},
		{"home distance: no coordinates", homeDistance, hist, with(func(r *Request) { r.Geo.Coordinates = nil }), 0, ""},

		{"impossible travel: LA a day later is possible", impossibleTravel, hist, with(func(r *Request) { r.Geo = laCA }), 0, ""},
		{"impossible travel: LA an hour later", impossibleTravel, hist, with(func(r *Request) { r.Geo = laCA; r.Time = t0.Add(-23 * time.Hour) }), 1, "km/h"},
		{"impossible travel: same place, same instant", impossibleTravel, hist, with(func(r *Request) { r.Time = t0.Add(-24 * time.Hour) }), 0, ""},
		{"impossible travel: elsewhere, same instant", impossibleTravel, hist, with(func(r *Request) { r.Geo = laCA; r.Time = t0.Add(-24 * time.Hour) }), 1, "no time between"},

		{"credential change: password 5h before SIM swap", credentialChange, hist, with(func(r *Request) {
			r.Action = ActionSIMSwap
			r.Account.PasswordChanged = t0.Add(-5 * time.Hour)
		}), 1, "password changed 5h0m0s before this sim_swap"},
		{"credential change: email 71h before port-out", credentialChange, hist, with(func(r *Request) {
			r.Action = ActionPortOut
			r.Account.EmailChanged = t0.Add(-71 * time.Hour)
		}), 1, "email changed"},
		{"credential change: 73h is outside the window", credentialChange, hist, with(func(r *Request) {
			r.Action = ActionSIMSwap
			r.Account.ContactChanged = t0.Add(-73 * time.Hour)
		}), 0, ""},
		{"credential change: not a takeover action", credentialChange, hist, with(func(r *Request) {
			r.Action = ActionAccountChange
			r.Account.PasswordChanged = t0.Add(-time.Hour)
		}), 0, ""},

		{"unverified email", unverifiedEmail, hist, home, 1, "not verified"},
		{"verified email", unverifiedEmail, hist, with(func(r *Request) { r.Account.EmailVerified = true }), 0, ""},

		{"young account: created today", youngAccount, hist, with(func(r *Request) { r.Account.Created = t0 }), 1, "created 0s ago"},
		{"young account: 15 days", youngAccount, hist, with(func(r *Request) { r.Account.Created = t0.Add(-15 * 24 * time.Hour) }), 0.5, "created 360h0m0s ago"},
		{"young account: 30 days", youngAccount, hist, with(func(r *Request) { r.Account.Created = t0.Add(-30 * 24 * time.Hour) }), 0, ""},
		{"young account: unknown", youngAccount, hist, home, 0, ""},

		{"recent SIM change: 1 day", recentSIMChange, hist, with(func(r *Request) { r.Account.SIMChanged = t0.Add(-24 * time.Hour) }), 6.0 / 7, "SIM changed 24h0m0s ago"},
		{"recent SIM change: 8 days", recentSIMChange, hist, with(func(r *Request) { r.Account.SIMChanged = t0.Add(-8 * 24 * time.Hour) }), 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, reason := run(tt.fn, cfg, tt.p, tt.req, clock.Now())
			assert.InDelta(t, tt.want, v, 0.01)
			if tt.reason == "" {
				assert.Empty(t, reason)
			} else {
				assert.Contains(t, reason, tt.reason)
			}
		})
	}
}

func TestVelocity(t *testing.T) {
	clock := fakeclock.New(t0)
	cfg := testConfig(t, clock)
	var p Profile
	req := Request{Subscriber: "s", Action: ActionSIMSwap}
	// Two sensitive requests in the last hour: below the limit of 3.
	p.Attempt(ActionSIMSwap, false, t0.Add(-50*time.Minute))
	p.Attempt(ActionPortOut, false, t0.Add(-10*time.Minute))
	p.Attempt(ActionSIMSwap, false, t0.Add(-2*time.Hour)) // outside the window
	v, _ := run(velocity, cfg, &p, req, clock.Now())
	assert.Zero(t, v)

	p.Attempt(ActionAccountChange, false, t0.Add(-time.Minute))
	v, reason := run(velocity, cfg, &p, req, clock.Now())
	assert.Equal(t, 1.0, v)
	assert.Contains(t, reason, "3 sensitive requests in the last 1h0m0s")

	// A sign-in is not sensitive: it does not fire on sensitive requests...
	v, _ = run(velocity, cfg, &p, Request{Subscriber: "s", Action: ActionSignIn}, clock.Now())
	assert.Zero(t, v)
	// ...and the window moves with the clock.
	clock.Advance(2 * time.Hour)
	v, _ = run(velocity, cfg, &p, req, clock.Now())
	assert.Zero(t, v)

	// Five failures fire for any action. Sign-ins are not sensitive but may fail.
	for i := range 5 {
		p.Attempt(ActionSignIn, true, clock.Now().Add(-time.Duration(i)*time.Minute))
	}
	v, reason = run(velocity, cfg, &p, Request{Subscriber: "s", Action: ActionSignIn}, clock.Now())
	assert.Equal(t, 1.0, v)
	assert.Contains(t, reason, "5 failed attempts")
}

func TestDistanceKm(t *testing.T) {
	tests := []struct {
		name string
		a, b Coordinates
		want float64 // km
		tol  float64
	}{
		{"same place", miami, miami, 0, 1e-9},
		{"Miami to Los Angeles", miami, la, 3759, 5},
		{"across the antimeridian (Fiji to Samoa side)", Coordinates{-17, 179.5}, Coordinates{-17, -179.5}, 106.3, 0.5},
		{"antimeridian, same point written two ways", Coordinates{10, 180}, Coordinates{10, -180}, 0, 1e-6},
		{"pole to pole", Coordinates{90, 0}, Coordinates{-90, 77}, 20015.1, 1},
		{"antipodes", Coordinates{0, 0}, Coordinates{0, 180}, 20015.1, 1},
		{"one degree along the equator", Coordinates{0, 0}, Coordinates{0, 1}, 111.195, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.want, DistanceKm(tt.a, tt.b), tt.tol)
			assert.InDelta(t, DistanceKm(tt.a, tt.b), DistanceKm(tt.b, tt.a), 1e-9, "symmetric")
		})
	}
}

func TestImpossibleTravelAcrossAntimeridian(t *testing.T) {
	clock := fakeclock.New(t0)
	cfg := testConfig(t, clock)
	fiji := Coordinates{Lat: -17.7, Lon: 178.9}
	samoa := Coordinates{Lat: -13.8, Lon: -171.8} // ~1,100 km east, across 180°
	last := Request{Subscriber: "s", Action: ActionSignIn, Geo: Geo{Country: "FJ", Coordinates: &fiji}}
	p := learned(last, 1, t0.Add(-2*time.Hour))
	next := Request{Subscriber: "s", Action: ActionSignIn, Geo: Geo{Country: "WS", Coordinates: &samoa}}
	// Two hours for ~1,100 km is a flight (~550 km/h); naive longitude differences
	// would make it ~39,000 km and "impossible".
	v, reason := run(impossibleTravel, cfg, p, next, clock.Now())
	assert.Zero(t, v, reason)
	// Half an hour is not.
	next.Time = t0.Add(-90 * time.Minute)
	v, reason = run(impossibleTravel, cfg, p, next, clock.Now())
	assert.Equal(t, 1.0, v)
	assert.True(t, strings.Contains(reason, "km/h"), reason)
}

// A request assessed after a later sign-in was learned is judged on the time between
// the two, in either order: ten days apart is no travel at all, half an hour is.
func TestImpossibleTravelOlderRequest(t *testing.T) {
	clock := fakeclock.New(t0)
	cfg := testConfig(t, clock)
	p := learned(Request{Subscriber: "s", Action: ActionSignIn, Geo: miamiFL}, 1, t0.Add(-time.Hour))
	next := Request{Subscriber: "s", Action: ActionSignIn, Geo: laCA, Time: t0.Add(-10 * 24 * time.Hour)}
	v, reason := run(impossibleTravel, cfg, p, next, clock.Now())
	assert.Zero(t, v, reason)

	next.Time = t0.Add(-90 * time.Minute)
	v, reason = run(impossibleTravel, cfg, p, next, clock.Now())
	assert.Equal(t, 1.0, v)
	assert.Contains(t, reason, "30m0s later")

	// Zero elapsed time: impossible anywhere but the same place.
	next.Time = t0.Add(-time.Hour)
	v, _ = run(impossibleTravel, cfg, p, next, clock.Now())
	assert.Equal(t, 1.0, v)
	next.Geo = miamiFL
	v, reason = run(impossibleTravel, cfg, p, next, clock.Now())
	assert.Zero(t, v, reason)
}
