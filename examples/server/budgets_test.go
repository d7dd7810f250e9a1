package main

import (
	"net/http"
	"testing"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SMS pumping: a bot adds a premium or foreign number as a contact (or asks codes for
// it) so the carrier pays to send codes there. Numbers outside the home regions get no
// SMS code (422, nothing sent); an email contact still works.
func TestAttackSMSPumpingToForeignNumberRefused(t *testing.T) {
	h := newHarness(t)
	paths := openapiPaths(t)
	tok := h.signup("ada@example.com", "+14155550102")
	for _, foreign := range []string{"+447911123456", "+33612345678"} {
		r := h.do("POST", "/v1/2fa/contacts", map[string]any{"kind": "phone", "value": foreign}, bearerH(tok))
		assert.Equal(t, http.StatusUnprocessableEntity, r.Status, r.Raw)
		assert.Equal(t, codeCountryNotAllowed, r.str("code"), r.Raw)
		requireDocumented(t, paths, "POST", "/v1/2fa/contacts", r)
		assert.Empty(t, h.srv.mail.list(foreign), "no SMS went to %s", foreign)
	}
	r := h.do("GET", "/v1/2fa", nil, bearerH(tok))
	assert.NotContains(t, r.Raw, "•••• 3456", "no pending contact is left behind")
	h.addContact(tok, "email", backupEmail)
}

// The SMS budgets cap what a flood of code requests can cost: once the global budget
// is spent, SMS codes are refused with 429 and Retry-After (the budget's window), while
// email codes, which cost nothing, still go out.
func TestSMSBudgetSpentAnswers429(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.SMSBudgets = otp.SMSBudgets{HomeRegions: []string{"US"}, Global: 2} })
	paths := openapiPaths(t)
	h.signup("ada@example.com", "+14155550102")
	h.signup("bob@example.com", "+14155550103")
	tok := h.signupUnproved("carol@example.com", "+14155550104")
	r := h.do("POST", "/v1/line/verify/send", nil, bearerH(tok))
	require.Equal(t, http.StatusTooManyRequests, r.Status, r.Raw)
	assert.Equal(t, codeRateLimited, r.str("code"), r.Raw)
	assert.Equal(t, "3600", r.Header.Get("Retry-After"))
	requireDocumented(t, paths, "POST", "/v1/line/verify/send", r)
	assert.Empty(t, h.srv.mail.list("+14155550104"))
	h.addContact(tok, "email", "carol.backup@example.org")
}

// Without configured regions the server still has an allow-list (US): it never runs
// with every country open.
func TestSMSBudgetsDefaultToHomeRegionUS(t *testing.T) {
	h := newHarness(t)
	assert.Equal(t, []string{"US"}, h.srv.smsBudgets().HomeRegions)
	// Allowed regions are destinations beyond the home region, which stays US.
	h = newHarness(t, func(o *Options) { o.SMSBudgets.AllowedRegions = []string{"CA"} })
	assert.Equal(t, []string{"US"}, h.srv.smsBudgets().HomeRegions)
	assert.Equal(t, []string{"CA"}, h.srv.smsBudgets().AllowedRegions)
	// An explicit home region is kept as it is.
	h = newHarness(t, func(o *Options) { o.SMSBudgets.HomeRegions = []string{"CA"} })
	assert.Equal(t, []string{"CA"}, h.srv.smsBudgets().HomeRegions)
}
