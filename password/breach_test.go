package password_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/password"
)

// rangeServer is a local server speaking the Pwned Passwords range format. It knows
// the given passwords with their counts, pads every answer with count-0 lines, and
// records the paths and padding headers it was sent.
type rangeServer struct {
	mu      sync.Mutex
	paths   []string
	padding []string
	corpus  map[string]int // upper-case hex SHA-1 -> count
}

func newRangeServer(t *testing.T, known map[string]int) (*rangeServer, *httptest.Server) {
	rs := &rangeServer{corpus: map[string]int{}}
	for pw, n := range known {
		sum := sha1.Sum([]byte(pw))
		rs.corpus[strings.ToUpper(hex.EncodeToString(sum[:]))] = n
	}
	srv := httptest.NewServer(rs)
	t.Cleanup(srv.Close)
	return rs, srv
}

func (rs *rangeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	rs.paths = append(rs.paths, r.URL.Path)
	rs.padding = append(rs.padding, r.Header.Get("Add-Padding"))
	rs.mu.Unlock()
	prefix := strings.TrimPrefix(r.URL.Path, "/range/")
	var b strings.Builder
	// Padding lines, including one whose suffix is that of a known password: count 0
	// means "not real" and must be ignored.
	for full := range rs.corpus {
		if strings.HasPrefix(full, prefix) {
			fmt.Fprintf(&b, "%s:%d\r\n", full[5:], rs.corpus[full])
		}
	}
	fmt.Fprintf(&b, "%s:0\r\n", strings.Repeat("A", 35))
	fmt.Fprintf(&b, "%s:0\r\n", "0123456789abcdef0123456789ABCDEF012")
	_, _ = w.Write([]byte(b.String()))
}

func newPwned(t *testing.T, base string, timeout time.Duration) *password.PwnedClient {
	c, err := password.NewPwnedClient(password.PwnedConfig{BaseURL: base, Timeout: timeout})
	require.NoError(t, err)
	return c
}

func TestPwnedClient(t *testing.T) {
	rs, srv := newRangeServer(t, map[string]int{"hunter2 is my password": 1234})
	c := newPwned(t, srv.URL+"/range", time.Second)

	n, err := c.BreachCount(context.Background(), sha1.Sum([]byte("hunter2 is my password")))
	require.NoError(t, err)
	assert.Equal(t, 1234, n)

	n, err = c.BreachCount(context.Background(), sha1.Sum([]byte(good)))
	require.NoError(t, err)
	assert.Zero(t, n)

	// A suffix that appears only as padding (count 0) is not a breach.
	var padded [20]byte
	raw, _ := hex.DecodeString("00000" + strings.Repeat("A", 35))
	copy(padded[:], raw)
	n, err = c.BreachCount(context.Background(), padded)
	require.NoError(t, err)
	assert.Zero(t, n)

	rs.mu.Lock()
	defer rs.mu.Unlock()
	for i, p := range rs.paths {
		assert.Regexp(t, `^/range/[0-9A-F]{5}$`, p, "only five hex characters may leave the process")
		assert.Equal(t, "true", rs.padding[i])
	}
	full := sha1.Sum([]byte("hunter2 is my password"))
	assert.Equal(t, "/range/"+strings.ToUpper(hex.EncodeToString(full[:]))[:5], rs.paths[0])
}

func TestPwnedClientFailures(t *testing.T) {
	sum := sha1.Sum([]byte(good))
	for _, tt := range []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration
		want    string
	}{
		{"5xx", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }, time.Second, "HTTP 503"},
		{"429", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }, time.Second, "HTTP 429"},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, 50 * time.Millisecond, "timed out"},
		{"malformed line", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("not a range answer\r\n")) }, time.Second, "malformed"},
		{"bad count", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(strings.Repeat("A", 35) + ":-1\r\n"))
		}, time.Second, "malformed count"},
		{"empty", func(w http.ResponseWriter, _ *http.Request) {}, time.Second, "empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := newPwned(t, srv.URL+"/range/", tt.timeout)
			_, err := c.BreachCount(context.Background(), sum)
			require.ErrorIs(t, err, password.ErrBreachUnavailable)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), strings.ToUpper(hex.EncodeToString(sum[:]))[:5], "errors never carry the hash prefix")
		})
	}
}

// TestBreachTimeoutFailMode wires the client into a Checker: a timeout rejects the
// password by default (fail closed) and says so, and is accepted in fail-open mode.
func TestBreachTimeoutFailMode(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	client := newPwned(t, srv.URL+"/range/", 30*time.Millisecond)

	closed := newChecker(t, password.CheckerConfig{Breach: client})
	res, err := closed.Check(context.Background(), good, maria)
	require.NoError(t, err)
	assert.Equal(t, password.BreachUnavailable, res.Breach)
	assert.Equal(t, []password.Reason{password.ReasonBreachUnverified}, res.Reasons())

	open := newChecker(t, password.CheckerConfig{Breach: client, BreachFailOpen: true})
	res, err = open.Check(context.Background(), good, maria)
	require.NoError(t, err)
	assert.Equal(t, password.BreachUnavailable, res.Breach)
	assert.True(t, res.OK())

	_, err = password.NewPwnedClient(password.PwnedConfig{BaseURL: "not a url"})
	assert.Error(t, err)
	_, err = password.NewPwnedClient(password.PwnedConfig{Timeout: -time.Second})
	assert.Error(t, err)
	assert.False(t, errors.Is(err, password.ErrBreachUnavailable))
}

func TestBreachFoundThroughServer(t *testing.T) {
	_, srv := newRangeServer(t, map[string]int{"orange juice every morning": 3})
	c := newChecker(t, password.CheckerConfig{Breach: newPwned(t, srv.URL+"/range/", time.Second)})
	res, err := c.Check(context.Background(), "orange juice every morning", maria)
	require.NoError(t, err)
	assert.Equal(t, password.BreachFound, res.Breach)
	assert.True(t, res.Has(password.ReasonBreached))
}
