package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var cancelLinkInMail = regexp.MustCompile(`http://test/cancel#([A-Za-z0-9._-]+)`)

// cancelToken returns the cancel token of the newest approval notice of event to addr.
func (h *harness) cancelToken(addr, event string) string {
	h.t.Helper()
	m := cancelLinkInMail.FindStringSubmatch(h.eventTo(addr, event).Body)
	require.Len(h.t, m, 2, "no cancel link in the %s notice", event)
	return m[1]
}

// A held SIM swap the subscriber cancels from a signed-in session is never carried out,
// however long one waits; the subscriber is told it was cancelled.
func TestAttackCancelledSwapCannotComplete(t *testing.T) {
	h := newHarness(t, heldPolicy(t))
	a := h.secureAccount()
	id := h.heldSwap(a)

	// Any signed-in session may cancel: no fresh proof is needed to stop a change.
	other := h.signin2FA("ada@example.com", a.emailContact, backupEmail)
	r := h.do("POST", "/v1/sim-changes/"+id+"/cancel", nil, bearerH(other))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, "cancelled", r.str("status"))
	r = h.do("POST", "/v1/sim-changes/"+id+"/cancel", nil, bearerH(other))
	assert.Equal(t, http.StatusConflict, r.Status, "cancelled already: %s", r.Raw)

	h.clock.Advance(24*time.Hour + time.Minute)
	assert.Zero(t, h.srv.applyDueHolds(context.Background()))
	h.noSIMSwapCompleted(t, "ada@example.com", backupEmail)
	assert.Contains(t, h.eventTo("ada@example.com", "sim_swap.denied").Body, "cancel")
}

// Nobody cancels another subscriber's request through their own session, nor through
// an agent case opened for another subscriber: it is not found.
func TestAttackCannotCancelAnotherSubscribersChange(t *testing.T) {
	h := newHarness(t, heldPolicy(t))
	a := h.secureAccount()
	id := h.heldSwap(a)
	bob := h.signup("bob@example.com", "+14155550103")
	r := h.do("POST", "/v1/sim-changes/"+id+"/cancel", nil, bearerH(bob))
	assert.Equal(t, http.StatusNotFound, r.Status, r.Raw)
	bobCase := h.openCase("+14155550103", "phone")
	r = h.agent("POST", bobCase+"/sim-changes/"+id+"/cancel", nil)
	assert.Equal(t, http.StatusNotFound, r.Status, r.Raw)

	h.clock.Advance(24*time.Hour + time.Minute)
	assert.Equal(t, 1, h.srv.applyDueHolds(context.Background()), "still carried out")
}

// The link in the approval notice cancels once, without signing in; a used token is
// answered exactly like one that never existed, and the change is never carried out.
func TestCancelLinkWorksOnce(t *testing.T) {
	h := newHarness(t, heldPolicy(t))
	a := h.secureAccount()
	h.heldSwap(a)
	tok := h.cancelToken("ada@example.com", "sim_swap.approved")
	sms := h.eventTo("+14155550102", "sim_swap.approved")
	assert.Contains(t, sms.Body, "Stop it: http://test/cancel#"+tok, "the line hears of it, with the link")
	assert.Contains(t, h.eventTo("ada@example.com", "sim_swap.approved").Body, "It can be carried out until")

	// The page: one inline script allowed by its hash, no token in it (it is in the
	// fragment, which the browser keeps).
	r := h.do("GET", "/cancel", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, r.Header.Get("Content-Security-Policy"), "script-src 'sha256-")
	assert.Contains(t, r.Header.Get("Content-Type"), "text/html")

	unknown := h.do("POST", "/v1/sim-changes/cancel", map[string]any{"token": "0123abcd.AAAA"})
	assert.Equal(t, http.StatusNotFound, unknown.Status, unknown.Raw)
	r = h.do("POST", "/v1/sim-changes/cancel", map[string]any{"token": tok})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	used := h.do("POST", "/v1/sim-changes/cancel", map[string]any{"token": tok})
	assert.Equal(t, unknown.Status, used.Status, used.Raw)
	assert.Equal(t, unknown.str("code"), used.str("code"))
	assert.Equal(t, unknown.str("message"), used.str("message"), "a used token answers like an unknown one")

	h.clock.Advance(24*time.Hour + time.Minute)
	assert.Zero(t, h.srv.applyDueHolds(context.Background()))
	h.noSIMSwapCompleted(t, "ada@example.com", backupEmail)
}

// Cancel links are tried without authentication: each client gets a few a minute.
func TestCancelLinkRateLimited(t *testing.T) {
	h := newHarness(t)
	var last resp
	for range cancelLinkBurst + 1 {
		last = h.do("POST", "/v1/sim-changes/cancel", map[string]any{"token": "0123abcd.AAAA"}, "X-Test-Remote: 198.51.100.7")
	}
	assert.Equal(t, http.StatusTooManyRequests, last.Status, last.Raw)
	assert.NotEmpty(t, last.Header.Get("Retry-After"))
	// Another client is not held back.
	r := h.do("POST", "/v1/sim-changes/cancel", map[string]any{"token": "0123abcd.AAAA"}, "X-Test-Remote: 203.0.113.9")
	assert.Equal(t, http.StatusNotFound, r.Status, r.Raw)
}

