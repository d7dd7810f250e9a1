package main

import (
	"bytes"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var codeInMessage = regexp.MustCompile(`Your code is ([0-9]{6})\.`)

// code returns the newest one-time code sent to an address.
func (h *harness) code(to string) string {
	h.t.Helper()
	m := codeInMessage.FindStringSubmatch(h.mailTo(to, "security code").Body)
	require.Len(h.t, m, 2)
	return m[1]
}

// addContact adds and verifies a trusted contact and returns its ID.
func (h *harness) addContact(tok, kind, value string) string {
	h.t.Helper()
	h.addFactorStepUp(tok)
	r := h.do("POST", "/v1/2fa/contacts", map[string]any{"kind": kind, "value": value}, bearerH(tok))
	require.Equal(h.t, http.StatusCreated, r.Status, r.Raw)
	id, ch := r.str("contact", "id"), r.str("challenge_id")
	h.addrs[id] = value
	r = h.do("POST", "/v1/2fa/contacts/"+id+"/verify", map[string]any{"challenge_id": ch, "code": h.code(value)}, bearerH(tok))
	require.Equal(h.t, 200, r.Status, r.Raw)
	return id
}

// addFactorStepUp steps the session up for adding a factor with a code to the first
// verified contact a helper added, if there is one: with a contact on file, a new
// factor needs a code from it.
func (h *harness) addFactorStepUp(tok string) {
	h.t.Helper()
	for _, id := range h.verifiedContacts(tok) {
		if addr, ok := h.addrs[id]; ok {
			h.clock.Advance(31 * time.Second) // step-up codes are throttled per subscriber
			h.stepUp(tok, id, addr, "add_factor")
			return
		}
	}
}

// enableLater lets the account's contacts age past the factor probation (7 days),
// signs in again (the old session has lapsed by then) and turns 2FA on with a code
// to contact, sent for adding a factor. It returns the new session's token.
func (h *harness) enableLater(email, contact string) string {
	h.t.Helper()
	h.clock.Advance(7*24*time.Hour + time.Minute)
	tok := h.signin(email, testPassword)
	h.stepUp(tok, contact, h.addrs[contact], "add_factor")
	r := h.do("POST", "/v1/2fa/enable", nil, bearerH(tok))
	require.Equal(h.t, 200, r.Status, r.Raw)
	h.clock.Advance(11 * time.Minute) // the proof that turned 2FA on has gone stale
	return tok
}

// enableLaterWithApp is enableLater for an account whose only factor is the app.
func (h *harness) enableLaterWithApp(email string, app *otp.Key) string {
	h.t.Helper()
	h.clock.Advance(7*24*time.Hour + time.Minute)
	tok := h.signin(email, testPassword)
	r := h.do("POST", "/v1/2fa/verify", map[string]any{"method": "authenticator", "code": app.TOTP(h.clock.Now()), "purpose": "add_factor"}, bearerH(tok))
	require.Equal(h.t, 200, r.Status, r.Raw)
	r = h.do("POST", "/v1/2fa/enable", nil, bearerH(tok))
	require.Equal(h.t, 200, r.Status, r.Raw)
	h.clock.Advance(11 * time.Minute) // the proof that turned 2FA on has gone stale
	return tok
}

// stepUp proves a second factor in the session with a code to contact (sent to addr)
// for purpose (account_change, sim_swap, port_out or disable_two_factor).
func (h *harness) stepUp(tok, contact, addr, purpose string) {
	h.t.Helper()
	r := h.do("POST", "/v1/2fa/challenge", map[string]any{"contact_id": contact, "purpose": purpose}, bearerH(tok))
	require.Equal(h.t, 200, r.Status, r.Raw)
	r = h.do("POST", "/v1/2fa/verify", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(addr)}, bearerH(tok))
	require.Equal(h.t, 200, r.Status, r.Raw)
}

