package agent_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
)

var (
	alicePhone = agent.Identity{Agent: "alice", Name: "Alice", Channel: protection.ChannelPhone}
	aliceStore = agent.Identity{Agent: "alice", Name: "Alice", Channel: protection.ChannelStore}
	bobPhone   = agent.Identity{Agent: "bob", Name: "Bob", Channel: protection.ChannelPhone}
)

// trail is an Auditor that keeps records and can be made to fail.
type trail struct {
	mu   sync.Mutex
	recs []agent.Record
	fail bool
}

func (a *trail) Audit(_ context.Context, r agent.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail {
		return errors.New("audit store down")
	}
	a.recs = append(a.recs, r)
	return nil
}

func (a *trail) actions() []agent.AuditAction {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []agent.AuditAction
	for _, r := range a.recs {
		out = append(out, r.Action)
	}
	return out
}

func newCases(t *testing.T) (*agent.Cases, *fakeclock.Clock, *trail, *memory.AgentCases) {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	tr := &trail{}
	st := memory.NewAgentCases(memory.Options{})
	cs, err := agent.New(agent.Config{Now: clock.Now}, st, tr)
	if err != nil {
		t.Fatal(err)
	}
	return cs, clock, tr, st
}

func code(p otp.Purpose, at time.Time) protection.Evidence {
	return protection.Evidence{Kind: protection.EvidenceContactCode, Contact: protection.ContactSMS, Purpose: p, ObtainedAt: at}
}

func TestCasesBelongToAgentAndChannel(t *testing.T) {
	cs, clock, tr, _ := newCases(t)
	ctx := context.Background()
	c, err := cs.Open(ctx, alicePhone, "sub-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Channel != protection.ChannelPhone || c.Agent != "alice" || !c.Expires.Equal(c.Opened.Add(agent.DefaultTTL)) {
		t.Fatalf("Open = %+v", c)
	}
	if _, err := cs.Get(ctx, alicePhone, c.ID); err != nil {
		t.Fatalf("Get by its agent: %v", err)
	}
	for name, who := range map[string]agent.Identity{"another agent": bobPhone, "the same agent's store credential": aliceStore} {
		if _, err := cs.Get(ctx, who, c.ID); !errors.Is(err, agent.ErrNotFound) {
			t.Errorf("Get by %s = %v, want ErrNotFound", name, err)
		}
		if _, err := cs.AddEvidence(ctx, who, c.ID, code(agent.PurposeIdentity, clock.Now())); !errors.Is(err, agent.ErrNotFound) {
			t.Errorf("AddEvidence by %s = %v, want ErrNotFound", name, err)
		}
	}
	for _, who := range []agent.Identity{{Agent: "alice", Channel: protection.ChannelApp}, {Agent: "alice", Channel: protection.ChannelPartner}, {Channel: protection.ChannelPhone}} {
		if _, err := cs.Open(ctx, who, "sub-1"); !errors.Is(err, agent.ErrInvalidRequest) {
			t.Errorf("Open(%+v) = %v, want ErrInvalidRequest", who, err)
		}
	}
	clock.Advance(agent.DefaultTTL)
	if _, err := cs.Get(ctx, alicePhone, c.ID); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("Get after the TTL = %v, want ErrNotFound", err)
	}
	if got := tr.actions(); !slices.Equal(got, []agent.AuditAction{agent.AuditCaseOpened}) {
		t.Errorf("audit trail = %v", got)
	}
	for _, r := range tr.recs {
		if r.Agent != "alice" || r.Channel != protection.ChannelPhone || r.Case != c.ID || r.Subscriber != "sub-1" {
			t.Errorf("audit record %+v does not name the agent, channel and case", r)
		}
	}
}

