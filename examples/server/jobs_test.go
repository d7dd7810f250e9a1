package main

import (
	"context"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/line"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heldPolicy is the default policy with a high-risk SIM swap in the app held for a day
// (with one more proof) instead of denied: protection's "moderate" overlay, which a
// carrier may choose so that the subscriber hears of a risky swap before it happens.
func heldPolicy(t *testing.T) func(*Options) {
	t.Helper()
	rules := protection.DefaultRules()
	r := rules[protection.ActionSIMSwap]
	r.Risk = map[protection.RiskLevel]protection.RiskOverlay{
		protection.RiskMedium: r.Risk[protection.RiskMedium],
		protection.RiskHigh: {AddOneOf: r.Risk[protection.RiskHigh].AddOneOf,
			Hold: []protection.Channel{protection.ChannelApp}, HoldFor: 24 * time.Hour},
	}
	rules[protection.ActionSIMSwap] = r
	p, err := protection.NewPolicy(protection.PolicyConfig{Rules: rules})
	require.NoError(t, err)
	return func(o *Options) { o.Policy = p }
}

// heldSwap asks for a SIM swap right after the account's contacts were added (a
// credential change: risk High), which heldPolicy holds for a day. It returns the
// request ID.
func (h *harness) heldSwap(a secured) string {
	h.t.Helper()
	h.stepUp(a.tok, a.emailContact, backupEmail, "sim_swap")
	r := h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(a.tok))
	require.Equal(h.t, 200, r.Status, r.Raw)
	require.Equal(h.t, "held", r.str("status"), r.Raw)
	require.NotEmpty(h.t, r.str("decision", "hold_until"), r.Raw)
	return r.str("request_id")
}

// A held SIM swap is carried out by the server's job once its hold ends, once, and not
// before: nobody has to come back and complete it.
func TestHeldSwapCompletesWhenDue(t *testing.T) {
	h := newHarness(t, heldPolicy(t))
	a := h.secureAccount()
	h.heldSwap(a)
	ctx := context.Background()

	h.clock.Advance(23 * time.Hour)
	assert.Zero(t, h.srv.applyDueHolds(ctx), "not due yet")
	h.noEvent(t, "ada@example.com", "sim_swap.completed")

	h.clock.Advance(time.Hour + time.Minute)
	assert.Equal(t, 1, h.srv.applyDueHolds(ctx))
	m := h.eventTo("ada@example.com", "sim_swap.completed")
	assert.Contains(t, m.Body, "our systems", m.Body)
	acct, _ := h.srv.dir.get(h.accountID("ada@example.com"))
	assert.Equal(t, h.clock.Now(), acct.SIMChanged, "the CRM records the swap")
	assert.Zero(t, h.srv.applyDueHolds(ctx), "carried out once")
}

// A flag turned on during the hold stops the held swap: when it comes due it is not
// carried out (protection cancels or re-decides it; the job only completes what still
// passes).
func TestAttackFlagDuringHoldStopsHeldSwap(t *testing.T) {
	h := newHarness(t, heldPolicy(t))
	a := h.secureAccount()
	h.heldSwap(a)
	require.Equal(t, 200, h.do("PUT", "/v1/protection/flags/never_sim_swap", nil, bearerH(a.tok)).Status)
	h.clock.Advance(24*time.Hour + time.Minute)
	assert.Zero(t, h.srv.applyDueHolds(context.Background()))
	h.noEvent(t, "ada@example.com", "sim_swap.completed")
}

// Run drives the job: with a short poll, a due hold is carried out without any request.
func TestRunCarriesOutDueHolds(t *testing.T) {
	h := newHarness(t, heldPolicy(t), func(o *Options) { o.HoldPoll = 5 * time.Millisecond })
	a := h.secureAccount()
	h.heldSwap(a)
	h.clock.Advance(24*time.Hour + time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.Run(ctx) }()
	require.Eventually(t, func() bool {
		acct, _ := h.srv.dir.get(h.accountID("ada@example.com"))
		return !acct.SIMChanged.IsZero()
	}, 5*time.Second, 5*time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// A held port-out that comes due is carried out by the job like a SIM swap, and, being
// a port-out, releases the line: the number is then no longer the account's.
func TestHeldPortOutReleasesLineWhenDue(t *testing.T) {
	rules := protection.DefaultRules()
	r0 := rules[protection.ActionPortOut]
	r0.Risk = map[protection.RiskLevel]protection.RiskOverlay{
		protection.RiskMedium: r0.Risk[protection.RiskMedium],
		protection.RiskHigh: {AddOneOf: r0.Risk[protection.RiskHigh].AddOneOf,
			Hold: []protection.Channel{protection.ChannelChat}, HoldFor: 24 * time.Hour},
	}
	rules[protection.ActionPortOut] = r0
	p, err := protection.NewPolicy(protection.PolicyConfig{Rules: rules})
	require.NoError(t, err)
	h := newHarness(t, func(o *Options) { o.Policy = p })
	a := h.settledAccount()
	h.stepUp(a.tok, a.emailContact, backupEmail, "port_out")
	r := h.do("POST", "/v1/transfer-pin", nil, bearerH(a.tok))
	require.Equal(t, 200, r.Status, r.Raw)
	pin := r.str("transfer_pin")
	// A password change: a port-out right after it is scored High, which this policy
	// holds for a day in chat.
	h.clock.Advance(31 * time.Second)
	h.stepUp(a.tok, a.emailContact, backupEmail, "account_change")
	r = h.do("POST", "/v1/password/change", map[string]any{"current": testPassword, "new": testPassword + " v2"}, bearerH(a.tok))
	require.Equal(t, 200, r.Status, r.Raw)

	c := h.openCase("+14155550102", "chat")
	r = h.agent("POST", c+"/verify/code/send", map[string]any{"contact_id": a.emailContact, "purpose": "port_out"})
	require.Equal(t, 200, r.Status, r.Raw)
	require.Equal(t, 200, h.agent("POST", c+"/verify/code", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(backupEmail)}).Status)
	r = h.agent("POST", c+"/verify/questions", map[string]any{"question_id": "worst-meal", "spoken": "a charcoal lasagne with raisins"})
	require.Equal(t, "match", r.str("verdict"), r.Raw)
	r = h.agent("POST", c+"/port-out", map[string]any{"transfer_pin": pin})
	require.Equal(t, 200, r.Status, r.Raw)
	require.Equal(t, "held", r.str("status"), r.Raw)
	_, err = h.srv.lines.Owner(context.Background(), "+14155550102")
	require.NoError(t, err, "the line stays while the port-out is held")

	h.clock.Advance(24*time.Hour + time.Minute)
	assert.Equal(t, 1, h.srv.applyDueHolds(context.Background()))
	h.eventTo("ada@example.com", "port_out.completed")
	_, err = h.srv.lines.Owner(context.Background(), "+14155550102")
	assert.ErrorIs(t, err, line.ErrNotFound, "a ported-out number is no longer a line")
}