// signin2FA signs in with the password and a code sent to contact (at addr).
func (h *harness) signin2FA(email, contact, addr string) string {
	h.t.Helper()
	r := h.do("POST", "/v1/signin", map[string]any{"email": email, "password": testPassword})
	require.Equal(h.t, 200, r.Status, r.Raw)
	require.Equal(h.t, "second_factor_required", r.str("status"), r.Raw)
	require.Empty(h.t, r.str("token"))
	sid := r.str("signin_id")
	r = h.do("POST", "/v1/signin/challenge", map[string]any{"signin_id": sid, "contact_id": contact})
	require.Equal(h.t, 200, r.Status, r.Raw)
	r = h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": sid, "challenge_id": r.str("challenge_id"), "code": h.code(addr)})
	require.Equal(h.t, 200, r.Status, r.Raw)
	require.Equal(h.t, "signed_in", r.str("status"))
	return r.str("token")
}

const (
	backupEmail = "ada.backup@example.org"
	mobile      = "+14155552671"
)

// secured is an account with two verified contacts, 2FA on and three questions.
type secured struct {
	tok, emailContact, phoneContact string
}

func (h *harness) secureAccount() secured {
	h.t.Helper()
	tok := h.signup("ada@example.com", "+14155550102")
	a := secured{tok: tok}
	a.emailContact = h.addContact(tok, "email", backupEmail)
	h.clock.Advance(31 * time.Second) // contact codes are throttled per subscriber
	a.phoneContact = h.addContact(tok, "phone", mobile)
	// The questions go first, while 2FA is off and the sign-in's password is fresh, so
	// the account is left with no second-factor proof in its session.
	r := h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
	require.Equal(h.t, 200, r.Status, r.Raw)
	// 2FA goes on once the contacts are past their probation, in a new session.
	a.tok = h.enableLater("ada@example.com", a.emailContact)
	return a
}

// Journey: sign up → verify email → two contacts → 2FA on → three questions → 100%.
func TestJourneyStatusTo100(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	st := h.do("GET", "/v1/status", nil, bearerH(tok))
	assert.EqualValues(t, 50, st.Body["percent"])

	// 2FA cannot go on without a verified contact.
	r := h.do("POST", "/v1/2fa/enable", nil, bearerH(tok))
	assert.Equal(t, http.StatusConflict, r.Status, r.Raw)

	a := h.secureAccount2(tok)
	tok = a.tok
	st = h.do("GET", "/v1/status", nil, bearerH(a.tok))
	require.Equal(t, 200, st.Status)
	assert.EqualValues(t, 100, st.Body["percent"], st.Raw)
	assert.Equal(t, "", st.str("next"))

	r = h.do("GET", "/v1/2fa", nil, bearerH(tok))
	assert.Equal(t, true, r.Body["enabled"])
	assert.Len(t, r.Body["contacts"], 2)
	assert.NotContains(t, r.Raw, backupEmail) // masked
	// A third contact is refused.
	h.stepUp(tok, a.emailContact, backupEmail, "add_factor")
	r = h.do("POST", "/v1/2fa/contacts", map[string]any{"kind": "email", "value": "third@example.net"}, bearerH(tok))
	assert.Equal(t, http.StatusConflict, r.Status, r.Raw)

	// Signing in now needs the second factor; a wrong code is refused.
	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword})
	require.Equal(t, "second_factor_required", r.str("status"), r.Raw)
	sid := r.str("signin_id")
	r = h.do("POST", "/v1/signin/challenge", map[string]any{"signin_id": sid, "contact_id": a.emailContact})
	require.Equal(t, 200, r.Status, r.Raw)
	ch := r.str("challenge_id")
	r = h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": sid, "challenge_id": ch, "code": "000000"})
	assert.Equal(t, codeInvalidCode, r.str("code"), r.Raw)
	// From another device the pending sign-in does not exist.
	r = h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": sid, "challenge_id": ch, "code": h.code(backupEmail)}, deviceHeader+": other")
	assert.Equal(t, http.StatusUnauthorized, r.Status, r.Raw)
	code := h.code(backupEmail)
	r = h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": sid, "challenge_id": ch, "code": code})
	require.Equal(t, 200, r.Status, r.Raw)
	assert.NotEmpty(t, r.str("token"))
	// The code and the pending sign-in both worked once.
	r = h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": sid, "challenge_id": ch, "code": code})
	assert.Equal(t, http.StatusUnauthorized, r.Status, r.Raw)
}

