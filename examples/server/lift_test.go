package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/password"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallLockout hard-locks a sign-in at 4 failures in a row, at most 2 from one client,
// so tests reach the hard lock in a few guesses.
func smallLockout(o *Options) {
	o.Lockout = password.LockoutPolicy{MaxConsecutive: 4, ClientMaxConsecutive: 2}
}

// hardLock guesses email's password from two clients, two hours apart, until its
// sign-in is hard-locked, and checks that even the right password is refused.
func (h *harness) hardLock(email string) {
	h.t.Helper()
	for i := range 4 {
		h.clock.Advance(2 * time.Hour)
		r := h.do("POST", "/v1/signin", map[string]any{"email": email, "password": fmt.Sprintf("guess number %d", i)},
			fmt.Sprintf("X-Test-Remote: 198.51.100.%d", i%2+1))
		require.Contains(h.t, []int{http.StatusUnauthorized, http.StatusForbidden}, r.Status, r.Raw)
	}
	r := h.do("POST", "/v1/signin", map[string]any{"email": email, "password": testPassword})
	require.Equal(h.t, http.StatusForbidden, r.Status, r.Raw)
	require.Equal(h.t, codeLocked, r.str("code"), r.Raw)
}

const newPassphrase = "a brand new passphrase after the lock"

// unlockSend asks for an unlock code for email and returns the unlock ID.
func (h *harness) unlockSend(email string) string {
	h.t.Helper()
	r := h.do("POST", "/v1/signin/unlock/send", map[string]any{"email": email})
	require.Equal(h.t, http.StatusAccepted, r.Status, r.Raw)
	return r.str("unlock_id")
}

// The owner of a hard-locked account lifts the lock with a recovery code to a trusted
// contact and a new password: the old password (the one being guessed) no longer
// works, the new one does, with the second factor; the owner hears of both changes.
func TestUnlockWithRecoveryCodeAndNewPassword(t *testing.T) {
	h := newHarness(t, smallLockout)
	a := h.secureAccount()
	h.hardLock("ada@example.com")

	id := h.unlockSend("ada@example.com")
	assert.Contains(t, h.mailTo(backupEmail, "security code").Body, "account recovery")
	r := h.do("POST", "/v1/signin/unlock", map[string]any{"email": "ada@example.com", "unlock_id": id, "code": h.code(backupEmail), "new_password": "short"})
	assert.Equal(t, http.StatusUnprocessableEntity, r.Status, "the new password meets the policy: %s", r.Raw)
	h.clock.Advance(31 * time.Second)
	id = h.unlockSend("ada@example.com")
	r = h.do("POST", "/v1/signin/unlock", map[string]any{"email": "ada@example.com", "unlock_id": id, "code": h.code(backupEmail), "new_password": newPassphrase})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, "unlocked", r.str("status"))

	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword})
	assert.Equal(t, http.StatusUnauthorized, r.Status, "the guessed password is gone: %s", r.Raw)
	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": newPassphrase})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, "second_factor_required", r.str("status"), "2FA still applies")
	h.eventTo("ada@example.com", "security.lockout_lifted")
	h.eventTo("ada@example.com", "password.changed")
	assert.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", nil, bearerH(a.tok)).Status, "sessions ended")
}

// A recovery code lifts only a hard lock: on an account that is not locked nothing
// changes, the password included.
func TestAttackUnlockCodeCannotResetAnUnlockedPassword(t *testing.T) {
	h := newHarness(t, smallLockout)
	h.secureAccount()
	id := h.unlockSend("ada@example.com")
	r := h.do("POST", "/v1/signin/unlock", map[string]any{"email": "ada@example.com", "unlock_id": id, "code": h.code(backupEmail), "new_password": newPassphrase})
	assert.Equal(t, http.StatusConflict, r.Status, r.Raw)
	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword})
	assert.Equal(t, http.StatusOK, r.Status, "the password is unchanged: %s", r.Raw)
}

// Only a code sent for this unlock flow unlocks: a step-up code the subscriber asked for
// in a session (here, one a thief got read out) is refused, and so is a code sent for
// account recovery in another flow.
func TestAttackStepUpCodeCannotUnlock(t *testing.T) {
	h := newHarness(t, smallLockout)
	a := h.secureAccount()
	r := h.do("POST", "/v1/2fa/challenge", map[string]any{"contact_id": a.emailContact, "purpose": "account_change"}, bearerH(a.tok))
	require.Equal(t, 200, r.Status, r.Raw)
	ch := r.str("challenge_id")
	h.hardLock("ada@example.com")
	r = h.do("POST", "/v1/signin/unlock", map[string]any{"email": "ada@example.com", "unlock_id": ch, "code": h.code(backupEmail), "new_password": newPassphrase})
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, codeInvalidCode, r.str("code"), r.Raw)
	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": newPassphrase})
	assert.Equal(t, http.StatusForbidden, r.Status, "still locked: %s", r.Raw)
}

