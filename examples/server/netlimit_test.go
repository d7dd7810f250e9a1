package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// from sends GET /healthz from the peer address remote ("192.0.2.1:40000",
// "[2001:db8::1]:40000") and returns the status.
func (h *harness) from(remote string) int {
	h.t.Helper()
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	return rec.Code
}

// Attack: an IPv6 client rotates its source address for every request. Inside its /64
// each address is the same client; moving from /64 to /64 inside its /48 meets the
// /48's bucket; and neither IPv4 clients nor other networks are held up.
func TestAttackIPv6RotationDodgesLimits(t *testing.T) {
	const burst = 3
	h := newHarness(t, func(o *Options) { o.IPRate, o.IPBurst = 1, burst })

	t.Run("500 addresses in one /64 are one client", func(t *testing.T) {
		var ok int
		for i := range 500 {
			code := h.from(fmt.Sprintf("[2001:db8:1:1:%x:%x::%x]:40000", i, i*7, i+1))
			if code == http.StatusOK {
				ok++
			} else {
				require.Equal(t, http.StatusTooManyRequests, code)
			}
		}
		assert.Equal(t, burst, ok, "the /64 gets one client's burst, not one per address")
	})

	t.Run("many /64s in one /48 meet the /48 tier", func(t *testing.T) {
		var ok int
		for i := range 500 {
			if h.from(fmt.Sprintf("[2001:db8:2:%x::1]:40000", i)) == http.StatusOK {
				ok++
			}
		}
		assert.Equal(t, networkTierScale*burst, ok, "the /48 gets %d clients' burst", networkTierScale)
	})

	t.Run("others are not held up", func(t *testing.T) {
		assert.Equal(t, http.StatusOK, h.from("[2001:db8:3::1]:40000"), "another /48")
		assert.Equal(t, http.StatusOK, h.from("198.51.100.1:40000"), "an IPv4 client")
		// An IPv4 client in its IPv4-mapped form (a dual-stack listener) is one client.
		for range burst - 1 {
			require.Equal(t, http.StatusOK, h.from("[::ffff:198.51.100.1]:40000"))
		}
		assert.Equal(t, http.StatusTooManyRequests, h.from("198.51.100.1:40000"))
	})

	t.Run("the buckets refill", func(t *testing.T) {
		h.clock.Advance(time.Duration(networkTierScale*burst) * time.Second)
		assert.Equal(t, http.StatusOK, h.from("[2001:db8:1:1:ffff::1]:40000"))
		assert.Equal(t, http.StatusOK, h.from("[2001:db8:2:ffff::1]:40000"))
	})
}

// A flood from ever-new networks cannot grow the limiter map past its cap, nor evict a
// limited client to hand it a fresh burst.
func TestIPLimiterMapIsBounded(t *testing.T) {
	const burst = 2
	h := newHarness(t, func(o *Options) { o.IPRate, o.IPBurst = 1, burst })
	l := h.srv.ipLimits
	l.max = 64
	// A client spends its burst and is limited.
	for range burst {
		require.Equal(t, http.StatusOK, h.from("192.0.2.1:40000"))
	}
	require.Equal(t, http.StatusTooManyRequests, h.from("192.0.2.1:40000"))
	// A flood of new networks, each one request (one /64 and one /48 entry each).
	var ok int
	for i := range 2000 {
		if h.from(fmt.Sprintf("[2001:db8:%x::1]:40000", i+1)) == http.StatusOK {
			ok++
		}
		l.mu.Lock()
		n := len(l.m)
		l.mu.Unlock()
		require.LessOrEqual(t, n, l.max, "after %d new networks", i+1)
	}
	assert.Less(t, ok, 100, "once the map is full, new keys share one bucket")
	// The limited client is still limited: the flood evicted nothing that was not full.
	assert.Equal(t, http.StatusTooManyRequests, h.from("192.0.2.1:40000"))
	// Once buckets refill, room is made for new clients.
	h.clock.Advance(time.Minute)
	assert.Equal(t, http.StatusOK, h.from("[2001:db8:ffff::1]:40000"))
	assert.Equal(t, http.StatusOK, h.from("192.0.2.1:40000"))
}
