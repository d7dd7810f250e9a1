package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pendingContact adds a contact without verifying it and returns its ID and challenge.
func (h *harness) pendingContact(tok, kind, value string) (id, challenge string) {
	h.t.Helper()
	h.addFactorStepUp(tok)
	r := h.do("POST", "/v1/2fa/contacts", map[string]any{"kind": kind, "value": value}, bearerH(tok))
	require.Equal(h.t, http.StatusCreated, r.Status, r.Raw)
	h.addrs[r.str("contact", "id")] = value
	return r.str("contact", "id"), r.str("challenge_id")
}

// verifiedContacts returns the IDs of the caller's verified contacts.
func (h *harness) verifiedContacts(tok string) []string {
	h.t.Helper()
	r := h.do("GET", "/v1/2fa", nil, bearerH(tok))
	require.Equal(h.t, 200, r.Status, r.Raw)
	ids := []string{}
	for _, c := range r.Body["contacts"].([]any) {
		if m := c.(map[string]any); m["verified"] == true {
			ids = append(ids, m["id"].(string))
		}
	}
	return ids
}

// A contact-verification challenge completes only at the contact it was issued for,
// and only for the subscriber it was issued to: the server's record decides, not the
// request body.
func TestVerifyContactIsBoundToItsContact(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	emailID, emailCh := h.pendingContact(tok, "email", backupEmail)
	emailCode := h.code(backupEmail)
	h.clock.Advance(31 * time.Second) // contact codes are throttled per subscriber
	phoneID, _ := h.pendingContact(tok, "phone", mobile)

	// The email contact's challenge and code, presented at the phone contact.
	r := h.do("POST", "/v1/2fa/contacts/"+phoneID+"/verify", map[string]any{"challenge_id": emailCh, "code": emailCode}, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, codeInvalidCode, r.str("code"), r.Raw)
	assert.Empty(t, h.verifiedContacts(tok), "nothing is verified by a request naming another contact")

	// Another subscriber presents the challenge and code, at their own contact and at
	// the first subscriber's.
	other := h.signup("grace@example.com", "+14155550103")
	otherID, _ := h.pendingContact(other, "email", "grace.backup@example.org")
	for _, id := range []string{otherID, emailID} {
		r = h.do("POST", "/v1/2fa/contacts/"+id+"/verify", map[string]any{"challenge_id": emailCh, "code": emailCode}, bearerH(other))
		assert.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, r.Status, r.Raw)
	}
	assert.Empty(t, h.verifiedContacts(other))
	assert.Empty(t, h.verifiedContacts(tok))

	// At its own contact, by its own subscriber, the same code still works.
	r = h.do("POST", "/v1/2fa/contacts/"+emailID+"/verify", map[string]any{"challenge_id": emailCh, "code": emailCode}, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, emailID, r.str("contact", "id"))
	assert.Equal(t, []string{emailID}, h.verifiedContacts(tok))
}