// Asking for an unlock code tells a stranger nothing: an unknown address, an account
// that is not locked and a locked one get the same answer; and each client may ask only
// a few times a minute.
func TestAttackUnlockSendRevealsNothing(t *testing.T) {
	h := newHarness(t, smallLockout)
	h.secureAccount()
	// Past the contacts' probation, so that ada's answer carries a real challenge (a
	// code goes out) and is compared with the made-up ones.
	h.clock.Advance(8 * 24 * time.Hour)
	h.signup("bob@example.com", "+14155550103")
	h.hardLock("ada@example.com")
	before := h.inbox(backupEmail)
	var answers []resp
	for i, email := range []string{"nobody@example.com", "bob@example.com", "ada@example.com"} {
		answers = append(answers, h.do("POST", "/v1/signin/unlock/send", map[string]any{"email": email}, fmt.Sprintf("X-Test-Remote: 203.0.113.%d", i+1)))
	}
	require.Greater(t, h.inbox(backupEmail), before, "no unlock code went to ada's contact: the answers compared were all made up")
	assert.Contains(t, h.mailTo(backupEmail, "security code").Body, "account recovery")
	for _, r := range answers {
		assert.Equal(t, http.StatusAccepted, r.Status, r.Raw)
		assert.Equal(t, answers[0].str("message"), r.str("message"))
		assert.Len(t, r.str("unlock_id"), len(answers[0].str("unlock_id")))
	}
	var r resp
	for range unlockBurst + 1 {
		r = h.do("POST", "/v1/signin/unlock/send", map[string]any{"email": "nobody@example.com"}, "X-Test-Remote: 198.51.100.50")
	}
	assert.Equal(t, http.StatusTooManyRequests, r.Status, r.Raw)
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
}

// An agent lifts a hard lock only once the caller's identity is verified in the case:
// not on a code to a contact added in the last week (it may be a thief's), not on
// security questions, not on a code sent for something else; a code for identity to an
// established contact does, and the password stays.
func TestAgentLiftNeedsVerifiedIdentity(t *testing.T) {
	h := newHarness(t, smallLockout)
	tok := h.signup("ada@example.com", "+14155550102")
	require.Equal(t, 200, h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok)).Status)
	contact := h.addContact(tok, "email", backupEmail)
	h.hardLock("ada@example.com")
	lift := func(c string) resp { return h.agent("POST", c+"/lift-sign-in-lock", map[string]any{}) }
	identityCode := func(c, purpose string) {
		h.clock.Advance(time.Minute) // codes are throttled per subscriber
		r := h.agent("POST", c+"/verify/code/send", map[string]any{"contact_id": contact, "purpose": purpose})
		require.Equal(t, 200, r.Status, r.Raw)
		r = h.agent("POST", c+"/verify/code", map[string]any{"challenge_id": r.str("challenge_id"), "code": h.code(backupEmail)})
		require.Equal(t, 200, r.Status, r.Raw)
	}

	c := h.openCase("+14155550102", "phone")
	r := lift(c)
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	identityCode(c, "identity")
	assert.Equal(t, http.StatusForbidden, lift(c).Status, "the contact was added hours ago: it may be a thief's")

	h.clock.Advance(8 * 24 * time.Hour)
	c = h.openCase("+14155550102", "phone")
	r = h.agent("POST", c+"/verify/questions", map[string]any{"question_id": "worst-meal", "spoken": "a charcoal lasagne with raisins"})
	require.Equal(t, "match", r.str("verdict"), r.Raw)
	assert.Equal(t, http.StatusForbidden, lift(c).Status, "questions alone never verify identity")
	identityCode(c, "sim_swap")
	assert.Equal(t, http.StatusForbidden, lift(c).Status, "a code for a SIM swap is not an identity check")

	// A code for identity to the now established contact lifts it.
	identityCode(c, "identity")
	r = lift(c)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, identityContactCode, r.str("identity_check"))
	assert.Equal(t, http.StatusConflict, lift(c).Status, "nothing left to lift")
	m := h.eventTo("ada@example.com", "security.lockout_lifted")
	assert.Contains(t, m.Body, "a support agent", m.Body)
	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword})
	assert.Equal(t, http.StatusOK, r.Status, "the password stays: %s", r.Raw)
}

// The unlock and lift routes answer only the statuses openapi.yaml lists for them.
func TestOpenAPIListsUnlockStatuses(t *testing.T) {
	paths := openapiPaths(t)
	h := newHarness(t, smallLockout)
	h.secureAccount()
	id := h.unlockSend("ada@example.com")
	for _, r := range []resp{
		h.do("POST", "/v1/signin/unlock", map[string]any{"email": "ada@example.com", "unlock_id": id, "code": "000000", "new_password": newPassphrase}),
		h.do("POST", "/v1/signin/unlock", map[string]any{"email": "ada@example.com", "unlock_id": id, "code": h.code(backupEmail), "new_password": newPassphrase}),
		h.do("POST", "/v1/signin/unlock", map[string]any{"email": "ada@example.com"}),
	} {
		requireDocumented(t, paths, "POST", "/v1/signin/unlock", r)
	}
	c := h.openCase("+14155550102", "phone")
	requireDocumented(t, paths, "POST", "/agent/v1/cases/{case}/lift-sign-in-lock", h.agent("POST", c+"/lift-sign-in-lock", map[string]any{}))
	for range unlockBurst + 1 {
		requireDocumented(t, paths, "POST", "/v1/signin/unlock/send", h.do("POST", "/v1/signin/unlock/send", map[string]any{"email": "x@example.com"}))
	}
}
