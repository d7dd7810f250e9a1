package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/carrierguard/carrierguard/line"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A number only claimed at sign-up gets no transfer PIN: the PIN exists to port a line
// out, and the claim is not a line until an SMS code to it is read back.
func TestAttackUnprovedNumberGetsNoTransferPIN(t *testing.T) {
	h := newHarness(t)
	tok := h.signupUnproved("ada@example.com", "+14155550102")
	r := h.do("POST", "/v1/transfer-pin", nil, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, codeLineUnproved, r.str("code"), r.Raw)
	assert.Empty(t, r.str("transfer_pin"))
}

// The partner port-out ports only a proved line (package line is the authority, not the
// CRM's mirror): a number whose binding is gone is answered like any rejection, and the
// PIN is not spent. Once the line is proved again, the same PIN ports it, and the
// completed port-out releases the line.
func TestAttackPartnerCannotPortUnprovedLine(t *testing.T) {
	h := newHarness(t)
	a := h.settledAccount()
	h.stepUp(a.tok, a.emailContact, backupEmail, "port_out")
	r := h.do("POST", "/v1/transfer-pin", nil, bearerH(a.tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	pin := r.str("transfer_pin")
	acct, ok := h.srv.dir.byNumber("+14155550102")
	require.True(t, ok)

	// The binding ends out of band (the CRM still mirrors it).
	require.NoError(t, h.srv.lines.Release(context.Background(), acct.ID, "+14155550102"))
	body := map[string]any{"number": "+14155550102", "transfer_pin": pin}
	r = h.do("POST", "/partner/v1/port-out", body, bearerH(testPartnerToken))
	unknown := h.do("POST", "/partner/v1/port-out", map[string]any{"number": "+14155550188", "transfer_pin": pin}, bearerH(testPartnerToken))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, unknown.Raw, r.Raw, "an unproved line is answered like no customer's number")
	h.noEvent(t, "ada@example.com", "port_out.completed")

	// Proved again (the carrier's provisioning says it is hers), the PIN (not spent)
	// ports the line, which is then released.
	h.srv.dir.provision(acct.ID, "+14155550102")
	r = h.do("POST", "/partner/v1/port-out", body, bearerH(testPartnerToken))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	h.eventTo("ada@example.com", "port_out.completed")
	_, err := h.srv.lines.Owner(context.Background(), "+14155550102")
	assert.ErrorIs(t, err, line.ErrNotFound, "a ported-out number is no longer a line")
	acct, _ = h.srv.dir.get(acct.ID)
	assert.Empty(t, acct.Line)
	_, ok = h.srv.dir.lineHolder("+14155550102")
	assert.False(t, ok, "nor one the carrier provisions")
}
