package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The takeover chains of issue 15, tried over HTTP as a thief would, against the
// server's default configuration. Each thief works from his own phone and address.

var thiefClient = []string{deviceHeader + ": thief-phone", "X-Test-Remote: 198.51.100.66"}

const (
	thiefEmail = "thief@example.net"
	// adaLine is the line of the accounts these tests sign up themselves: a valid US
	// mobile number, so SMS budgets with a home region accept it.
	adaLine = "+14155550102"
)

// as sends a request from the thief's device with his session token.
func (h *harness) as(tok, method, path string, body any) resp {
	h.t.Helper()
	return h.do(method, path, body, append([]string{bearerH(tok)}, thiefClient...)...)
}

// thiefSignin signs in on the thief's device with the password and, if asked for one,
// the second factor that complete supplies for the pending sign-in.
func (h *harness) thiefSignin(email string, complete func(signinID string) map[string]any) string {
	h.t.Helper()
	r := h.do("POST", "/v1/signin", map[string]any{"email": email, "password": testPassword}, thiefClient...)
	require.Equal(h.t, http.StatusOK, r.Status, r.Raw)
	if r.str("status") != "second_factor_required" {
		return r.str("token")
	}
	body := complete(r.str("signin_id"))
	body["signin_id"] = r.str("signin_id")
	r = h.do("POST", "/v1/signin/complete", body, thiefClient...)
	require.Equal(h.t, http.StatusOK, r.Status, r.Raw)
	require.Equal(h.t, "signed_in", r.str("status"), r.Raw)
	return r.str("token")
}

// thiefContact adds the thief's email as a trusted contact in his session, verifies it
// with the code he receives, and returns its ID.
func (h *harness) thiefContact(tok string) string {
	h.t.Helper()
	r := h.as(tok, "POST", "/v1/2fa/contacts", map[string]any{"kind": "email", "value": thiefEmail})
	require.Equal(h.t, http.StatusCreated, r.Status, r.Raw)
	id, ch := r.str("contact", "id"), r.str("challenge_id")
	r = h.as(tok, "POST", "/v1/2fa/contacts/"+id+"/verify", map[string]any{"challenge_id": ch, "code": h.code(thiefEmail)})
	require.Equal(h.t, http.StatusOK, r.Status, r.Raw)
	return id
}

// tryTakeover runs, in a session the thief holds with nothing but his sign-in, every
// step of chain 1 in turn (his own authenticator, recovery codes, 2FA off, a contact
// swapped for his own, the SIM swapped, a transfer PIN) and checks each fails and
// leaves the account as it was.
func (h *harness) tryTakeover(t *testing.T, tok string, a secured) {
	t.Helper()
	before := h.as(tok, "GET", "/v1/2fa", nil)
	require.Equal(t, http.StatusOK, before.Status, before.Raw)
	line := h.as(tok, "GET", "/v1/me", nil).str("phone")
	require.NotEmpty(t, line)

	// His own authenticator: enrolling needs a proof for adding a factor.
	r := h.as(tok, "POST", "/v1/2fa/authenticator", nil)
	assert.Equal(t, http.StatusForbidden, r.Status, "enrol an authenticator: %s", r.Raw)
	r = h.as(tok, "POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": "123456"})
	assert.NotEqual(t, http.StatusOK, r.Status, r.Raw)
	// Recovery codes of his own.
	r = h.as(tok, "POST", "/v1/2fa/recovery-codes", nil)
	assert.Equal(t, http.StatusForbidden, r.Status, "recovery codes: %s", r.Raw)
	assert.Empty(t, r.Body["recovery_codes"])
	// 2FA off.
	r = h.as(tok, "POST", "/v1/2fa/disable", nil)
	assert.Equal(t, http.StatusForbidden, r.Status, "2FA off: %s", r.Raw)
	// A contact swapped for his own: adding his, removing the owner's.
	// (403 when the proof is missing, 409 when the owner's two contacts fill the slots.)
	r = h.as(tok, "POST", "/v1/2fa/contacts", map[string]any{"kind": "email", "value": thiefEmail})
	assert.Contains(t, []int{http.StatusForbidden, http.StatusConflict}, r.Status, "add his contact: %s", r.Raw)
	r = h.as(tok, "DELETE", "/v1/2fa/contacts/"+a.phoneContact, nil)
	assert.Equal(t, http.StatusForbidden, r.Status, "remove the owner's contact: %s", r.Raw)
	// The SIM swap and a transfer PIN.
	// (A step-up that asks for a code sent for the SIM swap, or a denial when the risk
	// of his device is high.)
	r = h.as(tok, "POST", "/v1/sim-swap", map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Contains(t, []string{"step_up", "denied"}, r.str("status"), "SIM swap: %s", r.Raw)
	if r.str("status") == "step_up" {
		assert.Equal(t, "sim_swap", r.str("decision", "code_purpose"), r.Raw)
	}
	r = h.as(tok, "POST", "/v1/esim-transfer", map[string]any{})
	assert.NotEqual(t, "completed", r.str("status"), "eSIM transfer: %s", r.Raw)
	r = h.as(tok, "POST", "/v1/transfer-pin", nil)
	assert.Empty(t, r.str("transfer_pin"), "transfer PIN: %s", r.Raw)

	after := h.as(tok, "GET", "/v1/2fa", nil)
	assert.Equal(t, before.Body, after.Body, "the account's factors are unchanged")
	assert.Equal(t, true, after.Body["enabled"])
	assert.Equal(t, false, after.Body["authenticator"])
	h.noSIMSwapCompleted(t, "ada@example.com", backupEmail, mobile, line)
}

