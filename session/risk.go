package session

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/carrierguard/carrierguard/risk"
)

// GeoLookup locates an IP address. *geoip.Locator (package risk/geoip) satisfies it; an
// address it cannot place yields a Geo without Coordinates and no error.
type GeoLookup interface {
	Lookup(addr netip.Addr) (risk.Geo, error)
}

// GeoLookupFunc adapts a function to GeoLookup.
type GeoLookupFunc func(addr netip.Addr) (risk.Geo, error)

// Lookup calls f(addr).
func (f GeoLookupFunc) Lookup(addr netip.Addr) (risk.Geo, error) { return f(addr) }

// TravelJudge is the impossible-travel judgement of package risk: *risk.Service
// satisfies it, with the haversine distance, MaxSpeedKmh and HomeRadiusKm of its Config.
type TravelJudge interface {
	ImpossibleTravel(from, to risk.Sighting) (bool, error)
}

var _ TravelJudge = (*risk.Service)(nil)

// RiskTravel returns the TravelCheck for Config.Travel that judges a session's move the
// way package risk judges sign-ins: both addresses are located with geo, and judge (the
// carrier's *risk.Service) decides whether the distance between them could have been
// covered in the time between the two uses of the session.
//
// A move that cannot be judged because either address has no coordinates (a private
// range, an address the database does not cover) is not impossible travel: device
// binding still applies, and risk scoring still sees the request. A lookup or judge
// error is returned, so Validate refuses the request (fail closed) without revoking.
func RiskTravel(judge TravelJudge, geo GeoLookup) TravelCheck {
	return riskTravel{judge: judge, geo: geo}
}

type riskTravel struct {
	judge TravelJudge
	geo   GeoLookup
}

func (t riskTravel) ImpossibleTravel(_ context.Context, m Move) (bool, error) {
	if t.judge == nil || t.geo == nil {
		return false, fmt.Errorf("session: RiskTravel needs a judge and a GeoLookup")
	}
	from, err := t.geo.Lookup(m.From)
	if err != nil {
		return false, fmt.Errorf("session: locating the previous address: %w", err)
	}
	to, err := t.geo.Lookup(m.To)
	if err != nil {
		return false, fmt.Errorf("session: locating the new address: %w", err)
	}
	if from.Coordinates == nil || to.Coordinates == nil {
		return false, nil
	}
	return t.judge.ImpossibleTravel(
		risk.Sighting{Coordinates: *from.Coordinates, At: m.FromAt},
		risk.Sighting{Coordinates: *to.Coordinates, At: m.ToAt},
	)
}

var _ TravelCheck = riskTravel{}