func (h *harness) secureAccount2(tok string) secured {
	h.t.Helper()
	a := secured{tok: tok}
	a.emailContact = h.addContact(tok, "email", backupEmail)
	h.clock.Advance(31 * time.Second)
	a.phoneContact = h.addContact(tok, "phone", mobile)
	// 2FA goes on once the contacts are past their probation, in a new session.
	tok = h.enableLater("ada@example.com", a.emailContact)
	a.tok = tok
	// As in the README: with 2FA on, setting the questions needs a fresh second factor.
	r := h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
	require.Equal(h.t, http.StatusForbidden, r.Status, r.Raw)
	require.Equal(h.t, "step_up_required", r.str("code"), r.Raw)
	h.stepUp(tok, a.emailContact, backupEmail, "account_change")
	r = h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
	require.Equal(h.t, 200, r.Status, r.Raw)
	h.clock.Advance(31 * time.Second) // step-up codes are throttled per subscriber
	return a
}

// Journey: Never SIM Swap on → self-service SIM swap denied → flag off with cooling-off
// (and its cancellation) → swap allowed after it with fresh proof.
func TestJourneyNeverSIMSwap(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	tok := a.tok
	require.Equal(t, 200, h.do("PUT", "/v1/protection/flags/never_sim_swap", nil, bearerH(tok)).Status)

	// Even with a fresh code, a self-service swap is denied while the flag is on.
	h.stepUp(tok, a.emailContact, backupEmail, "sim_swap")
	r := h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "denied", r.str("status"))
	assert.Contains(t, r.Raw, "flag_never_sim_swap")
	assert.Contains(t, r.Raw, "visit_store")

	// Turning it off needs the code too (we have it), then waits out the cooling-off.
	r = h.do("DELETE", "/v1/protection/flags/never_sim_swap", nil, bearerH(tok))
	require.Equal(t, http.StatusAccepted, r.Status, r.Raw)
	assert.Equal(t, "cooling_off", r.str("status"))
	h.eventTo("ada@example.com", "protection.flag_disable_requested")
	// Cancel, then ask again.
	require.Equal(t, 200, h.do("POST", "/v1/protection/flags/never_sim_swap/cancel-disable", nil, bearerH(tok)).Status)
	r = h.do("DELETE", "/v1/protection/flags/never_sim_swap", nil, bearerH(tok))
	require.Equal(t, http.StatusAccepted, r.Status, r.Raw)
	// During the cooling-off the flag still protects.
	h.clock.Advance(time.Hour - time.Minute)
	r = h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(tok))
	assert.Equal(t, "denied", r.str("status"), r.Raw)

	// After it, with a fresh sign-in and code, the swap goes through.
	h.clock.Advance(24 * time.Hour)
	assert.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", nil, bearerH(tok)).Status) // session expired
	tok = h.signin2FA("ada@example.com", a.emailContact, backupEmail)
	r = h.do("GET", "/v1/protection/flags", nil, bearerH(tok))
	assert.Contains(t, r.Raw, `{"flag":"never_sim_swap","on":false}`)
	// The sign-in code does not count for a SIM swap: only a code whose message said
	// it was for one does.
	r = h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "step_up", r.str("status"), r.Raw)
	h.stepUp(tok, a.emailContact, backupEmail, "sim_swap")
	r = h.do("POST", "/v1/sim-swap", map[string]any{"request_id": r.str("request_id")}, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "completed", r.str("status"), r.Raw)
	assert.Equal(t, "allow", r.str("decision", "outcome"))
	h.eventTo("ada@example.com", "sim_swap.completed")
	h.eventTo(backupEmail, "sim_swap.approved") // trusted contacts hear too
}

