package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/keyring"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// replicas returns two harnesses over two Servers that share their Stores, keys and
// clock, as two replicas behind a load balancer on one database. Each replica has its
// own dev mailbox: a code is read from the mailbox of the replica that sent it.
func replicas(t *testing.T) (a, b *harness) {
	t.Helper()
	key := func() []byte {
		k, err := keyring.GenerateKey()
		require.NoError(t, err)
		return k
	}
	keys := []keyring.Key{{ID: 1, Secret: key()}}
	tfKey, codeKey, pinKey := key(), key(), key()
	shared := func(o *Options) { o.Keys, o.TwoFactorKey, o.CodeKey, o.PINKey = keys, tfKey, codeKey, pinKey }
	a = newHarness(t, shared)
	opts := a.srv.opts
	opts.Stores = a.srv.stores
	srv, err := New(opts)
	require.NoError(t, err)
	b = &harness{t: t, srv: srv, clock: a.clock, caseChannel: a.caseChannel, addrs: a.addrs}
	return a, b
}

// Two replicas on one set of stores behave as one service: nothing that decides what a
// proof counts for lives in either replica's memory. A sign-in begun on A is finished
// on B, once; a challenge sent by A is completed on B; a step-up proved on A counts on
// B, for its purpose only; and a credential change on A ends sessions, proofs and
// pending sign-ins on B.
func TestTwoReplicasShareSecurityState(t *testing.T) {
	hA, hB := replicas(t)
	acct := hA.secureAccount()

	// A sign-in begun on A (password, then a code sent by A) is completed on B.
	r := hA.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword})
	require.Equal(t, "second_factor_required", r.str("status"), r.Raw)
	sid := r.str("signin_id")
	r = hA.do("POST", "/v1/signin/challenge", map[string]any{"signin_id": sid, "contact_id": acct.emailContact})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	ch, code := r.str("challenge_id"), hA.code(backupEmail)
	r = hB.do("POST", "/v1/signin/complete", map[string]any{"signin_id": sid, "challenge_id": ch, "code": code})
	require.Equal(t, http.StatusOK, r.Status, "a sign-in begun on A completes on B: %s", r.Raw)
	tok := r.str("token")
	// Once: A does not finish it again.
	r = hA.do("POST", "/v1/signin/complete", map[string]any{"signin_id": sid, "challenge_id": ch, "code": code})
	assert.Equal(t, http.StatusUnauthorized, r.Status, r.Raw)
	require.Equal(t, http.StatusOK, hA.do("GET", "/v1/me", nil, bearerH(tok)).Status, "B's session is valid on A")

	// A step-up proved on A counts on B, for its own purpose.
	r = hB.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
	require.Equal(t, "step_up_required", r.str("code"), r.Raw)
	hA.clock.Advance(31 * time.Second)
	hA.stepUp(tok, acct.emailContact, backupEmail, "account_change")
	r = hB.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
	require.Equal(t, http.StatusOK, r.Status, "a proof given on A counts on B: %s", r.Raw)
	r = hB.do("POST", "/v1/2fa/disable", nil, bearerH(tok))
	assert.Equal(t, "step_up_required", r.str("code"), "an account-change proof from A turned 2FA off on B: %s", r.Raw)

	// A challenge sent by A is completed on B, and the proof is used on A.
	hA.clock.Advance(31 * time.Second)
	r = hA.do("POST", "/v1/2fa/challenge", map[string]any{"contact_id": acct.emailContact, "purpose": "port_out"}, bearerH(tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	r = hB.do("POST", "/v1/2fa/verify", map[string]any{"challenge_id": r.str("challenge_id"), "code": hA.code(backupEmail)}, bearerH(tok))
	require.Equal(t, http.StatusOK, r.Status, "a challenge sent by A completes on B: %s", r.Raw)
	r = hA.do("POST", "/v1/transfer-pin", nil, bearerH(tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.NotEmpty(t, r.str("transfer_pin"), "the port-out proof given on B counts on A: %s", r.Raw)

	// A thief with the password begins a sign-in on B...
	r = hB.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword}, deviceHeader+": thief-phone")
	require.Equal(t, "second_factor_required", r.str("status"), r.Raw)
	thiefSid := r.str("signin_id")
	// ...and the owner changes the password on A (with a fresh account-change proof).
	hA.clock.Advance(31 * time.Second)
	hA.stepUp(tok, acct.emailContact, backupEmail, "account_change")
	r = hA.do("POST", "/v1/password/change", map[string]any{"current": testPassword, "new": "another long passphrase for ada"}, bearerH(tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	// On B: the other session is gone, the acting one has no proof left, and the
	// thief's pending sign-in is gone.
	assert.Equal(t, http.StatusUnauthorized, hB.do("GET", "/v1/me", nil, bearerH(acct.tok)).Status, "a session revoked on A lives on B")
	r = hB.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
	assert.Equal(t, "step_up_required", r.str("code"), "a proof revoked on A still counts on B: %s", r.Raw)
	r = hB.do("POST", "/v1/signin/challenge", map[string]any{"signin_id": thiefSid, "contact_id": acct.emailContact}, deviceHeader+": thief-phone")
	assert.Equal(t, http.StatusUnauthorized, r.Status, "a sign-in begun with the old password lives on: %s", r.Raw)
}

// Adding a factor is decided once, by protection through twofactor's gate, at the risk
// of the session asking: right after a SIM swap, a code to a contact on file is not
// enough to add another factor (the handler has no decision of its own to get wrong).
func TestAttackAddFactorRightAfterSIMSwapNeedsMore(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	contact := h.addContact(tok, "email", backupEmail)
	h.enableLater("ada@example.com", contact)
	h.clock.Advance(73 * time.Hour) // past the credential-change window of turning 2FA on
	tok = h.signin2FA("ada@example.com", contact, backupEmail)
	h.clock.Advance(31 * time.Second)
	h.stepUp(tok, contact, backupEmail, "sim_swap")
	r := h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(tok))
	require.Equal(t, "completed", r.str("status"), r.Raw)

	h.clock.Advance(31 * time.Second)
	h.stepUp(tok, contact, backupEmail, "add_factor")
	r = h.do("POST", "/v1/2fa/contacts", map[string]any{"kind": "email", "value": "thief@example.net"}, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
	assert.Contains(t, r.Raw, `"risk_medium"`, "the gate decided at the session's risk")
	assert.Len(t, h.verifiedContacts(tok), 1)
}

// The thief has the password and waits, in a pending sign-in, for a code he will phish;
// the owner changes the password meanwhile. The pending sign-in went with the old
// password: the phished code no longer signs him in.
func TestAttackPendingSigninDiesWithPasswordChange(t *testing.T) {
	h := newHarness(t)
	acct := h.secureAccount()
	r := h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword}, deviceHeader+": thief-phone")
	require.Equal(t, "second_factor_required", r.str("status"), r.Raw)
	sid := r.str("signin_id")
	r = h.do("POST", "/v1/signin/challenge", map[string]any{"signin_id": sid, "contact_id": acct.emailContact}, deviceHeader+": thief-phone")
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	ch, phished := r.str("challenge_id"), h.code(backupEmail)

	h.clock.Advance(31 * time.Second)
	h.stepUp(acct.tok, acct.emailContact, backupEmail, "account_change")
	r = h.do("POST", "/v1/password/change", map[string]any{"current": testPassword, "new": "another long passphrase for ada"}, bearerH(acct.tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)

	r = h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": sid, "challenge_id": ch, "code": phished}, deviceHeader+": thief-phone")
	assert.Equal(t, http.StatusUnauthorized, r.Status, r.Raw)
	assert.Empty(t, r.str("token"))
}

// A step-up proof belongs to the session it was given in: the owner's fresh SIM-swap
// code does not vouch for the thief's session of the same account.
func TestAttackStepUpProofStaysInItsSession(t *testing.T) {
	h := newHarness(t)
	// Past the credential-change window, so risk is no reason to refuse.
	acct := h.settledAccount()
	thief := h.signin2FA("ada@example.com", acct.emailContact, backupEmail) // a phished sign-in code
	h.clock.Advance(31 * time.Second)
	h.stepUp(acct.tok, acct.emailContact, backupEmail, "sim_swap")
	r := h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(thief))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, "step_up", r.str("status"), "the owner's proof counted in the thief's session: %s", r.Raw)
	h.noSIMSwapCompleted(t, "ada@example.com")
}
