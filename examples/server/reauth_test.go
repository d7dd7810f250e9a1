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

// setupAttempt is one setup request tried by TestSetupWhileOffNeedsFreshPassword: call
// makes the request, and took checks whether its effect is there (want) or not.
type setupAttempt struct {
	call func() resp
	took func(t *testing.T, want bool)
}

// While 2FA is off, setting up a second factor, recovery codes or security questions,
// or turning 2FA on, needs a password entered within protection's password freshness: right after sign-in
// it works; a session older than that gets a step-up to POST /v1/reauth, and works
// after it. A stolen session cannot enrol its thief's factors and lock the owner out.
// A refused request has no effect: each case checks its own.
func TestSetupWhileOffNeedsFreshPassword(t *testing.T) {
	post := func(path string, body any) func(h *harness, tok string) func() resp {
		return func(h *harness, tok string) func() resp {
			return func() resp { return h.do("POST", path, body, bearerH(tok)) }
		}
	}
	status := func(h *harness, tok string) resp {
		r := h.do("GET", "/v1/2fa", nil, bearerH(tok))
		require.Equal(h.t, 200, r.Status, r.Raw)
		return r
	}
	// enrolled checks for a pending authenticator key: confirming a wrong code is
	// refused as a wrong code with one, as "nothing waiting to be confirmed" without.
	enrolled := func(h *harness, tok string) func(t *testing.T, want bool) {
		return func(t *testing.T, want bool) {
			r := h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": "000000"}, bearerH(tok))
			if want {
				assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
				assert.Equal(t, codeInvalidCode, r.str("code"), r.Raw)
				return
			}
			assert.Equal(t, http.StatusConflict, r.Status, "no pending key: %s", r.Raw)
			assert.Contains(t, r.str("message"), "no authenticator app is waiting to be confirmed", r.Raw)
		}
	}
	enroll := func(path string) func(h *harness, tok string) setupAttempt {
		return func(h *harness, tok string) setupAttempt {
			return setupAttempt{call: post(path, nil)(h, tok), took: enrolled(h, tok)}
		}
	}
	// Each case's prepare runs while the sign-in is fresh and returns the request to try;
	// the stale case then moves the clock just past the sign-in's password freshness.
	// took is checked after the refusal and the re-entered password (confirming a key
	// needs a fresh password itself), then after the request is retried.
	cases := []struct {
		name    string
		prepare func(h *harness, tok string) setupAttempt
		ok      int
	}{
		{"add contact", func(h *harness, tok string) setupAttempt {
			return setupAttempt{
				call: post("/v1/2fa/contacts", map[string]any{"kind": "email", "value": backupEmail})(h, tok),
				took: func(t *testing.T, want bool) {
					h.flush()
					if want {
						assert.Len(t, status(h, tok).Body["contacts"], 1)
						assert.NotEmpty(t, h.srv.mail.list(backupEmail), "the new contact gets its code")
						return
					}
					assert.Empty(t, status(h, tok).Body["contacts"], "no contact added")
					assert.Empty(t, h.srv.mail.list(backupEmail), "no code sent to the refused address")
				},
			}
		}, http.StatusCreated},
		{"enroll authenticator", enroll("/v1/2fa/authenticator"), http.StatusOK},
		{"enroll authenticator (QR)", enroll("/v1/2fa/authenticator/qr.png"), http.StatusOK},
		{"confirm authenticator", func(h *harness, tok string) setupAttempt {
			// Enrol late in the window, so the pending key outlives the password.
			h.clock.Advance(passwordFreshness() - 2*time.Minute)
			key := h.enrollApp(tok)
			return setupAttempt{
				call: func() resp {
					return h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": key.TOTP(h.clock.Now())}, bearerH(tok))
				},
				took: func(t *testing.T, want bool) { assert.Equal(t, want, status(h, tok).Body["authenticator"]) },
			}
		}, http.StatusOK},
		{"recovery codes", func(h *harness, tok string) setupAttempt {
			// A set made while fresh, one code used: 9 left. A new set would have 10,
			// and the old codes would stop working.
			r := h.do("POST", "/v1/2fa/recovery-codes", nil, bearerH(tok))
			require.Equal(h.t, 200, r.Status, r.Raw)
			old := r.Body["recovery_codes"].([]any)
			useOld := func(i int) resp {
				return h.do("POST", "/v1/2fa/verify", map[string]any{"method": "recovery_code", "code": old[i]}, bearerH(tok))
			}
			require.Equal(h.t, 200, useOld(0).Status)
			return setupAttempt{
				call: post("/v1/2fa/recovery-codes", nil)(h, tok),
				took: func(t *testing.T, want bool) {
					left := status(h, tok).Body["recovery_codes_left"]
					r := useOld(1)
					if want {
						assert.Equal(t, float64(10), left, "a new set")
						assert.Equal(t, http.StatusForbidden, r.Status, "the old set is replaced: %s", r.Raw)
						return
					}
					assert.Equal(t, float64(9), left, "the old set, not a new one")
					assert.Equal(t, 200, r.Status, "an old code still works: %s", r.Raw)
				},
			}
		}, http.StatusOK},
		{"set security questions", func(h *harness, tok string) setupAttempt {
			return setupAttempt{
				call: func() resp { return h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok)) },
				took: func(t *testing.T, want bool) {
					r := h.do("GET", "/v1/questions", nil, bearerH(tok))
					if want {
						assert.Equal(t, http.StatusOK, r.Status, r.Raw)
						return
					}
					assert.Equal(t, http.StatusNotFound, r.Status, "no questions set: %s", r.Raw)
				},
			}
		}, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/fresh sign-in", func(t *testing.T) {
			h := newHarness(t)
			tok := h.signup("ada@example.com", "+14155550102")
			a := tc.prepare(h, tok)
			r := a.call()
			require.Equal(t, tc.ok, r.Status, r.Raw)
			a.took(t, true)
		})
		t.Run(tc.name+"/stale session", func(t *testing.T) {
			h := newHarness(t)
			tok := h.signup("ada@example.com", "+14155550102")
			signedIn := h.clock.Now()
			a := tc.prepare(h, tok)
			h.clock.Advance(signedIn.Add(passwordFreshness() + time.Second).Sub(h.clock.Now()))
			requireReauth(t, a.call())

			r := h.do("POST", "/v1/reauth", map[string]any{"password": testPassword}, bearerH(tok))
			require.Equal(t, 200, r.Status, r.Raw)
			a.took(t, false)
			r = a.call()
			require.Equal(t, tc.ok, r.Status, r.Raw)
			a.took(t, true)
		})
	}
}