// Journey: the agent on the phone verifies the caller with a contact code and
// questions, sees the account, and a SIM swap is still denied on the phone.
func TestJourneyAgentPhone(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	r := h.agent("POST", "/agent/v1/cases", map[string]any{"phone": "+14155550102", "channel": "phone"})
	require.Equal(t, http.StatusCreated, r.Status, r.Raw)
	id := r.str("case_id")
	assert.Contains(t, r.Raw, `"masked"`) // contacts to send a code to, masked
	assert.NotContains(t, r.Raw, backupEmail)

	r = h.agent("POST", "/agent/v1/cases/"+id+"/verify/code/send", map[string]any{"contact_id": a.emailContact})
	require.Equal(t, 200, r.Status, r.Raw)
	ch := r.str("challenge_id")
	r = h.agent("POST", "/agent/v1/cases/"+id+"/verify/code", map[string]any{"challenge_id": ch, "code": "123456"})
	assert.Equal(t, codeInvalidCode, r.str("code"), r.Raw)
	r = h.agent("POST", "/agent/v1/cases/"+id+"/verify/code", map[string]any{"challenge_id": ch, "code": h.code(backupEmail)})
	require.Equal(t, 200, r.Status, r.Raw)

	r = h.agent("GET", "/agent/v1/cases/"+id, nil)
	assert.Equal(t, true, r.Body["verified"], r.Raw)
	assert.Contains(t, r.Raw, "Ada Lovelace")

	r = h.agent("POST", "/agent/v1/cases/"+id+"/sim-swap", map[string]any{})
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "denied", r.str("status"))
	assert.Contains(t, r.Raw, "sim_change_channel")
}

// Journey: port-out with and without a transfer PIN under No Port Out.
func TestJourneyPortOutNoPortOut(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	tok := a.tok
	require.Equal(t, 200, h.do("PUT", "/v1/protection/flags/no_port_out", nil, bearerH(tok)).Status)
	h.stepUp(tok, a.emailContact, backupEmail, "port_out")
	r := h.do("POST", "/v1/transfer-pin", nil, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	pin := r.str("transfer_pin")
	require.Len(t, pin, 6)

	// The new carrier alone cannot port the number away, PIN or not; the PIN is not spent.
	for _, body := range []map[string]any{{"number": "+14155550102"}, {"number": "+14155550102", "transfer_pin": pin}} {
		r = h.do("POST", "/partner/v1/port-out", body, bearerH(testPartnerToken))
		require.Equal(t, 403, r.Status, r.Raw)
		assert.Equal(t, "denied", r.str("code"), r.Raw)
		assert.NotContains(t, r.Raw, "flag_no_port_out", "a partner learns nothing of the flags")
	}

	// Three sensitive requests within the hour trip the velocity signal (risk high);
	// the subscriber calls support the next day.
	h.clock.Advance(2 * time.Hour)

	// In chat, an agent verifies a code and a question: without the PIN it steps up.
	r = h.agent("POST", "/agent/v1/cases", map[string]any{"phone": "+14155550102", "channel": "chat"})
	id := r.str("case_id")
	r = h.agent("POST", "/agent/v1/cases/"+id+"/verify/code/send", map[string]any{"contact_id": a.emailContact, "purpose": "port_out"})
	require.Equal(t, 200, r.Status, r.Raw)
	r = h.agent("POST", "/agent/v1/cases/"+id+"/verify/code", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(backupEmail)})
	require.Equal(t, 200, r.Status, r.Raw)
	r = h.agent("POST", "/agent/v1/cases/"+id+"/verify/questions", map[string]any{"question_id": "worst-meal", "spoken": "a charcoal lasagne with raisins"})
	require.Equal(t, "match", r.str("verdict"), r.Raw)
	r = h.agent("POST", "/agent/v1/cases/"+id+"/port-out", map[string]any{})
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "step_up", r.str("status"), r.Raw)
	assert.Contains(t, r.Raw, "transfer_pin")
	// A wrong PIN is refused and counted.
	r = h.agent("POST", "/agent/v1/cases/"+id+"/port-out", map[string]any{"transfer_pin": "000000"})
	assert.Equal(t, codeInvalidCode, r.str("code"), r.Raw)
	assert.Contains(t, r.Raw, `"outcome":"step_up"`, "the attempt is recorded and decided without the PIN")
	// With the PIN it is approved and carried out; the PIN works once.
	r = h.agent("POST", "/agent/v1/cases/"+id+"/port-out", map[string]any{"transfer_pin": pin})
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "completed", r.str("status"), r.Raw)
	h.eventTo("ada@example.com", "port_out.completed")
	r = h.agent("POST", "/agent/v1/cases/"+id+"/port-out", map[string]any{"transfer_pin": pin})
	assert.Equal(t, codeInvalidCode, r.str("code"), r.Raw)
}

