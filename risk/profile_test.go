package risk

import (
	"bytes"
	"fmt"
	"math"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func deviceReq(i int) Request {
	return Request{Subscriber: "s", Action: ActionSignIn, Device: fmt.Sprintf("device-%d", i)}
}

func TestProfileBoundsAndLRU(t *testing.T) {
	var p Profile
	learn := func(r Request) { p.Learn(&r, t0) }
	key := func(i int) uint64 { return deviceReq(i).Keys()[FeatureDevice] }
	// Device 0 is seen twice, then 63 others fill the table.
	learn(deviceReq(0))
	learn(deviceReq(0))
	for i := 1; i < MaxValues; i++ {
		learn(deviceReq(i))
	}
	require.Equal(t, MaxValues, p.Distinct(FeatureDevice))
	assert.Equal(t, 2, p.Count(FeatureDevice, key(0)))
	// Touch device 0 again, so device 1 is now the least recently seen.
	learn(deviceReq(0))
	learn(deviceReq(1000))
	assert.Equal(t, MaxValues, p.Distinct(FeatureDevice), "bounded")
	assert.Equal(t, 0, p.Count(FeatureDevice, key(1)), "least recently seen evicted")
	assert.Equal(t, 3, p.Count(FeatureDevice, key(0)), "recently seen kept, with its count")
	assert.Equal(t, 1, p.Count(FeatureDevice, key(1000)))
	assert.Equal(t, 1, p.Count(FeatureDevice, key(2)))
	// Evicted counts stay in the total: the history still has 67 logins.
	assert.Equal(t, uint32(MaxValues+3), p.tables[FeatureDevice].total)
	assert.Equal(t, uint64(MaxValues+3), p.Logins())
	// Thousands more values never grow the table.
	for i := range 5000 {
		learn(deviceReq(2000 + i))
	}
	assert.Equal(t, MaxValues, p.Distinct(FeatureDevice))
}

func TestProfileAgesSaturatedCounts(t *testing.T) {
	var tb table
	tb.add(7)
	for range math.MaxUint16 + 1 {
		tb.add(9)
	}
	// 9 hit the ceiling on its last add: every count was halved (rounding up).
	assert.Equal(t, uint32(1), tb.count(7))
	assert.Equal(t, uint32(math.MaxUint16/2+2), tb.count(9))
	assert.LessOrEqual(t, tb.count(9), tb.total)
	assert.Equal(t, uint32(1+math.MaxUint16+1)/2+1, tb.total)
}

func TestProfileSizeAtBounds(t *testing.T) {
	// The profile is a fixed-size value: this is its memory at its bounds. A test in
	// package risk_test measures the heap it takes inside the in-memory store.
	size := unsafe.Sizeof(Profile{})
	t.Logf("sizeof(Profile) = %d bytes", size)
	assert.LessOrEqual(t, size, uintptr(8*1024))
}

func TestProfileHomeFollowsTheMostSeenCity(t *testing.T) {
	var p Profile
	learn := func(g Geo, at time.Time) {
		r := Request{Subscriber: "s", Action: ActionSignIn, Geo: g}
		p.Learn(&r, at)
	}
	_, ok := p.Home()
	assert.False(t, ok)
	learn(laCA, t0)
	home, _ := p.Home()
	assert.Equal(t, la, home)
	learn(miamiFL, t0.Add(time.Hour))
	home, _ = p.Home()
	assert.Equal(t, la, home, "a tie keeps the old home")
	learn(miamiFL, t0.Add(2*time.Hour))
	home, _ = p.Home()
	assert.Equal(t, miami, home, "Miami overtook Los Angeles")
	last, at, ok := p.LastLocation()
	require.True(t, ok)
	assert.Equal(t, miami, last)
	assert.Equal(t, t0.Add(2*time.Hour), at)
	learn(laCA, t0.Add(time.Hour)) // reported late
	last, at, _ = p.LastLocation()
	assert.Equal(t, miami, last, "an older login does not become the last location")
	assert.Equal(t, t0.Add(2*time.Hour), at)
}

func TestProfileMarshalRoundTrip(t *testing.T) {
	var p Profile
	for i := range 100 {
		r := deviceReq(i)
		r.Geo = miamiFL
		r.UserAgent = fmt.Sprintf("UA %d", i%7)
		p.Learn(&r, t0.Add(time.Duration(i)*time.Minute))
		p.Attempt(ActionSIMSwap, i%3 == 0, t0.Add(time.Duration(i)*time.Minute))
		p.Attempt(ActionPortOut, false, t0.Add(time.Duration(i)*time.Minute))
	}
	p.NoteChange(ChangeContact, t0)
	p.NoteChange(ChangeSIM, t0.Add(time.Hour))
	b, err := p.MarshalBinary()
	require.NoError(t, err)
	var q Profile
	require.NoError(t, q.UnmarshalBinary(b))
	assert.Equal(t, p, q)

	// Truncations and trailing bytes are rejected without touching the target.
	for _, bad := range [][]byte{nil, b[:1], b[:len(b)-1], append(bytes.Clone(b), 0)} {
		before := q
		assert.ErrorIs(t, q.UnmarshalBinary(bad), ErrProfileEncoding)
		assert.Equal(t, before, q)
	}
}

func FuzzProfileUnmarshal(f *testing.F) {
	var p Profile
	r := deviceReq(1)
	r.Geo = miamiFL
	p.Learn(&r, t0)
	b, _ := p.MarshalBinary()
	f.Add(b)
	empty, _ := (&Profile{}).MarshalBinary()
	f.Add(empty)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var q Profile
		if err := q.UnmarshalBinary(data); err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes.
		out, err := q.MarshalBinary()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("round trip changed the encoding")
		}
	})
}

