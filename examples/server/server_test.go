package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/status"
)

func TestHygiene(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		hdr    []string
		status int
		code   string
	}{
		{"unknown route", "GET", "/nope", nil, nil, 404, codeNotFound},
		{"wrong method", "DELETE", "/v1/signin", nil, nil, 405, codeMethodNotAllowed},
		{"malformed json", "POST", "/v1/signin", `{"email":`, nil, 400, codeBadJSON},
		{"syntax error", "POST", "/v1/signin", `{"email" 1}`, nil, 400, codeBadJSON},
		{"empty body", "POST", "/v1/signin", ``, []string{"Content-Type: application/json"}, 400, codeBadJSON},
		{"unknown field", "POST", "/v1/signin", `{"email":"a@example.com","password":"x","admin":true}`, nil, 400, codeUnknownField},
		{"wrong type", "POST", "/v1/signin", `{"email":1,"password":"x"}`, nil, 400, codeWrongType},
		{"not an object", "POST", "/v1/signin", `[1,2]`, nil, 400, codeWrongType},
		{"trailing data", "POST", "/v1/signin", `{"email":"a@example.com","password":"x"} {}`, nil, 400, codeBadJSON},
		{"missing field", "POST", "/v1/signin", `{"email":"a@example.com"}`, nil, 400, codeMissingField},
		{"oversize", "POST", "/v1/signin", `{"email":"` + strings.Repeat("a", maxBodyBytes) + `"}`, nil, 413, codeBodyTooLarge},
		{"form content type", "POST", "/v1/signin", `{}`, []string{"Content-Type: application/x-www-form-urlencoded"}, 415, codeUnsupportedMedia},
		{"no auth", "GET", "/v1/sessions", nil, nil, 401, codeUnauthenticated},
		{"bad token", "GET", "/v1/sessions", nil, []string{bearerH("not-a-token")}, 401, codeUnauthenticated},
		{"agent without token", "POST", "/agent/v1/cases", `{}`, nil, 401, codeUnauthenticated},
		{"agent wrong token", "POST", "/agent/v1/cases", `{}`, []string{bearerH("wrong"), "X-Agent-ID: a"}, 401, codeUnauthenticated},
		{"agent without id", "POST", "/agent/v1/cases", `{}`, []string{bearerH(testAgentToken)}, 400, codeMissingField},
		{"partner wrong token", "POST", "/partner/v1/port-out", `{}`, []string{bearerH(testAgentToken)}, 401, codeUnauthenticated},
		{"bad device header", "POST", "/v1/signin", `{"email":"a@example.com","password":"x"}`, []string{deviceHeader + ": a b"}, 400, codeInvalidField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, tc.body, tc.hdr...)
			assert.Equal(t, tc.status, r.Status, r.Raw)
			assert.Equal(t, tc.code, r.str("code"), r.Raw)
			assert.NotEmpty(t, r.str("message"))
			assert.Equal(t, r.Header.Get("X-Request-ID"), r.str("request_id"))
			assert.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
			assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
			assert.Contains(t, r.Header.Get("Content-Security-Policy"), "default-src 'none'")
		})
	}
}

func TestRequestIDEchoedOnlyWhenSafe(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/healthz", nil, "X-Request-ID: abc-123")
	assert.Equal(t, "abc-123", r.Header.Get("X-Request-ID"))
	r = h.do("GET", "/healthz", nil, "X-Request-ID: bad id\x01")
	assert.Len(t, r.Header.Get("X-Request-ID"), 32)
}

func TestRateLimits(t *testing.T) {
	t.Run("per IP", func(t *testing.T) {
		h := newHarness(t, func(o *Options) { o.IPRate, o.IPBurst = 1, 3 })
		for range 3 {
			require.Equal(t, 200, h.do("GET", "/healthz", nil).Status)
		}
		r := h.do("GET", "/healthz", nil)
		assert.Equal(t, http.StatusTooManyRequests, r.Status)
		assert.Equal(t, codeRateLimited, r.str("code"))
		assert.NotEmpty(t, r.Header.Get("Retry-After"))
		h.clock.Advance(2 * time.Second)
		assert.Equal(t, 200, h.do("GET", "/healthz", nil).Status)
	})
	t.Run("per subscriber", func(t *testing.T) {
		h := newHarness(t, func(o *Options) { o.SubscriberRate, o.SubscriberBurst = 1, 2 })
		tok := h.signupUnproved("ada@example.com", "+14155550102")
		for range 2 {
			require.Equal(t, 200, h.do("GET", "/v1/me", nil, bearerH(tok)).Status)
		}
		assert.Equal(t, http.StatusTooManyRequests, h.do("GET", "/v1/me", nil, bearerH(tok)).Status)
	})
}

