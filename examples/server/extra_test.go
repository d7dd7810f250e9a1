package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDevMailboxEndpoints(t *testing.T) {
	h := newHarness(t)
	h.do("POST", "/v1/signup", map[string]any{"email": "ada@example.com", "password": testPassword, "name": "Ada", "phone": "+14155550102"})
	r := h.do("GET", "/dev/mailbox?to=ada@example.com", nil)
	require.Equal(t, 200, r.Status)
	assert.Contains(t, r.Raw, "Verify your email address")
	r = h.do("GET", "/dev/mailbox?to=someone@example.com", nil)
	assert.Equal(t, `{"messages":[]}`, strings.TrimSpace(r.Raw))
	assert.Equal(t, http.StatusNoContent, h.do("DELETE", "/dev/mailbox", nil).Status)
	r = h.do("GET", "/dev/mailbox", nil)
	assert.Equal(t, `{"messages":[]}`, strings.TrimSpace(r.Raw))
}

func TestRemoveAuthenticator(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	r := h.do("POST", "/v1/2fa/authenticator", nil, bearerH(a.tok))
	assert.Equal(t, "step_up_required", r.str("code"), "replacing a factor needs a fresh one")
	h.stepUp(a.tok, a.emailContact, backupEmail, "add_factor")
	r = h.do("POST", "/v1/2fa/authenticator", nil, bearerH(a.tok))
	require.Equal(t, 200, r.Status, r.Raw)
	uri, err := otp.ParseKeyURI(r.str("uri"))
	require.NoError(t, err)
	key, err := otp.NewKey(uri.Secret, uri.Params)
	require.NoError(t, err)
	require.Equal(t, 200, h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": key.TOTP(h.clock.Now())}, bearerH(a.tok)).Status)
	h.clock.Advance(time.Hour) // the code proof is stale, and velocity quiet
	tok := h.signin2FA("ada@example.com", a.emailContact, backupEmail)
	h.clock.Advance(11 * time.Minute)
	r = h.do("DELETE", "/v1/2fa/authenticator", nil, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	h.stepUp(tok, a.emailContact, backupEmail, "disable_two_factor")
	r = h.do("DELETE", "/v1/2fa/authenticator", nil, bearerH(tok))
	require.Equal(t, http.StatusNoContent, r.Status, r.Raw)
	r = h.do("GET", "/v1/2fa", nil, bearerH(tok))
	assert.Equal(t, false, r.Body["authenticator"])
}

func TestPanicIsAJSON500WithoutStack(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("secret detail") })
	rec := httptest.NewRecorder()
	h.srv.frame(mux).ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, rec.Body.String(), `"code":"internal"`)
	assert.NotContains(t, rec.Body.String(), "secret detail")
	assert.NotContains(t, rec.Body.String(), "goroutine")
}

// With 2FA on and the authenticator app as the only second factor, removing the app
// is refused (twofactor's ErrLastContact): it would leave 2FA on with nothing to prove
// it with.
func TestRemoveLastAuthenticatorRefused(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	r := h.do("POST", "/v1/2fa/authenticator", nil, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	uri, err := otp.ParseKeyURI(r.str("uri"))
	require.NoError(t, err)
	key, err := otp.NewKey(uri.Secret, uri.Params)
	require.NoError(t, err)
	require.Equal(t, 200, h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": key.TOTP(h.clock.Now())}, bearerH(tok)).Status)
	tok = h.enableLaterWithApp("ada@example.com", key)
	h.clock.Advance(time.Minute) // the next TOTP step
	r = h.do("POST", "/v1/2fa/verify", map[string]any{"method": "authenticator", "code": key.TOTP(h.clock.Now()), "purpose": "disable_two_factor"}, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)

	r = h.do("DELETE", "/v1/2fa/authenticator", nil, bearerH(tok))
	assert.Equal(t, http.StatusConflict, r.Status, r.Raw)
	assert.Equal(t, codeConflict, r.str("code"), r.Raw)
	assert.Contains(t, r.str("message"), "authenticator app cannot be removed", r.Raw)
	assert.NotContains(t, r.str("message"), "last verified contact", r.Raw)
	r = h.do("GET", "/v1/2fa", nil, bearerH(tok))
	assert.Equal(t, true, r.Body["enabled"])
	assert.Equal(t, true, r.Body["authenticator"], "the only second factor stays")
}
