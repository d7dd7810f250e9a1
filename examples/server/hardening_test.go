package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttackUnverifiedAccountGetsNoTransferPIN: a stranger signs up with a subscriber's
// line under an address he never proves, and asks for the transfer PIN that ports the
// number away. Status's trust gate refuses it before protection is even asked, as it
// refuses the port-out itself; once the email is verified, the request goes on to
// protection's decision.
func TestAttackUnverifiedAccountGetsNoTransferPIN(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/v1/signup", map[string]any{"email": "bob@example.com", "password": testPassword, "name": "Bob", "phone": "+14155550103"})
	require.Equal(t, http.StatusAccepted, r.Status, r.Raw)
	tok := h.signin("bob@example.com", testPassword)

	r = h.do("POST", "/v1/transfer-pin", nil, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, codeAccountUnverified, r.str("code"), r.Raw)
	assert.Empty(t, r.str("transfer_pin"))
	assert.NotContains(t, r.Raw, "decision", "refused by the gate, not decided")

	m := tokenInMail.FindStringSubmatch(h.mailTo("bob@example.com", "Verify").Body)
	require.Len(t, m, 2)
	require.Equal(t, http.StatusOK, h.do("POST", "/v1/email/verify", map[string]any{"token": m[1]}).Status)
	r = h.do("POST", "/v1/transfer-pin", nil, bearerH(tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.NotEmpty(t, r.str("decision", "outcome"), "verified: protection decides")
}

// TestAttackQuestionScoreNotShownToAgent: a caller guessing an answer on the phone (or
// an agent helping him) must not learn how close each wrong guess came: the agent
// console shows the verdict only.
func TestAttackQuestionScoreNotShownToAgent(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	require.Equal(t, http.StatusOK, h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok)).Status)
	c := h.openCase("+14155550102", "phone")
	for _, guess := range []string{"no idea", "two roads", "two roads diverged in a wood"} {
		r := h.agent("POST", c+"/verify/questions", map[string]any{"question_id": "poem-line", "spoken": guess})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		assert.NotEqual(t, "match", r.str("verdict"))
		assert.NotContains(t, r.Body, "score", "the verdict only: %s", r.Raw)
	}
}
