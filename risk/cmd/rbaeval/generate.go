package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/carrierguard/carrierguard/risk"
)

// The synthetic world: countries of skewed popularity, each with regions, cities and
// consumer ISPs (one /16 of addresses per ASN), a few hosting networks that credential
// stuffers use, and a catalogue of realistic user agents. Subscribers have a home ISP
// and address, one to three devices, browsers that update now and then, occasional
// trips, and a small share of mistyped passwords. Credential-stuffing attempts from the
// hosting networks are marked "Is Attack IP"; the rare successful one is an account
// takeover.

type isp struct {
	asn    uint32
	base   [2]byte // the /16 its addresses come from
	region int     // -1 for a national (mobile) network
}

type country struct {
	code    string
	regions int
	isps    []isp
}

type world struct {
	r         *rand.Rand
	countries []country
	weights   []float64 // popularity, Zipf-like
	hosting   []isp
	hostingCC []string
}

var countryCodes = []string{"US", "NO", "DE", "BR", "GB", "FR", "IN", "PL", "SE", "ES", "IT", "NL", "CA", "JP", "ZA"}

func newWorld(r *rand.Rand) *world {
	w := &world{r: r}
	next := 0
	newISP := func(region int) isp {
		next++
		return isp{asn: uint32(1000 + next*7), base: [2]byte{byte(11 + next/200), byte(next % 200)}, region: region}
	}
	for i, cc := range countryCodes {
		c := country{code: cc, regions: 4 + r.IntN(5)}
		for reg := range c.regions {
			c.isps = append(c.isps, newISP(reg)) // a regional ISP
		}
		for range 3 {
			c.isps = append(c.isps, newISP(-1)) // national ISPs and mobile carriers
		}
		w.countries = append(w.countries, c)
		w.weights = append(w.weights, 1/float64(i+1))
	}
	for range 8 {
		w.hosting = append(w.hosting, newISP(-1))
		w.hostingCC = append(w.hostingCC, countryCodes[r.IntN(len(countryCodes))])
	}
	return w
}

func (w *world) pickCountry() int {
	total := 0.0
	for _, x := range w.weights {
		total += x
	}
	v := w.r.Float64() * total
	for i, x := range w.weights {
		if v -= x; v < 0 {
			return i
		}
	}
	return len(w.weights) - 1
}

func (w *world) addr(p isp) netip.Addr {
	return netip.AddrFrom4([4]byte{p.base[0], p.base[1], byte(w.r.IntN(256)), byte(1 + w.r.IntN(254))})
}

// place is where a login comes from.
type place struct {
	ip                    netip.Addr
	country, region, city string
	asn                   uint32
}

func (w *world) placeIn(ci, region int, ispIdx int) place {
	c := w.countries[ci]
	p := c.isps[ispIdx]
	if p.region >= 0 {
		region = p.region
	}
	return place{ip: w.addr(p), country: c.code, region: fmt.Sprintf("%s-%d", c.code, region),
		city: fmt.Sprintf("%s-%d-city%d", c.code, region, w.r.IntN(3)), asn: p.asn}
}

// randomPlace is a place in country ci, at a random region and ISP.
func (w *world) randomPlace(ci int) place {
	c := w.countries[ci]
	return w.placeIn(ci, w.r.IntN(c.regions), w.r.IntN(len(c.isps)))
}

// agent is a browser on a device; version bumps make new user-agent strings.
type agent struct {
	kind    int // index into agentKinds
	version int
	osMinor int
}

var agentKinds = []struct {
	weight float64
	format func(a agent) string
}{
	{0.30, func(a agent) string {
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Safari/537.36", a.version, 5000+a.version*10, a.osMinor)
	}},
	{0.22, func(a agent) string {
		return fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Mobile/15E148 Safari/604.1", a.version-100, a.osMinor%6, a.version-100, a.osMinor%6)
	}},
	{0.20, func(a agent) string {
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android %d; SM-S9%d8B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Mobile Safari/537.36", 10+a.osMinor%5, a.osMinor%4, a.version, 5000+a.version*10, a.osMinor)
	}},
	{0.10, func(a agent) string {
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:%d.0) Gecko/20100101 Firefox/%d.0", a.version, a.version)
	}},
	{0.08, func(a agent) string {
		return fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_%d) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Safari/605.1.15", a.osMinor%8, a.version-100, a.osMinor%4)
	}},
	{0.06, func(a agent) string {
		return fmt.Sprintf("Mozilla/5.0 (iPad; CPU OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Mobile/15E148 Safari/604.1", a.version-100, a.osMinor%4, a.version-100, a.osMinor%4)
	}},
	{0.04, func(a agent) string {
		return fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0", a.version, a.version)
	}},
}