// The cancel token is a capability: it reaches the subscriber's messages and nothing
// else. Neither the server's logs (requests, deliveries, the cancel) nor any answer but
// the notice carries it.
func TestCancelTokenNotInLogs(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t, heldPolicy(t), func(o *Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	a := h.secureAccount()
	h.heldSwap(a)
	tok := h.cancelToken("ada@example.com", "sim_swap.approved")
	r := h.do("POST", "/v1/sim-changes/cancel", map[string]any{"token": tok})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	_, secret, _ := strings.Cut(tok, ".")
	require.NotEmpty(t, secret)
	assert.NotContains(t, logs.String(), secret)
	assert.NotEmpty(t, logs.String(), "the logger was used")
}

// An agent cancels a pending change on the caller's behalf in a case: audited, with the
// agent as the actor, and the change is not carried out.
func TestCaseCancelStopsHeldSwap(t *testing.T) {
	h := newHarness(t, heldPolicy(t))
	a := h.secureAccount()
	id := h.heldSwap(a)
	c := h.openCase("+14155550102", "phone")
	r := h.agent("POST", c+"/sim-changes/"+id+"/cancel", nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, "cancelled", r.str("status"))
	m := h.eventTo("ada@example.com", "sim_swap.denied")
	assert.Contains(t, m.Body, "a support agent", m.Body)
	h.clock.Advance(24*time.Hour + time.Minute)
	assert.Zero(t, h.srv.applyDueHolds(context.Background()))
	h.noSIMSwapCompleted(t, "ada@example.com")
}

// The cancel routes answer only the statuses openapi.yaml lists for them.
func TestOpenAPIListsCancelStatuses(t *testing.T) {
	paths := openapiPaths(t)
	h := newHarness(t, heldPolicy(t))
	a := h.secureAccount()
	id := h.heldSwap(a)
	c := h.openCase("+14155550102", "phone")
	for _, x := range []struct {
		doc string
		r   resp
	}{
		{"/v1/sim-changes/{request}/cancel", h.do("POST", "/v1/sim-changes/nope/cancel", nil, bearerH(a.tok))},
		{"/agent/v1/cases/{case}/sim-changes/{request}/cancel", h.agent("POST", c+"/sim-changes/nope/cancel", nil)},
		{"/v1/sim-changes/{request}/cancel", h.do("POST", "/v1/sim-changes/"+id+"/cancel", nil, bearerH(a.tok))},
		{"/v1/sim-changes/{request}/cancel", h.do("POST", "/v1/sim-changes/"+id+"/cancel", nil, bearerH(a.tok))},
		{"/agent/v1/cases/{case}/sim-changes/{request}/cancel", h.agent("POST", c+"/sim-changes/"+id+"/cancel", nil)},
		{"/v1/sim-changes/cancel", h.do("POST", "/v1/sim-changes/cancel", map[string]any{})},
	} {
		requireDocumented(t, paths, "POST", x.doc, x.r)
	}
	var r resp
	for range cancelLinkBurst + 1 {
		r = h.do("POST", "/v1/sim-changes/cancel", map[string]any{"token": "x.y"})
		requireDocumented(t, paths, "POST", "/v1/sim-changes/cancel", r)
	}
	assert.Equal(t, http.StatusTooManyRequests, r.Status)
	requireDocumented(t, paths, "GET", "/cancel", h.do("GET", "/cancel", nil))
}

// A cancel token cancels only its own request: its secret with another request's ID is
// an unknown token, and that request is carried out. Fetching the cancel page (a link
// scanner does) cancels nothing either.
func TestAttackCancelTokenBoundToItsRequest(t *testing.T) {
	h := newHarness(t, heldPolicy(t))
	a := h.secureAccount()
	first := h.heldSwap(a)
	tok := h.cancelToken("ada@example.com", "sim_swap.approved")
	require.NoError(t, h.srv.protect.CancelSIMChange(context.Background(), h.accountID("ada@example.com"), first,
		protection.ChannelApp, notify.Actor{Kind: notify.ActorSubscriber}))
	h.clock.Advance(time.Minute)
	second := h.heldSwap(a)
	require.NotEqual(t, first, second)

	_, secret, _ := strings.Cut(tok, ".")
	r := h.do("POST", "/v1/sim-changes/cancel", map[string]any{"token": second + "." + secret})
	assert.Equal(t, http.StatusNotFound, r.Status, r.Raw)
	assert.Equal(t, http.StatusOK, h.do("GET", "/cancel", nil).Status)

	h.clock.Advance(24*time.Hour + time.Minute)
	assert.Equal(t, 1, h.srv.applyDueHolds(context.Background()), "the second request is carried out")
}