// An authenticator enrolled while 2FA was off cannot be confirmed after 2FA went on
// without the fresh second factor that enrolling one would need then.
func TestConfirmAuthenticatorAfterTwoFactorOnNeedsProof(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	contact := h.addContact(tok, "email", backupEmail)
	// A week on, in a new session stepped up for adding a factor: the app is enrolled
	// while 2FA is off, and 2FA goes on.
	h.clock.Advance(7*24*time.Hour + time.Minute)
	tok = h.signin("ada@example.com", testPassword)
	h.stepUp(tok, contact, backupEmail, "add_factor")
	key := h.enrollApp(tok)
	require.Equal(t, 200, h.do("POST", "/v1/2fa/enable", nil, bearerH(tok)).Status)
	h.clock.Advance(5*time.Minute + time.Second) // the session's proof is stale now

	confirm := func() resp {
		return h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": key.TOTP(h.clock.Now())}, bearerH(tok))
	}
	r := confirm()
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
	r = h.do("GET", "/v1/2fa", nil, bearerH(tok))
	assert.Equal(t, false, r.Body["authenticator"], r.Raw)

	h.stepUp(tok, contact, backupEmail, "account_change") // not for adding a factor
	r = confirm()
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	h.clock.Advance(31 * time.Second) // contact codes are throttled per subscriber
	h.stepUp(tok, contact, backupEmail, "add_factor")
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
	tok := h.signup("ada@example.com", "+14155550102")
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
	tok := h.signup("ada@example.com", "+14155550102")
	contact := h.addContact(tok, "email", backupEmail)
	tok = h.enableLater("ada@example.com", contact)

	r := h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
	require.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
	assert.Equal(t, http.StatusNotFound, h.do("GET", "/v1/questions", nil, bearerH(tok)).Status, "nothing set")

	h.stepUp(tok, contact, backupEmail, "account_change")
	r = h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
}

// Turning 2FA on needs a contact past its probation (a thief who added his own to an
// account without one cannot lock the owner out with it), a fresh code from it sent for
// adding a factor, and, while 2FA is off, a password entered within protection's
// password freshness.
func TestEnableNeedsAnEstablishedFactorAndAFreshPassword(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	contact := h.addContact(tok, "email", backupEmail)
	h.stepUp(tok, contact, backupEmail, "add_factor")
	r := h.do("POST", "/v1/2fa/enable", nil, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Contains(t, r.str("message"), "added too recently", r.Raw)

	h.clock.Advance(7*24*time.Hour + time.Minute)
	tok = h.signin("ada@example.com", testPassword)
	r = h.do("POST", "/v1/2fa/enable", nil, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status, "no code for adding a factor: %s", r.Raw)
	h.clock.Advance(passwordFreshness() + time.Second)
	requireReauth(t, h.do("POST", "/v1/2fa/enable", nil, bearerH(tok)))
	require.Equal(t, 200, h.do("POST", "/v1/reauth", map[string]any{"password": testPassword}, bearerH(tok)).Status)
	h.stepUp(tok, contact, backupEmail, "add_factor")
	r = h.do("POST", "/v1/2fa/enable", nil, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, true, h.do("GET", "/v1/2fa", nil, bearerH(tok)).Body["enabled"])
}
