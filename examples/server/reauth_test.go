package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// enrollApp starts authenticator enrollment and returns the app's key.
func (h *harness) enrollApp(tok string) *otp.Key {
	h.t.Helper()
	r := h.do("POST", "/v1/2fa/authenticator", nil, bearerH(tok))
	require.Equal(h.t, 200, r.Status, r.Raw)
	uri, err := otp.ParseKeyURI(r.str("uri"))
	require.NoError(h.t, err)
	key, err := otp.NewKey(uri.Secret, uri.Params)
	require.NoError(h.t, err)
	return key
}

// requireReauth checks r is the answer to a request that needs the password re-entered.
func requireReauth(t *testing.T, r resp) {
	t.Helper()
	require.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
	assert.Equal(t, "POST /v1/reauth", r.str("details", "step_up"), r.Raw)
	assert.Equal(t, []any{[]any{"session", "password"}}, r.Body["details"].(map[string]any)["required_steps"], r.Raw)
}

// While 2FA is off, setting up a second factor, recovery codes or security questions,
// or turning 2FA on, needs a password entered within protection's password freshness: right after sign-in
// it works; a session older than that gets a step-up to POST /v1/reauth, and works
// after it. A stolen session cannot enrol its thief's factors and lock the owner out.
func TestSetupWhileOffNeedsFreshPassword(t *testing.T) {
	post := func(path string, body any) func(h *harness, tok string) func() resp {
		return func(h *harness, tok string) func() resp {
			return func() resp { return h.do("POST", path, body, bearerH(tok)) }
		}
	}
	// Each case's prepare runs while the sign-in is fresh and returns the request to try;
	// the stale case then moves the clock just past the sign-in's password freshness.
	cases := []struct {
		name    string
		prepare func(h *harness, tok string) func() resp
		ok      int
	}{
		{"add contact", post("/v1/2fa/contacts", map[string]any{"kind": "email", "value": backupEmail}), http.StatusCreated},
		{"enroll authenticator", post("/v1/2fa/authenticator", nil), http.StatusOK},
		{"enroll authenticator (QR)", post("/v1/2fa/authenticator/qr.png", nil), http.StatusOK},
		{"confirm authenticator", func(h *harness, tok string) func() resp {
			// Enrol late in the window, so the pending key outlives the password.
			h.clock.Advance(passwordFreshness() - 2*time.Minute)
			key := h.enrollApp(tok)
			return func() resp {
				return h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": key.TOTP(h.clock.Now())}, bearerH(tok))
			}
		}, http.StatusOK},
		{"recovery codes", post("/v1/2fa/recovery-codes", nil), http.StatusOK},
		{"set security questions", func(h *harness, tok string) func() resp {
			return func() resp { return h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok)) }
		}, http.StatusOK},
		{"enable", func(h *harness, tok string) func() resp {
			h.addContact(tok, "email", backupEmail)
			return post("/v1/2fa/enable", nil)(h, tok)
		}, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/fresh sign-in", func(t *testing.T) {
			h := newHarness(t)
			tok := h.signup("ada@example.com", "+15550100002")
			r := tc.prepare(h, tok)()
			require.Equal(t, tc.ok, r.Status, r.Raw)
		})
		t.Run(tc.name+"/stale session", func(t *testing.T) {
			h := newHarness(t)
			tok := h.signup("ada@example.com", "+15550100002")
			signedIn := h.clock.Now()
			call := tc.prepare(h, tok)
			h.clock.Advance(signedIn.Add(passwordFreshness() + time.Second).Sub(h.clock.Now()))
			requireReauth(t, call())
			r := h.do("GET", "/v1/2fa", nil, bearerH(tok))
			require.Equal(t, 200, r.Status, r.Raw)
			assert.Equal(t, false, r.Body["enabled"], "nothing changed")
			assert.Equal(t, false, r.Body["authenticator"], "nothing changed")
			assert.Equal(t, http.StatusNotFound, h.do("GET", "/v1/questions", nil, bearerH(tok)).Status, "nothing changed")

			r = h.do("POST", "/v1/reauth", map[string]any{"password": testPassword}, bearerH(tok))
			require.Equal(t, 200, r.Status, r.Raw)
			r = call()
			require.Equal(t, tc.ok, r.Status, r.Raw)
		})
	}
}

// An authenticator enrolled while 2FA was off cannot be confirmed after 2FA went on
// without the fresh second factor that enrolling one would need then.
func TestConfirmAuthenticatorAfterTwoFactorOnNeedsProof(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+15550100002")
	key := h.enrollApp(tok)
	contact := h.addContact(tok, "email", backupEmail)
	require.Equal(t, 200, h.do("POST", "/v1/2fa/enable", nil, bearerH(tok)).Status)

	confirm := func() resp {
		return h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": key.TOTP(h.clock.Now())}, bearerH(tok))
	}
	r := confirm()
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
	r = h.do("GET", "/v1/2fa", nil, bearerH(tok))
	assert.Equal(t, false, r.Body["authenticator"], r.Raw)

	h.clock.Advance(31 * time.Second) // contact codes are throttled per subscriber
	h.stepUp(tok, contact, backupEmail, "account_change")
	r = confirm()
	require.Equal(t, 200, r.Status, r.Raw)
	r = h.do("GET", "/v1/2fa", nil, bearerH(tok))
	assert.Equal(t, true, r.Body["authenticator"], r.Raw)
}

// Enrolling an authenticator while one is confirmed is a conflict the subscriber can
// resolve (remove the app first), not an internal error; so is confirming when no
// enrollment is pending.
func TestEnrollAuthenticatorWhenConfirmedIsConflict(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+15550100002")
	key := h.enrollApp(tok)
	r := h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": key.TOTP(h.clock.Now())}, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)

	for _, path := range []string{"/v1/2fa/authenticator", "/v1/2fa/authenticator/qr.png"} {
		r = h.do("POST", path, nil, bearerH(tok))
		require.Equal(t, http.StatusConflict, r.Status, path+": "+r.Raw)
		assert.Equal(t, codeConflict, r.str("code"), r.Raw)
		assert.Contains(t, r.str("message"), "DELETE /v1/2fa/authenticator", r.Raw)
	}
	h.clock.Advance(time.Minute) // the next TOTP step
	r = h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": key.TOTP(h.clock.Now())}, bearerH(tok))
	require.Equal(t, http.StatusConflict, r.Status, r.Raw)
	assert.Equal(t, codeConflict, r.str("code"), r.Raw)
	assert.Contains(t, r.str("message"), "POST /v1/2fa/authenticator", r.Raw)
}

// Once 2FA is on, setting security questions for the first time needs a fresh second
// factor, as enrolling a factor does: a stolen session must not choose answers its
// thief knows and then pass an agent's verbal check with them.
func TestSetQuestionsWhileOnNeedsProof(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+15550100002")
	contact := h.addContact(tok, "email", backupEmail)
	require.Equal(t, 200, h.do("POST", "/v1/2fa/enable", nil, bearerH(tok)).Status)

	r := h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
	require.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
	assert.Equal(t, http.StatusNotFound, h.do("GET", "/v1/questions", nil, bearerH(tok)).Status, "nothing set")

	h.stepUp(tok, contact, backupEmail, "account_change")
	r = h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
}
