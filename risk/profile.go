package risk

import (
	"math"
	"strconv"
	"time"
)

// Feature names one attribute of a login that profiles and global counts track.
type Feature uint8

// The tracked features. The first three form the IP hierarchy of the Freeman model, the
// next four the user-agent hierarchy; the rest feed the built-in signals.
const (
	FeatureIP         Feature = iota // the client IP address
	FeatureASN                       // its autonomous system
	FeatureCountry                   // its country
	FeatureUserAgent                 // the raw user-agent string
	FeatureBrowser                   // browser name and major version
	FeatureOS                        // OS name and version
	FeatureDeviceType                // mobile, tablet, desktop, bot, other
	FeatureRegion                    // country and region
	FeatureCity                      // country, region and city
	FeatureDevice                    // the device fingerprint

	NumFeatures = iota // how many features there are
)

var featureNames = [NumFeatures]string{"ip", "asn", "country", "user_agent", "browser", "os", "device_type", "region", "city", "device"}

// String returns the feature's name, e.g. "ip".
func (f Feature) String() string {
	if int(f) < len(featureNames) {
		return featureNames[f]
	}
	return "feature(" + strconv.Itoa(int(f)) + ")"
}

// Keys are the hashed values of a request's features, indexed by [Feature]. A zero key
// means the value is missing. Profiles and global counts store only these 64-bit hashes,
// never the raw values.
type Keys [NumFeatures]uint64

// Keys hashes the request's features, parsing UserAgent if Client is zero.
func (r Request) Keys() Keys { return r.keys(nil) }

// keys is Keys, with parsed user agents looked up in (and added to) cache when it is
// not nil.
func (r *Request) keys(cache *uaCache) Keys {
	var k Keys
	if r.IP.IsValid() {
		a := r.IP.Unmap().As16()
		k[FeatureIP] = hashBytes(a[:])
	}
	if r.Geo.ASN != 0 {
		var b [4]byte
		b[0], b[1], b[2], b[3] = byte(r.Geo.ASN>>24), byte(r.Geo.ASN>>16), byte(r.Geo.ASN>>8), byte(r.Geo.ASN)
		k[FeatureASN] = hashBytes(b[:])
	}
	g := &r.Geo
	k[FeatureCountry] = hashStrings(g.Country)
	if g.Country != "" || g.Region != "" {
		k[FeatureRegion] = hashStrings(g.Country, g.Region)
	}
	if g.City != "" {
		k[FeatureCity] = hashStrings(g.Country, g.Region, g.City)
	}
	k[FeatureUserAgent] = hashStrings(r.UserAgent)
	if r.Client == (Client{}) && r.UserAgent != "" {
		k[FeatureBrowser], k[FeatureOS], k[FeatureDeviceType] = cache.clientKeys(r.UserAgent, k[FeatureUserAgent])
	} else {
		k[FeatureBrowser], k[FeatureOS], k[FeatureDeviceType] = clientKeys(r.Client)
	}
	k[FeatureDevice] = hashStrings(r.Device)
	return k
}

func clientKeys(c Client) (browser, os, deviceType uint64) {
	return hashStrings(c.Browser), hashStrings(c.OS), hashStrings(c.DeviceType)
}

// FNV-1a, 64 bit. Collisions only matter by accident (an attacker who knows a value can
// simply send it), and at 64 bits with at most 64 values per feature they do not happen.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashBytes(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return nonzero(h)
}

