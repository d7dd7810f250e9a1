package risk_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clientSignals are the signals that read the client: they must never fire on a
// channel whose client is not the subscriber's own device.
var clientSignals = []string{risk.SignalNewDevice, risk.SignalNewLocation, risk.SignalHomeDistance,
	risk.SignalImpossibleTravel, risk.SignalUntrustedIP, risk.SignalModel}

func TestSubscriberClient(t *testing.T) {
	for c, want := range map[risk.Channel]bool{
		risk.ChannelApp: true, risk.ChannelWeb: true, "": true, "kiosk": true,
		risk.ChannelPhone: false, risk.ChannelChat: false, risk.ChannelRetail: false, risk.ChannelAPI: false,
	} {
		assert.Equal(t, want, c.SubscriberClient(), "%q", c)
	}
}

// partnerPortOut is the gaining carrier's server asking for Alice's port-out: its own
// address, its HTTP library's user agent, no device.
func partnerPortOut() risk.Request {
	return risk.Request{Subscriber: "alice", Action: risk.ActionPortOut, Channel: risk.ChannelAPI,
		IP: netip.MustParseAddr("192.0.2.200"), UserAgent: "Go-http-client/1.1", Account: oldAcc}
}

// A normal port-out from a partner, with the PIN, on an established account scores Low:
// the partner's server is not a new device of Alice's, and no IP or user agent of hers
// is expected. Partner-appropriate signals still fire: a recent SIM change, a young
// account, an unverified email, a credential change, repeated port requests.
func TestPartnerPortOutScoresOnAccountSignals(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(epoch)
	s := newService(t, clock, risk.Config{})
	history(t, s, clock)

	a, err := s.Assess(ctx, partnerPortOut())
	require.NoError(t, err)
	assert.Equal(t, risk.Low, a.Level, "%+v", a)
	assert.Empty(t, a.Signals)
	assert.Equal(t, risk.ChannelAPI, a.Channel)

	// Even a subscriber with no history, and a partner that sends no IP at all.
	bare := partnerPortOut()
	bare.Subscriber, bare.IP, bare.UserAgent = "new-to-risk", netip.Addr{}, ""
	a, err = s.Assess(ctx, bare)
	require.NoError(t, err)
	assert.Equal(t, risk.Low, a.Level, "%+v", a)

	for _, tt := range []struct {
		name   string
		mod    func(*risk.Request)
		signal string
		level  risk.Level
	}{
		{"SIM changed yesterday", func(r *risk.Request) { r.Account.SIMChanged = epoch.Add(-24 * time.Hour) }, risk.SignalRecentSIMChange, risk.Medium},
		{"account a day old", func(r *risk.Request) { r.Account.Created = epoch.Add(-24 * time.Hour) }, risk.SignalYoungAccount, risk.Low},
		{"email not verified", func(r *risk.Request) { r.Account.EmailVerified = false }, risk.SignalUnverifiedEmail, risk.Low},
		{"password changed an hour ago", func(r *risk.Request) { r.Account.PasswordChanged = epoch.Add(-time.Hour) }, risk.SignalCredentialChange, risk.High},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := partnerPortOut()
			tt.mod(&r)
			a, err := s.Assess(ctx, r)
			require.NoError(t, err)
			assert.Contains(t, names(a), tt.signal)
			assert.Equal(t, tt.level, a.Level, "%+v", a)
			for _, n := range clientSignals {
				assert.NotContains(t, names(a), n)
			}
		})
	}
}