// Chain 1 (issue 15): the thief has the password and talks the owner into reading out
// one sign-in code. The sign-in code proves the sign-in only: it does not enrol his
// authenticator, turn 2FA off, swap a contact, give recovery codes or a transfer PIN,
// or swap the SIM.
func TestAttackPhishedSigninCodeCannotReachSIMSwap(t *testing.T) {
	h := newHarness(t)
	// Past the credential-change window of setting the account up, so the risk of a
	// recent change is not what stops him.
	a := h.settledAccount()
	tok := h.thiefSignin("ada@example.com", func(sid string) map[string]any {
		r := h.do("POST", "/v1/signin/challenge", map[string]any{"signin_id": sid, "contact_id": a.emailContact}, thiefClient...)
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		// The owner reads out the code sent to her.
		return map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(backupEmail)}
	})
	h.tryTakeover(t, tok, a)
	// Still nothing after the proof-free minutes the thief needed.
	h.clock.Advance(90 * time.Second)
	r := h.as(tok, "POST", "/v1/sim-swap", map[string]any{})
	assert.Contains(t, []string{"step_up", "denied"}, r.str("status"), r.Raw)
	h.noSIMSwapCompleted(t, "ada@example.com", backupEmail)
}

// securedWithSheet is secureAccount with a set of recovery codes, then left for 8 days:
// an old set, well past its probation. It returns the account and the codes.
func (h *harness) securedWithSheet() (secured, []any) {
	h.t.Helper()
	a := h.secureAccount()
	h.clock.Advance(31 * time.Second)
	h.stepUp(a.tok, a.emailContact, backupEmail, "add_factor")
	r := h.do("POST", "/v1/2fa/recovery-codes", nil, bearerH(a.tok))
	require.Equal(h.t, http.StatusOK, r.Status, r.Raw)
	codes := r.Body["recovery_codes"].([]any)
	require.NotEmpty(h.t, codes)
	h.clock.Advance(8 * 24 * time.Hour)
	return a, codes
}

// Chain 1 with a recovery code instead of a phished code: the thief has the password
// and one recovery code (from an old printout). The recovery code signs him in and
// does nothing else.
func TestAttackRecoveryCodeCannotReachSIMSwap(t *testing.T) {
	h := newHarness(t)
	a, codes := h.securedWithSheet()
	tok := h.thiefSignin("ada@example.com", func(string) map[string]any {
		return map[string]any{"method": "recovery_code", "code": codes[0]}
	})
	h.tryTakeover(t, tok, a)
}