func TestStoreFlag(t *testing.T) {
	_, err := New(Options{Store: "postgres"})
	assert.ErrorContains(t, err, "-store memory")
}

func TestNoMailboxOutsideDemo(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Demo = false })
	assert.Equal(t, 404, h.do("GET", "/dev/mailbox", nil).Status)
}

func TestSignupAndVerify(t *testing.T) {
	h := newHarness(t)
	// A weak password lists every reason.
	r := h.do("POST", "/v1/signup", map[string]any{"email": "ada@example.com", "password": "password", "name": "Ada", "phone": "+14155550102"})
	require.Equal(t, 422, r.Status, r.Raw)
	assert.Equal(t, codePasswordRejected, r.str("code"))
	assert.Contains(t, r.Raw, "too_short")
	// Bad email and phone.
	r = h.do("POST", "/v1/signup", map[string]any{"email": "nope", "password": testPassword, "name": "Ada", "phone": "+14155550102"})
	assert.Equal(t, codeInvalidField, r.str("code"))
	r = h.do("POST", "/v1/signup", map[string]any{"email": "ada@example.com", "password": testPassword, "name": "Ada", "phone": "12"})
	assert.Equal(t, codeInvalidField, r.str("code"))

	tok := h.signup("ada@example.com", "+14155550102")
	st := h.do("GET", "/v1/status", nil, bearerH(tok))
	require.Equal(t, 200, st.Status, st.Raw)
	assert.EqualValues(t, 50, st.Body["percent"]) // verified + password
	assert.Equal(t, "two_factor", st.str("next"))

	// The token worked once.
	m := tokenInMail.FindStringSubmatch(h.mailTo("ada@example.com", "Verify").Body)
	r = h.do("POST", "/v1/email/verify", map[string]any{"token": m[1]})
	assert.Equal(t, codeInvalidLink, r.str("code"))
	// Resend on a verified account is a conflict.
	assert.Equal(t, http.StatusConflict, h.do("POST", "/v1/email/resend", nil, bearerH(tok)).Status)

	// Signing up again with the same address or number looks the same but mails the
	// owner (once the pacing that started with the account allows a notice).
	h.clock.Advance(signupNoticeEvery)
	r = h.do("POST", "/v1/signup", map[string]any{"email": "ada@example.com", "password": testPassword, "name": "Eve", "phone": "+14155550199"})
	assert.Equal(t, http.StatusAccepted, r.Status)
	h.mailTo("ada@example.com", "Someone tried to sign up with your address")
	r = h.do("POST", "/v1/signup", map[string]any{"email": "eve@example.com", "password": testPassword, "name": "Eve", "phone": "+14155550102"})
	assert.Equal(t, http.StatusAccepted, r.Status)
	h.mailTo("ada@example.com", "Someone tried to sign up with your number")
	for _, m := range h.srv.mail.list("+14155550102") {
		assert.NotContains(t, m.Subject+m.Body, "sign up", "no sign-up notice by SMS to a number given at sign-up")
	}
	assert.Empty(t, h.srv.mail.list("eve@example.com"), "no account, no verification link")
}

func TestUnverifiedAccountCannotSwap(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/v1/signup", map[string]any{"email": "bob@example.com", "password": testPassword, "name": "Bob", "phone": "+14155550103"})
	require.Equal(t, http.StatusAccepted, r.Status)
	tok := h.signin("bob@example.com", testPassword)
	r = h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Equal(t, codeAccountUnverified, r.str("code"))
	st := h.do("GET", "/v1/status", nil, bearerH(tok))
	assert.Contains(t, st.Raw, `"sim_swap"`)
	r = h.do("POST", "/v1/2fa/contacts", map[string]any{"kind": "email", "value": "bob.backup@example.org"}, bearerH(tok))
	assert.Equal(t, codeAccountUnverified, r.str("code"), r.Raw)
	// Resend works while unverified (a minute after the signup link), and the new token verifies.
	h.clock.Advance(time.Minute)
	require.Equal(t, http.StatusAccepted, h.do("POST", "/v1/email/resend", nil, bearerH(tok)).Status)
	m := tokenInMail.FindStringSubmatch(h.mailTo("bob@example.com", "Verify").Body)
	assert.Equal(t, 200, h.do("POST", "/v1/email/verify", map[string]any{"token": m[1]}).Status)
}

