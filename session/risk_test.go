package session_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/risk/geoip"
	"github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/store/memory"
)

// The MaxMind locator plugs straight into RiskTravel.
var _ session.GeoLookup = (*geoip.Locator)(nil)

var (
	miamiIP   = netip.MustParseAddr("203.0.113.7")
	miamiIP2  = netip.MustParseAddr("203.0.113.8")  // another Miami address (new DHCP lease)
	laIP      = netip.MustParseAddr("198.51.100.9") // Los Angeles
	privateIP = netip.MustParseAddr("10.1.2.3")     // no coordinates
	brokenIP  = netip.MustParseAddr("192.0.2.66")   // the lookup fails
	badIP     = netip.MustParseAddr("192.0.2.77")   // the database returns nonsense coordinates
)

// geoTable is a stand-in for *geoip.Locator.
var geoTable = session.GeoLookupFunc(func(a netip.Addr) (risk.Geo, error) {
	switch a {
	case miamiIP, miamiIP2:
		return risk.Geo{Country: "US", Region: "FL", City: "Miami", Coordinates: &risk.Coordinates{Lat: 25.76, Lon: -80.19}}, nil
	case laIP:
		return risk.Geo{Country: "US", Region: "CA", City: "Los Angeles", Coordinates: &risk.Coordinates{Lat: 34.05, Lon: -118.24}}, nil
	case brokenIP:
		return risk.Geo{}, errors.New("geoip: lookup failed: corrupt record")
	case badIP:
		return risk.Geo{Coordinates: &risk.Coordinates{Lat: 123, Lon: 0}}, nil
	}
	return risk.Geo{}, nil
})

// travelWorld is session.Service with Config.Travel = RiskTravel(*risk.Service, geo), on
// the in-memory stores and one fake clock.
type travelWorld struct {
	clock    *fakeclock.Clock
	events   *notify.Recorder
	sessions *session.Service
}

func newTravelWorld(t *testing.T) *travelWorld {
	t.Helper()
	w := &travelWorld{clock: fakeclock.New(epoch), events: &notify.Recorder{}}
	opts := memory.Options{Now: w.clock.Now}
	scorer, err := risk.New(risk.Config{Now: w.clock.Now}, memory.NewRiskProfiles(opts), memory.NewRiskGlobal(opts))
	require.NoError(t, err)
	w.sessions, err = session.New(session.Config{
		Travel:      session.RiskTravel(scorer, geoTable),
		IdleTimeout: 12 * time.Hour,
		Now:         w.clock.Now,
	}, memory.NewSession(opts), w.events)
	require.NoError(t, err)
	return w
}

func at(ip netip.Addr) session.Client {
	return session.Client{Device: "fp-phone", UserAgent: "CarrierApp/5.2", IP: ip}
}

func TestRiskTravelRevokesAMiamiToCaliforniaHop(t *testing.T) {
	ctx := context.Background()
	w := newTravelWorld(t)
	token, s, err := w.sessions.Create(ctx, "sub-42", at(miamiIP), session.ProofPassword, session.ProofSecondFactor)
	require.NoError(t, err)

	w.clock.Advance(2 * time.Minute)
	_, err = w.sessions.Validate(ctx, token, at(miamiIP2))
	require.NoError(t, err, "a new address in the same city is not travel")
	assert.Empty(t, w.events.Events())

	// Five minutes later the same token (and a cloned device fingerprint) shows up in
	// California: 3,760 km in 5 minutes.
	w.clock.Advance(5 * time.Minute)
	_, err = w.sessions.Validate(ctx, token, at(laIP))
	require.ErrorIs(t, err, session.ErrBindingViolation)
	assert.ErrorIs(t, err, session.ErrNotAuthenticated)

	ev, ok := w.events.Last(notify.SuspiciousActivity)
	require.True(t, ok, "a notify.SuspiciousActivity event must be published")
	assert.Equal(t, "sub-42", ev.Subscriber)
	assert.Equal(t, w.clock.Now(), ev.Time)
	assert.Equal(t, map[string]string{"reason": "impossible_travel", "session": s.ID, "ip": laIP.String(), "revoked": "1"}, ev.Attributes)
	require.NoError(t, ev.Validate())

	// Revoked for everyone: the subscriber back in Miami signs in again.
	_, err = w.sessions.Validate(ctx, token, at(miamiIP))
	assert.ErrorIs(t, err, session.ErrNotAuthenticated)
	live, err := w.sessions.List(ctx, "sub-42")
	require.NoError(t, err)
	assert.Empty(t, live)
}

func TestRiskTravel(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		after   time.Duration
		to      netip.Addr
		revoked bool // ErrBindingViolation and an event
		fault   bool // refused, but not revoked and no event
	}{
		{"Miami to LA in 10 minutes", 10 * time.Minute, laIP, true, false},
		{"Miami to LA in 3 hours (1,250 km/h)", 3 * time.Hour, laIP, true, false},
		{"Miami to LA in 6 hours (a flight)", 6 * time.Hour, laIP, false, false},
		{"to an address without coordinates", time.Minute, privateIP, false, false},
		{"the lookup fails", time.Minute, brokenIP, false, true},
		{"the lookup returns invalid coordinates", time.Minute, badIP, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newTravelWorld(t)
			token, _, err := w.sessions.Create(ctx, "sub-42", at(miamiIP))
			require.NoError(t, err)
			w.clock.Advance(tc.after)

			_, err = w.sessions.Validate(ctx, token, at(tc.to))
			switch {
			case tc.revoked:
				require.ErrorIs(t, err, session.ErrBindingViolation)
				assert.Equal(t, []notify.Type{notify.SuspiciousActivity}, w.events.Types())
			case tc.fault:
				require.Error(t, err)
				assert.NotErrorIs(t, err, session.ErrNotAuthenticated)
				assert.Empty(t, w.events.Events())
			default:
				require.NoError(t, err)
				assert.Empty(t, w.events.Events())
			}
			// Only a revocation ends the session: after a fault the subscriber's own
			// next request from where they were still works.
			_, err = w.sessions.Validate(ctx, token, at(miamiIP))
			if tc.revoked {
				assert.ErrorIs(t, err, session.ErrNotAuthenticated)
			} else if tc.fault {
				assert.NoError(t, err)
			}
		})
	}
}

func TestRiskTravelNeedsItsParts(t *testing.T) {
	_, err := session.RiskTravel(nil, geoTable).ImpossibleTravel(context.Background(), session.Move{From: miamiIP, To: laIP})
	assert.Error(t, err)
	_, err = session.RiskTravel(&risk.Service{}, nil).ImpossibleTravel(context.Background(), session.Move{From: miamiIP, To: laIP})
	assert.Error(t, err)
}
