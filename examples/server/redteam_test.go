package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A thief with the password and one leaked recovery code signs in. The owner sees the
// "recovery code used" notice and makes new codes (every earlier one stops working):
// the thief's session, opened with a code that no longer exists, must end with it.
func TestAttackRecoveryCodeSessionSurvivesRegeneration(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	h.stepUp(a.tok, a.emailContact, backupEmail, "add_factor")
	r := h.do("POST", "/v1/2fa/recovery-codes", nil, bearerH(a.tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	leaked := r.Body["recovery_codes"].([]any)[0].(string)

	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword}, thiefDevice, thiefAddr)
	r = h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": r.str("signin_id"), "method": "recovery_code", "code": leaked}, thiefDevice, thiefAddr)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	thief := r.str("token")

	h.clock.Advance(time.Minute)
	h.stepUp(a.tok, a.emailContact, backupEmail, "add_factor")
	r = h.do("POST", "/v1/2fa/recovery-codes", nil, bearerH(a.tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)

	r = h.do("GET", "/v1/me", nil, bearerH(thief), thiefDevice, thiefAddr)
	assert.Equal(t, http.StatusUnauthorized, r.Status, "the session opened with a replaced recovery code lives on: %s", r.Raw)
	assert.Equal(t, http.StatusOK, h.do("GET", "/v1/me", nil, bearerH(a.tok)).Status, "the owner's own session is kept")
}