// Chain 2 (issue 15): 2FA is off (the default) and the owner has set no second
// factor. A thief with the password signs in, adds his own email as the account's first
// contact and asks for a SIM-swap code there. The swap is not carried out: his contact
// is in probation, so it is held (or denied), and the owner's address and line are told.
func TestAttackStolenPasswordOwnContactCannotSwapSIM(t *testing.T) {
	h := newHarness(t)
	h.signup("ada@example.com", adaLine)
	h.clock.Advance(60 * 24 * time.Hour) // an established account
	tok := h.thiefSignin("ada@example.com", nil)
	id := h.thiefContact(tok)
	h.eventTo("ada@example.com", "contact.added") // the owner hears of his contact at once

	h.clock.Advance(time.Minute)
	r := h.as(tok, "POST", "/v1/2fa/challenge", map[string]any{"contact_id": id, "purpose": "sim_swap"})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	r = h.as(tok, "POST", "/v1/2fa/verify", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(thiefEmail)})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	r = h.as(tok, "POST", "/v1/sim-swap", map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	// Two rules stop it. Risk has learned of the contact he just added (a credential
	// change minutes before a SIM swap), so the swap is denied outright; and were the
	// risk low, his contact is in probation, so it would only be held for a day
	// (thiefHeldSwap shows that half).
	assert.Equal(t, "denied", r.str("status"), "no immediate swap: %s", r.Raw)
	assert.Contains(t, r.Body["decision"].(map[string]any)["reasons"], "risk_high", r.Raw)
	assert.Contains(t, r.Raw, `"credential_change"`, r.Raw)
	// The owner's address and line hear of the request, not only his contact.
	for _, to := range []string{"ada@example.com", adaLine} {
		h.eventTo(to, "sim_swap.requested")
	}
	h.noSIMSwapCompleted(t, "ada@example.com", thiefEmail, adaLine)
}

// thiefHeldSwap is chain 2 played patiently, up to its held SIM swap: the thief adds
// his contact, waits out the credential-change window of the risk score (3 days) but not
// the contact's probation (7 days), and asks again. His only second factor is new, so
// the swap is held for a day, and the owner's address and line are told. It returns
// the thief's session, the owner's session and the held request's ID.
func (h *harness) thiefHeldSwap() (thief, owner, requestID string) {
	h.t.Helper()
	h.signup("ada@example.com", adaLine)
	h.clock.Advance(60 * 24 * time.Hour)
	thief = h.thiefSignin("ada@example.com", nil)
	id := h.thiefContact(thief)
	h.clock.Advance(73 * time.Hour)
	owner = h.signin("ada@example.com", testPassword)
	thief = h.thiefSignin("ada@example.com", nil)
	r := h.as(thief, "POST", "/v1/2fa/challenge", map[string]any{"contact_id": id, "purpose": "sim_swap"})
	require.Equal(h.t, http.StatusOK, r.Status, r.Raw)
	r = h.as(thief, "POST", "/v1/2fa/verify", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(thiefEmail)})
	require.Equal(h.t, http.StatusOK, r.Status, r.Raw)
	r = h.as(thief, "POST", "/v1/sim-swap", map[string]any{})
	require.Equal(h.t, "held", r.str("status"), r.Raw)
	assert.Contains(h.t, r.Body["decision"].(map[string]any)["reasons"], "probation_hold", r.Raw)
	for _, to := range []string{"ada@example.com", adaLine} {
		h.eventTo(to, "sim_swap.approved")
	}
	// It cannot be completed before the hold ends.
	err := h.srv.protect.CompleteSIMChange(h.t.Context(), r.str("request_id"), notify.Actor{Kind: notify.ActorSubscriber})
	assert.ErrorIs(h.t, err, protection.ErrHeld)
	return thief, owner, r.str("request_id")
}

// A smaller one of issue 15: turning a flag on during a hold used not to stop the held
// request. The owner, told of the held swap, turns Never SIM Swap on from her own
// session; when the hold comes due, the carrier's job (ApplyDueHolds) finds nothing to
// carry out and the swap cannot be completed.
func TestAttackHeldSIMSwapStoppedByFlagDuringHold(t *testing.T) {
	h := newHarness(t)
	_, owner, id := h.thiefHeldSwap()
	r := h.do("PUT", "/v1/protection/flags/never_sim_swap", nil, bearerH(owner))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	h.clock.Advance(25 * time.Hour)
	due, err := h.srv.protect.ApplyDueHolds(t.Context(), 0)
	require.NoError(t, err)
	assert.Empty(t, due)
	err = h.srv.protect.CompleteSIMChange(t.Context(), id, notify.Actor{Kind: notify.ActorSubscriber})
	assert.ErrorIs(t, err, protection.ErrNotApproved)
	h.noSIMSwapCompleted(t, "ada@example.com", thiefEmail, adaLine)
}

