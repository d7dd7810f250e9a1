package risk_test

import (
	"context"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestImpossibleTravel(t *testing.T) {
	clock := fakeclock.New(epoch)
	s := newService(t, clock, risk.Config{})
	mia, lax := *miami.Coordinates, *la.Coordinates      // about 3,760 km apart
	nearMia := risk.Coordinates{Lat: 25.95, Lon: -80.12} // about 22 km from mia
	at := func(c risk.Coordinates, d time.Duration) risk.Sighting {
		return risk.Sighting{Coordinates: c, At: epoch.Add(d)}
	}
	for _, tc := range []struct {
		name     string
		from, to risk.Sighting
		want     bool
	}{
		{"Miami to LA in 10 minutes", at(mia, 0), at(lax, 10*time.Minute), true},
		{"Miami to LA in 3 hours (1,250 km/h)", at(mia, 0), at(lax, 3*time.Hour), true},
		{"Miami to LA in 5 hours (750 km/h, a flight)", at(mia, 0), at(lax, 5*time.Hour), false},
		{"order does not matter", at(lax, 10*time.Minute), at(mia, 0), true},
		{"same instant, far apart", at(mia, 0), at(lax, 0), true},
		{"within the home radius, same instant", at(mia, 0), at(nearMia, 0), false},
		{"same place", at(mia, 0), at(mia, time.Second), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ImpossibleTravel(tc.from, tc.to)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}

	for _, bad := range []risk.Coordinates{{Lat: 91}, {Lon: -181}, {Lat: math.NaN()}} {
		_, err := s.ImpossibleTravel(at(mia, 0), at(bad, time.Hour))
		assert.ErrorIs(t, err, risk.ErrInvalidCoordinates, "%v", bad)
		_, err = s.ImpossibleTravel(at(bad, 0), at(mia, time.Hour))
		assert.ErrorIs(t, err, risk.ErrInvalidCoordinates, "%v", bad)
	}

	// The configuration is the signal's: a faster MaxSpeedKmh lets the 3-hour hop pass.
	fast := newService(t, clock, risk.Config{MaxSpeedKmh: 2000})
	got, err := fast.ImpossibleTravel(at(mia, 0), at(lax, 3*time.Hour))
	require.NoError(t, err)
	assert.False(t, got)
}

// ImpossibleTravel and the impossible_travel signal give the same verdict, for moves on
// both sides of the speed threshold and the home radius.
func TestImpossibleTravelAgreesWithTheSignal(t *testing.T) {
	ctx := context.Background()
	mia := *miami.Coordinates
	verdicts := map[bool]int{}
	for _, to := range []risk.Coordinates{*la.Coordinates, {Lat: 25.95, Lon: -80.12}, {Lat: 28.54, Lon: -81.38} /* Orlando, 330 km */} {
		for _, gap := range []time.Duration{0, time.Minute, 20 * time.Minute, time.Hour, 4 * time.Hour, 5 * time.Hour} {
			clock := fakeclock.New(epoch)
			s := newService(t, clock, risk.Config{})
			first := homeReq(risk.ActionSignIn)
			require.NoError(t, s.Record(ctx, first, risk.Verified))
			clock.Advance(gap)
			next := homeReq(risk.ActionSignIn)
			c := to
			next.Geo = risk.Geo{Country: "US", Coordinates: &c}
			next.IP = netip.MustParseAddr("192.0.2.9")
			a, err := s.Assess(ctx, next)
			require.NoError(t, err)
			_, fired := signal(a, risk.SignalImpossibleTravel)

			got, err := s.ImpossibleTravel(risk.Sighting{Coordinates: mia, At: epoch}, risk.Sighting{Coordinates: to, At: clock.Now()})
			require.NoError(t, err)
			assert.Equal(t, fired, got, "to %v after %s", to, gap)
			verdicts[got]++
		}
	}
	assert.Positive(t, verdicts[true], "some moves must be impossible")
	assert.Positive(t, verdicts[false], "some moves must be possible")
}
