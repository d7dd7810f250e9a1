package geoip_test

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/risk/geoip"
)

// writeDB writes a small MaxMind database of type dbType into the test's temp dir.
func writeDB(t *testing.T, dbType string, records map[string]mmdbtype.Map) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, IncludeReservedNetworks: true, Languages: []string{"en"}, Description: map[string]string{"en": "carrierguard test " + dbType}})
	require.NoError(t, err)
	for cidr, rec := range records {
		_, n, err := net.ParseCIDR(cidr)
		require.NoError(t, err)
		require.NoError(t, tree.Insert(n, rec))
	}
	path := filepath.Join(t.TempDir(), dbType+".mmdb")
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = tree.WriteTo(f)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return path
}

func city(country, region, name string, lat, lon float64) mmdbtype.Map {
	return mmdbtype.Map{
		"country":      mmdbtype.Map{"iso_code": mmdbtype.String(country)},
		"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(region)}},
		"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(name)}},
		"location":     mmdbtype.Map{"latitude": mmdbtype.Float64(lat), "longitude": mmdbtype.Float64(lon), "accuracy_radius": mmdbtype.Uint16(20)},
	}
}

func asn(n uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n), "autonomous_system_organization": mmdbtype.String(org)}
}

func testDBs(t *testing.T) (cityPath, asnPath string) {
	cityPath = writeDB(t, "GeoLite2-City", map[string]mmdbtype.Map{
		"192.0.2.0/24":    city("US", "FL", "Miami", 25.7617, -80.1918),
		"198.51.100.0/24": city("US", "CA", "Los Angeles", 34.0522, -118.2437),
		"2001:db8::/32":   city("DE", "BE", "Berlin", 52.52, 13.405),
		"203.0.113.0/25":  {"country": mmdbtype.Map{"iso_code": mmdbtype.String("FR")}}, // country only
		"203.0.113.128/25": {
			"country":  mmdbtype.Map{"iso_code": mmdbtype.String("XX")},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(123), "longitude": mmdbtype.Float64(0)},
		},
	})
	asnPath = writeDB(t, "GeoLite2-ASN", map[string]mmdbtype.Map{
		"192.0.2.0/24":    asn(7922, "Comcast"),
		"198.51.100.0/24": asn(20115, "Charter"),
	})
	return cityPath, asnPath
}

func TestLookup(t *testing.T) {
	cityPath, asnPath := testDBs(t)
	loc, err := geoip.Open(geoip.Config{CityPath: cityPath, ASNPath: asnPath, Verify: true})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, loc.Close()) })

	tests := []struct {
		addr string
		want risk.Geo
	}{
		{"192.0.2.10", risk.Geo{Country: "US", Region: "FL", City: "Miami", ASN: 7922, ASOrg: "Comcast", Coordinates: &risk.Coordinates{Lat: 25.7617, Lon: -80.1918}}},
		{"::ffff:198.51.100.7", risk.Geo{Country: "US", Region: "CA", City: "Los Angeles", ASN: 20115, ASOrg: "Charter", Coordinates: &risk.Coordinates{Lat: 34.0522, Lon: -118.2437}}},
		{"2001:db8::1", risk.Geo{Country: "DE", Region: "BE", City: "Berlin", Coordinates: &risk.Coordinates{Lat: 52.52, Lon: 13.405}}},
		{"203.0.113.5", risk.Geo{Country: "FR"}},
		{"203.0.113.200", risk.Geo{Country: "XX"}}, // out-of-range latitude dropped
		{"10.1.2.3", risk.Geo{}},                   // not covered
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			g, err := loc.Lookup(netip.MustParseAddr(tt.addr))
			require.NoError(t, err)
			assert.Equal(t, tt.want, g)
		})
	}
	g, err := loc.Lookup(netip.Addr{})
	require.NoError(t, err)
	assert.Equal(t, risk.Geo{}, g)
}

func TestOneDatabaseIsEnough(t *testing.T) {
	_, asnPath := testDBs(t)
	loc, err := geoip.Open(geoip.Config{ASNPath: asnPath})
	require.NoError(t, err)
	defer loc.Close()
	g, err := loc.Lookup(netip.MustParseAddr("192.0.2.1"))
	require.NoError(t, err)
	assert.Equal(t, risk.Geo{ASN: 7922, ASOrg: "Comcast"}, g)
}

func TestLocateKeepsCallerFields(t *testing.T) {
	cityPath, asnPath := testDBs(t)
	loc, err := geoip.Open(geoip.Config{CityPath: cityPath, ASNPath: asnPath})
	require.NoError(t, err)
	defer loc.Close()
	gps := &risk.Coordinates{Lat: 25.8, Lon: -80.2}
	req := risk.Request{IP: netip.MustParseAddr("192.0.2.1"), Geo: risk.Geo{Coordinates: gps}}
	require.NoError(t, loc.Locate(&req))
	assert.Equal(t, risk.Geo{Country: "US", Region: "FL", City: "Miami", ASN: 7922, ASOrg: "Comcast", Coordinates: gps}, req.Geo)
}

func TestOpenErrors(t *testing.T) {
	cityPath, asnPath := testDBs(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	require.NoError(t, os.WriteFile(garbage, []byte("this is not a MaxMind database at all"), 0o600))
	good, err := os.ReadFile(cityPath)
	require.NoError(t, err)
	truncated := filepath.Join(dir, "truncated.mmdb")
	require.NoError(t, os.WriteFile(truncated, good[:len(good)/2], 0o600))
	empty := filepath.Join(dir, "empty.mmdb")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))

	tests := []struct {
		name string
		cfg  geoip.Config
		want string
	}{
		{"missing file", geoip.Config{CityPath: filepath.Join(dir, "nope.mmdb")}, "nope.mmdb"},
		{"garbage", geoip.Config{CityPath: garbage}, "garbage.mmdb"},
		{"truncated", geoip.Config{CityPath: truncated}, "truncated.mmdb"},
		{"empty", geoip.Config{ASNPath: empty}, "empty.mmdb"},
		{"ASN database given as City", geoip.Config{CityPath: asnPath}, `database type "GeoLite2-ASN"; want a GeoIP2/GeoLite2 City or Enterprise database`},
		{"City database given as ASN", geoip.Config{CityPath: cityPath, ASNPath: cityPath}, "want a GeoIP2/GeoLite2 ASN or ISP database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := geoip.Open(tt.cfg)
			assert.Nil(t, loc)
			assert.ErrorIs(t, err, geoip.ErrDatabase)
			assert.ErrorContains(t, err, tt.want)
		})
	}
	_, err = geoip.Open(geoip.Config{})
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
}
