package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/protection"
)

// The protection suites (TestProtectionFlags, TestProtectionHistory, TestProtectionPINs)
// differ from the others in one way: the protection store interfaces take every time
// they evaluate as an argument, so the factory's now function is a deliberately wrong
// clock (see protectionAdapterClock) and the suites move time only through those
// arguments.

// TestProtectionFlags checks a protection.FlagStore: enabling, scheduling, cancelling
// and completing disables, the sentinels, isolation between subscribers and that a due
// disable is completed exactly once under contention. If the store also implements
// protection.DueDisables, that is checked too.
func TestProtectionFlags(t *testing.T, newStore func(t *testing.T, now func() time.Time) protection.FlagStore) {
	ctx := context.Background()
	never, port := protection.NeverSIMSwap, protection.NoPortOut

	t.Run("empty", func(t *testing.T) {
		s := newStore(t, protectionAdapterClock)
		got, err := s.Flags(ctx, "alice")
		if err != nil || len(got) != 0 {
			t.Fatalf("Flags of a new subscriber = %v, %v; want none, nil", got, err)
		}
	})

	t.Run("enable reports the state it replaced", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		if prev := protectionEnable(t, s, "alice", never, clk.Now()); prev.On || prev.Pending() {
			t.Fatalf("first enable: previous state %+v, want off", prev)
		}
		if prev := protectionEnable(t, s, "alice", never, clk.Now()); !prev.On || prev.Pending() || !prev.Since.Equal(Epoch) {
			t.Fatalf("second enable: previous state %+v, want on since %v", prev, Epoch)
		}
		due := clk.Now().Add(time.Hour)
		protectionNoErr(t, s.ScheduleDisable(ctx, "alice", never, clk.Now(), due))
		if prev := protectionEnable(t, s, "alice", never, clk.Now()); !prev.On || !prev.DisableAt.Equal(due) {
			t.Fatalf("enable with a pending disable: previous state %+v, want on with the disable due %v", prev, due)
		}
	})

	t.Run("enable is idempotent and isolated", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		protectionEnable(t, s, "alice", never, clk.Now())
		clk.Advance(time.Hour)
		protectionEnable(t, s, "alice", never, clk.Now())
		protectionEnable(t, s, "alice", port, clk.Now())
		got, err := s.Flags(ctx, "alice")
		protectionNoErr(t, err)
		if len(got) != 2 {
			t.Fatalf("got %d flags, want 2: %+v", len(got), got)
		}
		for _, st := range got {
			if !st.On || st.Pending() {
				t.Errorf("flag %s: On=%v Pending=%v, want on and not pending", st.Flag, st.On, st.Pending())
			}
			if st.Flag == never && !st.Since.Equal(Epoch) {
				t.Errorf("re-enabling changed Since to %v, want %v", st.Since, Epoch)
			}
		}
		if other, err := s.Flags(ctx, "bob"); err != nil || len(other) != 0 {
			t.Fatalf("bob sees %v, %v", other, err)
		}
	})

	t.Run("schedule, cancel, complete", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		if err := s.ScheduleDisable(ctx, "alice", never, clk.Now(), clk.Now().Add(time.Hour)); !errors.Is(err, protection.ErrFlagOff) {
			t.Fatalf("ScheduleDisable of an off flag = %v, want ErrFlagOff", err)
		}
		if err := s.CancelDisable(ctx, "alice", never); !errors.Is(err, protection.ErrNotFound) {
			t.Fatalf("CancelDisable with none pending = %v, want ErrNotFound", err)
		}
		protectionEnable(t, s, "alice", never, clk.Now())
		due := clk.Now().Add(24 * time.Hour)
		protectionNoErr(t, s.ScheduleDisable(ctx, "alice", never, clk.Now(), due))
		if err := s.ScheduleDisable(ctx, "alice", never, clk.Now(), due); !errors.Is(err, protection.ErrDisablePending) {
			t.Fatalf("second ScheduleDisable = %v, want ErrDisablePending", err)
		}
		got, err := s.Flags(ctx, "alice")
		protectionNoErr(t, err)
		if len(got) != 1 || !got[0].On || !got[0].DisableAt.Equal(due) || !got[0].DisableRequestedAt.Equal(Epoch) {
			t.Fatalf("pending state = %+v", got)
		}
		if done, err := s.CompleteDisable(ctx, "alice", never, due.Add(-time.Second)); err != nil || done {
			t.Fatalf("CompleteDisable before due = %v, %v; want false", done, err)
		}
		protectionNoErr(t, s.CancelDisable(ctx, "alice", never))
		if done, err := s.CompleteDisable(ctx, "alice", never, due); err != nil || done {
			t.Fatalf("CompleteDisable after cancel = %v, %v; want false", done, err)
		}
		protectionNoErr(t, s.ScheduleDisable(ctx, "alice", never, clk.Now(), due))
		protectionEnable(t, s, "alice", never, clk.Now())
		got, _ = s.Flags(ctx, "alice")
		if len(got) != 1 || got[0].Pending() {
			t.Fatalf("EnableFlag did not cancel the pending disable: %+v", got)
		}
		protectionNoErr(t, s.ScheduleDisable(ctx, "alice", never, clk.Now(), due))
		if done, err := s.CompleteDisable(ctx, "alice", never, due); err != nil || !done {
			t.Fatalf("CompleteDisable when due = %v, %v; want true", done, err)
		}
		got, _ = s.Flags(ctx, "alice")
		for _, st := range got {
			if st.Flag == never && st.On {
				t.Fatalf("flag still on after CompleteDisable: %+v", got)
			}
		}
	})

	t.Run("complete exactly once", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		protectionEnable(t, s, "alice", never, clk.Now())
		protectionNoErr(t, s.ScheduleDisable(ctx, "alice", never, clk.Now(), clk.Now()))
		ExactlyOnce(t, Contenders, func(int) error {
			done, err := s.CompleteDisable(ctx, "alice", never, clk.Now())
			if err != nil {
				return err
			}
			if !done {
				return errors.New("not done")
			}
			return nil
		})
	})

	t.Run("due disables", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		lister, ok := s.(protection.DueDisables)
		if !ok {
			t.Skip("store does not implement protection.DueDisables")
		}
		for i, sub := range []string{"a", "b", "c"} {
			protectionEnable(t, s, sub, never, clk.Now())
			protectionNoErr(t, s.ScheduleDisable(ctx, sub, never, clk.Now(), clk.Now().Add(time.Duration(i+1)*time.Hour)))
		}
		got, err := lister.DueDisables(ctx, clk.Now().Add(2*time.Hour), 10)
		protectionNoErr(t, err)
		if len(got) != 2 || got[0].Subscriber != "a" || got[1].Subscriber != "b" || got[0].Flag != never {
			t.Fatalf("DueDisables = %+v, want a then b", got)
		}
		if got, _ := lister.DueDisables(ctx, clk.Now().Add(3*time.Hour), 1); len(got) != 1 {
			t.Fatalf("limit ignored: %d results", len(got))
		}
	})
}