// hashStrings hashes the parts case-insensitively (ASCII), separated, so that
// ("ab", "c") and ("a", "bc") differ. It returns 0 when every part is empty.
func hashStrings(parts ...string) uint64 {
	empty := true
	h := uint64(fnvOffset)
	for i, s := range parts {
		if s != "" {
			empty = false
		}
		if i > 0 {
			h ^= 0xff
			h *= fnvPrime
		}
		for j := 0; j < len(s); j++ {
			c := s[j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			h ^= uint64(c)
			h *= fnvPrime
		}
	}
	if empty {
		return 0
	}
	return nonzero(h)
}

func nonzero(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

// MaxValues is how many distinct values a profile keeps per feature. When a new value
// arrives at a full table, the least recently seen value is evicted.
const MaxValues = 64

// table counts the values of one feature, most recently seen first.
type table struct {
	keys   [MaxValues]uint64
	counts [MaxValues]uint16
	total  uint32 // observations of this feature (includes evicted values' counts)
	n      uint8  // entries in use
}

func (t *table) find(k uint64) int {
	for i := 0; i < int(t.n); i++ {
		if t.keys[i] == k {
			return i
		}
	}
	return -1
}

func (t *table) count(k uint64) uint32 {
	if k == 0 {
		return 0
	}
	if i := t.find(k); i >= 0 {
		return uint32(t.counts[i])
	}
	return 0
}

// add counts one observation of k and moves it to the front.
func (t *table) add(k uint64) {
	if k == 0 {
		return
	}
	i := t.find(k)
	var c uint16
	switch {
	case i >= 0:
		c = t.counts[i]
	case int(t.n) < MaxValues:
		i = int(t.n)
		t.n++
	default:
		i = MaxValues - 1 // evict the least recently seen
	}
	copy(t.keys[1:i+1], t.keys[:i])
	copy(t.counts[1:i+1], t.counts[:i])
	if c == math.MaxUint16 {
		// Age the table: halve every count (rounding up, so no value drops to zero).
		for j := 0; j < int(t.n); j++ {
			t.counts[j] = t.counts[j]/2 + t.counts[j]%2
		}
		c = c/2 + 1
		t.total = t.total/2 + t.total%2
	}
	t.keys[0] = k
	t.counts[0] = c + 1
	if t.total < math.MaxUint32 {
		t.total++
	}
}

// ring holds the times (Unix seconds) of the most recent events.
type ring struct {
	t    [16]int64
	next uint8
}

func (r *ring) add(t time.Time)                   { r.next = addTime(r.t[:], r.next, t) }
func (r *ring) since(from, to time.Time) int      { return countTimes(r.t[:], from, to) }
func (r *smallRing) add(t time.Time)              { r.next = addTime(r.t[:], r.next, t) }
func (r *smallRing) since(from, to time.Time) int { return countTimes(r.t[:], from, to) }

// smallRing is a ring of the 4 most recent events, for rare ones (failed port-outs).
type smallRing struct {
	t    [4]int64
	next uint8
}

// addTime writes t at position next of the circular buffer ts and returns the next
// position.
func addTime(ts []int64, next uint8, t time.Time) uint8 {
	ts[int(next)%len(ts)] = t.Unix()
	return uint8((int(next) + 1) % len(ts))
}

// countTimes counts the times in ts within [from, to].
func countTimes(ts []int64, from, to time.Time) int {
	f, e := from.Unix(), to.Unix()
	n := 0
	for _, t := range ts {
		if t != 0 && t >= f && t <= e {
			n++
		}
	}
	return n
}

// Profile is what the package remembers about one subscriber: bounded counts of the
// values of each [Feature] seen in sign-ins that passed a second factor, the home area,
// the last known location, the times of recent sensitive requests, failures and
// failed port-out requests, the last time of each account [Change], and when the profile was
// last touched.
//
// A profile with no learned sign-in and no recorded change is provisional: it is all a
// stranger's failed or unauthenticated attempts can create (a thief trying invented
// emails creates only those). It holds nothing but velocity, so the Service forgets it
// after Config.StrangerTTL and keeps at most Config.MaxStrangers of them (see
// [Profile.Established] and [ProfileStore]).
//
// A Profile is a plain value without pointers: copying it copies everything, which is
// how stores hand out snapshots. Its size is fixed (under 7 KiB) whatever the history.
// The zero Profile is an empty history.
type Profile struct {
	logins    uint64
	tables    [NumFeatures]table
	home      Coordinates
	homeKey   uint64 // city key of the home area; 0 when unknown
	last      Coordinates
	lastTime  int64 // Unix seconds of the last located login; 0 when none
	sensitive ring
	failures  ring
	ports     smallRing         // failed port-out requests
	changes   [numChanges]int64 // Unix seconds of the last change of each kind; 0 none
	seen      int64             // Unix seconds of the latest time the profile was touched
}

// Logins returns the number of successful authentications learned.
func (p *Profile) Logins() uint64 { return p.logins }

// Count returns how many times (after ageing) the key k of feature f was seen.
// Values evicted from the bounded table count zero.
func (p *Profile) Count(f Feature, k uint64) int {
	if int(f) >= NumFeatures {
		return 0
	}
	return int(p.tables[f].count(k))
}

// Distinct returns how many distinct values of feature f the profile keeps (at most
// [MaxValues]).
func (p *Profile) Distinct(f Feature) int {
	if int(f) >= NumFeatures {
		return 0
	}
	return int(p.tables[f].n)
}

// Learn records a successful authentication of req at time at: every present feature
// value is counted, the home area and the last known location are updated.
func (p *Profile) Learn(req *Request, at time.Time) {
	keys := req.Keys()
	p.learn(req, &keys, at)
}

func (p *Profile) learn(req *Request, keys *Keys, at time.Time) {
	p.touch(at)
	p.logins++
	for f := range keys {
		p.tables[f].add(keys[f])
	}
	if c := req.Geo.Coordinates; c != nil && c.Valid() {
		if at.Unix() >= p.lastTime { // a late report of an older login does not move "last"
			p.last = *c
			p.lastTime = at.Unix()
		}
		city := keys[FeatureCity]
		if city == 0 {
			city = keys[FeatureRegion]
		}
		if city == 0 {
			city = keys[FeatureCountry]
		}
		// The home area is the most often seen city (falling back to region or country)
		// with coordinates. A city that overtakes the current home becomes the new home.
		switch {
		case p.homeKey == 0, city == p.homeKey:
			p.homeKey, p.home = city, *c
		case p.cityCount(city) > p.cityCount(p.homeKey):
			p.homeKey, p.home = city, *c
		}
	}
}

func (p *Profile) cityCount(k uint64) uint32 {
	for _, f := range []Feature{FeatureCity, FeatureRegion, FeatureCountry} {
		if c := p.tables[f].count(k); c > 0 {
			return c
		}
	}
	return 0
}

// Attempt records a request that was made, whatever its outcome: sensitive requests and
// failures feed the velocity signal, failed port-out requests the port_velocity signal.
func (p *Profile) Attempt(action Action, failed bool, at time.Time) {
	p.touch(at)
	if action.Sensitive() {
		p.sensitive.add(at)
	}
	if failed {
		p.failures.add(at)
		if action == ActionPortOut {
			p.ports.add(at)
		}
	}
}

// NoteChange records that the account changed in the way c says at time at (see
// [Change]); a later change of the same kind replaces an earlier one, an earlier one is
// ignored. A profile with a change is established. Unknown kinds are ignored.
func (p *Profile) NoteChange(c Change, at time.Time) {
	if !c.valid() {
		return
	}
	p.touch(at)
	if u := at.Unix(); u > p.changes[c-1] {
		p.changes[c-1] = u
	}
}

// Changed returns the time of the last change of kind c, or the zero time if none was
// recorded.
func (p *Profile) Changed(c Change) time.Time {
	if !c.valid() || p.changes[c-1] == 0 {
		return time.Time{}
	}
	return time.Unix(p.changes[c-1], 0).UTC()
}

// Established reports whether the profile belongs to a real subscriber: it has learned a
// sign-in or recorded an account change. A profile that is not established is
// provisional (see [Profile]); stores may evict it.
func (p *Profile) Established() bool {
	if p.logins > 0 {
		return true
	}
	for _, t := range p.changes {
		if t != 0 {
			return true
		}
	}
	return false
}

// LastSeen returns the latest time the profile was touched by [Profile.Learn],
// [Profile.Attempt] or [Profile.NoteChange], or the zero time for an empty profile.
func (p *Profile) LastSeen() time.Time {
	if p.seen == 0 {
		return time.Time{}
	}
	return time.Unix(p.seen, 0).UTC()
}

func (p *Profile) touch(at time.Time) {
	if u := at.Unix(); u > p.seen {
		p.seen = u
	}
}

// expired reports whether p is provisional and was last seen before cutoff: it is then
// read as empty, whether or not its store has deleted it yet.
func (p *Profile) expired(cutoff time.Time) bool {
	return !p.Established() && p.seen < cutoff.Unix()
}

// Home returns the subscriber's home area: the location of the most often seen city.
func (p *Profile) Home() (Coordinates, bool) { return p.home, p.homeKey != 0 }

// LastLocation returns the location and time of the last located successful
// authentication.
func (p *Profile) LastLocation() (Coordinates, time.Time, bool) {
	if p.lastTime == 0 {
		return Coordinates{}, time.Time{}, false
	}
	return p.last, time.Unix(p.lastTime, 0).UTC(), true
}
