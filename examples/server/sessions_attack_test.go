package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const thiefDevice = "X-Device-Fingerprint: thief-laptop"
const thiefAddr = "X-Test-Remote: 198.51.100.66"

// A thief signed in with the stolen password. The owner changes it from their own
// session: the thief's session is dead at once, the owner's lives on, and the old
// password no longer signs in.
func TestAttackPasswordChangeKillsOtherSessions(t *testing.T) {
	h := newHarness(t)
	owner := h.signup("ada@example.com", "+14155550102")
	contact := h.addContact(owner, "email", backupEmail) // 2FA stays off: the password signs in
	r := h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword}, thiefDevice, thiefAddr)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	thief := r.str("token")
	require.Equal(t, http.StatusOK, h.do("GET", "/v1/me", nil, bearerH(thief), thiefDevice, thiefAddr).Status, "the thief is in")

	const next = "another long passphrase for ada"
	h.clock.Advance(31 * time.Second)
	h.stepUp(owner, contact, backupEmail, "account_change")
	r = h.do("POST", "/v1/password/change", map[string]any{"current": testPassword, "new": next}, bearerH(owner))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)

	r = h.do("GET", "/v1/me", nil, bearerH(thief), thiefDevice, thiefAddr)
	assert.Equal(t, http.StatusUnauthorized, r.Status, "the thief's session survived the password change: %s", r.Raw)
	r = h.do("GET", "/v1/sessions", nil, bearerH(owner))
	require.Equal(t, http.StatusOK, r.Status, "the owner's own session is kept: %s", r.Raw)
	assert.Len(t, r.Body["sessions"], 1, r.Raw)
	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword}, thiefDevice, thiefAddr)
	assert.Equal(t, http.StatusUnauthorized, r.Status, "the old password still signs in: %s", r.Raw)
	h.eventTo("ada@example.com", "sessions.revoked")
}

// A session that proved a second factor turns 2FA off. The proof it gave before the
// change cannot be replayed after it: the next sensitive change needs a fresh one. The
// other session, whose proof was just as fresh, is gone.
func TestAttackStaleStepUpProofAfterTwoFactorOff(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	other := h.signin2FA("ada@example.com", a.emailContact, backupEmail)
	h.clock.Advance(31 * time.Second)
	h.stepUp(a.tok, a.emailContact, backupEmail, "add_factor")
	// With that proof, new recovery codes are allowed...
	r := h.do("POST", "/v1/2fa/recovery-codes", nil, bearerH(a.tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	h.clock.Advance(31 * time.Second)
	h.stepUp(a.tok, a.emailContact, backupEmail, "disable_two_factor")
	r = h.do("POST", "/v1/2fa/disable", nil, bearerH(a.tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)

	// ...but not after 2FA went off, though the add_factor proof is a minute old:
	// the session's password proof is gone (re-enter it)...
	r = h.do("POST", "/v1/2fa/recovery-codes", nil, bearerH(a.tok))
	assert.Equal(t, http.StatusForbidden, r.Status, "a proof from before 2FA went off was replayed: %s", r.Raw)
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
	r = h.do("POST", "/v1/reauth", map[string]any{"password": testPassword}, bearerH(a.tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	// ...and so is the code: a password change needs a new one.
	r = h.do("POST", "/v1/password/change", map[string]any{"current": testPassword, "new": "another long passphrase for ada"}, bearerH(a.tok))
	assert.Equal(t, http.StatusForbidden, r.Status, "a proof from before 2FA went off was replayed: %s", r.Raw)
	assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
	// A fresh code after the change counts.
	h.clock.Advance(31 * time.Second)
	h.stepUp(a.tok, a.emailContact, backupEmail, "account_change")
	r = h.do("POST", "/v1/password/change", map[string]any{"current": testPassword, "new": "another long passphrase for ada"}, bearerH(a.tok))
	assert.Equal(t, http.StatusOK, r.Status, r.Raw)
	r = h.do("GET", "/v1/me", nil, bearerH(other))
	assert.Equal(t, http.StatusUnauthorized, r.Status, "the other session survived 2FA off: %s", r.Raw)
	r = h.do("GET", "/v1/me", nil, bearerH(a.tok))
	assert.Equal(t, http.StatusOK, r.Status, "the acting session is kept: %s", r.Raw)
}

// A stranger knows the owner's email and guesses the password from a few addresses,
// two hours apart (past every temporary lock) for more than a week: 150 guesses, some
// from an IPv6 client that takes a new address in its /64 for every guess. Each client
// is refused after its own cap, uncounted, so the owner's sign-in is never hard-locked.
func TestAttackStrangerCannotHardLockSignIn(t *testing.T) {
	h := newHarness(t)
	h.signup("ada@example.com", "+14155550102")
	clients := []func(i int) string{
		func(int) string { return "X-Test-Remote: 198.51.100.7" },
		func(int) string { return "X-Test-Remote: 203.0.113.99" },
		func(int) string { return "X-Test-Remote: 192.0.2.200" },
		func(i int) string { return fmt.Sprintf("X-Test-Remote: [2001:db8:bad:1::%x]", i+1) },
		func(i int) string { return fmt.Sprintf("X-Test-Remote: [2001:db8:bad:2:%x::1]", i+1) },
	}
	outcomes := map[int]int{}
	for i := range 150 {
		h.clock.Advance(2 * time.Hour)
		r := h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": fmt.Sprintf("guess number %d", i)},
			clients[i%len(clients)](i), "X-Device-Fingerprint: stranger")
		outcomes[r.Status]++
		require.Contains(t, []int{http.StatusUnauthorized, http.StatusTooManyRequests}, r.Status, "guess %d: %s", i, r.Raw)
	}
	assert.Equal(t, 5*10, outcomes[http.StatusUnauthorized], "each client gets its cap of checked guesses: %v", outcomes)
	assert.Equal(t, 100, outcomes[http.StatusTooManyRequests], "and is refused after it: %v", outcomes)

	h.clock.Advance(2 * time.Hour)
	r := h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword})
	require.Equal(t, http.StatusOK, r.Status, "a stranger hard-locked the owner's sign-in: %s", r.Raw)
	assert.Equal(t, "signed_in", r.str("status"))
}
