package risk

import (
	"context"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ipReq(ip string, asn uint32, country string) Request {
	return Request{Subscriber: "u", Action: ActionSignIn, IP: netip.MustParseAddr(ip), Geo: Geo{ASN: asn, Country: country}}
}

// The subscriber logged in 4 times: 3 from IP a and once from IP b, always ASN 1 in the
// US. Globally there were 8 logins by 2 subscribers: IP a 3 times, 3 distinct IPs, ASN 1
// 4 times (2 distinct ASNs), the US 6 times (2 distinct countries). No user agents, so
// the user-agent hierarchy is neutral.
func handModel(t *testing.T) (*Model, *Profile, GlobalStats) {
	t.Helper()
	m, err := NewModel(ModelConfig{}, &fakeProfiles{}, &fakeGlobal{})
	require.NoError(t, err)
	var p Profile
	for _, r := range []Request{ipReq("192.0.2.1", 1, "US"), ipReq("192.0.2.1", 1, "US"), ipReq("192.0.2.1", 1, "US"), ipReq("192.0.2.2", 1, "US")} {
		p.Learn(&r, t0)
	}
	g := GlobalStats{Subscribers: 2, Logins: 8}
	g.Total[FeatureIP], g.Total[FeatureASN], g.Total[FeatureCountry] = 8, 8, 8
	g.Distinct[FeatureIP], g.Distinct[FeatureASN], g.Distinct[FeatureCountry] = 3, 2, 2
	return m, &p, g
}

func TestFreemanHandComputed(t *testing.T) {
	tests := []struct {
		name                string
		req                 Request
		gIP, gASN, gCountry uint64 // global counts of the request's values
		wantIPFactor, wantS float64
	}{
		{
			// local  = .6·3/4 + .3·4/4 + .1·4/4 = 0.85
			// global = .6·3/(8+M_IP) + .3·4/(8+M_ASN) + .1·6/(8+M_country)
			//        with M_IP = 1+2+2 = 5, M_ASN = 1+2 = 3, M_country = 1
			name: "seen value", req: ipReq("192.0.2.1", 1, "US"), gIP: 3, gASN: 4, gCountry: 6,
			wantIPFactor: (0.6*3.0/13 + 0.3*4.0/11 + 0.1*6.0/9) / 0.85,
		},
		{
			// IP unseen, ASN and country seen: local = .3 + .1 = 0.4,
			// global uses the smoothed 1/(8+5) for the unseen IP.
			name: "hierarchy fallback", req: ipReq("198.51.100.9", 1, "US"), gIP: 0, gASN: 4, gCountry: 6,
			wantIPFactor: (0.6*1.0/13 + 0.3*4.0/11 + 0.1*6.0/9) / 0.4,
		},
		{
			// Nothing seen locally: the local likelihood is a quarter of the global one.
			name: "unseen value", req: ipReq("198.51.100.9", 2, "DE"), gIP: 0, gASN: 4, gCountry: 2,
			wantIPFactor: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, p, g := handModel(t)
			k := tt.req.Keys()
			g.Count[FeatureIP], g.Count[FeatureASN], g.Count[FeatureCountry] = tt.gIP, tt.gASN, tt.gCountry
			f := m.Evaluate(p, &g, &k)
			// p(u|A)/p(u|L) = (1/2) / (4/8) = 1.
			assert.InDelta(t, 1, f.User, 1e-12)
			assert.InDelta(t, 1, f.UA, 1e-12, "no user agent: neutral")
			assert.InDelta(t, tt.wantIPFactor, f.IP, 1e-12)
			assert.InDelta(t, tt.wantIPFactor, f.S, 1e-12)
			// Calibration with the default prior odds of 0.2.
			assert.InDelta(t, f.S*0.2/(1+f.S*0.2), f.Score, 1e-12)
		})
	}
	// The literal values, so a change of formula cannot hide behind the same expression.
	m, p, g := handModel(t)
	k := ipReq("192.0.2.1", 1, "US").Keys()
	g.Count[FeatureIP], g.Count[FeatureASN], g.Count[FeatureCountry] = 3, 4, 6
	assert.InDelta(t, 0.369669, m.Evaluate(p, &g, &k).S, 1e-6)
}

