package risk_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/store/memory"
)

var benchAgents = []string{
	iPhone,
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
}

// benchWorld: a subscriber with 1,000 past logins (a few IPs, ASNs and user agents) among
// 1,000 other subscribers.
func benchWorld(b *testing.B) (*fakeclock.Clock, risk.ProfileStore, risk.GlobalStore, risk.Request) {
	clock := fakeclock.New(epoch)
	profiles, global := memory.NewRiskProfiles(memory.Options{}), memory.NewRiskGlobal(memory.Options{})
	m, err := risk.NewModel(risk.ModelConfig{Now: clock.Now}, profiles, global)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	login := func(sub string, i int, at time.Time) risk.Request {
		return risk.Request{Subscriber: sub, Action: risk.ActionSignIn, Time: at,
			IP:        netip.AddrFrom4([4]byte{198, 51, byte(i % 7), byte(i % 13)}),
			Geo:       risk.Geo{Country: "US", Region: "FL", City: "Miami", ASN: uint32(7922 + i%3), Coordinates: miami.Coordinates},
			UserAgent: benchAgents[i%len(benchAgents)], Device: fmt.Sprint("dev", i%4), Account: oldAcc}
	}
	for i := range 1000 {
		at := epoch.Add(-time.Duration(1000-i) * time.Hour)
		if err := m.Learn(ctx, login("alice", i, at)); err != nil {
			b.Fatal(err)
		}
		if err := m.Learn(ctx, login(fmt.Sprint("u", i), i*31, at)); err != nil {
			b.Fatal(err)
		}
	}
	req := login("alice", 5, time.Time{})
	req.Action = risk.ActionSIMSwap
	req.IP = netip.MustParseAddr("192.0.2.200") // unseen: the hierarchy falls back to ASN
	return clock, profiles, global, req
}

// BenchmarkFreemanScore scores one request with the Freeman model (IP and user-agent
// hierarchies) for a subscriber with 1,000 past logins: loading the profile and global
// counts from the in-memory stores, hashing and the arithmetic. The user agent is one the
// model has seen, so its parsed form comes from the model's cache, as for the common
// browsers a carrier sees all day; BenchmarkParseUserAgent is the cost of a new one.
func BenchmarkFreemanScore(b *testing.B) {
	clock, profiles, global, req := benchWorld(b)
	m, err := risk.NewModel(risk.ModelConfig{Now: clock.Now}, profiles, global)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Score(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAssess runs every built-in signal and the model, combined (no geo lookup: the
// request carries its location).
func BenchmarkAssess(b *testing.B) {
	clock, profiles, global, req := benchWorld(b)
	list := risk.NewIPList()
	for i := range 256 {
		list.Add("hosting", netip.PrefixFrom(netip.AddrFrom4([4]byte{203, byte(i), 0, 0}), 16))
	}
	s, err := risk.New(risk.Config{Now: clock.Now, UntrustedIPs: list}, profiles, global)
	if err != nil {
		b.Fatal(err)
	}
	req.Account.PasswordChanged = epoch.Add(-time.Hour)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Assess(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProfileMemory reports the heap per profile at its bounds in the in-memory
// store (bytes/profile); the target is at most 8 KiB.
func BenchmarkProfileMemory(b *testing.B) {
	for b.Loop() {
		b.ReportMetric(measureProfiles(b, 500), "bytes/profile")
	}
}

// BenchmarkParseUserAgent is the cost of a user agent the model has not cached yet.
func BenchmarkParseUserAgent(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = risk.ParseUserAgent(benchAgents[1])
	}
}
