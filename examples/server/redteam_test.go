package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/session"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A thief with the password and one leaked recovery code signs in. The owner sees the
// "recovery code used" notice and makes new codes (every earlier one stops working):
// the thief's session, opened with a code that no longer exists, must end with it.
func TestAttackRecoveryCodeSessionSurvivesRegeneration(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	h.stepUp(a.tok, a.emailContact, backupEmail, "add_factor")
	r := h.do("POST", "/v1/2fa/recovery-codes", nil, bearerH(a.tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	leaked := r.Body["recovery_codes"].([]any)[0].(string)

	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword}, thiefDevice, thiefAddr)
	r = h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": r.str("signin_id"), "method": "recovery_code", "code": leaked}, thiefDevice, thiefAddr)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	thief := r.str("token")

	h.clock.Advance(time.Minute)
	h.stepUp(a.tok, a.emailContact, backupEmail, "add_factor")
	r = h.do("POST", "/v1/2fa/recovery-codes", nil, bearerH(a.tok))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)

	r = h.do("GET", "/v1/me", nil, bearerH(thief), thiefDevice, thiefAddr)
	assert.Equal(t, http.StatusUnauthorized, r.Status, "the session opened with a replaced recovery code lives on: %s", r.Raw)
	assert.Equal(t, http.StatusOK, h.do("GET", "/v1/me", nil, bearerH(a.tok)).Status, "the owner's own session is kept")
}

// A thief signs in with the stolen password at the very moment the owner changes it:
// his password is checked, then the owner's change is stored and every session revoked,
// then his session is created. The sign-in checks the password again once its session
// exists, so the session dies with the change. (The change stores the new password
// before it revokes, so a sign-in whose session comes after that second check is
// revoked by the change itself.) A geolocation lookup of the thief's address, which the
// sign-in makes between the two, holds him at the worst moment.
func TestAttackSigninRacingPasswordChange(t *testing.T) {
	var armed atomic.Bool
	reached, release := make(chan struct{}), make(chan struct{})
	geo := session.GeoLookupFunc(func(a netip.Addr) (risk.Geo, error) {
		if a.String() == "198.51.100.66" && armed.CompareAndSwap(true, false) {
			close(reached)
			<-release
		}
		return risk.Geo{Country: "US"}, nil
	})
	h := newHarness(t, func(o *Options) { o.Geo = geo })
	owner := h.signup("ada@example.com", "+14155550102")
	contact := h.addContact(owner, "email", backupEmail) // 2FA stays off: the password signs in
	h.clock.Advance(31 * time.Second)
	h.stepUp(owner, contact, backupEmail, "account_change")

	armed.Store(true)
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		done <- rawJSON(h, "POST", "/v1/signin", `{"email":"ada@example.com","password":"`+testPassword+`"}`, "", "198.51.100.66")
	}()
	<-reached // the thief's password was checked; his session does not exist yet
	r := h.do("POST", "/v1/password/change", map[string]any{"current": testPassword, "new": "another long passphrase for ada"}, bearerH(owner))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	close(release)
	thief := <-done

	var out struct{ Token string }
	_ = json.Unmarshal(thief.Body.Bytes(), &out)
	if out.Token != "" {
		r = h.do("GET", "/v1/me", nil, bearerH(out.Token), "X-Test-Remote: 198.51.100.66")
		assert.Equal(t, http.StatusUnauthorized, r.Status, "a sign-in with the old password outlived the change: %s", r.Raw)
	}
	assert.Equal(t, http.StatusUnauthorized, thief.Code, "%s", thief.Body)
}

// rawJSON serves one request without the harness's assertions, for goroutines.
func rawJSON(h *harness, method, path, body, token, remote string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = remote + ":40000"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "carrierguard-test/1.0")
	req.Header.Set(deviceHeader, "device-test-1")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	return rec
}