func TestTwoFactorManagement(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	tok := a.tok
	// Removing a contact or disabling 2FA, or new recovery codes, need a fresh code.
	r := h.do("DELETE", "/v1/2fa/contacts/"+a.phoneContact, nil, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, "step_up_required", r.str("code"))
	r = h.do("POST", "/v1/2fa/disable", nil, bearerH(tok))
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
	r = h.do("POST", "/v1/2fa/recovery-codes", nil, bearerH(tok))
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)

	h.stepUp(tok, a.emailContact, backupEmail, "add_factor")
	// Bad contacts (2FA is on, so adding one needs the code we now have).
	for _, body := range []map[string]any{{"kind": "fax", "value": "x"}, {"kind": "email", "value": "not an email"}, {"kind": "phone", "value": "12"},
		{"kind": "phone", "value": "(415) 555-2671"}} { // national format: contacts are international only
		r := h.do("POST", "/v1/2fa/contacts", body, bearerH(tok))
		assert.Equal(t, http.StatusBadRequest, r.Status, r.Raw)
	}
	r = h.do("POST", "/v1/2fa/recovery-codes", nil, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	codes := r.Body["recovery_codes"].([]any)
	require.NotEmpty(t, codes)
	assert.Equal(t, http.StatusNotFound, h.do("DELETE", "/v1/2fa/contacts/nope", nil, bearerH(tok)).Status)
	// The code for adding a factor does not take one away.
	assert.Equal(t, http.StatusForbidden, h.do("DELETE", "/v1/2fa/contacts/"+a.phoneContact, nil, bearerH(tok)).Status)
	h.clock.Advance(31 * time.Second)
	h.stepUp(tok, a.emailContact, backupEmail, "disable_two_factor")
	assert.Equal(t, http.StatusNoContent, h.do("DELETE", "/v1/2fa/contacts/"+a.phoneContact, nil, bearerH(tok)).Status)
	h.eventTo(mobile, "contact.removed") // the removed number is told
	// Removing a factor cleared the session's step-up proofs and its password: prove
	// again, with the password and a code for adding a factor (the authenticator below).
	h.clock.Advance(time.Minute) // past the code resend interval
	r = h.do("POST", "/v1/2fa/authenticator/qr.png", nil, bearerH(tok))
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
	require.Equal(t, http.StatusOK, h.do("POST", "/v1/reauth", map[string]any{"password": testPassword}, bearerH(tok)).Status)
	h.stepUp(tok, a.emailContact, backupEmail, "add_factor")

	// Authenticator: JSON and PNG enrollment, confirm with a TOTP code.
	r = h.do("POST", "/v1/2fa/authenticator/qr.png", nil, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "image/png", r.Header.Get("Content-Type"))
	assert.True(t, bytes.HasPrefix([]byte(r.Raw), []byte("\x89PNG")))
	r = h.do("POST", "/v1/2fa/authenticator", nil, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	uri, err := otp.ParseKeyURI(r.str("uri"))
	require.NoError(t, err)
	key, err := otp.NewKey(uri.Secret, uri.Params)
	require.NoError(t, err)
	r = h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": "000000"}, bearerH(tok))
	assert.Equal(t, codeInvalidCode, r.str("code"), r.Raw)
	r = h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": key.TOTP(h.clock.Now())}, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)

	// Sign in with the authenticator, then with a recovery code (once).
	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword})
	assert.Contains(t, r.Raw, "authenticator")
	h.clock.Advance(30 * time.Second)
	r = h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": r.str("signin_id"), "method": "authenticator", "code": key.TOTP(h.clock.Now())})
	require.Equal(t, 200, r.Status, r.Raw)
	rc := codes[0].(string)
	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword})
	sid := r.str("signin_id")
	r = h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": sid, "method": "recovery_code", "code": rc})
	require.Equal(t, 200, r.Status, r.Raw)
	h.eventTo("ada@example.com", "recovery_codes.used")

	// Disable 2FA with a fresh proof (an hour later: the velocity signal counts the
	// sensitive requests above).
	h.clock.Advance(time.Hour)
	tok2 := h.signin2FA("ada@example.com", a.emailContact, backupEmail)
	r = h.do("POST", "/v1/2fa/disable", nil, bearerH(tok2))
	assert.Equal(t, "step_up_required", r.str("code"), "a sign-in code does not turn 2FA off: %s", r.Raw)
	h.stepUp(tok2, a.emailContact, backupEmail, "disable_two_factor")
	r = h.do("POST", "/v1/2fa/disable", nil, bearerH(tok2))
	require.Equal(t, 200, r.Status, r.Raw)
	r = h.do("GET", "/v1/2fa", nil, bearerH(tok2))
	assert.Equal(t, false, r.Body["enabled"])
}