func TestCasesEvidenceTheChannelCanGive(t *testing.T) {
	cs, clock, tr, _ := newCases(t)
	ctx := context.Background()
	phone, _ := cs.Open(ctx, alicePhone, "sub-1")
	store, _ := cs.Open(ctx, aliceStore, "sub-1")
	now := clock.Now()
	id := protection.Evidence{Kind: protection.EvidenceGovernmentID, ObtainedAt: now}
	tests := []struct {
		name string
		who  agent.Identity
		c    agent.Case
		ev   protection.Evidence
		want error
	}{
		{"ID on the phone", alicePhone, phone, id, agent.ErrEvidenceChannel},
		{"ID in a store", aliceStore, store, id, nil},
		{"session", aliceStore, store, protection.Evidence{Kind: protection.EvidenceSession, ObtainedAt: now}, agent.ErrEvidenceChannel},
		{"password", alicePhone, phone, protection.Evidence{Kind: protection.EvidencePassword, ObtainedAt: now}, agent.ErrEvidenceChannel},
		{"code without purpose", alicePhone, phone, code("", now), agent.ErrInvalidRequest},
		{"code from the future", alicePhone, phone, code(agent.PurposeIdentity, now.Add(time.Minute)), agent.ErrInvalidRequest},
		{"code without time", alicePhone, phone, code(agent.PurposeIdentity, time.Time{}), agent.ErrInvalidRequest},
		// Attack: a case vouching for a number's SIM itself skips the SIM-change lookup.
		{"code claiming a stable SIM", alicePhone, phone, func() protection.Evidence {
			ev := code(agent.PurposeIdentity, now)
			ev.SIM = protection.SIMStatusStable
			return ev
		}(), agent.ErrInvalidRequest},
		{"identity code", alicePhone, phone, code(agent.PurposeIdentity, now), nil},
		{"questions", alicePhone, phone, protection.Evidence{Kind: protection.EvidenceSecurityQuestions, ObtainedAt: now}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := cs.Get(ctx, tc.who, tc.c.ID)
			n := len(tr.actions())
			got, err := cs.AddEvidence(ctx, tc.who, tc.c.ID, tc.ev)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("AddEvidence = %v, want %v", err, tc.want)
			}
			after, _ := cs.Get(ctx, tc.who, tc.c.ID)
			wantLen := len(before.Evidence)
			wantAudit := agent.AuditRefused
			if tc.want == nil {
				wantLen++
				wantAudit = agent.AuditEvidenceAdded
				if len(got.Evidence) != wantLen {
					t.Errorf("returned case holds %d pieces, want %d", len(got.Evidence), wantLen)
				}
			}
			if len(after.Evidence) != wantLen {
				t.Errorf("stored case holds %d pieces, want %d", len(after.Evidence), wantLen)
			}
			if acts := tr.actions(); len(acts) != n+1 || acts[n] != wantAudit {
				t.Errorf("audit trail ends %v, want %s", acts[n:], wantAudit)
			}
		})
	}
}

func TestCasesFailClosedOnAudit(t *testing.T) {
	cs, clock, tr, st := newCases(t)
	ctx := context.Background()
	c, _ := cs.Open(ctx, alicePhone, "sub-1")
	tr.fail = true
	if _, err := cs.AddEvidence(ctx, alicePhone, c.ID, code(agent.PurposeIdentity, clock.Now())); err == nil {
		t.Fatal("AddEvidence succeeded without an audit record")
	}
	if got, _ := cs.Get(ctx, alicePhone, c.ID); len(got.Evidence) != 0 {
		t.Fatalf("unaudited evidence was kept: %+v", got.Evidence)
	}
	if _, err := cs.Open(ctx, alicePhone, "sub-2"); err == nil {
		t.Fatal("Open succeeded without an audit record")
	}
	if n, _ := st.DeleteExpiredCases(ctx, clock.Now().Add(time.Hour)); n != 1 {
		t.Fatalf("an unaudited case was left behind: %d cases stored, want 1", n)
	}
}