// Verification links are throttled by package status: a resend too soon, or past the
// hourly limit, is a 429 with the real wait in Retry-After, and sends nothing.
func TestResendEmailThrottled(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/v1/signup", map[string]any{"email": "bob@example.com", "password": testPassword, "name": "Bob", "phone": "+14155550103"})
	require.Equal(t, http.StatusAccepted, r.Status, r.Raw)
	tok := h.signin("bob@example.com", testPassword)
	links := func() int {
		h.flush()
		n := 0
		for _, m := range h.srv.mail.list("bob@example.com") {
			if strings.Contains(m.Subject, "Verify") {
				n++
			}
		}
		return n
	}
	throttled := func(retryAfter string) {
		t.Helper()
		r := h.do("POST", "/v1/email/resend", nil, bearerH(tok))
		require.Equal(t, http.StatusTooManyRequests, r.Status, r.Raw)
		assert.Equal(t, codeRateLimited, r.str("code"))
		assert.Equal(t, retryAfter, r.Header.Get("Retry-After"))
		assert.NotContains(t, r.Raw, "bob@", "the refusal names no address")
	}

	throttled("60") // the signup link was sent a moment ago
	h.clock.Advance(30 * time.Second)
	throttled("30")
	h.clock.Advance(30 * time.Second)
	for i := range 4 { // links 2 to 5 of the hour, a minute apart
		require.Equal(t, http.StatusAccepted, h.do("POST", "/v1/email/resend", nil, bearerH(tok)).Status, "resend %d", i+2)
		h.clock.Advance(time.Minute)
	}
	throttled("3300") // five links in the last hour; the first leaves it at 60 min
	assert.Equal(t, 5, links(), "refused resends sent nothing")
	h.clock.Advance(3300 * time.Second)
	assert.Equal(t, http.StatusAccepted, h.do("POST", "/v1/email/resend", nil, bearerH(tok)).Status)
	assert.Equal(t, 6, links())
}

// otp's resend throttle answers through the same 429 path, with its real wait.
func TestContactCodeThrottleRetryAfter(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	r := h.do("POST", "/v1/2fa/contacts", map[string]any{"kind": "email", "value": "ada.backup@example.org"}, bearerH(tok))
	require.Equal(t, http.StatusCreated, r.Status, r.Raw)
	h.clock.Advance(10 * time.Second)
	r = h.do("POST", "/v1/2fa/contacts", map[string]any{"kind": "email", "value": "ada.other@example.org"}, bearerH(tok))
	require.Equal(t, http.StatusTooManyRequests, r.Status, r.Raw)
	assert.Equal(t, codeRateLimited, r.str("code"))
	assert.Equal(t, "20", r.Header.Get("Retry-After"))
}

func TestSignin(t *testing.T) {
	h := newHarness(t)
	h.signup("ada@example.com", "+14155550102")
	for _, body := range []map[string]any{
		{"email": "ada@example.com", "password": "wrong password entirely"},
		{"email": "nobody@example.com", "password": testPassword},
		{"email": "not an email", "password": testPassword},
	} {
		r := h.do("POST", "/v1/signin", body)
		assert.Equal(t, http.StatusUnauthorized, r.Status, r.Raw)
		assert.Equal(t, codeInvalidCreds, r.str("code"))
	}
	// Repeated failures lock sign-in (with a time to retry).
	var r resp
	for range 20 {
		r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": "wrong password entirely"})
		if r.Status != http.StatusUnauthorized {
			break
		}
	}
	assert.Equal(t, codeLocked, r.str("code"), r.Raw)
	if r.Status == http.StatusTooManyRequests {
		assert.NotEmpty(t, r.Header.Get("Retry-After"))
	}
}