// The user-agent cache gives exactly the keys that parsing gives, for strings that
// share a slot or differ only in case, and stays bounded.
func TestUserAgentCacheMatchesParsing(t *testing.T) {
	var c uaCache
	agents := []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"MOZILLA/5.0 (IPHONE; CPU IPHONE OS 17_4 LIKE MAC OS X) APPLEWEBKIT/605.1.15 (KHTML, LIKE GECKO) VERSION/17.4 MOBILE/15E148 SAFARI/604.1",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
		"curl/8.4.0", "Googlebot/2.1 (+http://www.google.com/bot.html)", "not a user agent",
	}
	for i := range 2 * uaCacheSlots {
		agents = append(agents, fmt.Sprintf("Mozilla/5.0 (Linux; Android %d; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Mobile Safari/537.36", 8+i%7, 60+i))
	}
	for round := range 3 {
		for _, ua := range agents {
			r := Request{Subscriber: "s", Action: ActionSignIn, UserAgent: ua}
			want := r.Keys()
			require.Equal(t, want, r.keys(&c), "round %d: %q", round, ua)
			c := ParseUserAgent(ua)
			b, o, d := clientKeys(c)
			require.Equal(t, [3]uint64{b, o, d}, [3]uint64{want[FeatureBrowser], want[FeatureOS], want[FeatureDeviceType]})
		}
	}
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			n++
		}
	}
	assert.LessOrEqual(t, n, uaCacheSlots)
	assert.Greater(t, n, uaCacheSlots/2, "the cache is used")
}

// A version-1 encoding (before port-outs, changes and last-seen) is refused, like any
// other unknown version: no durable adapter ever stored one.
func TestProfileUnmarshalRefusesVersion1(t *testing.T) {
	b, err := (&Profile{}).MarshalBinary()
	require.NoError(t, err)
	b[0] = 1
	var q Profile
	assert.ErrorIs(t, q.UnmarshalBinary(b), ErrProfileEncoding)
}

func TestProfileChangesAndEstablished(t *testing.T) {
	var p Profile
	assert.False(t, p.Established())
	assert.True(t, p.LastSeen().IsZero())
	p.Attempt(ActionSignIn, true, t0)
	assert.False(t, p.Established(), "attempts alone are a stranger's")
	assert.Equal(t, t0, p.LastSeen())
	assert.True(t, p.expired(t0.Add(time.Second)))
	assert.False(t, p.expired(t0))

	p.NoteChange(ChangeContact, t0.Add(time.Hour))
	p.NoteChange(ChangeContact, t0) // an earlier change does not move the record back
	p.NoteChange(Change(0), t0.Add(5*time.Hour))
	p.NoteChange(Change(numChanges+1), t0.Add(5*time.Hour))
	assert.True(t, p.Established())
	assert.False(t, p.expired(t0.AddDate(1, 0, 0)), "an established profile never expires")
	assert.Equal(t, t0.Add(time.Hour), p.Changed(ChangeContact))
	assert.Equal(t, t0.Add(time.Hour), p.LastSeen())
	assert.True(t, p.Changed(ChangePassword).IsZero())
	assert.True(t, p.Changed(Change(0)).IsZero())

	var q Profile
	r := deviceReq(1)
	q.Learn(&r, t0)
	assert.True(t, q.Established())
}
