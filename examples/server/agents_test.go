package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// auditTrail is an agent.Auditor for tests.
type auditTrail struct {
	mu   sync.Mutex
	recs []agent.Record
	fail bool
}

func (a *auditTrail) Audit(_ context.Context, r agent.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail {
		return errors.New("audit store down")
	}
	a.recs = append(a.recs, r)
	return nil
}

func (a *auditTrail) records() []agent.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]agent.Record(nil), a.recs...)
}

// Every agent action is in the audit trail with the agent's ID from the token, and the
// trail never holds the code; without a trail the console refuses to act.
func TestAgentActionsAudited(t *testing.T) {
	trail := &auditTrail{}
	h := newHarness(t, func(o *Options) { o.AgentAudit = trail })
	a := h.secureAccount()
	path := h.openCase("+14155550102", "chat")
	r := h.agent("POST", path+"/verify/code/send", map[string]any{"contact_id": a.emailContact})
	require.Equal(t, 200, r.Status, r.Raw)
	code := h.code(backupEmail)
	r = h.agent("POST", path+"/verify/code", map[string]any{"challenge_id": r.str("challenge_id"), "code": code})
	require.Equal(t, 200, r.Status, r.Raw)
	r = h.agent("GET", path, nil)
	require.Equal(t, true, r.Body["verified"], r.Raw)
	r = h.agent("POST", path+"/port-out", map[string]any{})
	require.Equal(t, 200, r.Status, r.Raw)

	var actions []agent.AuditAction
	for _, rec := range trail.records() {
		actions = append(actions, rec.Action)
		assert.Equal(t, "agent-7", rec.Agent)
		assert.Equal(t, protection.ChannelChat, rec.Channel)
		assert.Equal(t, strings.TrimPrefix(path, "/agent/v1/cases/"), rec.Case)
		assert.NotEmpty(t, rec.Subscriber)
		assert.NotContains(t, rec.Detail, code)
	}
	assert.Equal(t, []agent.AuditAction{agent.AuditCaseOpened, agent.AuditCodeSent, agent.AuditEvidenceAdded,
		agent.AuditAccountViewed, agent.AuditChangeRequested}, actions)

	trail.fail = true
	r = h.agent("POST", "/agent/v1/cases", map[string]any{"phone": "+14155550102", "channel": "chat"})
	assert.Equal(t, http.StatusInternalServerError, r.Status, r.Raw)
	r = h.agent("POST", path+"/port-out", map[string]any{})
	assert.Equal(t, http.StatusInternalServerError, r.Status, "no change is requested without an audit record: %s", r.Raw)
}

// A case lives in the library, for its agent and channel, until it is closed.
func TestAgentCaseClose(t *testing.T) {
	h := newHarness(t)
	h.secureAccount()
	path := h.openCase("+14155550102", "phone")
	assert.Equal(t, http.StatusNotFound, h.do("DELETE", path, nil, bearerH(testAgentTokens["other"])).Status)
	assert.Equal(t, http.StatusNotFound, h.do("DELETE", path, nil, bearerH(testAgentTokens["store"])).Status, "agent-7's store token cannot use a phone case")
	assert.Equal(t, http.StatusNoContent, h.agent("DELETE", path, nil).Status)
	assert.Equal(t, http.StatusNotFound, h.agent("GET", path, nil).Status)
	// Cases expire.
	path = h.openCase("+14155550102", "phone")
	h.clock.Advance(agent.DefaultTTL)
	assert.Equal(t, http.StatusNotFound, h.agent("GET", path, nil).Status)
}

func TestAgentTokenFlags(t *testing.T) {
	run1 := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(t.Context(), append([]string{"-addr", "127.0.0.1:0"}, args...), &out, io.Discard)
		return out.String(), err
	}
	// The shared token is gone: asking for it is an error, not a silently open console.
	_, err := run1("-agent-token", "shared-secret-0123456789")
	assert.ErrorContains(t, err, "-agent-tokens")
	t.Setenv("CARRIERGUARD_AGENT_TOKEN", "shared-secret-0123456789")
	_, err = run1("-demo")
	assert.ErrorContains(t, err, "removed")
	t.Setenv("CARRIERGUARD_AGENT_TOKEN", "")

	out, err := run1("-new-agent-token", "alice,store,Alice Archer")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	tok := strings.TrimPrefix(lines[0], "token (give it to the agent, once): ")
	assert.NotContains(t, lines[2], tok, "the credential line holds only the hash")
	file := filepath.Join(t.TempDir(), "agents")
	require.NoError(t, os.WriteFile(file, []byte("# agents\n"+lines[2]+"\n"), 0o600))
	auth, demo, err := loadAgents(file, true)
	require.NoError(t, err)
	assert.Empty(t, demo, "a credential file replaces the demo tokens")
	who, err := auth.Authenticate(t.Context(), tok)
	require.NoError(t, err)
	assert.Equal(t, agent.Identity{Agent: "alice", Name: "Alice Archer", Channel: protection.ChannelStore}, who)

	for _, bad := range []string{"alice,app,Alice", "al/ice,store,Alice", "alice,store,"} {
		_, err := run1("-new-agent-token", bad)
		assert.Error(t, err, bad)
	}
	require.NoError(t, os.WriteFile(file, []byte("alice store "+tok+" Alice\n"), 0o600))
	_, err = run1("-agent-tokens", file)
	assert.ErrorContains(t, err, "line 1", "a plaintext token in the file is refused")

	auth, demo, err = loadAgents("", false)
	assert.NoError(t, err)
	assert.Nil(t, auth, "no file and no demo: the console is off")
	assert.Empty(t, demo)
}

func TestLineProof(t *testing.T) {
	h := newHarness(t)
	// An unverified account sends no SMS (each is paid for, and the email gate slows
	// sign-up farms pumping SMS).
	r := h.do("POST", "/v1/signup", map[string]any{"email": "bob@example.com", "password": testPassword, "name": "Bob", "phone": "+14155550107"})
	require.Equal(t, http.StatusAccepted, r.Status)
	bob := h.signin("bob@example.com", testPassword)
	r = h.do("POST", "/v1/line/verify/send", nil, bearerH(bob))
	assert.Equal(t, codeAccountUnverified, r.str("code"), r.Raw)
	assert.Empty(t, h.srv.mail.list("+14155550107"))

	tok := h.signupUnproved("ada@example.com", "+14155550102")
	r = h.do("POST", "/v1/line/verify/send", nil, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "•••• 0102", r.str("sent_to"))
	ch := r.str("challenge_id")
	msg := h.mailTo("+14155550102", "security code")
	assert.Contains(t, msg.Body, "to prove this number is the line of your account")
	code := h.code("+14155550102")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	r = h.do("POST", "/v1/line/verify", map[string]any{"challenge_id": ch, "code": wrong}, bearerH(tok))
	assert.Equal(t, codeInvalidCode, r.str("code"), r.Raw)
	assert.Equal(t, false, h.do("GET", "/v1/me", nil, bearerH(tok)).Body["line_proved"])
	r = h.do("POST", "/v1/line/verify", map[string]any{"challenge_id": ch, "code": code}, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "+14155550102", r.str("line"))
	assert.Equal(t, true, h.do("GET", "/v1/me", nil, bearerH(tok)).Body["line_proved"])
	assert.Equal(t, http.StatusConflict, h.do("POST", "/v1/line/verify/send", nil, bearerH(tok)).Status)
	// The subscriber hears of it by email.
	h.eventTo("ada@example.com", "account.details_changed")
	// A proved line gets to the SIM-swap decision (which wants a code here).
	r = h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "step_up", r.str("status"), r.Raw)
}