func TestSessions(t *testing.T) {
	h := newHarness(t)
	tok1 := h.signup("ada@example.com", "+14155550102")
	tok2 := h.signin("ada@example.com", testPassword)
	tok3 := h.signin("ada@example.com", testPassword)

	r := h.do("GET", "/v1/sessions", nil, bearerH(tok1))
	require.Equal(t, 200, r.Status)
	list := r.Body["sessions"].([]any)
	require.Len(t, list, 3)
	for _, s := range list {
		assert.NotContains(t, s, "token")
	}

	// A token from another device is refused (and revoked).
	r = h.do("GET", "/v1/me", nil, bearerH(tok3), deviceHeader+": other-device")
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", nil, bearerH(tok3)).Status)

	// Revoke one by ID.
	r = h.do("GET", "/v1/sessions", nil, bearerH(tok2))
	var other string
	for _, s := range r.Body["sessions"].([]any) {
		if m := s.(map[string]any); m["current"] == false {
			other = m["id"].(string)
		}
	}
	require.NotEmpty(t, other)
	assert.Equal(t, http.StatusNoContent, h.do("DELETE", "/v1/sessions/"+other, nil, bearerH(tok2)).Status)
	assert.Equal(t, http.StatusNotFound, h.do("DELETE", "/v1/sessions/"+other, nil, bearerH(tok2)).Status)
	assert.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", nil, bearerH(tok1)).Status)

	// Sign out everywhere, keeping this one, then sign out.
	tok4 := h.signin("ada@example.com", testPassword)
	r = h.do("POST", "/v1/sessions/revoke-all", map[string]any{"keep_current": true}, bearerH(tok2))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.EqualValues(t, 1, r.Body["revoked"])
	assert.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", nil, bearerH(tok4)).Status)
	assert.Equal(t, 200, h.do("GET", "/v1/me", nil, bearerH(tok2)).Status)
	assert.Equal(t, http.StatusNoContent, h.do("POST", "/v1/signout", nil, bearerH(tok2)).Status)
	assert.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", nil, bearerH(tok2)).Status)
	// The subscriber heard about it.
	h.eventTo("ada@example.com", "sessions.revoked")
}

func TestSignOutEverywhereIncludingCurrent(t *testing.T) {
	h := newHarness(t)
	tok1 := h.signup("ada@example.com", "+14155550102")
	tok2 := h.signin("ada@example.com", testPassword)
	r := h.do("POST", "/v1/sessions/revoke-all", map[string]any{"keep_current": false}, bearerH(tok1))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.EqualValues(t, 2, r.Body["revoked"])
	for _, tok := range []string{tok1, tok2} {
		assert.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", nil, bearerH(tok)).Status)
	}
}

func TestReauthAndRotation(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	r := h.do("POST", "/v1/reauth", map[string]any{"password": "wrong password entirely"}, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, codeInvalidCreds, r.str("code"))
	r = h.do("POST", "/v1/reauth", map[string]any{"password": testPassword}, bearerH(tok))
	assert.Equal(t, 200, r.Status, r.Raw)
	r = h.do("GET", "/v1/password/rotation", nil, bearerH(tok))
	require.Equal(t, 200, r.Status)
	assert.Equal(t, "current", r.str("state"))
	assert.Equal(t, false, r.Body["must_change"])
}