// A one-time-code challenge completes only in the flow that issued it: a step-up in its
// session, a sign-in in its pending sign-in, an agent's code in its case.
func TestChallengesAreBoundToTheirFlow(t *testing.T) {
	h := newHarness(t)
	a := h.secureAccount()
	h.clock.Advance(time.Minute)

	// The helpers take the subtest's harness (see harness.in), so that a failure is
	// reported against the subtest, from its own goroutine.
	// issue returns a challenge (and its code) from each flow, for the email contact.
	type issued struct{ id, code string }
	stepUp := func(h *harness, tok string) issued {
		h.t.Helper()
		r := h.do("POST", "/v1/2fa/challenge", map[string]any{"contact_id": a.emailContact}, bearerH(tok))
		require.Equal(h.t, 200, r.Status, r.Raw)
		return issued{r.str("challenge_id"), h.code(backupEmail)}
	}
	signin := func(h *harness) (string, issued) {
		h.t.Helper()
		r := h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword})
		require.Equal(h.t, "second_factor_required", r.str("status"), r.Raw)
		sid := r.str("signin_id")
		r = h.do("POST", "/v1/signin/challenge", map[string]any{"signin_id": sid, "contact_id": a.emailContact})
		require.Equal(h.t, 200, r.Status, r.Raw)
		return sid, issued{r.str("challenge_id"), h.code(backupEmail)}
	}
	openCase := func(h *harness) string {
		h.t.Helper()
		r := h.agent("POST", "/agent/v1/cases", map[string]any{"phone": "+14155550102", "channel": "phone"})
		require.Equal(h.t, http.StatusCreated, r.Status, r.Raw)
		return r.str("case_id")
	}
	caseCode := func(h *harness, id string) issued {
		h.t.Helper()
		r := h.agent("POST", "/agent/v1/cases/"+id+"/verify/code/send", map[string]any{"contact_id": a.emailContact})
		require.Equal(h.t, 200, r.Status, r.Raw)
		return issued{r.str("challenge_id"), h.code(backupEmail)}
	}
	refused := func(t *testing.T, name string, r resp) {
		t.Helper()
		assert.Equal(t, http.StatusForbidden, r.Status, "%s: %s", name, r.Raw)
		assert.Equal(t, codeInvalidCode, r.str("code"), "%s: %s", name, r.Raw)
	}
	next := func() { h.clock.Advance(31 * time.Second) } // resends are throttled

	t.Run("step-up from another session", func(t *testing.T) {
		h := h.in(t)
		other := h.signin2FA("ada@example.com", a.emailContact, backupEmail)
		next()
		ch := stepUp(h, other)
		refused(t, "step-up", h.do("POST", "/v1/2fa/verify", map[string]any{"challenge_id": ch.id, "code": ch.code}, bearerH(a.tok)))
		next()
	})
	t.Run("sign-in code as a step-up", func(t *testing.T) {
		h := h.in(t)
		_, ch := signin(h)
		refused(t, "step-up", h.do("POST", "/v1/2fa/verify", map[string]any{"challenge_id": ch.id, "code": ch.code}, bearerH(a.tok)))
		next()
	})
	t.Run("step-up code for a sign-in", func(t *testing.T) {
		h := h.in(t)
		sid, _ := signin(h)
		next()
		ch := stepUp(h, a.tok)
		refused(t, "sign-in", h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": sid, "challenge_id": ch.id, "code": ch.code}))
		next()
	})
	t.Run("another sign-in's code", func(t *testing.T) {
		h := h.in(t)
		_, ch := signin(h)
		next()
		sid, _ := signin(h)
		refused(t, "sign-in", h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": sid, "challenge_id": ch.id, "code": ch.code}))
		next()
	})
	t.Run("subscriber's step-up read out to an agent", func(t *testing.T) {
		h := h.in(t)
		id := openCase(h)
		ch := stepUp(h, a.tok)
		refused(t, "case", h.agent("POST", "/agent/v1/cases/"+id+"/verify/code", map[string]any{"challenge_id": ch.id, "code": ch.code}))
		assert.Equal(t, []any{}, h.agent("GET", "/agent/v1/cases/"+id, nil).Body["verified_with"])
		next()
	})
	t.Run("another case's code", func(t *testing.T) {
		h := h.in(t)
		first, second := openCase(h), openCase(h)
		ch := caseCode(h, first)
		refused(t, "case", h.agent("POST", "/agent/v1/cases/"+second+"/verify/code", map[string]any{"challenge_id": ch.id, "code": ch.code}))
		assert.Equal(t, []any{}, h.agent("GET", "/agent/v1/cases/"+second, nil).Body["verified_with"])
		// In its own case it still works.
		r := h.agent("POST", "/agent/v1/cases/"+first+"/verify/code", map[string]any{"challenge_id": ch.id, "code": ch.code})
		assert.Equal(t, 200, r.Status, r.Raw)
		next()
	})
}
