package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noSIMSwapCompleted fails t if any SIM swap of the victim completed.
func (h *harness) noSIMSwapCompleted(t *testing.T, addrs ...string) {
	t.Helper()
	h.flush()
	for _, a := range addrs {
		for _, m := range h.srv.mail.list(a) {
			assert.NotEqual(t, "sim_swap.completed", m.Event, "a SIM swap completed: %s", m.Body)
		}
	}
}

// Chain 3 (issue 15): a thief talks a phone agent round. The agent "declares" the call a
// store visit, claims a passport was checked, and has the victim read out a code sent
// "for account recovery"; Never SIM Swap is on. No SIM swap may follow, and a
// self-declared agent ID is not an identity.
func TestAttackSocialEngineeredAgentCannotSwapSIM(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	require.Equal(t, 200, h.do("PUT", "/v1/protection/flags/never_sim_swap", nil, bearerH(a.tok)).Status)
	victim := []string{"ada@example.com", backupEmail, mobile, "+14155550102"}
	phone := bearerH(testAgentTokens["phone"])

	t.Run("a phone token cannot declare a store case", func(t *testing.T) {
		h := h.in(t)
		r := h.do("POST", "/agent/v1/cases", map[string]any{"phone": "+14155550102", "channel": "store"}, phone)
		assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
		assert.Empty(t, r.str("case_id"))
	})

	// The phone case the agent gets instead.
	r := h.do("POST", "/agent/v1/cases", map[string]any{"phone": "+14155550102"}, phone)
	require.Equal(t, http.StatusCreated, r.Status, r.Raw)
	caseID := r.str("case_id")
	assert.Equal(t, "phone", r.str("channel"), "the case's channel is the token's")
	assert.Equal(t, "agent-7", r.str("agent"))
	path := "/agent/v1/cases/" + caseID

	t.Run("a passport cannot be checked on the phone", func(t *testing.T) {
		h := h.in(t)
		r := h.do("POST", path+"/verify/id", map[string]any{"document": "passport"}, phone)
		assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
		r = h.do("GET", path, nil, phone)
		assert.NotContains(t, r.Body["verified_with"], "government_id", r.Raw)
	})

	t.Run("an identity code read out does not approve a SIM swap", func(t *testing.T) {
		h := h.in(t)
		r := h.do("POST", path+"/verify/code/send", map[string]any{"contact_id": a.emailContact}, phone)
		require.Equal(t, 200, r.Status, r.Raw)
		assert.Equal(t, "identity", r.str("purpose"))
		msg := h.mailTo(backupEmail, "security code")
		assert.Contains(t, msg.Body, "to verify your identity with support")
		assert.Contains(t, msg.Body, "cannot approve a SIM swap", "the victim can see what the code is for")
		r = h.do("POST", path+"/verify/code", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(backupEmail)}, phone)
		require.Equal(t, 200, r.Status, r.Raw)
		r = h.do("POST", path+"/sim-swap", map[string]any{}, phone)
		require.Equal(t, 200, r.Status, r.Raw)
		assert.NotEqual(t, "completed", r.str("status"), r.Raw)
		h.noSIMSwapCompleted(t, victim...)
	})

	t.Run("a self-declared X-Agent-ID is refused", func(t *testing.T) {
		h := h.in(t)
		r := h.do("GET", path, nil, phone, "X-Agent-ID: store-manager")
		assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
		r = h.do("POST", "/agent/v1/cases", map[string]any{"phone": "+14155550102", "channel": "store"}, "X-Agent-ID: store-manager")
		assert.Equal(t, http.StatusUnauthorized, r.Status, r.Raw)
		// Another agent's ID with that agent's phone token does not reach agent-7's case.
		r = h.do("GET", path, nil, bearerH(testAgentTokens["other"]), "X-Agent-ID: agent-7")
		assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
		r = h.do("GET", path, nil, bearerH(testAgentTokens["other"]))
		assert.Equal(t, http.StatusNotFound, r.Status, r.Raw)
	})

	t.Run("even in a store, an identity code is no SIM-swap evidence", func(t *testing.T) {
		h := h.in(t)
		h.clock.Advance(time.Minute) // codes are throttled per subscriber and purpose
		store := bearerH(testAgentTokens["store"])
		r := h.do("POST", "/agent/v1/cases", map[string]any{"phone": "+14155550102"}, store)
		require.Equal(t, http.StatusCreated, r.Status, r.Raw)
		spath := "/agent/v1/cases/" + r.str("case_id")
		require.Equal(t, 200, h.do("POST", spath+"/verify/id", map[string]any{"document": "passport"}, store).Status)
		r = h.do("POST", spath+"/verify/code/send", map[string]any{"contact_id": a.emailContact, "purpose": "identity"}, store)
		require.Equal(t, 200, r.Status, r.Raw)
		r = h.do("POST", spath+"/verify/code", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(backupEmail)}, store)
		require.Equal(t, 200, r.Status, r.Raw)
		r = h.do("POST", spath+"/sim-swap", map[string]any{}, store)
		require.Equal(t, 200, r.Status, r.Raw)
		assert.NotEqual(t, "completed", r.str("status"), r.Raw)
		assert.NotContains(t, r.Raw, `"counted_evidence":["contact_code"`, r.Raw)
		h.noSIMSwapCompleted(t, victim...)

		// The control: the same store case with a code sent for the SIM swap (whose
		// message says so) is the path Never SIM Swap leaves open.
		h.clock.Advance(time.Minute)
		r = h.do("POST", spath+"/verify/code/send", map[string]any{"contact_id": a.emailContact, "purpose": "sim_swap"}, store)
		require.Equal(t, 200, r.Status, r.Raw)
		assert.Contains(t, h.mailTo(backupEmail, "security code").Body, "to approve a SIM swap on your line")
		r = h.do("POST", spath+"/verify/code", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(backupEmail)}, store)
		require.Equal(t, 200, r.Status, r.Raw)
		r = h.do("POST", spath+"/sim-swap", map[string]any{}, store)
		require.Equal(t, 200, r.Status, r.Raw)
		assert.Equal(t, "completed", r.str("status"), r.Raw)
		m := h.eventTo("ada@example.com", "sim_swap.completed")
		assert.True(t, strings.Contains(m.Body, "store"), m.Body)
	})
}

