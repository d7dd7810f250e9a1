// Package geoip locates client IP addresses for package risk with MaxMind GeoIP2 or
// GeoLite2 databases: City (country, region, city, coordinates) and ASN (autonomous
// system). It reads them with github.com/oschwald/maxminddb-golang.
//
//	loc, err := geoip.Open(geoip.Config{
//		CityPath: "/var/lib/GeoIP/GeoLite2-City.mmdb",
//		ASNPath:  "/var/lib/GeoIP/GeoLite2-ASN.mmdb",
//	})
//	if err != nil { ... } // a missing, corrupt or wrong database fails here, not later
//	defer loc.Close()
//	req.Geo, err = loc.Lookup(req.IP)
//
// Either database may be left out; the fields it would fill stay empty and package risk
// treats them as unknown. An address a database does not cover (private ranges, say)
// is not an error: it yields an empty Geo. Databases are memory-mapped and read-only; a
// Locator is safe for concurrent use. To update the databases, open a new Locator and
// close the old one once it is no longer in use.
package geoip

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/risk"
)

var (
	// ErrDatabase is wrapped by every error about a database that cannot be used:
	// missing, unreadable, corrupt or of the wrong type.
	ErrDatabase = errors.New("geoip: unusable database")
	// ErrLookup is wrapped by errors decoding a record during a lookup (a database
	// corrupted in a way Open's checks did not catch).
	ErrLookup = errors.New("geoip: lookup failed")
)

// Config names the databases. At least one path is required.
type Config struct {
	// CityPath is a GeoIP2 or GeoLite2 City (or Enterprise) database.
	CityPath string
	// ASNPath is a GeoLite2 ASN (or GeoIP2 ISP) database.
	ASNPath string
	// Language is the locale of city names. Empty means "en".
	Language string
	// Verify runs the reader's full structural verification of each database at Open.
	// It reads the whole file (seconds for a full City database); Open always checks the
	// header, metadata and database type.
	Verify bool
}

// Locator looks addresses up. Build it with Open.
type Locator struct {
	city, asn *maxminddb.Reader
	lang      string
}

// Open opens and checks the databases. The error wraps ErrDatabase and names the path
// and what is wrong.
func Open(cfg Config) (*Locator, error) {
	if cfg.CityPath == "" && cfg.ASNPath == "" {
		return nil, validate.Errorf("geoip", "Config.CityPath and Config.ASNPath are both empty; give at least one database")
	}
	l := &Locator{lang: cfg.Language}
	if l.lang == "" {
		l.lang = "en"
	}
	var err error
	if cfg.CityPath != "" {
		if l.city, err = open(cfg.CityPath, cfg.Verify, "City", "Enterprise"); err != nil {
			return nil, err
		}
	}
	if cfg.ASNPath != "" {
		if l.asn, err = open(cfg.ASNPath, cfg.Verify, "ASN", "ISP"); err != nil {
			if l.city != nil {
				_ = l.city.Close()
			}
			return nil, err
		}
	}
	return l, nil
}

func open(path string, verify bool, kinds ...string) (*maxminddb.Reader, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDatabase, path, err)
	}
	t := r.Metadata.DatabaseType
	ok := false
	for _, k := range kinds {
		ok = ok || strings.Contains(t, k)
	}
	if !ok {
		_ = r.Close()
		return nil, fmt.Errorf("%w: %s: database type %q; want a GeoIP2/GeoLite2 %s database", ErrDatabase, path, t, strings.Join(kinds, " or "))
	}
	if verify {
		if err := r.Verify(); err != nil {
			_ = r.Close()
			return nil, fmt.Errorf("%w: %s: %v", ErrDatabase, path, err)
		}
	}
	return r, nil
}

// Close releases the databases.
func (l *Locator) Close() error {
	var errs []error
	for _, r := range []*maxminddb.Reader{l.city, l.asn} {
		if r != nil {
			errs = append(errs, r.Close())
		}
	}
	return errors.Join(errs...)
}

type cityRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"subdivisions"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

type asnRecord struct {
	Number uint32 `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

// Lookup returns what the databases know about addr. The zero Addr, and addresses the
// databases do not cover, yield an empty Geo and no error. Coordinates that are out of
// range are dropped, never passed on.
func (l *Locator) Lookup(addr netip.Addr) (risk.Geo, error) {
	var g risk.Geo
	if !addr.IsValid() {
		return g, nil
	}
	addr = addr.Unmap().WithZone("")
	if l.city != nil {
		var c cityRecord
		if err := l.city.Lookup(addr).Decode(&c); err != nil {
			return risk.Geo{}, fmt.Errorf("%w: city of %s: %v", ErrLookup, addr, err)
		}
		g.Country = c.Country.ISOCode
		if len(c.Subdivisions) > 0 {
			g.Region = c.Subdivisions[0].ISOCode
		}
		g.City = c.City.Names[l.lang]
		if c.Location.Latitude != nil && c.Location.Longitude != nil {
			p := risk.Coordinates{Lat: *c.Location.Latitude, Lon: *c.Location.Longitude}
			if p.Valid() {
				g.Coordinates = &p
			}
		}
	}
	if l.asn != nil {
		var a asnRecord
		if err := l.asn.Lookup(addr).Decode(&a); err != nil {
			return risk.Geo{}, fmt.Errorf("%w: ASN of %s: %v", ErrLookup, addr, err)
		}
		g.ASN, g.ASOrg = a.Number, a.Org
	}
	return g, nil
}

// Locate fills req.Geo from req.IP, keeping any fields the caller already set (for
// example coordinates from the device's own location service).
func (l *Locator) Locate(req *risk.Request) error {
	g, err := l.Lookup(req.IP)
	if err != nil {
		return err
	}
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	set(&req.Geo.Country, g.Country)
	set(&req.Geo.Region, g.Region)
	set(&req.Geo.City, g.City)
	set(&req.Geo.ASOrg, g.ASOrg)
	if req.Geo.Coordinates == nil {
		req.Geo.Coordinates = g.Coordinates
	}
	if req.Geo.ASN == 0 {
		req.Geo.ASN = g.ASN
	}
	return nil
}
