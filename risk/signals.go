package risk

import (
	"fmt"
	"maps"
	"time"
)

// Names of the built-in signals, as they appear in Signal.Name and Config.Weights.
const (
	SignalNewDevice        = "new_device"
	SignalNewLocation      = "new_location"
	SignalHomeDistance     = "home_distance"
	SignalImpossibleTravel = "impossible_travel"
	SignalUntrustedIP      = "untrusted_ip"
	SignalVelocity         = "velocity"
	SignalPortVelocity     = "port_velocity"
	SignalCredentialChange = "credential_change"
	SignalUnverifiedEmail  = "unverified_email"
	SignalYoungAccount     = "young_account"
	SignalRecentSIMChange  = "recent_sim_change"
	SignalModel            = "freeman_model"
)

// DefaultWeights returns the weights of the built-in signals used when Config.Weights
// does not name them. The combination is a noisy-OR (see the package doc), so a weight
// is the score one fully-firing signal produces on its own.
func DefaultWeights() map[string]float64 { return maps.Clone(defaultWeights) }

var defaultWeights = map[string]float64{
	SignalNewDevice:        0.30,
	SignalNewLocation:      0.35,
	SignalHomeDistance:     0.30,
	SignalImpossibleTravel: 0.65,
	SignalUntrustedIP:      0.40,
	SignalVelocity:         0.50,
	SignalPortVelocity:     0.50,
	SignalCredentialChange: 0.70,
	SignalUnverifiedEmail:  0.20,
	SignalYoungAccount:     0.25,
	SignalRecentSIMChange:  0.40,
	SignalModel:            0.60,
}

// env is what every built-in signal sees: the validated request, its keys, the
// subscriber's profile and the request time. Signals are pure functions of env.
type env struct {
	req  *Request
	keys *Keys
	p    *Profile
	acct *Account  // the request's account facts merged with the changes recorded
	t    time.Time // request time
	cfg  *Config
}

// newDevice fires when the device fingerprint (or, without one, the user agent) has not
// been seen in this subscriber's successful logins. Subscribers without history are
// covered by other signals.
func newDevice(e *env) (float64, string) {
	f := FeatureDevice
	if e.keys[f] == 0 {
		f = FeatureUserAgent
	}
	k := e.keys[f]
	if k == 0 {
		return 0.5, "no device fingerprint or user agent supplied"
	}
	if e.p.tables[f].total == 0 {
		return 0, ""
	}
	if e.p.tables[f].count(k) == 0 {
		if f == FeatureDevice {
			return 1, "device not seen before for this subscriber"
		}
		return 1, "user agent not seen before for this subscriber"
	}
	return 0, ""
}

// newLocation fires when the country (1), region (0.6) or city (0.3) is new.
func newLocation(e *env) (float64, string) {
	for _, l := range []struct {
		f      Feature
		v      float64
		reason string
	}{
		{FeatureCountry, 1, "country not seen before for this subscriber"},
		{FeatureRegion, 0.6, "region not seen before for this subscriber"},
		{FeatureCity, 0.3, "city not seen before for this subscriber"},
	} {
		k := e.keys[l.f]
		if k == 0 || e.p.tables[l.f].total == 0 {
			continue
		}
		if e.p.tables[l.f].count(k) == 0 {
			return l.v, l.reason
		}
	}
	return 0, ""
}

// homeDistance grows linearly from 0 at Config.HomeRadiusKm to 1 at Config.FarKm from
// the subscriber's home area (the location of their most often seen city).
func homeDistance(e *env) (float64, string) {
	c := e.req.Geo.Coordinates
	home, ok := e.p.Home()
	if c == nil || !ok {
		return 0, ""
	}
	d := DistanceKm(home, *c)
	r, far := e.cfg.HomeRadiusKm, e.cfg.FarKm
	if d <= r {
		return 0, ""
	}
	v := min(1, (d-r)/(far-r))
	return v, fmt.Sprintf("%.0f km from the subscriber's home area", d)
}

// impossibleTravel fires when reaching the request's location from the last known one
// in the time between them needs more than Config.MaxSpeedKmh. Moves within
// Config.HomeRadiusKm (the precision of IP geolocation) never count.
func impossibleTravel(e *env) (float64, string) {
	c := e.req.Geo.Coordinates
	last, at, ok := e.p.LastLocation()
	if c == nil || !ok {
		return 0, ""
	}
	// A request may be assessed after a later sign-in was learned (a queued or
	// late-reported request): travel is judged on the time between the two, whichever
	// came first.
	impossible, d, gap := travel(Sighting{last, at}, Sighting{*c, e.t}, e.cfg.HomeRadiusKm, e.cfg.MaxSpeedKmh)
	switch {
	case !impossible:
		return 0, ""
	case gap == 0:
		return 1, fmt.Sprintf("%.0f km from the last sign-in location with no time between them", d)
	}
	when := "earlier"
	if e.t.Before(at) {
		when = "later"
	}
	return 1, fmt.Sprintf("%.0f km from the last sign-in location %s %s (%.0f km/h)", d, roundDur(gap), when, d/gap.Hours())
}