func TestProtectionFlags(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	assert.Equal(t, 404, h.do("PUT", "/v1/protection/flags/free_lunch", nil, bearerH(tok)).Status)
	r := h.do("PUT", "/v1/protection/flags/never_sim_swap", nil, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	r = h.do("GET", "/v1/protection/flags", nil, bearerH(tok))
	assert.Contains(t, r.Raw, `{"flag":"never_sim_swap","on":true`)
	h.eventTo("ada@example.com", "protection.flag_enabled")
	// Turning it off with only a session and password is not enough: a contact code is.
	r = h.do("DELETE", "/v1/protection/flags/never_sim_swap", nil, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "not_permitted", r.str("status"))
	assert.Equal(t, "step_up", r.str("decision", "outcome"))
	// Nothing pending to cancel.
	assert.Equal(t, 404, h.do("POST", "/v1/protection/flags/never_sim_swap/cancel-disable", nil, bearerH(tok)).Status)
}

func TestSelfServiceSIMSwapUnderNeverSIMSwap(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	require.Equal(t, 200, h.do("PUT", "/v1/protection/flags/never_sim_swap", nil, bearerH(tok)).Status)
	r := h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "denied", r.str("status"))
	assert.Equal(t, "deny", r.str("decision", "outcome"))
	assert.Contains(t, r.Raw, "flag_never_sim_swap")
	assert.NotEmpty(t, r.str("request_id"))
	h.eventTo("ada@example.com", "sim_swap.requested")
	h.eventTo("+14155550102", "sim_swap.denied")
	// Someone else's number is refused outright.
	r = h.do("POST", "/v1/sim-swap", map[string]any{"number": "+14155550188"}, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status)
	r = h.do("POST", "/v1/esim-transfer", map[string]any{"transfer_pin": "123456"}, bearerH(tok))
	assert.Equal(t, codeInvalidField, r.str("code"))
	r = h.do("POST", "/v1/esim-transfer", map[string]any{}, bearerH(tok))
	assert.Equal(t, "deny", r.str("decision", "outcome"), r.Raw)
}

func TestSIMSwapWithoutFlagNeedsContactCode(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	r := h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "step_up", r.str("status"))
	assert.Contains(t, r.Raw, `"required_steps":[["contact_code"]]`)
}

func TestAgentConsole(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	_ = tok
	r := h.agent("POST", "/agent/v1/cases", map[string]any{"phone": "+1 415 555 0188", "channel": "phone"})
	assert.Equal(t, 404, r.Status)
	// The channel is the token's: a phone token cannot open a store case.
	r = h.do("POST", "/agent/v1/cases", map[string]any{"phone": "+14155550102", "channel": "store"}, bearerH(testAgentToken))
	assert.Equal(t, codeForbidden, r.str("code"), r.Raw)
	r = h.agent("POST", "/agent/v1/cases", map[string]any{"phone": "+1 (415) 555-0102", "channel": "phone"})
	require.Equal(t, http.StatusCreated, r.Status, r.Raw)
	caseID := r.str("case_id")
	// Nothing about the account before verification.
	assert.Equal(t, false, r.Body["verified"])
	assert.NotContains(t, r.Raw, "Ada")
	assert.NotContains(t, r.Raw, "example.com")
	assert.NotContains(t, r.Raw, "5550102")
	// Another agent cannot use the case.
	r2 := h.do("GET", "/agent/v1/cases/"+caseID, nil, bearerH(testAgentTokens["other"]))
	assert.Equal(t, 404, r2.Status)

	// A SIM swap requested on the phone is denied, with the reasons.
	r = h.agent("POST", "/agent/v1/cases/"+caseID+"/sim-swap", map[string]any{})
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "denied", r.str("status"))
	assert.Contains(t, r.Raw, "sim_change_channel")
	h.eventTo("ada@example.com", "sim_swap.denied")
	m := h.eventTo("ada@example.com", "sim_swap.requested")
	assert.Contains(t, m.Body, "on a phone call with support")
}

func TestPortOut(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	require.Equal(t, 200, h.do("PUT", "/v1/protection/flags/no_port_out", nil, bearerH(tok)).Status)
	// Self-service port-out is never allowed in the app.
	r := h.do("POST", "/v1/port-out", map[string]any{}, bearerH(tok))
	assert.Equal(t, "deny", r.str("decision", "outcome"), r.Raw)
	// Partner without a PIN, with a PIN that could not make the request pass (it is not
	// spent), or for a number that is no customer's: one answer, without the flag.
	for _, body := range []map[string]any{{"number": "+14155550102"}, {"number": "+14155550102", "transfer_pin": "000000"}, {"number": "+14155550188"}} {
		r = h.do("POST", "/partner/v1/port-out", body, bearerH(testPartnerToken))
		require.Equal(t, 403, r.Status, r.Raw)
		assert.Equal(t, "denied", r.str("code"))
		assert.NotContains(t, r.Raw, "flag_no_port_out")
	}
}

func TestTransferPINNeedsSecondFactor(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	r := h.do("POST", "/v1/transfer-pin", nil, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "step_up", r.str("decision", "outcome"))
	assert.Empty(t, r.str("transfer_pin"))
}