// A smaller one of issue 15: approvals never expired, so an approval weeks old could
// still be completed. Held, then left for 30 days, the thief's swap is expired.
func TestAttackMonthOldApprovalCannotComplete(t *testing.T) {
	h := newHarness(t)
	_, _, id := h.thiefHeldSwap()
	h.clock.Advance(30 * 24 * time.Hour)
	err := h.srv.protect.CompleteSIMChange(t.Context(), id, notify.Actor{Kind: notify.ActorSubscriber})
	assert.ErrorIs(t, err, protection.ErrApprovalExpired)
	h.noSIMSwapCompleted(t, "ada@example.com", thiefEmail, adaLine)
}

// Chain 2's other half: when the owner has a contact on file (2FA still off), a thief
// with the password cannot add his own at all: a new factor needs a code to a contact
// already on file, never only to the one being added.
func TestAttackStolenPasswordCannotAddContactBesideOwners(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", adaLine)
	owner := h.addContact(tok, "email", backupEmail)
	h.clock.Advance(30 * 24 * time.Hour)
	thief := h.thiefSignin("ada@example.com", nil)
	r := h.as(thief, "POST", "/v1/2fa/contacts", map[string]any{"kind": "email", "value": thiefEmail})
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	r = h.as(thief, "GET", "/v1/2fa", nil)
	assert.Len(t, r.Body["contacts"], 1, r.Raw)
	assert.Equal(t, owner, r.Body["contacts"].([]any)[0].(map[string]any)["id"])
}

// With 2FA off, a thief with the password adds his own contact and tries to turn 2FA
// on with it, which would lock the owner out of her own sign-in. Turning 2FA on takes a
// proof from a factor past its probation, and his is new: 2FA stays off and the owner
// still signs in with her password alone.
func TestAttackThiefCannotEnableTwoFactorOnHisOwnContact(t *testing.T) {
	h := newHarness(t)
	h.signup("ada@example.com", adaLine)
	h.clock.Advance(60 * 24 * time.Hour)
	tok := h.thiefSignin("ada@example.com", nil)
	id := h.thiefContact(tok)

	// Straight away, and with a code to his contact sent for adding a factor.
	r := h.as(tok, "POST", "/v1/2fa/enable", nil)
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	h.clock.Advance(31 * time.Second)
	r = h.as(tok, "POST", "/v1/2fa/challenge", map[string]any{"contact_id": id, "purpose": "add_factor"})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	r = h.as(tok, "POST", "/v1/2fa/verify", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(thiefEmail)})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	r = h.as(tok, "POST", "/v1/2fa/enable", nil)
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	// Recovery codes of his own are a factor on file too (the owner is told), but just
	// as new: entered for adding a factor, one does not turn 2FA on either.
	r = h.as(tok, "POST", "/v1/2fa/recovery-codes", nil)
	if codes, _ := r.Body["recovery_codes"].([]any); len(codes) > 0 {
		h.eventTo("ada@example.com", "recovery_codes.generated")
		r = h.as(tok, "POST", "/v1/2fa/verify", map[string]any{"method": "recovery_code", "code": codes[0], "purpose": "add_factor"})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		r = h.as(tok, "POST", "/v1/2fa/enable", nil)
		assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	}

	r = h.as(tok, "GET", "/v1/2fa", nil)
	assert.Equal(t, false, r.Body["enabled"], r.Raw)
	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.NotEmpty(t, r.str("token"), "the owner signs in without his code: %s", r.Raw)
}

// A smaller one of issue 15: the keyring accepted placeholder keys. A server configured
// with one (32 zero bytes, base64 of ASCII zeros, a password) for the transfer-PIN key,
// the 2FA key or the sealing keys does not start: a placeholder key is a known key, and
// with it a stolen database's PIN hashes and proof tags could be forged offline.
func TestAttackPlaceholderKeysRefused(t *testing.T) {
	placeholders := map[string][]byte{
		"zeros":    make([]byte, 32),
		"ascii 0s": []byte("00000000000000000000000000000000"),
		"password": []byte("correct horse battery staple zebra!!"),
	}
	for name, k := range placeholders {
		for field, set := range map[string]func(*Options){
			"PINKey":       func(o *Options) { o.PINKey = k },
			"TwoFactorKey": func(o *Options) { o.TwoFactorKey = k },
			"Keys":         func(o *Options) { o.Keys = []keyring.Key{{ID: 1, Secret: k}} },
		} {
			opts := Options{Demo: true, Agents: testAgents(), PartnerToken: testPartnerToken}
			set(&opts)
			_, err := New(opts)
			assert.Error(t, err, "%s as %s", name, field)
		}
	}
	good, err := keyring.GenerateKey()
	require.NoError(t, err)
	_, err = New(Options{Demo: true, PINKey: good, TwoFactorKey: good})
	assert.NoError(t, err, "a random key is accepted")
}

