package risk_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/store/memory"
)

const iPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"

// A subscriber who always signs in from Miami asks for a SIM swap, first from home, then
// (the attacker) from California on another device an hour after the last Miami sign-in.
func Example_miamiToCalifornia() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc, err := risk.New(risk.Config{Now: func() time.Time { return now }},
		memory.NewRiskProfiles(memory.Options{}), memory.NewRiskGlobal(memory.Options{}))
	if err != nil {
		panic(err)
	}
	account := risk.Account{EmailVerified: true, Created: now.AddDate(-3, 0, 0)}
	miami := risk.Geo{Country: "US", Region: "FL", City: "Miami", ASN: 7922,
		Coordinates: &risk.Coordinates{Lat: 25.76, Lon: -80.19}}

	// Sixty days of sign-ins: Alice from Miami, and a few hundred other subscribers
	// elsewhere so the model knows what is common.
	cities := []risk.Geo{
		{Country: "US", Region: "NY", City: "New York", ASN: 701, Coordinates: &risk.Coordinates{Lat: 40.71, Lon: -74.01}},
		{Country: "US", Region: "TX", City: "Houston", ASN: 7018, Coordinates: &risk.Coordinates{Lat: 29.76, Lon: -95.37}},
		{Country: "US", Region: "CA", City: "San Francisco", ASN: 20057, Coordinates: &risk.Coordinates{Lat: 37.77, Lon: -122.42}},
		miami,
	}
	for day := 60; day >= 1; day-- {
		at := now.Add(-time.Duration(day) * 24 * time.Hour)
		for i := range 300 {
			g := cities[i%len(cities)]
			record(ctx, svc, risk.Request{
				Subscriber: fmt.Sprintf("sub-%d", i), Action: risk.ActionSignIn, Time: at,
				IP: netip.AddrFrom4([4]byte{198, 51, byte(i % 4), byte(i)}), Geo: g,
				UserAgent: iPhone, Device: fmt.Sprintf("device-%d", i), Account: account,
			})
		}
		record(ctx, svc, risk.Request{
			Subscriber: "alice", Action: risk.ActionSignIn, Time: at.Add(time.Hour),
			IP: netip.MustParseAddr("203.0.113.7"), Geo: miami, UserAgent: iPhone,
			Device: "alice-iphone", Account: account,
		})
	}

	fromHome := risk.Request{
		Subscriber: "alice", Action: risk.ActionSIMSwap, Channel: risk.ChannelApp,
		IP: netip.MustParseAddr("203.0.113.7"), Geo: miami, UserAgent: iPhone,
		Device: "alice-iphone", Account: account,
	}
	a, _ := svc.Assess(ctx, fromHome)
	fmt.Printf("from Miami: %s (%.2f)\n", a.Level, a.Score)

	fromCalifornia := fromHome
	fromCalifornia.IP = netip.MustParseAddr("192.0.2.44")
	fromCalifornia.Geo = risk.Geo{Country: "US", Region: "CA", City: "Los Angeles", ASN: 20115,
		Coordinates: &risk.Coordinates{Lat: 34.05, Lon: -118.24}}
	fromCalifornia.Device = "unknown-android"
	fromCalifornia.UserAgent = "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
	now = now.Add(-22 * time.Hour) // an hour after Alice's last sign-in in Miami
	a, _ = svc.Assess(ctx, fromCalifornia)
	fmt.Printf("from California: %s (%.2f)\n", a.Level, a.Score)
	for _, s := range a.Signals {
		fmt.Printf("  %s: %s\n", s.Name, s.Reason)
	}
	// Output:
	// from Miami: low (0.02)
	// from California: high (0.88)
	//   impossible_travel: 3759 km from the last sign-in location 1h0m0s earlier (3759 km/h)
	//   new_device: device not seen before for this subscriber
	//   home_distance: 3759 km from the subscriber's home area
	//   new_location: region not seen before for this subscriber
	//   freeman_model: attacker/subscriber likelihood ratio S=1.01 (IP x1, user agent x1.01)
}

func record(ctx context.Context, svc *risk.Service, req risk.Request) {
	if err := svc.Record(ctx, req, risk.Verified); err != nil {
		panic(err)
	}
}
