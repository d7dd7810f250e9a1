package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A step-up code counts only toward what its message said it was for: a subscriber
// talked into reading out a code "for account change" has not agreed to a SIM swap, a
// port-out, turning 2FA off or lifting a flag.
func TestStepUpCodeCountsOnlyForItsPurpose(t *testing.T) {
	h := newHarness(t)
	a := h.settledAccount() // past the credential-change window: see settledAccount
	require.Equal(t, 200, h.do("PUT", "/v1/protection/flags/no_port_out", nil, bearerH(a.tok)).Status)
	h.stepUp(a.tok, a.emailContact, backupEmail, "account_change")

	// Each refusal names the purpose to ask a code for.
	r := h.do("POST", "/v1/2fa/disable", nil, bearerH(a.tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
	assert.Equal(t, "disable_two_factor", r.str("details", "decision", "code_purpose"), r.Raw)
	r = h.do("DELETE", "/v1/2fa/authenticator", nil, bearerH(a.tok))
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
	assert.Equal(t, "disable_two_factor", r.str("details", "decision", "code_purpose"), r.Raw)
	r = h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(a.tok))
	assert.Equal(t, "step_up", r.str("status"), r.Raw)
	assert.Equal(t, []any{"session", "password"}, r.Body["decision"].(map[string]any)["counted_evidence"], "the code is not counted: %s", r.Raw)
	assert.Equal(t, "sim_swap", r.str("decision", "code_purpose"), r.Raw)
	r = h.do("POST", "/v1/esim-transfer", map[string]any{}, bearerH(a.tok))
	assert.Equal(t, "sim_swap", r.str("decision", "code_purpose"), r.Raw)
	r = h.do("POST", "/v1/transfer-pin", nil, bearerH(a.tok))
	assert.Empty(t, r.str("transfer_pin"), r.Raw)
	assert.Equal(t, "port_out", r.str("decision", "code_purpose"), r.Raw)
	r = h.do("DELETE", "/v1/protection/flags/no_port_out", nil, bearerH(a.tok))
	assert.Equal(t, "not_permitted", r.str("status"), r.Raw)
	assert.Equal(t, "port_out", r.str("decision", "code_purpose"), r.Raw)
	r = h.do("GET", "/v1/2fa", nil, bearerH(a.tok))
	assert.Equal(t, true, r.Body["enabled"], "2FA stays on")

	// It does count for an account change.
	r = h.do("POST", "/v1/password/change", map[string]any{"current": testPassword, "new": testPassword + " v2"}, bearerH(a.tok))
	assert.Equal(t, http.StatusOK, r.Status, r.Raw)

	// And a code for a SIM swap counts for the SIM swap, not for a port-out. (Three
	// days on, signed in again: a SIM swap right after a password change is scored
	// High, as a thief's would be.)
	h.clock.Advance(73 * time.Hour)
	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword + " v2"})
	require.Equal(t, "second_factor_required", r.str("status"), r.Raw)
	sid := r.str("signin_id")
	r = h.do("POST", "/v1/signin/challenge", map[string]any{"signin_id": sid, "contact_id": a.emailContact})
	require.Equal(t, 200, r.Status, r.Raw)
	r = h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": sid, "challenge_id": r.str("challenge_id"), "code": h.code(backupEmail)})
	require.Equal(t, 200, r.Status, r.Raw)
	a.tok = r.str("token")
	h.clock.Advance(31 * time.Second)
	h.stepUp(a.tok, a.emailContact, backupEmail, "sim_swap")
	r = h.do("POST", "/v1/transfer-pin", nil, bearerH(a.tok))
	assert.Empty(t, r.str("transfer_pin"), r.Raw)
	r = h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(a.tok))
	assert.Equal(t, "completed", r.str("status"), r.Raw)

}

// A proof keeps its own time: a SIM-swap code proved 11 minutes ago does not become
// fresh because a code for another purpose was proved since (the session records only
// the time of the newest).
func TestOlderProofKeepsItsOwnTime(t *testing.T) {
	h := newHarness(t)
	a := h.settledAccount() // past the credential-change window: see settledAccount
	h.stepUp(a.tok, a.emailContact, backupEmail, "sim_swap")
	h.clock.Advance(11 * time.Minute)
	h.stepUp(a.tok, a.emailContact, backupEmail, "account_change")
	r := h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(a.tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, "step_up", r.str("status"), "the SIM-swap code is stale: %s", r.Raw)
	assert.Equal(t, "sim_swap", r.str("decision", "code_purpose"), r.Raw)
}
