package main

import (
	"errors"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openapiPaths splits openapi.yaml into its path blocks, keyed by path.
func openapiPaths(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile("openapi.yaml")
	require.NoError(t, err)
	blocks := map[string]string{}
	var cur string
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "  /") && strings.HasSuffix(line, ":") {
			cur = strings.TrimSuffix(strings.TrimSpace(line), ":")
			continue
		}
		if cur != "" {
			blocks[cur] += line + "\n"
		}
	}
	return blocks
}

// TestOpenAPICoversEveryRoute keeps openapi.yaml in step with the routes: every
// pattern registered in server.go is a path with that method in the document.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	blocks := openapiPaths(t)
	routes := regexp.MustCompile(`mux\.HandleFunc\("([A-Z]+) ([^"]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(routes) < 40 {
		t.Fatalf("found only %d routes in server.go", len(routes))
	}
	for _, r := range routes {
		method, path := strings.ToLower(r[1]), r[2]
		block, ok := blocks[path]
		if !ok {
			t.Errorf("openapi.yaml has no path %s", path)
			continue
		}
		if !strings.Contains(block, "    "+method+":") {
			t.Errorf("openapi.yaml has no %s under %s", method, path)
		}
	}
}

// operation returns the part of a path block that describes one method.
func operation(block, method string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(block, "\n") {
		if len(line) > 4 && line[:4] == "    " && line[4] != ' ' {
			in = line == "    "+method+":"
			continue
		}
		if in {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// requireDocumented checks that the status of a real response is among the responses
// openapi.yaml lists for the route, and that a 429 is the RateLimited response (with
// Retry-After) and came with the header.
func requireDocumented(t *testing.T, paths map[string]string, method, path string, r resp) {
	t.Helper()
	op := operation(paths[path], strings.ToLower(method))
	require.NotEmpty(t, op, "openapi.yaml has no %s %s", method, path)
	status := strconv.Itoa(r.Status)
	m := regexp.MustCompile(`'` + status + `': *(\{[^}\n]*\})`).FindStringSubmatch(op)
	if !assert.NotNil(t, m, "%s %s answers %d (%s), which openapi.yaml does not list", method, path, r.Status, r.Raw) {
		return
	}
	if r.Status == http.StatusTooManyRequests {
		assert.Contains(t, m[1], "#/components/responses/RateLimited", "%s %s", method, path)
		assert.NotEmpty(t, r.Header.Get("Retry-After"), "%s %s", method, path)
	}
}

// untilNot repeats call while it answers status, at most n times, and returns the
// first other answer (for driving a lockout).
func untilNot(t *testing.T, n, status int, call func() resp) resp {
	t.Helper()
	for range n {
		if r := call(); r.Status != status {
			return r
		}
	}
	t.Fatalf("still %d after %d tries", status, n)
	return resp{}
}

// The statuses the handlers really answer, driven through httptest, are the ones
// openapi.yaml lists for them.
func TestOpenAPIListsReturnedStatuses(t *testing.T) {
	paths := openapiPaths(t)
	check := func(t *testing.T, method, path string, want int, r resp) {
		t.Helper()
		require.Equal(t, want, r.Status, "%s %s: %s", method, path, r.Raw)
		requireDocumented(t, paths, method, path, r)
	}

	t.Run("step-up challenge", func(t *testing.T) {
		h := newHarness(t)
		a := h.secureAccount()
		check(t, "POST", "/v1/2fa/challenge", http.StatusNotFound,
			h.do("POST", "/v1/2fa/challenge", map[string]any{"contact_id": "nope"}, bearerH(a.tok)))
		require.Equal(t, 200, h.do("POST", "/v1/2fa/challenge", map[string]any{"contact_id": a.emailContact}, bearerH(a.tok)).Status)
		check(t, "POST", "/v1/2fa/challenge", http.StatusTooManyRequests,
			h.do("POST", "/v1/2fa/challenge", map[string]any{"contact_id": a.emailContact}, bearerH(a.tok)))
	})

	t.Run("sign-in", func(t *testing.T) {
		h := newHarness(t)
		a := h.secureAccount()
		r := h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword})
		require.Equal(t, "second_factor_required", r.str("status"), r.Raw)
		sid := r.str("signin_id")
		check(t, "POST", "/v1/signin/challenge", http.StatusNotFound,
			h.do("POST", "/v1/signin/challenge", map[string]any{"signin_id": sid, "contact_id": "nope"}))
		r = h.do("POST", "/v1/signin/challenge", map[string]any{"signin_id": sid, "contact_id": a.emailContact})
		require.Equal(t, 200, r.Status, r.Raw)
		ch := r.str("challenge_id")
		check(t, "POST", "/v1/signin/challenge", http.StatusTooManyRequests,
			h.do("POST", "/v1/signin/challenge", map[string]any{"signin_id": sid, "contact_id": a.emailContact}))
		check(t, "POST", "/v1/signin/complete", http.StatusTooManyRequests, untilNot(t, 20, http.StatusForbidden, func() resp {
			return h.do("POST", "/v1/signin/complete", map[string]any{"signin_id": sid, "challenge_id": ch, "code": "000000"})
		}))
	})

	t.Run("reauth", func(t *testing.T) {
		h := newHarness(t)
		tok := h.signup("ada@example.com", "+14155550102")
		check(t, "POST", "/v1/reauth", http.StatusTooManyRequests, untilNot(t, 50, http.StatusForbidden, func() resp {
			return h.do("POST", "/v1/reauth", map[string]any{"password": "not the password at all"}, bearerH(tok))
		}))
	})

	t.Run("contacts", func(t *testing.T) {
		h := newHarness(t)
		tok := h.signup("ada@example.com", "+14155550102")
		r := h.do("POST", "/v1/2fa/contacts", map[string]any{"kind": "email", "value": backupEmail}, bearerH(tok))
		require.Equal(t, http.StatusCreated, r.Status, r.Raw)
		id, ch := r.str("contact", "id"), r.str("challenge_id")
		check(t, "POST", "/v1/2fa/contacts", http.StatusTooManyRequests,
			h.do("POST", "/v1/2fa/contacts", map[string]any{"kind": "email", "value": "ada.other@example.org"}, bearerH(tok)))
		check(t, "POST", "/v1/2fa/contacts/{id}/verify", http.StatusNotFound,
			h.do("POST", "/v1/2fa/contacts/nope/verify", map[string]any{"challenge_id": ch, "code": "000000"}, bearerH(tok)))
		check(t, "POST", "/v1/2fa/contacts/{id}/verify", http.StatusTooManyRequests, untilNot(t, 20, http.StatusForbidden, func() resp {
			return h.do("POST", "/v1/2fa/contacts/"+id+"/verify", map[string]any{"challenge_id": ch, "code": "000000"}, bearerH(tok))
		}))
	})

	t.Run("agent code", func(t *testing.T) {
		h := newHarness(t)
		a := h.secureAccount()
		base := h.openCase("+14155550102", "phone")
		r := h.agent("POST", base+"/verify/code/send", map[string]any{"contact_id": a.emailContact})
		require.Equal(t, 200, r.Status, r.Raw)
		ch := r.str("challenge_id")
		check(t, "POST", "/agent/v1/cases/{case}/verify/code/send", http.StatusNotFound,
			h.agent("POST", base+"/verify/code/send", map[string]any{"contact_id": "nope"}))
		check(t, "POST", "/agent/v1/cases/{case}/verify/code/send", http.StatusTooManyRequests,
			h.agent("POST", base+"/verify/code/send", map[string]any{"contact_id": a.emailContact}))
		check(t, "POST", "/agent/v1/cases/{case}/verify/code", http.StatusTooManyRequests, untilNot(t, 20, http.StatusForbidden, func() resp {
			return h.agent("POST", base+"/verify/code", map[string]any{"challenge_id": ch, "code": "000000"})
		}))
	})

	// A one-time code the gateway does not take is a 503 the client can retry at once
	// (twofactor withdrew the code, so no resend allowance was used), not a 500.
	t.Run("code sender down", func(t *testing.T) {
		h := newHarness(t)
		a := h.secureAccount()
		caseBase := h.openCase("+14155550102", "phone")
		r := h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		sid := r.str("signin_id")
		fresh := h.signup("bob@example.com", "+14155550103")
		h.clock.Advance(time.Minute)
		gateway := func(err error) {
			h.srv.mail.mu.Lock()
			h.srv.mail.fail = err
			h.srv.mail.mu.Unlock()
		}
		gateway(errors.New("gateway down"))
		calls := []struct {
			method, doc string
			do          func() resp
		}{
			{"POST", "/v1/2fa/challenge", func() resp {
				return h.do("POST", "/v1/2fa/challenge", map[string]any{"contact_id": a.emailContact}, bearerH(a.tok))
			}},
			{"POST", "/v1/signin/challenge", func() resp {
				return h.do("POST", "/v1/signin/challenge", map[string]any{"signin_id": sid, "contact_id": a.emailContact})
			}},
			{"POST", "/v1/2fa/contacts", func() resp {
				return h.do("POST", "/v1/2fa/contacts", map[string]any{"kind": "email", "value": "bob.backup@example.org"}, bearerH(fresh))
			}},
			{"POST", "/agent/v1/cases/{case}/verify/code/send", func() resp {
				return h.agent("POST", caseBase+"/verify/code/send", map[string]any{"contact_id": a.emailContact, "purpose": "port_out"})
			}},
		}
		for _, c := range calls {
			r := c.do()
			check(t, c.method, c.doc, http.StatusServiceUnavailable, r)
			assert.Equal(t, codeUnavailable, r.str("code"), r.Raw)
		}
		// Nothing was used up: each succeeds at once when the gateway is back.
		gateway(nil)
		for _, c := range calls {
			r := c.do()
			assert.Less(t, r.Status, 300, "%s %s after the gateway came back: %s", c.method, c.doc, r.Raw)
		}
	})

	t.Run("authenticator", func(t *testing.T) {
		h := newHarness(t)
		tok := h.signup("ada@example.com", "+14155550102")
		key := h.enrollApp(tok)
		require.Equal(t, 200, h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": key.TOTP(h.clock.Now())}, bearerH(tok)).Status)
		check(t, "POST", "/v1/2fa/authenticator", http.StatusConflict, h.do("POST", "/v1/2fa/authenticator", nil, bearerH(tok)))
		check(t, "POST", "/v1/2fa/authenticator/qr.png", http.StatusConflict, h.do("POST", "/v1/2fa/authenticator/qr.png", nil, bearerH(tok)))
		h.clock.Advance(time.Minute)
		check(t, "POST", "/v1/2fa/authenticator/confirm", http.StatusConflict,
			h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": key.TOTP(h.clock.Now())}, bearerH(tok)))
	})

	t.Run("questions", func(t *testing.T) {
		h := newHarness(t)
		tok := h.signup("ada@example.com", "+14155550102")
		h.clock.Advance(passwordFreshness() + time.Second)
		r := h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
		check(t, "PUT", "/v1/questions", http.StatusForbidden, r)
		assert.Equal(t, "step_up_required", r.str("code"), r.Raw)
	})
}