// Chain 1 with the whole recovery-code sheet and the password: recovery codes are the
// owner's own backup, so with them the thief can turn 2FA off. What he cannot get is a
// SIM swap: a recovery code is no SIM-swap evidence; once he has changed a factor, the
// risk of every further change rises (so taking the owner's contacts away asks for more
// than the sheet gives); and were he to get his own contact in, it would be new, so a
// swap resting on it would be held. The owner's address and line, which he cannot
// change, hear of every step.
func TestAttackRecoverySheetGetsNoImmediateSIMSwap(t *testing.T) {
	h := newHarness(t)
	a, sheet := h.securedWithSheet()
	line := h.do("GET", "/v1/me", nil, bearerH(a.tok)).str("phone")
	var r resp

	tok := h.thiefSignin("ada@example.com", func(string) map[string]any {
		return map[string]any{"method": "recovery_code", "code": sheet[0]}
	})
	next := 1
	recovery := func(purpose string) {
		r := h.as(tok, "POST", "/v1/2fa/verify", map[string]any{"method": "recovery_code", "code": sheet[next], "purpose": purpose})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		next++
	}
	recovery("sim_swap") // a recovery code is no SIM-swap evidence
	r = h.as(tok, "POST", "/v1/sim-swap", map[string]any{})
	assert.Contains(t, []string{"step_up", "denied"}, r.str("status"), r.Raw)
	// He clears the way with the sheet: 2FA off, then the owner's two contacts, each for
	// a code of its own and the password again (each change ends his step-ups).
	recovery("disable_two_factor")
	r = h.as(tok, "POST", "/v1/2fa/disable", nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	removed := 0
	for _, id := range []string{a.emailContact, a.phoneContact} {
		r = h.as(tok, "POST", "/v1/reauth", map[string]any{"password": testPassword})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		recovery("disable_two_factor")
		r = h.as(tok, "DELETE", "/v1/2fa/contacts/"+id, nil)
		if r.Status != http.StatusNoContent {
			// Right after his change, the risk asks for a contact code or an app.
			assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
			break
		}
		removed++
	}
	if removed == 2 {
		r = h.as(tok, "POST", "/v1/reauth", map[string]any{"password": testPassword})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		id := h.thiefContact(tok)
		h.clock.Advance(time.Minute)
		r = h.as(tok, "POST", "/v1/2fa/challenge", map[string]any{"contact_id": id, "purpose": "sim_swap"})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		r = h.as(tok, "POST", "/v1/2fa/verify", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(thiefEmail)})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
	}
	r = h.as(tok, "POST", "/v1/sim-swap", map[string]any{})
	assert.Contains(t, []string{"step_up", "denied", "held"}, r.str("status"), r.Raw)
	h.noSIMSwapCompleted(t, "ada@example.com", backupEmail, mobile, line, thiefEmail)
	// The owner hears of it all where he cannot reach: her address and her line.
	for _, to := range []string{"ada@example.com", line} {
		h.eventTo(to, "sim_swap.requested")
	}
	h.eventTo("ada@example.com", "twofactor.disabled")
	h.eventTo("ada@example.com", "recovery_codes.used")
}

// Issue 15: no instant self-service SIM change without 2FA. With 2FA off, the password
// alone signs in, so even a code to a contact on file for weeks does not move the
// number at once: the swap is held, the owner's address and line are told, and she
// can cancel it.
func TestAttackTwoFactorOffGetsNoInstantSIMSwap(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", adaLine)
	contact := h.addContact(tok, "email", backupEmail)
	h.clock.Advance(8 * 24 * time.Hour) // the contact is established; 2FA stays off
	tok = h.signin("ada@example.com", testPassword)
	h.stepUp(tok, contact, backupEmail, "sim_swap")
	r := h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, "held", r.str("status"), r.Raw)
	assert.Contains(t, r.Body["decision"].(map[string]any)["reasons"], "two_factor_off_hold", r.Raw)
	for _, to := range []string{"ada@example.com", adaLine} {
		h.eventTo(to, "sim_swap.approved")
	}
	r = h.do("POST", "/v1/sim-changes/"+r.str("request_id")+"/cancel", nil, bearerH(tok))
	assert.Equal(t, http.StatusOK, r.Status, r.Raw)
	h.noSIMSwapCompleted(t, "ada@example.com", backupEmail, adaLine)
}