// TestProtectionHistory checks a protection.HistoryStore: appending, that every append is
// a compare-and-set on the request's state (a SIM change is completed exactly once by 64
// concurrent callers, a held approval cannot be completed early), the latest record
// of a request, the last completed change of a number (whatever its kind), listing by
// number and time, isolation between numbers, and purging.
func TestProtectionHistory(t *testing.T, newStore func(t *testing.T, now func() time.Time) protection.HistoryStore) {
	ctx := context.Background()
	const num, other = "+15551234567", "+447700900123"
	rec := func(id, number string, kind protection.ChangeKind, st protection.ChangeStatus, at time.Time) protection.SIMChange {
		return protection.SIMChange{RequestID: id, Subscriber: "alice", Number: number, Kind: kind, Status: st, Time: at,
			Channel: protection.ChannelApp, Evidence: protection.Kinds(protection.EvidenceSession, protection.EvidenceContactCode)}
	}

	t.Run("misses", func(t *testing.T) {
		s := newStore(t, protectionAdapterClock)
		if _, err := s.LatestForRequest(ctx, "nope"); !errors.Is(err, protection.ErrNotFound) {
			t.Errorf("LatestForRequest miss = %v, want ErrNotFound", err)
		}
		if _, err := s.LastCompleted(ctx, num); !errors.Is(err, protection.ErrNotFound) {
			t.Errorf("LastCompleted miss = %v, want ErrNotFound", err)
		}
		if got, err := s.SIMChanges(ctx, num, Epoch.Add(-time.Hour)); err != nil || len(got) != 0 {
			t.Errorf("SIMChanges of an unknown number = %v, %v", got, err)
		}
	})

	t.Run("records and queries", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		t0 := clk.Now()
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("r1", num, protection.ChangeSIMSwap, protection.StatusRequested, t0), 0))
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("r1", num, protection.ChangeSIMSwap, protection.StatusApproved, t0.Add(time.Minute)), protection.StatusRequested))
		if _, err := s.LastCompleted(ctx, num); !errors.Is(err, protection.ErrNotFound) {
			t.Errorf("an approved change counts as completed: %v", err)
		}
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("r1", num, protection.ChangeSIMSwap, protection.StatusCompleted, t0.Add(2*time.Minute)), protection.StatusApproved))
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("r2", num, protection.ChangePortIn, protection.StatusCompleted, t0.Add(time.Hour)), 0))
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("r3", other, protection.ChangeESIMTransfer, protection.StatusCompleted, t0.Add(2*time.Hour)), 0))

		latest, err := s.LatestForRequest(ctx, "r1")
		protectionNoErr(t, err)
		if latest.Status != protection.StatusCompleted || latest.Evidence != rec("", "", 0, 0, t0).Evidence || latest.Channel != protection.ChannelApp {
			t.Errorf("LatestForRequest(r1) = %+v, want the completed record with its evidence", latest)
		}
		last, err := s.LastCompleted(ctx, num)
		protectionNoErr(t, err)
		if last.RequestID != "r2" || !last.Time.Equal(t0.Add(time.Hour)) {
			t.Errorf("LastCompleted = %+v, want the port-in r2 (a different number's change must not count)", last)
		}
		all, err := s.SIMChanges(ctx, num, t0)
		protectionNoErr(t, err)
		if len(all) != 4 {
			t.Fatalf("SIMChanges = %d records, want 4", len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i].Time.Before(all[i-1].Time) {
				t.Fatalf("SIMChanges not oldest first: %v", all)
			}
		}
		if recent, _ := s.SIMChanges(ctx, num, t0.Add(30*time.Minute)); len(recent) != 1 {
			t.Errorf("SIMChanges since t0+30m = %d records, want 1", len(recent))
		}
	})

	t.Run("appends are compare-and-set on the request state", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		t0 := clk.Now()
		r := func(st protection.ChangeStatus, at time.Time) protection.SIMChange {
			return rec("r1", num, protection.ChangeSIMSwap, st, at)
		}
		if err := s.AppendSIMChange(ctx, r(protection.StatusApproved, t0), protection.StatusRequested); !errors.Is(err, protection.ErrNotFound) {
			t.Errorf("append after a state of an unknown request = %v, want ErrNotFound", err)
		}
		protectionNoErr(t, s.AppendSIMChange(ctx, r(protection.StatusRequested, t0), 0))
		if err := s.AppendSIMChange(ctx, r(protection.StatusRequested, t0), 0); !errors.Is(err, protection.ErrConflict) {
			t.Errorf("second new request with the same ID = %v, want ErrConflict", err)
		}
		if err := s.AppendSIMChange(ctx, r(protection.StatusCompleted, t0), protection.StatusApproved); !errors.Is(err, protection.ErrConflict) {
			t.Errorf("completing a request that is only requested = %v, want ErrConflict", err)
		}
		protectionNoErr(t, s.AppendSIMChange(ctx, r(protection.StatusApproving, t0), protection.StatusRequested))
		if latest, err := s.LatestForRequest(ctx, "r1"); err != nil || latest.Status != protection.StatusApproving {
			t.Fatalf("after appending an approving record, latest = %+v, %v", latest, err)
		}
		if err := s.AppendSIMChange(ctx, r(protection.StatusCompleted, t0), protection.StatusApproved); !errors.Is(err, protection.ErrConflict) {
			t.Errorf("completing a request whose approval is not yet announced = %v, want ErrConflict", err)
		}
		held := r(protection.StatusApproved, t0.Add(time.Minute))
		held.Outcome, held.HoldUntil = protection.Hold, t0.Add(time.Hour)
		protectionNoErr(t, s.AppendSIMChange(ctx, held, protection.StatusApproving))
		if err := s.AppendSIMChange(ctx, r(protection.StatusCompleted, held.HoldUntil.Add(-time.Nanosecond)), protection.StatusApproved); !errors.Is(err, protection.ErrHeld) {
			t.Errorf("completing before the hold ends = %v, want ErrHeld", err)
		}
		if latest, err := s.LatestForRequest(ctx, "r1"); err != nil || latest.Status != protection.StatusApproved {
			t.Fatalf("a refused append changed the request: %+v, %v", latest, err)
		}
		protectionNoErr(t, s.AppendSIMChange(ctx, r(protection.StatusCompleted, held.HoldUntil), protection.StatusApproved))
		if err := s.AppendSIMChange(ctx, r(protection.StatusCompleted, held.HoldUntil), protection.StatusApproved); !errors.Is(err, protection.ErrConflict) {
			t.Errorf("completing twice = %v, want ErrConflict", err)
		}
	})

	t.Run("complete exactly once", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		t0 := clk.Now()
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("r1", num, protection.ChangeSIMSwap, protection.StatusRequested, t0), 0))
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("r1", num, protection.ChangeSIMSwap, protection.StatusApproved, t0), protection.StatusRequested))
		for _, err := range ExactlyOnce(t, Contenders, func(int) error {
			return s.AppendSIMChange(ctx, rec("r1", num, protection.ChangeSIMSwap, protection.StatusCompleted, t0.Add(time.Minute)), protection.StatusApproved)
		}) {
			if !errors.Is(err, protection.ErrConflict) {
				t.Fatalf("losing completer got %v, want ErrConflict", err)
			}
		}
		all, err := s.SIMChanges(ctx, num, t0)
		protectionNoErr(t, err)
		completed := 0
		for _, r := range all {
			if r.Status == protection.StatusCompleted {
				completed++
			}
		}
		if completed != 1 {
			t.Fatalf("%d completed records, want 1", completed)
		}
	})

	t.Run("expiry and hold are checked on completion only", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		t0 := clk.Now()
		for _, id := range []string{"expired", "cancel", "deny", "lapse"} {
			r := rec(id, num, protection.ChangeSIMSwap, protection.StatusRequested, t0)
			protectionNoErr(t, s.AppendSIMChange(ctx, r, 0))
			r.Status, r.HoldUntil, r.ExpiresAt = protection.StatusApproved, t0.Add(time.Hour), t0.Add(2*time.Hour)
			protectionNoErr(t, s.AppendSIMChange(ctx, r, protection.StatusRequested))
		}
		if err := s.AppendSIMChange(ctx, rec("expired", num, protection.ChangeSIMSwap, protection.StatusCompleted, t0.Add(2*time.Hour)), protection.StatusApproved); !errors.Is(err, protection.ErrApprovalExpired) {
			t.Errorf("completing at ExpiresAt = %v, want ErrApprovalExpired", err)
		}
		if latest, err := s.LatestForRequest(ctx, "expired"); err != nil || latest.Status != protection.StatusApproved {
			t.Fatalf("a refused completion changed the request: %+v, %v", latest, err)
		}
		// Cancelling and denying during the hold, and recording the expiry, are not completions.
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("cancel", num, protection.ChangeSIMSwap, protection.StatusCancelled, t0.Add(time.Minute)), protection.StatusApproved))
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("deny", num, protection.ChangeSIMSwap, protection.StatusDenied, t0.Add(time.Minute)), protection.StatusApproved))
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("lapse", num, protection.ChangeSIMSwap, protection.StatusExpired, t0.Add(3*time.Hour)), protection.StatusApproved))
		if err := s.AppendSIMChange(ctx, rec("cancel", num, protection.ChangeSIMSwap, protection.StatusCompleted, t0.Add(90*time.Minute)), protection.StatusApproved); !errors.Is(err, protection.ErrConflict) {
			t.Errorf("completing a cancelled request = %v, want ErrConflict", err)
		}
	})

	t.Run("keeps what re-deciding needs", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		t0 := clk.Now()
		r := rec("r1", num, protection.ChangePortOut, protection.StatusApproved, t0)
		r.Outcome, r.Risk, r.DecidedAt = protection.Hold, protection.RiskMedium, t0.Add(-time.Second)
		r.HoldUntil, r.ExpiresAt = t0.Add(time.Hour), t0.Add(2*time.Hour)
		r.Given = []protection.Evidence{
			{Kind: protection.EvidenceContactCode, ObtainedAt: t0.Add(-time.Minute), Contact: protection.ContactSMS,
				Destination: num, SIM: protection.SIMStatusStable, Purpose: "sim_swap", FactorAddedAt: t0.Add(-30 * 24 * time.Hour)},
			{Kind: protection.EvidenceSession, ObtainedAt: t0.Add(-time.Hour)},
		}
		r.CancelHash = bytes.Repeat([]byte{9}, 32)
		protectionNoErr(t, s.AppendSIMChange(ctx, r, 0))
		r.Given[0].Destination, r.CancelHash[0] = "changed", 0 // the store must have kept its own copy
		got, err := s.LatestForRequest(ctx, "r1")
		protectionNoErr(t, err)
		want := rec("r1", num, protection.ChangePortOut, protection.StatusApproved, t0)
		if got.Risk != protection.RiskMedium || !got.DecidedAt.Equal(t0.Add(-time.Second)) || !got.HoldUntil.Equal(t0.Add(time.Hour)) ||
			!got.ExpiresAt.Equal(t0.Add(2*time.Hour)) || got.Outcome != protection.Hold || got.Evidence != want.Evidence {
			t.Errorf("LatestForRequest = %+v: lost a decision field", got)
		}
		if len(got.Given) != 2 || got.Given[0].Destination != num || got.Given[0].Purpose != "sim_swap" || got.Given[0].SIM != protection.SIMStatusStable ||
			got.Given[0].Contact != protection.ContactSMS || !got.Given[0].FactorAddedAt.Equal(t0.Add(-30*24*time.Hour)) ||
			!got.Given[1].ObtainedAt.Equal(t0.Add(-time.Hour)) {
			t.Errorf("Given = %+v, want the evidence as appended", got.Given)
		}
		if !bytes.Equal(got.CancelHash, bytes.Repeat([]byte{9}, 32)) {
			t.Errorf("CancelHash = %x", got.CancelHash)
		}
		rej := rec("p1", other, protection.ChangePortOut, protection.StatusRejected, t0)
		rej.Subscriber, rej.Rejection, rej.Channel = "", protection.RejectNoPIN, protection.ChannelPartner
		protectionNoErr(t, s.AppendSIMChange(ctx, rej, 0))
		if got, err := s.LatestForRequest(ctx, "p1"); err != nil || got.Rejection != protection.RejectNoPIN || got.Status != protection.StatusRejected {
			t.Errorf("rejected record = %+v, %v", got, err)
		}
	})

	t.Run("open requests by subscriber", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		t0 := clk.Now()
		step := func(id, sub string, st, prev protection.ChangeStatus) {
			t.Helper()
			r := rec(id, num, protection.ChangeSIMSwap, st, t0)
			r.Subscriber = sub
			protectionNoErr(t, s.AppendSIMChange(ctx, r, prev))
		}
		open := func(sub string, want ...string) {
			t.Helper()
			got, err := s.OpenSIMChanges(ctx, sub)
			protectionNoErr(t, err)
			var ids []string
			for _, r := range got {
				if r.Subscriber != sub || r.Status != protection.StatusApproved {
					t.Errorf("OpenSIMChanges(%s) returned %+v", sub, r)
				}
				ids = append(ids, r.RequestID)
			}
			slices.Sort(ids)
			if !slices.Equal(ids, want) {
				t.Errorf("OpenSIMChanges(%s) = %v, want %v", sub, ids, want)
			}
		}
		open("alice")
		for _, id := range []string{"a1", "a2", "a3", "a4"} {
			step(id, "alice", protection.StatusRequested, 0)
		}
		step("b1", "bob", protection.StatusRequested, 0)
		step("a1", "alice", protection.StatusApproved, protection.StatusRequested)
		step("a2", "alice", protection.StatusApproved, protection.StatusRequested)
		step("a3", "alice", protection.StatusApproved, protection.StatusRequested)
		step("a4", "alice", protection.StatusPending, protection.StatusRequested)
		step("b1", "bob", protection.StatusApproved, protection.StatusRequested)
		open("alice", "a1", "a2", "a3")
		step("a1", "alice", protection.StatusCompleted, protection.StatusApproved)
		step("a2", "alice", protection.StatusCancelled, protection.StatusApproved)
		open("alice", "a3")
		open("bob", "b1")
		step("a3", "alice", protection.StatusExpired, protection.StatusApproved)
		open("alice")
	})

	t.Run("due holds", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		lister, ok := s.(protection.DueHolds)
		if !ok {
			t.Skip("the store does not implement protection.DueHolds")
		}
		t0 := clk.Now()
		approved := func(id string, holdUntil time.Time) {
			t.Helper()
			r := rec(id, num, protection.ChangeSIMSwap, protection.StatusRequested, t0)
			protectionNoErr(t, s.AppendSIMChange(ctx, r, 0))
			r.Status, r.HoldUntil, r.ExpiresAt = protection.StatusApproved, holdUntil, t0.Add(48*time.Hour)
			protectionNoErr(t, s.AppendSIMChange(ctx, r, protection.StatusRequested))
		}
		approved("late", t0.Add(2*time.Hour))
		approved("early", t0.Add(time.Hour))
		approved("unheld", time.Time{})
		approved("cancelled", t0.Add(time.Hour))
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("cancelled", num, protection.ChangeSIMSwap, protection.StatusCancelled, t0), protection.StatusApproved))
		ids := func(now time.Time, limit int) []string {
			t.Helper()
			got, err := lister.DueHolds(ctx, now, limit)
			protectionNoErr(t, err)
			var out []string
			for _, r := range got {
				out = append(out, r.RequestID)
			}
			return out
		}
		if got := ids(t0.Add(time.Hour-time.Nanosecond), 10); len(got) != 0 {
			t.Errorf("DueHolds before any hold ends = %v", got)
		}
		if got := ids(t0.Add(time.Hour), 10); !slices.Equal(got, []string{"early"}) {
			t.Errorf("DueHolds at the first hold's end = %v, want [early]", got)
		}
		if got := ids(t0.Add(3*time.Hour), 10); !slices.Equal(got, []string{"early", "late"}) {
			t.Errorf("DueHolds later = %v, want [early late] (oldest hold first, not cancelled, not unheld)", got)
		}
		if got := ids(t0.Add(3*time.Hour), 1); !slices.Equal(got, []string{"early"}) {
			t.Errorf("DueHolds with limit 1 = %v, want [early]", got)
		}
	})

	t.Run("cancel and complete race: exactly one wins", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		t0 := clk.Now()
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("r1", num, protection.ChangeSIMSwap, protection.StatusRequested, t0), 0))
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("r1", num, protection.ChangeSIMSwap, protection.StatusApproved, t0), protection.StatusRequested))
		ExactlyOnce(t, Contenders, func(i int) error {
			st := protection.StatusCompleted
			if i%2 == 0 {
				st = protection.StatusCancelled
			}
			return s.AppendSIMChange(ctx, rec("r1", num, protection.ChangeSIMSwap, st, t0.Add(time.Minute)), protection.StatusApproved)
		})
		all, err := s.SIMChanges(ctx, num, t0)
		protectionNoErr(t, err)
		if len(all) != 3 {
			t.Fatalf("%d records after the race, want 3 (requested, approved, and one final)", len(all))
		}
	})

	t.Run("many requests, appended out of time order", func(t *testing.T) {
		// A store that indexes its history (rather than scanning it) must keep each
		// request's latest record, each number's last completed change and the
		// time order of the listing right when records do not arrive in time order,
		// across numbers, and across a purge.
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		t0 := clk.Now()
		const n = 50
		for i := range n {
			id, at := fmt.Sprintf("m%02d", i), t0.Add(time.Duration((i*7)%n)*time.Hour) // a permutation of hours
			number := num
			if i%2 == 1 {
				number = other
			}
			protectionNoErr(t, s.AppendSIMChange(ctx, rec(id, number, protection.ChangeSIMSwap, protection.StatusRequested, at), 0))
			protectionNoErr(t, s.AppendSIMChange(ctx, rec(id, number, protection.ChangeSIMSwap, protection.StatusCompleted, at.Add(time.Minute)), protection.StatusRequested))
		}
		check := func(stage string, from int) {
			t.Helper()
			for i := range n {
				id := fmt.Sprintf("m%02d", i)
				latest, err := s.LatestForRequest(ctx, id)
				if (i*7)%n < from {
					if !errors.Is(err, protection.ErrNotFound) {
						t.Errorf("%s: LatestForRequest(%s) of a purged request = %+v, %v", stage, id, latest, err)
					}
					continue
				}
				if err != nil || latest.RequestID != id || latest.Status != protection.StatusCompleted {
					t.Errorf("%s: LatestForRequest(%s) = %+v, %v, want its completed record", stage, id, latest, err)
				}
			}
			for _, number := range []string{num, other} {
				last, err := s.LastCompleted(ctx, number)
				protectionNoErr(t, err)
				if last.Number != number || !last.Time.Equal(t0.Add(time.Duration(n-2)*time.Hour+time.Minute)) && !last.Time.Equal(t0.Add(time.Duration(n-1)*time.Hour+time.Minute)) {
					t.Errorf("%s: LastCompleted(%s) = %+v, want the newest by time, not the last appended", stage, number, last)
				}
				all, err := s.SIMChanges(ctx, number, t0.Add(time.Duration(from)*time.Hour))
				protectionNoErr(t, err)
				if want := n - from; len(all) != want { // half the requests, two records each
					t.Errorf("%s: SIMChanges(%s) = %d records, want %d", stage, number, len(all), want)
				}
				for i := 1; i < len(all); i++ {
					if all[i].Time.Before(all[i-1].Time) || all[i].Number != number {
						t.Fatalf("%s: SIMChanges(%s) not this number's records oldest first: %v", stage, number, all)
					}
				}
			}
		}
		check("before purge", 0)
		purged, err := s.PurgeSIMChanges(ctx, t0.Add(10*time.Hour))
		protectionNoErr(t, err)
		if purged != 20 {
			t.Errorf("purged %d records, want 20", purged)
		}
		check("after purge", 10)
	})

	t.Run("purge", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		t0 := clk.Now()
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("old", num, protection.ChangeSIMSwap, protection.StatusCompleted, t0), 0))
		protectionNoErr(t, s.AppendSIMChange(ctx, rec("new", num, protection.ChangeSIMSwap, protection.StatusCompleted, t0.Add(48*time.Hour)), 0))
		n, err := s.PurgeSIMChanges(ctx, t0.Add(24*time.Hour))
		protectionNoErr(t, err)
		if n != 1 {
			t.Fatalf("purged %d, want 1", n)
		}
		if _, err := s.LatestForRequest(ctx, "old"); !errors.Is(err, protection.ErrNotFound) {
			t.Errorf("purged record still there: %v", err)
		}
		if _, err := s.LatestForRequest(ctx, "new"); err != nil {
			t.Errorf("kept record gone: %v", err)
		}
	})
}