func TestPasswordChangeNeedsSecondFactor(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	r := h.do("POST", "/v1/password/change", map[string]any{"current": testPassword, "new": "another long passphrase for ada"}, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, "step_up_required", r.str("code"))
}

func TestLogsCarryNoSecrets(t *testing.T) {
	var buf strings.Builder
	h := newHarness(t, func(o *Options) { o.Logger = newTestLogger(&buf) })
	tok := h.signup("ada@example.com", "+14155550102")
	h.do("POST", "/v1/reauth", map[string]any{"password": testPassword}, bearerH(tok))
	logs := buf.String()
	assert.Contains(t, logs, `"route":"POST /v1/signin"`)
	assert.NotContains(t, logs, tok)
	assert.NotContains(t, logs, testPassword)
	m := tokenInMail.FindStringSubmatch(h.mailTo("ada@example.com", "Verify").Body)
	assert.NotContains(t, logs, m[1])

	// Codes, recovery codes and transfer PINs stay out of the logs too.
	a := h.secureAccount2(tok)
	tok = a.tok
	h.stepUp(tok, a.emailContact, backupEmail, "add_factor")
	code := h.code(backupEmail)
	rc := h.do("POST", "/v1/2fa/recovery-codes", nil, bearerH(tok))
	require.Equal(t, 200, rc.Status, rc.Raw)
	h.stepUp(tok, a.emailContact, backupEmail, "port_out")
	portOutCode := h.code(backupEmail)
	pin := h.do("POST", "/v1/transfer-pin", nil, bearerH(tok))
	require.NotEmpty(t, pin.str("transfer_pin"), pin.Raw)
	logs = buf.String()
	assert.NotContains(t, logs, code)
	assert.NotContains(t, logs, portOutCode)
	assert.NotContains(t, logs, pin.str("transfer_pin"))
	for _, c := range rc.Body["recovery_codes"].([]any) {
		assert.NotContains(t, logs, c.(string))
	}
	assert.NotContains(t, logs, backupEmail)
	for _, ch := range threeQuestions["choices"].([]map[string]any) {
		assert.NotContains(t, logs, ch["answer"].(string), "security answers stay out of the logs")
	}
}

// Outside demo mode messages go to the log courier: it records that a message went
// out, to a masked address, and never the body with its code or link.
func TestLogCourierLogsNoBodyOrFullAddress(t *testing.T) {
	var buf strings.Builder
	c := logCourier{log: newTestLogger(&buf)}
	for _, m := range []message{
		{Channel: "email", To: "ada.backup@example.org", Subject: "Your security code", Body: "Your code is 482913."},
		{Channel: "sms", To: "+14155552671", Subject: "Your security code", Body: "Your code is 730155."},
	} {
		require.NoError(t, c.deliver(t.Context(), m))
	}
	logs := buf.String()
	assert.Equal(t, 2, strings.Count(logs, `"msg":"message sent"`), logs)
	assert.Contains(t, logs, "2671", "the last digits say which line")
	for _, secret := range []string{"482913", "730155", "Your code", "ada.backup@example.org", "+14155552671"} {
		assert.NotContains(t, logs, secret)
	}
}

