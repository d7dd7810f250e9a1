package risk

import "math"

// EarthRadiusKm is the mean Earth radius used by [DistanceKm].
const EarthRadiusKm = 6371.0088

// DistanceKm returns the great-circle distance between a and b in kilometres, by the
// haversine formula. It is exact for a sphere (within 0.5% of the ellipsoid), symmetric,
// zero for the same point and correct across the antimeridian and at the poles.
func DistanceKm(a, b Coordinates) float64 {
	const rad = math.Pi / 180
	φ1, φ2 := a.Lat*rad, b.Lat*rad
	dφ := (b.Lat - a.Lat) * rad
	dλ := (b.Lon - a.Lon) * rad
	s1, s2 := math.Sin(dφ/2), math.Sin(dλ/2)
	h := s1*s1 + math.Cos(φ1)*math.Cos(φ2)*s2*s2
	if h > 1 {
		h = 1 // rounding near antipodes
	}
	return 2 * EarthRadiusKm * math.Asin(math.Sqrt(h))
}
