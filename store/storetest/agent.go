package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
)

// TestAgentCases is the conformance suite for agent.CaseStore. newStore must return a
// fresh, empty store; the suite passes times in, as agent.Cases does, and the store must
// not read a clock of its own to decide anything.
func TestAgentCases(t *testing.T, newStore func(t *testing.T) agent.CaseStore) {
	t.Helper()
	ctx := context.Background()
	mk := func(id string, opened time.Time) agent.Case {
		return agent.Case{ID: id, Agent: "alice", Channel: protection.ChannelStore, Subscriber: "sub-" + id,
			Opened: opened, Expires: opened.Add(30 * time.Minute)}
	}
	ev := func(i int) protection.Evidence {
		return protection.Evidence{Kind: protection.EvidenceContactCode, Contact: protection.ContactSMS,
			Purpose: otp.PurposeSIMSwap, ObtainedAt: Epoch.Add(time.Duration(i) * time.Second)}
	}
	create := func(t *testing.T, st agent.CaseStore, c agent.Case) {
		t.Helper()
		if err := st.CreateCase(ctx, c); err != nil {
			t.Fatalf("CreateCase(%s): %v", c.ID, err)
		}
	}

	t.Run("RoundTrip", func(t *testing.T) {
		st := newStore(t)
		c := mk("c1", Epoch)
		c.Evidence = []protection.Evidence{ev(1)}
		create(t, st, c)
		got, err := st.Case(ctx, "c1")
		if err != nil {
			t.Fatalf("Case: %v", err)
		}
		if got.ID != c.ID || got.Agent != c.Agent || got.Channel != c.Channel || got.Subscriber != c.Subscriber ||
			!got.Opened.Equal(c.Opened) || !got.Expires.Equal(c.Expires) || len(got.Evidence) != 1 {
			t.Fatalf("Case = %+v, want %+v", got, c)
		}
		if e := got.Evidence[0]; e.Kind != ev(1).Kind || e.Contact != ev(1).Contact || e.Purpose != ev(1).Purpose || !e.ObtainedAt.Equal(ev(1).ObtainedAt) {
			t.Fatalf("evidence = %+v, want %+v", e, ev(1))
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		st := newStore(t)
		if _, err := st.Case(ctx, "nope"); !errors.Is(err, agent.ErrNotFound) {
			t.Errorf("Case(unknown) = %v, want ErrNotFound", err)
		}
		if err := st.AddEvidence(ctx, "nope", ev(1), 10); !errors.Is(err, agent.ErrNotFound) {
			t.Errorf("AddEvidence(unknown) = %v, want ErrNotFound", err)
		}
		if err := st.DeleteCase(ctx, "nope"); !errors.Is(err, agent.ErrNotFound) {
			t.Errorf("DeleteCase(unknown) = %v, want ErrNotFound", err)
		}
	})

	t.Run("CreateOnce", func(t *testing.T) {
		st := newStore(t)
		create(t, st, mk("c1", Epoch))
		other := mk("c1", Epoch)
		other.Agent = "mallory"
		if err := st.CreateCase(ctx, other); !errors.Is(err, agent.ErrCaseExists) {
			t.Fatalf("second CreateCase = %v, want ErrCaseExists", err)
		}
		if got, _ := st.Case(ctx, "c1"); got.Agent != "alice" {
			t.Fatalf("a refused CreateCase replaced the case: agent %q", got.Agent)
		}
		failures := ExactlyOnce(t, Contenders, func(int) error { return st.CreateCase(ctx, mk("c2", Epoch)) })
		for _, err := range failures {
			if !errors.Is(err, agent.ErrCaseExists) {
				t.Fatalf("racing CreateCase: %v, want ErrCaseExists", err)
			}
		}
	})

	t.Run("EvidenceIsolated", func(t *testing.T) {
		st := newStore(t)
		create(t, st, mk("c1", Epoch))
		create(t, st, mk("c2", Epoch))
		if err := st.AddEvidence(ctx, "c1", ev(1), 10); err != nil {
			t.Fatalf("AddEvidence: %v", err)
		}
		got, _ := st.Case(ctx, "c1")
		got.Evidence[0].Kind = protection.EvidenceGovernmentID // the caller's copy
		_ = append(got.Evidence, ev(9))
		again, _ := st.Case(ctx, "c1")
		if len(again.Evidence) != 1 || again.Evidence[0].Kind != protection.EvidenceContactCode {
			t.Fatalf("the store shares its evidence with callers: %+v", again.Evidence)
		}
		if other, _ := st.Case(ctx, "c2"); len(other.Evidence) != 0 {
			t.Fatalf("evidence leaked into another case: %+v", other.Evidence)
		}
	})

	t.Run("EvidenceCap", func(t *testing.T) {
		st := newStore(t)
		create(t, st, mk("c1", Epoch))
		for i := range 3 {
			if err := st.AddEvidence(ctx, "c1", ev(i), 3); err != nil {
				t.Fatalf("AddEvidence %d: %v", i, err)
			}
		}
		if err := st.AddEvidence(ctx, "c1", ev(3), 3); !errors.Is(err, agent.ErrEvidenceFull) {
			t.Fatalf("AddEvidence past the cap = %v, want ErrEvidenceFull", err)
		}
		got, _ := st.Case(ctx, "c1")
		var want []protection.Evidence
		for i := range 3 {
			want = append(want, ev(i))
		}
		if !reflect.DeepEqual(got.Evidence, want) {
			t.Fatalf("evidence = %+v, want the first three in order", got.Evidence)
		}
	})

	t.Run("EvidenceCapRace", func(t *testing.T) {
		st := newStore(t)
		create(t, st, mk("c1", Epoch))
		const room = 10
		var ok int
		for _, err := range Race(Contenders, func(i int) error { return st.AddEvidence(ctx, "c1", ev(i), room) }) {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, agent.ErrEvidenceFull):
				t.Fatalf("racing AddEvidence: %v", err)
			}
		}
		got, _ := st.Case(ctx, "c1")
		if ok != room || len(got.Evidence) != room {
			t.Fatalf("%d of %d racing additions succeeded and the case holds %d, want %d", ok, Contenders, len(got.Evidence), room)
		}
	})

	t.Run("DeleteOnce", func(t *testing.T) {
		st := newStore(t)
		create(t, st, mk("c1", Epoch))
		failures := ExactlyOnce(t, Contenders, func(int) error { return st.DeleteCase(ctx, "c1") })
		for _, err := range failures {
			if !errors.Is(err, agent.ErrNotFound) {
				t.Fatalf("racing DeleteCase: %v, want ErrNotFound", err)
			}
		}
		if _, err := st.Case(ctx, "c1"); !errors.Is(err, agent.ErrNotFound) {
			t.Fatalf("Case after DeleteCase = %v, want ErrNotFound", err)
		}
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		st := newStore(t)
		create(t, st, mk("old", Epoch))                      // expires Epoch+30m
		create(t, st, mk("edge", Epoch.Add(10*time.Minute))) // expires Epoch+40m
		create(t, st, mk("new", Epoch.Add(20*time.Minute)))  // expires Epoch+50m
		// Stored cases are not expired by the store's own clock: only by the time given.
		if got, err := st.Case(ctx, "old"); err != nil || got.ID != "old" {
			t.Fatalf("Case(old) = %v, %v before any sweep", got.ID, err)
		}
		n, err := st.DeleteExpiredCases(ctx, Epoch.Add(40*time.Minute))
		if err != nil || n != 2 {
			t.Fatalf("DeleteExpiredCases = %d, %v; want 2 (expiring at or before the time given)", n, err)
		}
		for id, want := range map[string]error{"old": agent.ErrNotFound, "edge": agent.ErrNotFound, "new": nil} {
			if _, err := st.Case(ctx, id); !errors.Is(err, want) {
				t.Errorf("Case(%s) after the sweep = %v, want %v", id, err, want)
			}
		}
		if n, err := st.DeleteExpiredCases(ctx, Epoch.Add(40*time.Minute)); err != nil || n != 0 {
			t.Fatalf("second DeleteExpiredCases = %d, %v; want 0", n, err)
		}
	})
}