func TestFreemanUserAgentHierarchy(t *testing.T) {
	m, err := NewModel(ModelConfig{}, &fakeProfiles{}, &fakeGlobal{})
	require.NoError(t, err)
	req := func(ua string, c Client) Request {
		return Request{Subscriber: "u", Action: ActionSignIn, UserAgent: ua, Client: c}
	}
	mine := req("UA-1", Client{Browser: "Chrome 120", OS: "Android 14.0", DeviceType: "mobile"})
	var p Profile
	for range 2 {
		p.Learn(&mine, t0)
	}
	g := GlobalStats{Subscribers: 1, Logins: 2}
	for _, f := range uaChain {
		g.Total[f], g.Distinct[f], g.Count[f] = 2, 1, 2
	}
	// Same browser, OS and device type, other UA string: only the top level is unseen.
	other := req("UA-2", mine.Client)
	k := other.Keys()
	g2 := g
	g2.Count[FeatureUserAgent] = 0
	f := m.Evaluate(&p, &g2, &k)
	w := DefaultUAWeights()
	local := w[1] + w[2] + w[3]
	// M(UA) = 1 + 1 + 1 + 1 = 4, M(browser) = 3, M(OS) = 2, M(device type) = 1.
	global := w[0]*1/6 + w[1]*2/5 + w[2]*2/4 + w[3]*2/3
	assert.InDelta(t, global/local, f.UA, 1e-12)
	assert.InDelta(t, 1, f.IP, 1e-12, "no IP: neutral")

	// The same UA string is less risky than a new one, which is less risky than a new
	// everything.
	k = mine.Keys()
	same := m.Evaluate(&p, &g, &k)
	k = req("UA-3", Client{Browser: "Firefox 1", OS: "Linux", DeviceType: "desktop"}).Keys()
	novel := m.Evaluate(&p, &g2, &k)
	assert.Less(t, same.S, f.S)
	assert.Less(t, f.S, novel.S)
	assert.InDelta(t, 4, novel.UA, 1e-12)
}

func TestFreemanNoHistoryIsNeutral(t *testing.T) {
	m, err := NewModel(ModelConfig{}, &fakeProfiles{}, &fakeGlobal{})
	require.NoError(t, err)
	k := ipReq("192.0.2.1", 1, "US").Keys()
	f := m.Evaluate(&Profile{}, &GlobalStats{}, &k)
	assert.True(t, f.NoHistory)
	assert.Equal(t, 1.0, f.IP)
	assert.Equal(t, 1.0, f.UA)
	assert.Zero(t, f.Score, "by default the model abstains without history")
	assert.Contains(t, f.reason(), "no login history")

	m, err = NewModel(ModelConfig{NoHistoryScore: 0.5}, &fakeProfiles{}, &fakeGlobal{})
	require.NoError(t, err)
	assert.Equal(t, 0.5, m.Evaluate(&Profile{}, &GlobalStats{}, &k).Score)

	for _, bad := range []float64{-0.1, 1.1, math.NaN()} {
		_, err = NewModel(ModelConfig{NoHistoryScore: bad}, &fakeProfiles{}, &fakeGlobal{})
		assert.ErrorContains(t, err, "NoHistoryScore", "%v", bad)
	}
}

func TestCalibrate(t *testing.T) {
	assert.Equal(t, 0.0, calibrate(0, 0.1))
	assert.InDelta(t, 0.5, calibrate(10, 0.1), 1e-12)
	assert.InDelta(t, 0.5, calibrate(5, 0.2), 1e-12)
	assert.InDelta(t, 1.0/6, calibrate(1, 0.2), 1e-12)
	assert.Equal(t, 1.0, calibrate(math.Inf(1), 0.1))
	for s := 0.001; s < 1e6; s *= 3 {
		assert.Less(t, calibrate(s, 0.1), calibrate(s*3, 0.1), "monotone")
	}
}

func TestModelConfigValidation(t *testing.T) {
	_, err := NewModel(ModelConfig{IPWeights: [3]float64{0.5, -1, 0}}, &fakeProfiles{}, &fakeGlobal{})
	assert.ErrorContains(t, err, "IPWeights[1]")
	_, err = NewModel(ModelConfig{PriorOdds: -1}, &fakeProfiles{}, &fakeGlobal{})
	assert.ErrorContains(t, err, "PriorOdds")
	_, err = NewModel(ModelConfig{}, nil, &fakeGlobal{})
	assert.ErrorContains(t, err, "profiles store is nil")
}

// On agent and partner channels the model abstains, even with NoHistoryScore set: the
// client it would measure is not the subscriber's. In the app it scores.
func TestModelAbstainsOffTheSubscribersDevice(t *testing.T) {
	m, err := NewModel(ModelConfig{Now: func() time.Time { return t0 }, NoHistoryScore: 0.5}, &fakeProfiles{}, &fakeGlobal{})
	require.NoError(t, err)
	r := ipReq("192.0.2.1", 1, "US")
	r.Subscriber, r.Action = "alice", ActionPortOut
	for _, ch := range []Channel{ChannelAPI, ChannelPhone, ChannelChat, ChannelRetail} {
		r.Channel = ch
		a, err := m.Score(context.Background(), r)
		require.NoError(t, err)
		assert.Equal(t, Assessment{Level: Low, Channel: ch}, a, ch)
	}
	r.Channel = ChannelApp
	a, err := m.Score(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, 0.5, a.Score)
}