func TestCasesEvidenceCap(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	cs, err := agent.New(agent.Config{Now: clock.Now, MaxEvidence: 2}, memory.NewAgentCases(memory.Options{}), &trail{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, _ := cs.Open(ctx, alicePhone, "sub-1")
	for i := range 3 {
		_, err := cs.AddEvidence(ctx, alicePhone, c.ID, code(agent.PurposeIdentity, clock.Now()))
		if (i < 2) != (err == nil) || (i == 2 && !errors.Is(err, agent.ErrEvidenceFull)) {
			t.Fatalf("AddEvidence %d = %v", i, err)
		}
	}
}

func TestCasesClose(t *testing.T) {
	cs, _, tr, _ := newCases(t)
	ctx := context.Background()
	c, _ := cs.Open(ctx, alicePhone, "sub-1")
	if err := cs.Close(ctx, bobPhone, c.ID); !errors.Is(err, agent.ErrNotFound) {
		t.Fatalf("Close by another agent = %v, want ErrNotFound", err)
	}
	if err := cs.Close(ctx, alicePhone, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Get(ctx, alicePhone, c.ID); !errors.Is(err, agent.ErrNotFound) {
		t.Fatalf("Get after Close = %v", err)
	}
	if err := cs.Record(ctx, bobPhone, c, agent.AuditAccountViewed, ""); !errors.Is(err, agent.ErrNotFound) {
		t.Fatalf("Record by another agent = %v, want ErrNotFound", err)
	}
	if got := tr.actions(); !slices.Equal(got, []agent.AuditAction{agent.AuditCaseOpened, agent.AuditCaseClosed}) {
		t.Fatalf("audit trail = %v", got)
	}
}

func TestNewCasesValidates(t *testing.T) {
	st, tr := memory.NewAgentCases(memory.Options{}), &trail{}
	for name, f := range map[string]func() (*agent.Cases, error){
		"nil store":    func() (*agent.Cases, error) { return agent.New(agent.Config{}, nil, tr) },
		"nil auditor":  func() (*agent.Cases, error) { return agent.New(agent.Config{}, st, nil) },
		"TTL too long": func() (*agent.Cases, error) { return agent.New(agent.Config{TTL: 9 * time.Hour}, st, tr) },
		"negative cap": func() (*agent.Cases, error) { return agent.New(agent.Config{MaxEvidence: -1}, st, tr) },
	} {
		if _, err := f(); !errors.Is(err, agent.ErrInvalidConfig) {
			t.Errorf("%s: New = %v, want ErrInvalidConfig", name, err)
		}
	}
}

// TestEvidenceForBindsCodesToPurpose: a code counts only toward the action it was sent
// for; evidence that is not a code counts toward every action.
func TestEvidenceForBindsCodesToPurpose(t *testing.T) {
	now := time.Now()
	identity, swap, port := code(agent.PurposeIdentity, now), code(otp.PurposeSIMSwap, now), code(otp.PurposePortOut, now)
	recovery := code(otp.PurposeAccountRecovery, now)
	auth := protection.Evidence{Kind: protection.EvidenceAuthenticator, Purpose: agent.PurposeIdentity, ObtainedAt: now}
	noPurpose := code("", now)
	id := protection.Evidence{Kind: protection.EvidenceGovernmentID, ObtainedAt: now}
	all := []protection.Evidence{identity, swap, port, recovery, auth, noPurpose, id}
	for _, tc := range []struct {
		a    protection.Action
		want []protection.Evidence
	}{
		{protection.ActionSIMSwap, []protection.Evidence{swap, id}},
		{protection.ActionESIMTransfer, []protection.Evidence{swap, id}},
		{protection.ActionPortOut, []protection.Evidence{port, id}},
		{protection.ActionViewAccount, []protection.Evidence{identity, auth, id}},
		{protection.ActionChangeEmail, []protection.Evidence{identity, auth, id}},
	} {
		if got := agent.EvidenceFor(tc.a, all); !slices.Equal(got, tc.want) {
			t.Errorf("EvidenceFor(%s) = %+v, want %+v", tc.a, got, tc.want)
		}
	}
}

func TestCodeMessageSaysWhatTheCodeIsFor(t *testing.T) {
	for p, want := range map[otp.Purpose]string{
		otp.PurposeSIMSwap:    "SIM swap",
		otp.PurposePortOut:    "port-out",
		agent.PurposeIdentity: "verify your identity with support",
	} {
		msg, ok := agent.CodeMessage(p)
		if !ok || !strings.HasPrefix(msg, "to ") || !strings.Contains(msg, want) {
			t.Errorf("CodeMessage(%s) = %q, %v", p, msg, ok)
		}
	}
	if _, ok := agent.CodeMessage(otp.PurposeSignIn); ok {
		t.Error("CodeMessage claims a phrase for sign-in codes")
	}
	if err := agent.PurposeIdentity.Validate(); err != nil {
		t.Fatal(err)
	}
}
