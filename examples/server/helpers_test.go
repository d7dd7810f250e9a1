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

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	// testAgentToken is agent-7's phone token; testAgentTokens has one per channel.
	testAgentToken   = "agent-token-for-tests-0123456789abcdef"
	testPartnerToken = "partner-token-for-tests-0123456789abcd"
	testPassword     = "correct horse battery staple zebra"
)

// testAgentTokens are agent-7's tokens, one per channel (each credential is bound to
// one), and agent-8's phone token.
var testAgentTokens = map[string]string{
	"phone": testAgentToken,
	"chat":  "agent-token-for-tests-chat-0123456789abcd",
	"store": "agent-token-for-tests-store-0123456789abc",
	"other": "agent-token-for-tests-agent8-0123456789ab",
}

// testAgents is the agent directory of the tests: agent-7 on every channel, agent-8 on
// the phone.
func testAgents() agent.Authenticator {
	var creds []agent.Credential
	for _, ch := range agent.Channels {
		creds = append(creds, agent.Credential{Agent: "agent-7", Name: "Agent Seven", Channel: ch, Hash: agent.HashToken(testAgentTokens[ch.String()])})
	}
	creds = append(creds, agent.Credential{Agent: "agent-8", Name: "Agent Eight", Channel: protection.ChannelPhone, Hash: agent.HashToken(testAgentTokens["other"])})
	st, err := agent.NewStatic(creds)
	if err != nil {
		panic(err)
	}
	return st
}

type harness struct {
	t     *testing.T
	srv   *Server
	clock *fakeclock.Clock
	// caseChannel remembers the channel each case was opened on, so h.agent continues it
	// with agent-7's token for that channel.
	caseChannel map[string]string
	// addrs is the address of each contact a helper added, by contact ID, so that
	// later helpers can read the codes sent to it.
	addrs map[string]string
}

func newHarness(t *testing.T, mod ...func(*Options)) *harness {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	opts := Options{Demo: true, Agents: testAgents(), PartnerToken: testPartnerToken, Now: clock.Now,
		IPRate: -1, SubscriberRate: -1, BaseURL: "http://test"}
	for _, m := range mod {
		m(&opts)
	}
	srv, err := New(opts)
	require.NoError(t, err)
	return &harness{t: t, srv: srv, clock: clock, caseChannel: map[string]string{}, addrs: map[string]string{}}
}

// in returns h for subtest t: the same server and clock, with failures (including the
// require.* calls in the harness's helpers) reported to t, from t's goroutine.
func (h *harness) in(t *testing.T) *harness {
	t.Helper()
	return &harness{t: t, srv: h.srv, clock: h.clock, caseChannel: h.caseChannel, addrs: h.addrs}
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

// signup creates and verifies an account, proves its line with the SMS code sent to
// it, and returns a session token.
func (h *harness) signup(email, phone string) string {
	h.t.Helper()
	tok := h.signupUnproved(email, phone)
	h.proveLine(tok, phone)
	return tok
}

// proveLine proves the signed-in account's number with the SMS code sent to phone.
func (h *harness) proveLine(tok, phone string) {
	h.t.Helper()
	r := h.do("POST", "/v1/line/verify/send", nil, bearerH(tok))
	require.Equal(h.t, http.StatusOK, r.Status, r.Raw)
	r = h.do("POST", "/v1/line/verify", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(phone)}, bearerH(tok))
	require.Equal(h.t, http.StatusOK, r.Status, r.Raw)
}

// signupUnproved creates and verifies an account whose number is only claimed, and
// returns a session token.
func (h *harness) signupUnproved(email, phone string) string {
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

// agent calls the console as agent-7, with the token for the case's channel: the
// channel named in the body when a case is opened, the one the case was opened on
// after that.
func (h *harness) agent(method, path string, body any) resp {
	h.t.Helper()
	ch := "phone"
	if m, ok := body.(map[string]any); ok && path == "/agent/v1/cases" {
		if c, ok := m["channel"].(string); ok {
			ch = c
		}
	} else if id, ok := strings.CutPrefix(path, "/agent/v1/cases/"); ok {
		id, _, _ = strings.Cut(id, "/")
		if c := h.caseChannel[id]; c != "" {
			ch = c
		}
	}
	r := h.do(method, path, body, bearerH(testAgentTokens[ch]))
	if id := r.str("case_id"); id != "" && path == "/agent/v1/cases" {
		h.caseChannel[id] = ch
	}
	return r
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

// noEvent asserts that no message of event reached to.
func (h *harness) noEvent(t *testing.T, to, event string) {
	t.Helper()
	h.flush()
	for _, m := range h.srv.mail.list(to) {
		assert.NotEqual(t, event, m.Event, "unexpected %s message to %s: %s", event, to, m.Body)
	}
}

// accountID returns the ID of the account with the email address.
func (h *harness) accountID(email string) string {
	h.t.Helper()
	a, ok := h.srv.dir.byEmailAddr(email)
	require.True(h.t, ok, "no account %s", email)
	return a.ID
}
