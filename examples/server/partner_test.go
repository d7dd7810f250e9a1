package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// partnerProbe is a named partner request body.
type partnerProbe struct {
	name string
	body map[string]any
}

// inbox counts every message (email or SMS) delivered to the addresses.
func (h *harness) inbox(addrs ...string) int {
	h.t.Helper()
	h.flush()
	n := 0
	for _, a := range addrs {
		n += len(h.srv.mail.list(a))
	}
	return n
}

// Attack: a partner with the partner token probes numbers to learn which are
// customers and what protects them. A customer's number, a customer's number with No
// Port Out and Account Lockdown on, and a number that is no customer's get identical
// answers (status, headers but the request ID, body bytes), without a PIN and with a
// wrong one; no flag or risk reason ever shows; and a probe without a PIN reaches no
// subscriber.
func TestAttackPartnerPortOutProbeLearnsNothing(t *testing.T) {
	h := newHarness(t)
	h.signup("ada@example.com", "+14155550102")
	bobTok := h.signup("bob@example.com", "+14155550103")
	for _, flag := range []string{"no_port_out", "account_lockdown"} {
		require.Equal(t, 200, h.do("PUT", "/v1/protection/flags/"+flag, nil, bearerH(bobTok)).Status)
	}
	before := h.inbox("ada@example.com", "+14155550102", "bob@example.com", "+14155550103")

	probes := []partnerProbe{}
	for _, num := range []string{"+14155550102", "+14155550103", "+14155550188"} {
		probes = append(probes,
			partnerProbe{num + " without a PIN", map[string]any{"number": num}},
			partnerProbe{num + " with an empty PIN", map[string]any{"number": num, "transfer_pin": ""}},
		)
	}
	var first *resp
	check := func(t *testing.T, p partnerProbe) {
		r := h.in(t).do("POST", "/partner/v1/port-out", p.body, bearerH(testPartnerToken))
		assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
		for _, leak := range []string{"flag", "risk", "reason", "not_found", "lockdown", "port_out", "account"} {
			assert.NotContains(t, r.Raw, leak)
		}
		if first == nil {
			first = &r
			return
		}
		assert.Equal(t, first.Raw, r.Raw, "body")
		assert.Equal(t, first.Status, r.Status, "status")
		want, got := first.Header.Clone(), r.Header.Clone()
		want.Del("X-Request-Id")
		got.Del("X-Request-Id")
		assert.Equal(t, want, got, "headers")
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) { check(t, p) })
	}
	assert.Equal(t, before, h.inbox("ada@example.com", "+14155550102", "bob@example.com", "+14155550103"),
		"a probe without a PIN notifies no one")

	// A wrong PIN gets the same answer, and notifies no one either (until it locks a PIN).
	for _, num := range []string{"+14155550102", "+14155550103", "+14155550188"} {
		t.Run(num+" with a wrong PIN", func(t *testing.T) {
			check(t, partnerProbe{body: map[string]any{"number": num, "transfer_pin": "000000"}})
		})
	}
	assert.Equal(t, before, h.inbox("ada@example.com", "+14155550102", "bob@example.com", "+14155550103"))
}

// Probes are limited per partner: the 31st rejected request in an hour gets 429 with
// Retry-After, whatever number it names; an hour later the partner may probe again.
func TestPartnerPortOutRateLimited(t *testing.T) {
	h := newHarness(t)
	h.signup("ada@example.com", "+14155550102")
	for i := range 30 {
		r := h.do("POST", "/partner/v1/port-out", map[string]any{"number": "+14155550188"}, bearerH(testPartnerToken))
		require.Equal(t, http.StatusForbidden, r.Status, "probe %d: %s", i, r.Raw)
	}
	for _, num := range []string{"+14155550188", "+14155550102"} {
		r := h.do("POST", "/partner/v1/port-out", map[string]any{"number": num}, bearerH(testPartnerToken))
		require.Equal(t, http.StatusTooManyRequests, r.Status, r.Raw)
		assert.Equal(t, "rate_limited", r.str("code"))
		assert.NotEmpty(t, r.Header.Get("Retry-After"))
	}
	h.clock.Advance(time.Hour + time.Minute)
	r := h.do("POST", "/partner/v1/port-out", map[string]any{"number": "+14155550102"}, bearerH(testPartnerToken))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
}

// The right PIN on a port-out the policy permits is accepted with a reference and
// carried out; the PIN is spent, so the same request again gets the one rejection.
func TestPartnerPortOutAcceptedSpendsPIN(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	h.stepUp(a.tok, a.emailContact, backupEmail, "port_out")
	r := h.do("POST", "/v1/transfer-pin", nil, bearerH(a.tok))
	require.Equal(t, 200, r.Status, r.Raw)
	body := map[string]any{"number": "+14155550102", "transfer_pin": r.str("transfer_pin")}

	r = h.do("POST", "/partner/v1/port-out", body, bearerH(testPartnerToken))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, true, r.Body["accepted"])
	assert.Regexp(t, `^[0-9a-f]{32}$`, r.str("reference"))
	h.eventTo("ada@example.com", "port_out.completed")

	again := h.do("POST", "/partner/v1/port-out", body, bearerH(testPartnerToken))
	unknown := h.do("POST", "/partner/v1/port-out", map[string]any{"number": "+14155550188"}, bearerH(testPartnerToken))
	assert.Equal(t, http.StatusForbidden, again.Status)
	assert.Equal(t, unknown.Raw, again.Raw, "a spent PIN is rejected like anything else")
}