func roundDur(d time.Duration) time.Duration {
	if d >= time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

// velocity fires when the subscriber's sensitive requests or failures within
// Config.VelocityWindow reach their limits.
func velocity(e *env) (float64, string) {
	from := e.t.Add(-e.cfg.VelocityWindow)
	if n := e.p.failures.since(from, e.t); n >= e.cfg.MaxFailures {
		return 1, fmt.Sprintf("%d failed attempts in the last %s", n, e.cfg.VelocityWindow)
	}
	if !e.req.Action.Sensitive() {
		return 0, ""
	}
	if n := e.p.sensitive.since(from, e.t); n >= e.cfg.MaxSensitive {
		return 1, fmt.Sprintf("%d sensitive requests in the last %s", n, e.cfg.VelocityWindow)
	}
	return 0, ""
}

// portVelocity fires on a port-out when the line already had Config.MaxPortRequests
// failed port-out requests (on any channel) within Config.PortWindow: a partner probing
// or trying PINs, or a thief trying carrier after carrier.
func portVelocity(e *env) (float64, string) {
	if e.req.Action != ActionPortOut {
		return 0, ""
	}
	if n := e.p.ports.since(e.t.Add(-e.cfg.PortWindow), e.t); n >= e.cfg.MaxPortRequests {
		return 1, fmt.Sprintf("%d failed port-out requests for this line in the last %s", n, e.cfg.PortWindow)
	}
	return 0, ""
}

// credentialChange fires on a SIM swap or port-out requested within
// Config.CredentialChangeWindow after a password, email, trusted-contact or
// second-factor change, or after a protection flag was lifted.
func credentialChange(e *env) (float64, string) {
	if !e.req.Action.takeover() {
		return 0, ""
	}
	a := e.acct
	for _, c := range []struct {
		t    time.Time
		what Change
	}{
		{a.PasswordChanged, ChangePassword}, {a.EmailChanged, ChangeEmail}, {a.ContactChanged, ChangeContact},
		{a.FactorChanged, ChangeFactor}, {a.FlagLifted, ChangeFlagLifted},
	} {
		if c.t.IsZero() || c.t.After(e.t) {
			continue
		}
		if ago := e.t.Sub(c.t); ago <= e.cfg.CredentialChangeWindow {
			if c.what == ChangeFlagLifted {
				return 1, fmt.Sprintf("a protection flag was lifted %s before this %s", roundDur(ago), e.req.Action)
			}
			return 1, fmt.Sprintf("%s changed %s before this %s", c.what, roundDur(ago), e.req.Action)
		}
	}
	return 0, ""
}

// unverifiedEmail fires when the account's email address is not verified.
func unverifiedEmail(e *env) (float64, string) {
	if e.acct.EmailVerified {
		return 0, ""
	}
	return 1, "email address not verified"
}

// youngAccount falls linearly from 1 for a new account to 0 at Config.YoungAccount.
func youngAccount(e *env) (float64, string) {
	return decay(e.acct.Created, e.t, e.cfg.YoungAccount, "account created %s ago")
}

// recentSIMChange falls linearly from 1 right after a SIM change to 0 at
// Config.SIMChangeWindow.
func recentSIMChange(e *env) (float64, string) {
	return decay(e.acct.SIMChanged, e.t, e.cfg.SIMChangeWindow, "SIM changed %s ago")
}

func decay(since, now time.Time, window time.Duration, format string) (float64, string) {
	if since.IsZero() || since.After(now) {
		return 0, ""
	}
	age := now.Sub(since)
	if age >= window {
		return 0, ""
	}
	return 1 - float64(age)/float64(window), fmt.Sprintf(format, roundDur(age))
}

// builtins are the pure built-in signals, in report order. client marks the signals
// that read the client (device, browser, place): they apply only on channels where the
// client is the subscriber's own (see Channel.SubscriberClient). Untrusted IP and the
// model need context and stores; Service evaluates them itself.
var builtins = []struct {
	name   string
	fn     func(*env) (float64, string)
	client bool
}{
	{SignalNewDevice, newDevice, true},
	{SignalNewLocation, newLocation, true},
	{SignalHomeDistance, homeDistance, true},
	{SignalImpossibleTravel, impossibleTravel, true},
	{SignalVelocity, velocity, false},
	{SignalPortVelocity, portVelocity, false},
	{SignalCredentialChange, credentialChange, false},
	{SignalUnverifiedEmail, unverifiedEmail, false},
	{SignalYoungAccount, youngAccount, false},
	{SignalRecentSIMChange, recentSIMChange, false},
}
