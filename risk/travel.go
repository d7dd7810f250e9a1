package risk

import (
	"fmt"
	"time"
)

// Sighting is where and when a subscriber was seen: the located address of a sign-in or
// of a session's request.
type Sighting struct {
	Coordinates Coordinates
	At          time.Time
}

// ImpossibleTravel reports whether getting from one sighting to the other needs more than
// Config.MaxSpeedKmh, by the same judgement, and with the same configuration, as the
// impossible_travel signal: the haversine distance ([DistanceKm]) over the time between
// the sightings, in either order; moves within Config.HomeRadiusKm (the precision of IP
// geolocation) never count; a move beyond that radius with no time between the two is
// impossible. It reads no store and changes nothing.
//
// It is for callers that hold two located points of their own, such as package session
// between two uses of one session (session.RiskTravel). Coordinates out of range return
// an error wrapping [ErrInvalidCoordinates]; callers must then refuse, not allow.
func (s *Service) ImpossibleTravel(from, to Sighting) (bool, error) {
	for _, c := range []Coordinates{from.Coordinates, to.Coordinates} {
		if !c.Valid() {
			return false, fmt.Errorf("%w: (%v, %v); want latitude in [-90, 90] and longitude in [-180, 180]", ErrInvalidCoordinates, c.Lat, c.Lon)
		}
	}
	impossible, _, _ := travel(from, to, s.cfg.HomeRadiusKm, s.cfg.MaxSpeedKmh)
	return impossible, nil
}

// travel is the impossible-travel judgement shared by the signal and
// Service.ImpossibleTravel. It also returns the distance and, for a move beyond the
// radius, the absolute time between the sightings, for the signal's reason.
func travel(from, to Sighting, radiusKm, maxSpeedKmh float64) (impossible bool, km float64, gap time.Duration) {
	km = DistanceKm(from.Coordinates, to.Coordinates)
	if km <= radiusKm {
		return false, km, 0
	}
	gap = to.At.Sub(from.At)
	if gap < 0 {
		gap = -gap
	}
	if gap == 0 {
		return true, km, 0
	}
	return km/gap.Hours() > maxSpeedKmh, km, gap
}
