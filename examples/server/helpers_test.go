package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/stretchr/testify/require"
)

const (
	testAgentToken   = "agent-token-for-tests-0123456789abcdef"
	testPartnerToken = "partner-token-for-tests-0123456789abcd"
	testPassword     = "correct horse battery staple zebra"
)

type harness struct {
	t     *testing.T
	srv   *Server
	clock *fakeclock.Clock
	// addrs is the address of each contact a helper added, by contact ID, so that
	// later helpers can read the codes sent to it.
	addrs map[string]string
}

func newHarness(t *testing.T, mod ...func(*Options)) *harness {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	opts := Options{Demo: true, AgentToken: testAgentToken, PartnerToken: testPartnerToken, Now: clock.Now,
		IPRate: -1, SubscriberRate: -1, BaseURL: "http://test"}
	for _, m := range mod {
		m(&opts)
	}
	srv, err := New(opts)
	require.NoError(t, err)
	return &harness{t: t, srv: srv, clock: clock, addrs: map[string]string{}}
}

// in returns h for subtest t: the same server and clock, with failures (including the
// require.* calls in the harness's helpers) reported to t, from t's goroutine.
func (h *harness) in(t *testing.T) *harness {
	t.Helper()
	return &harness{t: t, srv: h.srv, clock: h.clock, addrs: h.addrs}
}

// resp is a decoded response.
type resp struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (r resp) str(path ...string) string {
	var v any = r.Body
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// do sends a request with an optional JSON body and headers as "Key: value".
func (h *harness) do(method, path string, body any, headers ...string) resp {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = "203.0.113.7:40000"
	req.Header.Set("User-Agent", "carrierguard-test/1.0")
	req.Header.Set(deviceHeader, "device-test-1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, hv := range headers {
		k, v, _ := strings.Cut(hv, ": ")
		if k == "X-Test-Remote" { // the peer address, which the server trusts
			req.RemoteAddr = v + ":40000"
			continue
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	out := resp{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.String()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		require.NoError(h.t, json.Unmarshal(rec.Body.Bytes(), &out.Body), rec.Body.String())
	}
	return out
}

func bearerH(tok string) string { return "Authorization: Bearer " + tok }

var tokenInMail = regexp.MustCompile(`"token":"([A-Za-z0-9_-]{43})"`)

// mailTo returns the newest message to an address whose subject contains sub.
func (h *harness) mailTo(to, sub string) message {
	h.t.Helper()
	h.flush()
	for _, m := range h.srv.mail.list(to) {
		if strings.Contains(m.Subject, sub) {
			return m
		}
	}
	h.t.Fatalf("no message to %s about %q", to, sub)
	return message{}
}

// openCase opens an agent case for the subscriber on phone, on channel, and returns
// its path (/agent/v1/cases/{case}).
func (h *harness) openCase(phone, channel string) string {
	h.t.Helper()
	r := h.agent("POST", "/agent/v1/cases", map[string]any{"phone": phone, "channel": channel})
	require.Equal(h.t, http.StatusCreated, r.Status, r.Raw)
	return "/agent/v1/cases/" + r.str("case_id")
}

// signup creates and verifies an account and returns a session token.
func (h *harness) signup(email, phone string) string {
	h.t.Helper()
	r := h.do("POST", "/v1/signup", map[string]any{"email": email, "password": testPassword, "name": "Ada Lovelace", "phone": phone})
	require.Equal(h.t, http.StatusAccepted, r.Status, r.Raw)
	m := tokenInMail.FindStringSubmatch(h.mailTo(email, "Verify").Body)
	require.Len(h.t, m, 2)
	r = h.do("POST", "/v1/email/verify", map[string]any{"token": m[1]})
	require.Equal(h.t, http.StatusOK, r.Status, r.Raw)
	return h.signin(email, testPassword)
}

func (h *harness) signin(email, pw string) string {
	h.t.Helper()
	r := h.do("POST", "/v1/signin", map[string]any{"email": email, "password": pw})
	require.Equal(h.t, http.StatusOK, r.Status, r.Raw)
	tok := r.str("token")
	require.NotEmpty(h.t, tok)
	return tok
}

func (h *harness) agent(method, path string, body any) resp {
	h.t.Helper()
	return h.do(method, path, body, bearerH(testAgentToken), "X-Agent-ID: agent-7")
}

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// flush delivers every due notification in the outbox.
func (h *harness) flush() {
	h.t.Helper()
	for {
		n, err := h.srv.dispatcher.RunOnce(h.t.Context())
		require.NoError(h.t, err)
		if n == 0 {
			return
		}
	}
}

// eventTo returns the newest message of an event type to an address.
func (h *harness) eventTo(to, event string) message {
	h.t.Helper()
	h.flush()
	for _, m := range h.srv.mail.list(to) {
		if m.Event == event {
			return m
		}
	}
	h.t.Fatalf("no %s message to %s; have %v", event, to, h.srv.mail.list(to))
	return message{}
}