// TestProtectionPINs checks a protection.PINStore: single use under contention, expiry,
// failure counting and the lockout (which destroys the live PIN), that a new PIN
// inherits the failure count and the lockout, revocation, and isolation between
// subscribers.
func TestProtectionPINs(t *testing.T, newStore func(t *testing.T, now func() time.Time) protection.PINStore) {
	ctx := context.Background()
	limits := protection.PINLimits{MaxFailures: 3, Lockout: time.Hour}
	good, bad := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	pin := func(sub string, hash []byte, at time.Time) protection.TransferPIN {
		return protection.TransferPIN{Subscriber: sub, Hash: hash, IssuedAt: at, ExpiresAt: at.Add(7 * 24 * time.Hour)}
	}
	put := func(t *testing.T, s protection.PINStore, p protection.TransferPIN) protection.TransferPIN {
		t.Helper()
		got, err := s.PutPIN(ctx, p)
		protectionNoErr(t, err)
		return got
	}
	consume := func(t *testing.T, s protection.PINStore, sub string, hash []byte, now time.Time, want error) protection.TransferPIN {
		t.Helper()
		st, err := s.ConsumePIN(ctx, sub, hash, now, limits)
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Fatalf("ConsumePIN = %v, want %v", err, want)
		}
		if st.Hash != nil {
			t.Fatalf("ConsumePIN returned the PIN hash")
		}
		return st
	}

	t.Run("miss", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		consume(t, s, "alice", good, clk.Now(), protection.ErrNotFound)
		if live, err := s.RevokePIN(ctx, "alice", clk.Now()); err != nil || live {
			t.Fatalf("RevokePIN with none = %v, %v; want false, nil", live, err)
		}
	})

	t.Run("check does not consume, but counts", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		if _, err := s.CheckPIN(ctx, "alice", good, clk.Now(), limits); !errors.Is(err, protection.ErrNotFound) {
			t.Fatalf("CheckPIN with none = %v, want ErrNotFound", err)
		}
		put(t, s, pin("alice", good, clk.Now()))
		for range 3 {
			if _, err := s.CheckPIN(ctx, "alice", good, clk.Now(), limits); err != nil {
				t.Fatalf("CheckPIN of the right PIN = %v", err)
			}
		}
		st, err := s.CheckPIN(ctx, "alice", bad, clk.Now(), limits)
		if !errors.Is(err, protection.ErrPINMismatch) || st.Failures != 1 || st.Hash != nil {
			t.Fatalf("CheckPIN of a wrong PIN = %+v, %v; want a counted mismatch", st, err)
		}
		if st, err = s.CheckPIN(ctx, "alice", good, clk.Now(), limits); err != nil {
			t.Fatalf("CheckPIN of the right PIN after a miss = %+v, %v", st, err)
		}
		consume(t, s, "alice", good, clk.Now(), nil)
		consume(t, s, "alice", good, clk.Now(), protection.ErrNotFound)

		// Wrong checks lock like wrong consumes.
		put(t, s, pin("bob", good, clk.Now()))
		for i := range limits.MaxFailures {
			st, err := s.CheckPIN(ctx, "bob", bad, clk.Now(), limits)
			if !errors.Is(err, protection.ErrPINMismatch) || (i == limits.MaxFailures-1) != clk.Now().Before(st.LockedUntil) {
				t.Fatalf("wrong check %d = %+v, %v", i, st, err)
			}
		}
		if _, err := s.CheckPIN(ctx, "bob", good, clk.Now(), limits); !errors.Is(err, protection.ErrPINLocked) {
			t.Fatalf("CheckPIN while locked = %v, want ErrPINLocked", err)
		}
	})

	t.Run("single use under contention", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		put(t, s, pin("alice", good, clk.Now()))
		for _, err := range ExactlyOnce(t, Contenders, func(int) error {
			_, err := s.ConsumePIN(ctx, "alice", good, clk.Now(), limits)
			return err
		}) {
			if !errors.Is(err, protection.ErrNotFound) {
				t.Fatalf("losing consumer got %v, want ErrNotFound", err)
			}
		}
	})

	t.Run("isolation", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		put(t, s, pin("alice", good, clk.Now()))
		consume(t, s, "bob", good, clk.Now(), protection.ErrNotFound)
		for range limits.MaxFailures {
			consume(t, s, "bob", bad, clk.Now(), protection.ErrNotFound)
		}
		consume(t, s, "alice", good, clk.Now(), nil)
	})

	t.Run("expiry", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		put(t, s, pin("alice", good, clk.Now()))
		consume(t, s, "alice", good, clk.Now().Add(7*24*time.Hour), protection.ErrNotFound)
	})

	t.Run("revoke", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		put(t, s, pin("alice", good, clk.Now()))
		consume(t, s, "alice", bad, clk.Now(), protection.ErrPINMismatch)
		if live, err := s.RevokePIN(ctx, "alice", clk.Now()); err != nil || !live {
			t.Fatalf("RevokePIN = %v, %v; want true, nil", live, err)
		}
		consume(t, s, "alice", good, clk.Now(), protection.ErrNotFound)
		if got := put(t, s, pin("alice", good, clk.Now())); got.Failures != 1 {
			t.Fatalf("revoking reset the failure count: %d, want 1", got.Failures)
		}
	})

	t.Run("lockout destroys the PIN; a new one inherits the count and the lockout", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		put(t, s, pin("alice", good, clk.Now()))
		for i := 1; i < limits.MaxFailures; i++ {
			if st := consume(t, s, "alice", bad, clk.Now(), protection.ErrPINMismatch); st.Failures != i || !st.LockedUntil.IsZero() {
				t.Fatalf("after %d wrong PINs: %+v", i, st)
			}
		}
		// Re-issuing keeps the count.
		if got := put(t, s, pin("alice", good, clk.Now())); got.Failures != limits.MaxFailures-1 {
			t.Fatalf("re-issue: Failures = %d, want %d", got.Failures, limits.MaxFailures-1)
		}
		st := consume(t, s, "alice", bad, clk.Now(), protection.ErrPINMismatch)
		lockedUntil := clk.Now().Add(limits.Lockout)
		if !st.LockedUntil.Equal(lockedUntil) || st.Failures != limits.MaxFailures {
			t.Fatalf("the %dth wrong PIN: %+v, want locked until %v", limits.MaxFailures, st, lockedUntil)
		}
		consume(t, s, "alice", good, clk.Now(), protection.ErrPINLocked)
		// A new PIN can be issued during the lockout but does not work before it ends.
		clk.Advance(time.Minute)
		got := put(t, s, pin("alice", good, clk.Now()))
		if got.Failures != limits.MaxFailures || !got.LockedUntil.Equal(lockedUntil) {
			t.Fatalf("re-issue while locked: %+v, want the count and the lockout kept", got)
		}
		consume(t, s, "alice", good, lockedUntil.Add(-time.Nanosecond), protection.ErrPINLocked)
		// After the lockout the old PIN was destroyed: only the new one works...
		consume(t, s, "alice", good, lockedUntil, nil)
		// ...and a correct PIN ends the run of failures.
		if got := put(t, s, pin("alice", good, lockedUntil)); got.Failures != 0 || !got.LockedUntil.IsZero() {
			t.Fatalf("after a correct PIN: %+v, want a clean record", got)
		}
	})

	t.Run("the lockout destroys the guessed PIN", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		put(t, s, pin("alice", good, clk.Now()))
		for range limits.MaxFailures {
			consume(t, s, "alice", bad, clk.Now(), protection.ErrPINMismatch)
		}
		consume(t, s, "alice", good, clk.Now().Add(limits.Lockout), protection.ErrNotFound)
		// The next run of failures locks again.
		put(t, s, pin("alice", good, clk.Now().Add(limits.Lockout)))
		for i := range limits.MaxFailures {
			st := consume(t, s, "alice", bad, clk.Now().Add(limits.Lockout), protection.ErrPINMismatch)
			if st.Failures != limits.MaxFailures+i+1 {
				t.Fatalf("Failures = %d, want %d", st.Failures, limits.MaxFailures+i+1)
			}
		}
		consume(t, s, "alice", good, clk.Now().Add(limits.Lockout), protection.ErrPINLocked)
	})
}