func TestFailingSenderDoesNotFailTheRequest(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	h.flush()
	h.srv.mail.mu.Lock()
	h.srv.mail.fail = errors.New("gateway down")
	h.srv.mail.mu.Unlock()
	r := h.do("PUT", "/v1/protection/flags/never_sim_swap", nil, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	h.flush() // the delivery fails and is scheduled for a retry
	for _, m := range h.srv.mail.list("ada@example.com") {
		require.NotEqual(t, "protection.flag_enabled", m.Event)
	}
	h.srv.mail.mu.Lock()
	h.srv.mail.fail = nil
	h.srv.mail.mu.Unlock()
	h.clock.Advance(time.Minute) // past the first backoff
	h.eventTo("ada@example.com", "protection.flag_enabled")
}

// A resend for an account whose verified address is another one is a conflict the
// subscriber can act on (change the address), not a server fault.
func TestResendEmailOtherAddressVerified(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/v1/signup", map[string]any{"email": "bob@example.com", "password": testPassword, "name": "Bob", "phone": "+14155550103"})
	require.Equal(t, http.StatusAccepted, r.Status, r.Raw)
	a, ok := h.srv.dir.byEmailAddr("bob@example.com")
	require.True(t, ok)
	// The status service's record and the account disagree, as after a CRM import.
	h.clock.Advance(2 * time.Minute)
	lt, err := h.srv.status.ChangeEmail(context.Background(), a.ID, "carol@example.com", status.By{})
	require.NoError(t, err)
	_, err = h.srv.status.Verify(context.Background(), lt.Token)
	require.NoError(t, err)
	// The email change ended every session, so sign in after it.
	tok := h.signin("bob@example.com", testPassword)

	h.clock.Advance(2 * time.Minute)
	r = h.do("POST", "/v1/email/resend", nil, bearerH(tok))
	require.Equal(t, http.StatusConflict, r.Status, r.Raw)
	assert.Equal(t, codeConflict, r.str("code"))
	assert.NotContains(t, r.Raw, "carol@", "the refusal names no address")
}

// A timed 2FA lockout tells the client, in Retry-After, how long it really lasts.
func TestTwoFactorLockoutRetryAfter(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	r := h.do("POST", "/v1/2fa/challenge", map[string]any{"contact_id": a.emailContact}, bearerH(a.tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	challenge := r.str("challenge_id")
	for range 10 {
		r = h.do("POST", "/v1/2fa/verify", map[string]any{"challenge_id": challenge, "code": "000000"}, bearerH(a.tok))
		if r.Status != http.StatusForbidden {
			break
		}
	}
	require.Equal(t, http.StatusTooManyRequests, r.Status, r.Raw)
	assert.Equal(t, codeLocked, r.str("code"))
	assert.Equal(t, "900", r.Header.Get("Retry-After"), "the first lockout lasts 15 minutes")
	h.clock.Advance(5 * time.Minute)
	r = h.do("POST", "/v1/2fa/verify", map[string]any{"challenge_id": challenge, "code": "000000"}, bearerH(a.tok))
	require.Equal(t, http.StatusTooManyRequests, r.Status, r.Raw)
	assert.Equal(t, "600", r.Header.Get("Retry-After"))
}

// Repeated sign-ups with a subscriber's address or number notify the owner at most
// once an hour per address or number, by email only: sign-up can neither bomb them nor
// pump SMS. The pacing starts when the account is made, so a number registered a
// moment ago and one registered long ago answer a second sign-up alike.
func TestSignupNoticesArePaced(t *testing.T) {
	h := newHarness(t)
	h.signup("ada@example.com", "+14155550102")
	count := func(subject string) int {
		h.flush()
		n := 0
		for _, m := range h.srv.mail.list("ada@example.com") {
			if strings.Contains(m.Subject, subject) {
				n++
			}
		}
		return n
	}
	tries := 0
	try := func() {
		tries++
		n := strconv.Itoa(tries)
		for _, body := range []map[string]any{
			{"email": "ada@example.com", "password": testPassword, "name": "Eve", "phone": "+141555509" + fmt.Sprintf("%02d", tries)},
			{"email": "eve" + n + "@example.com", "password": testPassword, "name": "Eve", "phone": "+14155550102"},
		} {
			r := h.do("POST", "/v1/signup", body)
			require.Equal(t, http.StatusAccepted, r.Status, r.Raw)
		}
	}
	const addr, number = "with your address", "with your number"
	try()
	assert.Zero(t, count(addr)+count(number), "paced from the account's creation")

	h.clock.Advance(61 * time.Minute)
	for range 3 {
		try()
	}
	assert.Equal(t, 1, count(addr))
	assert.Equal(t, 1, count(number))

	// Still one after half an hour of quiet (the pace outlives the limiter's sweep).
	h.clock.Advance(30 * time.Minute)
	try()
	assert.Equal(t, 1, count(addr))
	assert.Equal(t, 1, count(number))

	// An hour on, the owner hears again; no SMS ever went to the number.
	h.clock.Advance(31 * time.Minute)
	try()
	assert.Equal(t, 2, count(addr))
	assert.Equal(t, 2, count(number))
	for _, m := range h.srv.mail.list("+14155550102") {
		assert.NotContains(t, m.Subject+m.Body, "sign up", "no sign-up notice by SMS")
	}
}