func TestPasswordChangeWithSecondFactor(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	h.stepUp(a.tok, a.emailContact, backupEmail, "account_change")
	r := h.do("POST", "/v1/password/change", map[string]any{"current": "not the password at all", "new": "another long passphrase for ada"}, bearerH(a.tok))
	assert.Equal(t, codeInvalidCreds, r.str("code"), r.Raw)
	r = h.do("POST", "/v1/password/change", map[string]any{"current": testPassword, "new": "password"}, bearerH(a.tok))
	assert.Equal(t, codePasswordRejected, r.str("code"), r.Raw)
	r = h.do("POST", "/v1/password/change", map[string]any{"current": testPassword, "new": "another long passphrase for ada"}, bearerH(a.tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "offer_sign_out_other_sessions", r.str("next_step"))
	h.eventTo("ada@example.com", "password.changed")
}

func TestChangeQuestionsWithSecondFactor(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	h.stepUp(a.tok, a.emailContact, backupEmail, "account_change")
	r := h.do("PUT", "/v1/questions", threeQuestions, bearerH(a.tok))
	require.Equal(t, 200, r.Status, r.Raw)
	h.eventTo("ada@example.com", "questions.changed")
}

// A self-service SIM swap without the flag: step up with a code and continue the same
// request, which is then carried out; someone else's request ID is refused.
func TestSIMSwapStepUpThenContinue(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	r := h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(a.tok))
	require.Equal(t, "step_up", r.str("status"), r.Raw)
	id := r.str("request_id")
	h.stepUp(a.tok, a.emailContact, backupEmail, "sim_swap")

	other := h.signup("bob@example.com", "+14155550103")
	r = h.do("POST", "/v1/sim-swap", map[string]any{"request_id": id}, bearerH(other))
	assert.Equal(t, http.StatusBadRequest, r.Status, r.Raw)

	r = h.do("POST", "/v1/sim-swap", map[string]any{"request_id": id}, bearerH(a.tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "completed", r.str("status"), r.Raw)
	assert.Equal(t, id, r.str("request_id"))
	// The line just changed SIM: risk sees it, and an SMS code to it would not count.
	r = h.do("POST", "/v1/esim-transfer", map[string]any{}, bearerH(a.tok))
	assert.Contains(t, r.Raw, "recent_sim_change", r.Raw)
}

// Account Lockdown: every change needs extensive verification (a contact code and
// security questions, or an ID in a store), so a password change in the app with a
// fresh code is still not allowed there.
func TestAccountLockdown(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	require.Equal(t, 200, h.do("PUT", "/v1/protection/flags/account_lockdown", nil, bearerH(a.tok)).Status)
	h.stepUp(a.tok, a.emailContact, backupEmail, "account_change")
	r := h.do("POST", "/v1/password/change", map[string]any{"current": testPassword, "new": "another long passphrase for ada"}, bearerH(a.tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Contains(t, r.Raw, "flag_account_lockdown")
	r = h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(a.tok))
	assert.NotEqual(t, "completed", r.str("status"), r.Raw)
	assert.Contains(t, r.Raw, "flag_account_lockdown")
}

// In a store, with the ID checked and a contact code, a SIM swap goes through even
// under Never SIM Swap; an ID "checked" on the phone is refused.
func TestStoreSIMSwapUnderNeverSIMSwap(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	require.Equal(t, 200, h.do("PUT", "/v1/protection/flags/never_sim_swap", nil, bearerH(a.tok)).Status)

	r := h.agent("POST", "/agent/v1/cases", map[string]any{"phone": "+14155550102", "channel": "phone"})
	r = h.agent("POST", "/agent/v1/cases/"+r.str("case_id")+"/verify/id", map[string]any{"document": "passport"})
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)

	r = h.agent("POST", "/agent/v1/cases", map[string]any{"phone": "+14155550102", "channel": "store"})
	id := r.str("case_id")
	r = h.agent("POST", "/agent/v1/cases/"+id+"/verify/id", map[string]any{"document": "library_card"})
	assert.Equal(t, codeInvalidField, r.str("code"), r.Raw)
	require.Equal(t, 200, h.agent("POST", "/agent/v1/cases/"+id+"/verify/id", map[string]any{"document": "passport"}).Status)
	r = h.agent("POST", "/agent/v1/cases/"+id+"/sim-swap", map[string]any{})
	assert.Equal(t, "step_up", r.str("status"), r.Raw) // the ID alone is not enough
	r = h.agent("POST", "/agent/v1/cases/"+id+"/verify/code/send", map[string]any{"contact_id": a.emailContact, "purpose": "sim_swap"})
	require.Equal(t, 200, r.Status, r.Raw)
	r = h.agent("POST", "/agent/v1/cases/"+id+"/verify/code", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(backupEmail)})
	require.Equal(t, 200, r.Status, r.Raw)
	r = h.agent("POST", "/agent/v1/cases/"+id+"/sim-swap", map[string]any{})
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "completed", r.str("status"), r.Raw)
	h.eventTo("ada@example.com", "sim_swap.completed")
}