func (w *world) randomAgent() agent {
	v := w.r.Float64()
	k := 0
	for i, ak := range agentKinds {
		if v -= ak.weight; v < 0 {
			k = i
			break
		}
	}
	return agent{kind: k, version: 112 + w.r.IntN(8), osMinor: w.r.IntN(40)}
}

type subscriber struct {
	id       string
	country  int
	home     place
	homeISP  int
	devices  []agent
	activity float64
}

// generate returns n synthetic logins in time order, deterministic for a seed.
func generate(n int, seed uint64) []login {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := newWorld(r)
	users := make([]subscriber, max(20, n/25))
	var weights []float64
	total := 0.0
	for i := range users {
		ci := w.pickCountry()
		c := w.countries[ci]
		ispIdx := r.IntN(len(c.isps))
		u := subscriber{id: strconv.Itoa(i + 1), country: ci, homeISP: ispIdx}
		u.home = w.placeIn(ci, r.IntN(c.regions), ispIdx)
		for range 1 + r.IntN(3) {
			u.devices = append(u.devices, w.randomAgent())
		}
		u.activity = 1 / (1 + 0.02*float64(i)) // some subscribers sign in far more often
		total += u.activity
		weights = append(weights, total)
		users[i] = u
	}
	start := time.Date(2020, 2, 3, 0, 0, 0, 0, time.UTC)
	span := 14 * 24 * time.Hour
	out := make([]login, 0, n)
	for range n {
		t := start.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Millisecond)
		u := &users[min(len(users)-1, sortSearch(weights, r.Float64()*total))]
		l := login{Time: t, User: u.id, RTT: strconv.Itoa(300 + r.IntN(1500)), Success: true}
		var p place
		if r.Float64() < 0.03 { // credential stuffing from a hosting network
			h := r.IntN(len(w.hosting))
			p = place{ip: w.addr(w.hosting[h]), country: w.hostingCC[h], asn: w.hosting[h].asn}
			l.AttackIP = true
			l.Success = r.Float64() < 0.02
			l.Takeover = l.Success
			setAgent(&l, w.randomAgent())
		} else {
			switch v := r.Float64(); {
			case v < 0.80:
				p = u.home
			case v < 0.90: // a new address from the home ISP
				p = w.placeIn(u.country, regionOf(u.home), u.homeISP)
				p.region, p.city = u.home.region, u.home.city
			case v < 0.97: // mobile data or elsewhere in the country
				p = w.randomPlace(u.country)
			default: // abroad
				p = w.randomPlace(w.pickCountry())
			}
			d := r.IntN(len(u.devices))
			if r.Float64() < 0.03 { // a browser update
				u.devices[d].version++
			}
			if r.Float64() < 0.01 { // a new device
				u.devices = append(u.devices, w.randomAgent())
				d = len(u.devices) - 1
			}
			setAgent(&l, u.devices[d])
			l.Success = r.Float64() > 0.04 // mistyped passwords
		}
		l.IP, l.Country, l.Region, l.City, l.ASN = p.ip, p.country, p.region, p.city, p.asn
		out = append(out, l)
	}
	slices.SortStableFunc(out, func(a, b login) int { return a.Time.Compare(b.Time) })
	return out
}

func regionOf(p place) int {
	var cc string
	var reg int
	_, _ = fmt.Sscanf(p.region, "%2s-%d", &cc, &reg)
	return reg
}

func setAgent(l *login, a agent) {
	l.UA = agentKinds[a.kind].format(a)
	c := risk.ParseUserAgent(l.UA)
	l.Browser, l.OS, l.Device = c.Browser, c.OS, c.DeviceType
}

// sortSearch returns the first index whose cumulative weight exceeds v.
func sortSearch(cum []float64, v float64) int {
	i, _ := slices.BinarySearch(cum, v)
	return i
}
