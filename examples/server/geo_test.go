package main

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/session"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testGeo places the harness's client address in Miami and 198.51.100.9 in Los Angeles.
var testGeo = session.GeoLookupFunc(func(a netip.Addr) (risk.Geo, error) {
	switch a.String() {
	case "203.0.113.7":
		return risk.Geo{Country: "US", Region: "FL", City: "Miami", Coordinates: &risk.Coordinates{Lat: 25.76, Lon: -80.19}}, nil
	case "198.51.100.9":
		return risk.Geo{Country: "US", Region: "CA", City: "Los Angeles", Coordinates: &risk.Coordinates{Lat: 34.05, Lon: -118.24}}, nil
	}
	return risk.Geo{}, nil
})

func TestGeoImpossibleTravelRevokesSession(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Geo = testGeo })
	tok := h.signup("ada@example.com", "+14155550102")
	require.Equal(t, 200, h.do("GET", "/v1/me", nil, bearerH(tok)).Status)
	// The same token a minute later from the other side of the country: revoked.
	h.clock.Advance(time.Minute)
	r := h.do("GET", "/v1/me", nil, bearerH(tok), "X-Forwarded-For: 203.0.113.7", "X-Test-Remote: 198.51.100.9")
	assert.Equal(t, http.StatusUnauthorized, r.Status, r.Raw)
	assert.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", nil, bearerH(tok)).Status)
	h.eventTo("ada@example.com", "security.suspicious_activity")
}

func TestGeoRiskSignals(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Geo = testGeo })
	h.signup("ada@example.com", "+14155550102")
	h.learnSignin("ada@example.com", harnessClient) // a sign-in with a second factor, in Miami
	// "Normally in Miami, now asking from California": the location signals fire.
	h.clock.Advance(6 * time.Hour)
	r := h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword}, "X-Test-Remote: 198.51.100.9")
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Contains(t, r.Raw, `"home_distance"`)
	assert.Contains(t, r.Raw, `"new_location"`)
}