// A contact added while 2FA was off and verified after it went on needs a fresh proof:
// refused without one, accepted once the session has stepped up.
func TestVerifyContactAddedBeforeTwoFactorNeedsProof(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	emailContact := h.addContact(tok, "email", backupEmail)
	// A week on (the email is established), in a new session that stepped up for
	// adding a factor.
	h.clock.Advance(7*24*time.Hour + time.Minute)
	tok = h.signin("ada@example.com", testPassword)
	h.stepUp(tok, emailContact, backupEmail, "add_factor")
	h.clock.Advance(31 * time.Second)
	r := h.do("POST", "/v1/2fa/contacts", map[string]any{"kind": "phone", "value": mobile}, bearerH(tok))
	require.Equal(t, http.StatusCreated, r.Status, r.Raw)
	id, ch := r.str("contact", "id"), r.str("challenge_id")
	code := h.code(mobile)
	h.clock.Advance(time.Second) // 2FA goes on strictly after the contact was added
	r = h.do("POST", "/v1/2fa/enable", nil, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	h.clock.Advance(5 * time.Minute) // the proof that turned 2FA on is stale now

	verify := map[string]any{"challenge_id": ch, "code": code}
	r = h.do("POST", "/v1/2fa/contacts/"+id+"/verify", verify, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)

	h.clock.Advance(31 * time.Second)
	h.stepUp(tok, emailContact, backupEmail, "account_change") // not for adding a factor
	r = h.do("POST", "/v1/2fa/contacts/"+id+"/verify", verify, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	h.clock.Advance(31 * time.Second)
	h.stepUp(tok, emailContact, backupEmail, "add_factor")
	r = h.do("POST", "/v1/2fa/contacts/"+id+"/verify", verify, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, true, r.Body["contact"].(map[string]any)["verified"], r.Raw)
}