// A partner (or a thief with the partner's credential) trying PIN after PIN: after four
// failed port-out requests for the line within a day, the next one fires port_velocity,
// on every channel. Port-outs that did not fail do not count.
func TestPortVelocity(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(epoch)
	s := newService(t, clock, risk.Config{})
	r := partnerPortOut()
	for range 6 { // port-outs that passed (or were abandoned) are no probing
		require.NoError(t, s.Record(ctx, r, risk.Succeeded))
		require.NoError(t, s.Record(ctx, r, risk.Abandoned))
		clock.Advance(90 * time.Minute)
	}
	for i := range 4 {
		a, err := s.Assess(ctx, r)
		require.NoError(t, err)
		assert.NotContains(t, names(a), risk.SignalPortVelocity, "request %d", i+1)
		require.NoError(t, s.Record(ctx, r, risk.Failed))
		clock.Advance(90 * time.Minute) // slower than the hourly velocity signal
	}
	for _, ch := range []risk.Channel{risk.ChannelAPI, risk.ChannelChat, risk.ChannelApp} {
		q := r
		q.Channel = ch
		a, err := s.Assess(ctx, q)
		require.NoError(t, err)
		sig, ok := signal(a, risk.SignalPortVelocity)
		require.True(t, ok, "%s: %+v", ch, a)
		assert.Equal(t, "4 failed port-out requests for this line in the last 24h0m0s", sig.Reason)
	}
	// A SIM swap is not a port-out.
	swap := r
	swap.Action = risk.ActionSIMSwap
	a, err := s.Assess(ctx, swap)
	require.NoError(t, err)
	assert.NotContains(t, names(a), risk.SignalPortVelocity)
	// A day later the line is quiet again.
	clock.Advance(24 * time.Hour)
	a, err = s.Assess(ctx, r)
	require.NoError(t, err)
	assert.NotContains(t, names(a), risk.SignalPortVelocity)
}

// Agent channels are scored like partners: the agent's desk has no device of the
// subscriber's and no IP address, and neither is a signal.
func TestAgentChannelsScoreOnAccountSignals(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(epoch)
	s := newService(t, clock, risk.Config{})
	history(t, s, clock)
	for _, ch := range []risk.Channel{risk.ChannelPhone, risk.ChannelChat, risk.ChannelRetail} {
		r := risk.Request{Subscriber: "alice", Action: risk.ActionSIMSwap, Channel: ch, Account: oldAcc}
		a, err := s.Assess(ctx, r)
		require.NoError(t, err)
		assert.Equal(t, risk.Low, a.Level, "%s: %+v", ch, a)
		assert.Empty(t, a.Signals, ch)
		// The same request in the app, with no client facts, is not quiet: a missing IP
		// and device are signals there.
		r.Channel = risk.ChannelApp
		a, err = s.Assess(ctx, r)
		require.NoError(t, err)
		assert.Contains(t, names(a), risk.SignalUntrustedIP)
		assert.Contains(t, names(a), risk.SignalNewDevice)
	}
}

// Only a Verified request on the subscriber's own device teaches the profile. A
// password-only sign-in (Succeeded), a failure, an abandoned request, and a Verified
// request on an agent or partner channel teach nothing: the thief's phone and the
// partner's server never become "known".
func TestOnlyASecondFactorOnTheSubscribersDeviceTeaches(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		outcome risk.Outcome
		channel risk.Channel
		learns  bool
	}{
		{risk.Succeeded, risk.ChannelApp, false},
		{risk.Failed, risk.ChannelApp, false},
		{risk.Abandoned, risk.ChannelWeb, false},
		{risk.Verified, risk.ChannelApp, true},
		{risk.Verified, risk.ChannelWeb, true},
		{risk.Verified, "", true},
		{risk.Verified, risk.ChannelAPI, false},
		{risk.Verified, risk.ChannelChat, false},
		{risk.Verified, risk.ChannelPhone, false},
		{risk.Verified, risk.ChannelRetail, false},
	} {
		profiles, global := memory.NewRiskProfiles(memory.Options{}), memory.NewRiskGlobal(memory.Options{})
		clock := fakeclock.New(epoch)
		s, err := risk.New(risk.Config{Now: clock.Now}, profiles, global)
		require.NoError(t, err)
		r := homeReq(risk.ActionSignIn)
		r.Channel, r.Device = tt.channel, "thief-phone"
		require.NoError(t, s.Record(ctx, r, tt.outcome))
		var p risk.Profile
		require.NoError(t, profiles.LoadProfile(ctx, "alice", &p))
		k := r.Keys()
		st, err := global.GlobalStats(ctx, &k)
		require.NoError(t, err)
		if tt.learns {
			assert.Equal(t, 1, p.Count(risk.FeatureDevice, k[risk.FeatureDevice]), "%v on %q", tt.outcome, tt.channel)
			assert.Equal(t, uint64(1), st.Logins)
		} else {
			assert.Zero(t, p.Logins(), "%v on %q", tt.outcome, tt.channel)
			assert.Zero(t, st.Logins, "%v on %q", tt.outcome, tt.channel)
			assert.False(t, p.Established())
		}
	}
}