// Chain 4 (issue 15): a stranger registers a subscriber's number under his own email,
// adds his own contact and asks for a SIM swap of "his" line.
func TestAttackUnprovenLineCannotBeSwapped(t *testing.T) {
	h := newHarness(t)
	const victimLine = "+14155550103" // a carrier subscriber with no online account yet
	const eveBackup = "eve.backup@example.net"
	tok := h.signupUnproved("eve@example.com", victimLine)
	r := h.do("GET", "/v1/me", nil, bearerH(tok))
	assert.Equal(t, false, r.Body["line_proved"], r.Raw)

	contact := h.addContact(tok, "email", eveBackup)
	for _, kind := range []struct{ path, purpose string }{{"/v1/sim-swap", "sim_swap"}, {"/v1/esim-transfer", "sim_swap"}, {"/v1/port-out", "port_out"}} {
		h.clock.Advance(time.Minute)
		h.stepUp(tok, contact, eveBackup, kind.purpose)
		r = h.do("POST", kind.path, map[string]any{}, bearerH(tok))
		assert.Equal(t, http.StatusForbidden, r.Status, "%s: %s", kind.path, r.Raw)
		assert.Equal(t, codeLineUnproved, r.str("code"), r.Raw)
	}
	// Nor through an agent or a partner: the number is no account's line.
	r = h.agent("POST", "/agent/v1/cases", map[string]any{"phone": victimLine})
	assert.Equal(t, http.StatusNotFound, r.Status, r.Raw)
	r = h.do("POST", "/partner/v1/port-out", map[string]any{"number": victimLine}, bearerH(testPartnerToken))
	assert.NotEqual(t, http.StatusOK, r.Status, r.Raw)
	h.noSIMSwapCompleted(t, "eve@example.com", eveBackup, victimLine)
	for _, m := range h.srv.mail.list(victimLine) {
		assert.Empty(t, m.Event, "an account event went by SMS to a number never proved: %s", m.Event)
	}

	t.Run("the real holder still signs up and proves the line; the squatter cannot", func(t *testing.T) {
		h := h.in(t)
		h.clock.Advance(time.Hour)
		owner := h.signup("holder@example.com", victimLine) // proves it with the SMS to the line
		assert.Equal(t, true, h.do("GET", "/v1/me", nil, bearerH(owner)).Body["line_proved"])
		tok := h.signin("eve@example.com", testPassword)
		// The squatter asks for a proof: the code goes to the holder's phone; even read
		// out to him, it cannot move the line.
		r := h.do("POST", "/v1/line/verify/send", nil, bearerH(tok))
		require.Equal(t, 200, r.Status, r.Raw)
		r = h.do("POST", "/v1/line/verify", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(victimLine)}, bearerH(tok))
		assert.Equal(t, http.StatusConflict, r.Status, r.Raw)
		h.clock.Advance(time.Minute)
		h.stepUp(tok, contact, eveBackup, "sim_swap")
		r = h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(tok))
		assert.Equal(t, codeLineUnproved, r.str("code"), r.Raw)
		h.noSIMSwapCompleted(t, "eve@example.com", eveBackup, victimLine, "holder@example.com")
	})

	t.Run("a provisioned line cannot be registered by a stranger", func(t *testing.T) {
		h := h.in(t)
		d, err := h.srv.createDemo(t.Context())
		require.NoError(t, err)
		assert.Equal(t, d.Phone, d.Line, "the demo line is provisioned")
		r := h.do("POST", "/v1/signup", map[string]any{"email": "mallory@example.com", "password": testPassword, "name": "Mallory", "phone": d.Phone})
		assert.Equal(t, http.StatusAccepted, r.Status, r.Raw)
		assert.Empty(t, h.srv.mail.list("mallory@example.com"), "no account on another account's proved line")
		r = h.do("POST", "/v1/signin", map[string]any{"email": "mallory@example.com", "password": testPassword})
		assert.NotEqual(t, http.StatusOK, r.Status, r.Raw)
	})
}