func protectionEnable(t *testing.T, s protection.FlagStore, sub string, flag protection.Flags, at time.Time) protection.FlagState {
	t.Helper()
	prev, err := s.EnableFlag(context.Background(), sub, flag, at)
	protectionNoErr(t, err)
	return prev
}

// protectionAdapterClock is the clock the protection suites hand to adapters. Every
// protection store method that depends on the time takes it as an argument (the
// service's clock is the only one, so a decision and the store never disagree about
// whether something is due or expired), and an adapter must use that argument, never a
// clock of its own or its database's. This clock reads ten years before the times the
// suites pass in, so an adapter that consults it fails the expiry, lockout and
// cooling-off checks instead of passing by accident.
func protectionAdapterClock() time.Time { return Epoch.AddDate(-10, 0, 0) }

func protectionNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// TestProtectionProbes checks a protection.ProbeStore: the limit per partner and window,
// that old probes are forgotten, removal by ID, isolation between partners, and that
// Contenders goroutines racing past the limit record exactly the limit.
func TestProtectionProbes(t *testing.T, newStore func(t *testing.T, now func() time.Time) protection.ProbeStore) {
	ctx := context.Background()
	add := func(t *testing.T, s protection.ProbeStore, partner, id string, at, since time.Time, limit int, want bool) {
		t.Helper()
		got, err := s.AddProbe(ctx, protection.Probe{Partner: partner, ID: id, At: at}, since, limit)
		protectionNoErr(t, err)
		if got != want {
			t.Fatalf("AddProbe(%s, %s) = %v, want %v", partner, id, got, want)
		}
	}

	t.Run("limit, window, removal, isolation", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		t0 := clk.Now()
		for i := range 3 {
			add(t, s, "acme", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute), t0.Add(-time.Hour), 3, true)
		}
		add(t, s, "acme", "x", t0.Add(5*time.Minute), t0.Add(-time.Hour), 3, false)
		add(t, s, "other", "y", t0.Add(5*time.Minute), t0.Add(-time.Hour), 3, true)
		protectionNoErr(t, s.RemoveProbe(ctx, "acme", "1"))
		protectionNoErr(t, s.RemoveProbe(ctx, "acme", "missing"))
		add(t, s, "acme", "3", t0.Add(6*time.Minute), t0.Add(-time.Hour), 3, true)
		add(t, s, "acme", "4", t0.Add(6*time.Minute), t0.Add(-time.Hour), 3, false)
		// Probe 0 (at t0) falls out of the window; probes 2 and 3 stay.
		add(t, s, "acme", "5", t0.Add(61*time.Minute), t0.Add(time.Minute), 3, true)
		add(t, s, "acme", "6", t0.Add(61*time.Minute), t0.Add(time.Minute), 3, false)
	})

	t.Run("racing past the limit", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, protectionAdapterClock)
		const limit = 10
		var recorded atomic.Int32
		for _, err := range Race(Contenders, func(i int) error {
			ok, err := s.AddProbe(ctx, protection.Probe{Partner: "acme", ID: fmt.Sprint(i), At: clk.Now()}, clk.Now().Add(-time.Hour), limit)
			if ok {
				recorded.Add(1)
			}
			return err
		}) {
			protectionNoErr(t, err)
		}
		if n := recorded.Load(); n != limit {
			t.Fatalf("%d of %d concurrent probes recorded, want the limit %d", n, Contenders, limit)
		}
	})
}
