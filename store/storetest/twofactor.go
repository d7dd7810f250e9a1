package storetest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/twofactor"
)

func tfContact(subscriber, id string, kind twofactor.Kind, value string) twofactor.Contact {
	return twofactor.Contact{ID: id, Subscriber: subscriber, Kind: kind, Value: value, CreatedAt: Epoch}
}

func tfNoErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestTwoFactorContacts checks a twofactor.ContactStore: the zero state of an unknown
// subscriber, adding with the duplicate and limit checks, verification, removal with
// the last-verified-contact rule and the pending-only check (also against a racing
// verification), the 2FA switch, isolation between subscribers, and
// that Contenders concurrent adds never exceed the limit.
func TestTwoFactorContacts(t *testing.T, newStore func(t *testing.T, now func() time.Time) twofactor.ContactStore) {
	ctx := context.Background()
	const max = twofactor.MaxContacts

	t.Run("unknown subscriber", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		st, err := s.State(ctx, "nobody")
		tfNoErr(t, err, "State")
		if st.Enabled || len(st.Contacts) != 0 {
			t.Errorf("State of an unknown subscriber = %+v, want the zero State", st)
		}
		_, err = s.VerifyContact(ctx, "nobody", "c1", Epoch)
		wantErr(t, err, twofactor.ErrNotFound, "VerifyContact for an unknown subscriber")
		_, err = s.RemoveContact(ctx, "nobody", "c1", Epoch, false)
		wantErr(t, err, twofactor.ErrNotFound, "RemoveContact for an unknown subscriber")
		changed, err := s.SetEnabled(ctx, "nobody", false, Epoch, false)
		tfNoErr(t, err, "SetEnabled off")
		if changed {
			t.Error("turning off 2FA that was never on reported a change")
		}
	})

	t.Run("add, limit, duplicates, verify", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		tfNoErr(t, s.AddContact(ctx, tfContact("alice", "e1", twofactor.KindEmail, "a@example.com"), max), "AddContact e1")
		wantErr(t, s.AddContact(ctx, tfContact("alice", "e2", twofactor.KindEmail, "a@example.com"), max), twofactor.ErrDuplicateContact, "same email again")
		tfNoErr(t, s.AddContact(ctx, tfContact("alice", "p1", twofactor.KindPhone, "+447400123456"), max), "AddContact p1")
		err := s.AddContact(ctx, tfContact("alice", "p2", twofactor.KindPhone, "+447400123457"), max)
		wantErr(t, err, twofactor.ErrTooManyContacts, "a third contact")
		wantErr(t, s.AddContact(ctx, tfContact("alice", "p3", twofactor.KindPhone, "+447400123456"), max), twofactor.ErrDuplicateContact, "duplicate at the limit")
		// The same number may be another subscriber's contact too.
		tfNoErr(t, s.AddContact(ctx, tfContact("bob", "b1", twofactor.KindPhone, "+447400123456"), max), "AddContact for bob")

		st, err := s.State(ctx, "alice")
		tfNoErr(t, err, "State")
		if len(st.Contacts) != 2 || st.Contacts[0].ID != "e1" || st.Contacts[1].ID != "p1" {
			t.Fatalf("contacts = %+v, want e1 then p1", st.Contacts)
		}
		if got := st.Contacts[1]; got.Value != "+447400123456" || got.Kind != twofactor.KindPhone || got.Verified() || !got.CreatedAt.Equal(Epoch) {
			t.Errorf("stored contact = %+v, want it as added", got)
		}
		st.Contacts[0].Value = "mutated"
		if again, _ := s.State(ctx, "alice"); again.Contacts[0].Value != "a@example.com" {
			t.Error("changing the slice State returned changed the store")
		}

		at := Epoch.Add(time.Minute)
		c, err := s.VerifyContact(ctx, "alice", "p1", at)
		tfNoErr(t, err, "VerifyContact")
		if !c.VerifiedAt.Equal(at) || c.ID != "p1" {
			t.Errorf("VerifyContact returned %+v, want p1 verified at %v", c, at)
		}
		c, err = s.VerifyContact(ctx, "alice", "p1", at.Add(time.Hour))
		tfNoErr(t, err, "VerifyContact again")
		if !c.VerifiedAt.Equal(at) {
			t.Errorf("verifying again moved VerifiedAt to %v", c.VerifiedAt)
		}
		_, err = s.VerifyContact(ctx, "alice", "b1", at)
		wantErr(t, err, twofactor.ErrNotFound, "verifying another subscriber's contact")
		if st, _ := s.State(ctx, "bob"); st.Contacts[0].Verified() {
			t.Error("bob's contact became verified")
		}
	})

	t.Run("switch and last contact", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		tfNoErr(t, s.AddContact(ctx, tfContact("alice", "e1", twofactor.KindEmail, "a@example.com"), max), "AddContact")
		_, err := s.SetEnabled(ctx, "alice", true, Epoch, true)
		wantErr(t, err, twofactor.ErrNoSecondFactor, "enabling with only a pending contact")
		if st, _ := s.State(ctx, "alice"); st.Enabled {
			t.Fatal("a refused SetEnabled turned 2FA on")
		}
		changed, err := s.SetEnabled(ctx, "carol", true, Epoch, false)
		tfNoErr(t, err, "enabling without needContact (authenticator)")
		if !changed {
			t.Error("SetEnabled on reported no change")
		}

		_, err = s.VerifyContact(ctx, "alice", "e1", Epoch)
		tfNoErr(t, err, "VerifyContact")
		at := Epoch.Add(time.Hour)
		changed, err = s.SetEnabled(ctx, "alice", true, at, true)
		tfNoErr(t, err, "SetEnabled on")
		if !changed {
			t.Error("SetEnabled on reported no change")
		}
		if changed, _ := s.SetEnabled(ctx, "alice", true, at, true); changed {
			t.Error("enabling twice reported a change")
		}
		if st, _ := s.State(ctx, "alice"); !st.Enabled || !st.EnabledAt.Equal(at) {
			t.Errorf("state = %+v, want enabled at %v", st, at)
		}

		_, err = s.RemoveContact(ctx, "alice", "e1", Epoch, false)
		wantErr(t, err, twofactor.ErrLastContact, "removing the only verified contact while 2FA is on")
		tfNoErr(t, s.AddContact(ctx, tfContact("alice", "p1", twofactor.KindPhone, "+447400123456"), max), "AddContact p1")
		_, err = s.RemoveContact(ctx, "alice", "e1", Epoch, false)
		wantErr(t, err, twofactor.ErrLastContact, "removing the only verified contact, another pending")
		c, err := s.RemoveContact(ctx, "alice", "p1", Epoch, true)
		tfNoErr(t, err, "removing a pending contact while 2FA is on")
		if c.ID != "p1" {
			t.Errorf("RemoveContact returned %+v, want p1", c)
		}
		_, err = s.RemoveContact(ctx, "alice", "p1", Epoch, false)
		wantErr(t, err, twofactor.ErrNotFound, "removing twice")

		changed, err = s.SetEnabled(ctx, "alice", false, at, false)
		tfNoErr(t, err, "SetEnabled off")
		if !changed {
			t.Error("SetEnabled off reported no change")
		}
		_, err = s.RemoveContact(ctx, "alice", "e1", Epoch, false)
		tfNoErr(t, err, "removing the last contact with 2FA off")
		if st, _ := s.State(ctx, "alice"); st.Enabled || len(st.Contacts) != 0 {
			t.Errorf("state = %+v, want off and empty", st)
		}
	})

	t.Run("former contacts", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		tfNoErr(t, s.AddContact(ctx, tfContact("alice", "e1", twofactor.KindEmail, "a@example.com"), max), "AddContact")
		tfNoErr(t, s.AddContact(ctx, tfContact("alice", "p1", twofactor.KindPhone, "+447400123456"), max), "AddContact")
		_, err := s.VerifyContact(ctx, "alice", "e1", Epoch)
		tfNoErr(t, err, "VerifyContact")
		removedAt := Epoch.Add(time.Minute)
		_, err = s.RemoveContact(ctx, "alice", "p1", removedAt, false)
		tfNoErr(t, err, "removing the pending contact")
		_, err = s.RemoveContact(ctx, "alice", "e1", removedAt, false)
		tfNoErr(t, err, "removing the verified contact")
		st, err := s.State(ctx, "alice")
		tfNoErr(t, err, "State")
		if len(st.Contacts) != 0 || len(st.Former) != 1 {
			t.Fatalf("state = %+v, want no contacts and one former (only verified contacts are kept)", st)
		}
		if f := st.Former[0]; f.ID != "e1" || f.Value != "a@example.com" || !f.RemovedAt.Equal(removedAt) || !f.Verified() {
			t.Errorf("former contact = %+v, want e1 as it was, removed at %v", f, removedAt)
		}
		// Re-adding the same address is allowed: former contacts are no duplicates.
		tfNoErr(t, s.AddContact(ctx, tfContact("alice", "e2", twofactor.KindEmail, "a@example.com"), max), "re-adding a former address")
		_, err = s.VerifyContact(ctx, "alice", "e2", Epoch)
		tfNoErr(t, err, "VerifyContact")
		clk.Advance(twofactor.FormerRetention - time.Hour)
		_, err = s.RemoveContact(ctx, "alice", "e2", clk.Now(), false)
		tfNoErr(t, err, "RemoveContact")
		if st, _ := s.State(ctx, "alice"); len(st.Former) != 2 {
			t.Errorf("former contacts within FormerRetention = %+v, want both kept", st.Former)
		}
	})

	t.Run("concurrent removals keep one verified contact", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		tfNoErr(t, s.AddContact(ctx, tfContact("alice", "e1", twofactor.KindEmail, "a@example.com"), max), "AddContact")
		tfNoErr(t, s.AddContact(ctx, tfContact("alice", "p1", twofactor.KindPhone, "+447400123456"), max), "AddContact")
		for _, id := range []string{"e1", "p1"} {
			_, err := s.VerifyContact(ctx, "alice", id, Epoch)
			tfNoErr(t, err, "VerifyContact")
		}
		_, err := s.SetEnabled(ctx, "alice", true, Epoch, true)
		tfNoErr(t, err, "SetEnabled")
		errs := ExactlyOnce(t, Contenders, func(i int) error {
			_, err := s.RemoveContact(ctx, "alice", []string{"e1", "p1"}[i%2], Epoch, false)
			return err
		})
		for _, err := range errs {
			if !errors.Is(err, twofactor.ErrLastContact) && !errors.Is(err, twofactor.ErrNotFound) {
				t.Errorf("a losing removal returned %v, want ErrLastContact or ErrNotFound", err)
			}
		}
	})

	t.Run("pending-only removal", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		tfNoErr(t, s.AddContact(ctx, tfContact("alice", "e1", twofactor.KindEmail, "a@example.com"), max), "AddContact")
		tfNoErr(t, s.AddContact(ctx, tfContact("alice", "p1", twofactor.KindPhone, "+447400123456"), max), "AddContact")
		_, err := s.VerifyContact(ctx, "alice", "e1", Epoch)
		tfNoErr(t, err, "VerifyContact")
		_, err = s.RemoveContact(ctx, "alice", "e1", Epoch, true)
		wantErr(t, err, twofactor.ErrConflict, "pending-only removal of a verified contact")
		if st, _ := s.State(ctx, "alice"); len(st.Contacts) != 2 || len(st.Former) != 0 {
			t.Fatalf("state after a refused removal = %+v, want both contacts and no former", st)
		}
		_, err = s.RemoveContact(ctx, "alice", "x1", Epoch, true)
		wantErr(t, err, twofactor.ErrNotFound, "pending-only removal of an unknown contact")
		c, err := s.RemoveContact(ctx, "alice", "p1", Epoch, true)
		tfNoErr(t, err, "pending-only removal of a pending contact")
		if c.ID != "p1" {
			t.Errorf("RemoveContact returned %+v, want p1", c)
		}
		_, err = s.RemoveContact(ctx, "alice", "e1", Epoch, false)
		tfNoErr(t, err, "removal of the verified contact")
	})

	t.Run("verification racing pending-only removals", func(t *testing.T) {
		// Either a removal wins (the contact is gone and cannot be verified) or the
		// verification does (every removal fails with ErrConflict and the contact stays
		// verified). Never both: that would remove a verified contact without a proof.
		// Half the rounds hold the removals back a little so both orders turn up.
		const removers = 4
		s := newStore(t, NewClock().Now)
		tfNoErr(t, s.AddContact(ctx, tfContact("alice", "e1", twofactor.KindEmail, "a@example.com"), max), "AddContact")
		_, err := s.VerifyContact(ctx, "alice", "e1", Epoch)
		tfNoErr(t, err, "VerifyContact")
		_, err = s.SetEnabled(ctx, "alice", true, Epoch, true)
		tfNoErr(t, err, "SetEnabled")
		wins := map[string]int{}
		former := 0 // verified contacts removed so far, each kept in State.Former
		for round := range Contenders {
			id := fmt.Sprintf("p%d", round)
			tfNoErr(t, s.AddContact(ctx, tfContact("alice", id, twofactor.KindPhone, "+447400123456"), max), "AddContact")
			var (
				wg         sync.WaitGroup
				verifyErr  error
				removeErrs [removers]error
			)
			start := make(chan struct{})
			wg.Add(1 + removers)
			go func() {
				defer wg.Done()
				<-start
				_, verifyErr = s.VerifyContact(ctx, "alice", id, Epoch)
			}()
			for i := range removers {
				go func() {
					defer wg.Done()
					<-start
					if round%2 == 1 {
						for range 3 {
							runtime.Gosched()
						}
					}
					_, removeErrs[i] = s.RemoveContact(ctx, "alice", id, Epoch, true)
				}()
			}
			close(start)
			wg.Wait()
			st, err := s.State(ctx, "alice")
			tfNoErr(t, err, "State")
			c, present := st.Contact(id)
			removed := 0
			for _, err := range removeErrs {
				if err == nil {
					removed++
				}
			}
			if verifyErr == nil {
				for _, err := range removeErrs {
					wantErr(t, err, twofactor.ErrConflict, "a pending-only removal racing a verification that won")
				}
				if !present || !c.Verified() || len(st.Former) != former {
					t.Fatalf("round %d: state = %+v, want %s kept, verified", round, st, id)
				}
				_, err = s.RemoveContact(ctx, "alice", id, Epoch, false)
				tfNoErr(t, err, "removing the verified contact")
				former++
				wins["verification"]++
				continue
			}
			wantErr(t, verifyErr, twofactor.ErrNotFound, "verifying a contact a removal took first")
			if removed != 1 || present || len(st.Former) != former {
				t.Fatalf("round %d: %d removals succeeded, state = %+v; want one, the contact gone, no new former", round, removed, st)
			}
			wins["removal"]++
		}
		t.Logf("rounds won: %v", wins)
	})

	t.Run("concurrent adds never exceed the limit", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, Contenders)
		for i := range Contenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				c := tfContact("alice", fmt.Sprintf("c%d", i), twofactor.KindEmail, fmt.Sprintf("a%d@example.com", i))
				errs[i] = s.AddContact(ctx, c, max)
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, twofactor.ErrTooManyContacts):
				t.Errorf("a refused add returned %v, want ErrTooManyContacts", err)
			}
		}
		st, err := s.State(ctx, "alice")
		tfNoErr(t, err, "State")
		if ok != max || len(st.Contacts) != max {
			t.Errorf("%d adds succeeded and %d contacts are stored, want %d", ok, len(st.Contacts), max)
		}
	})
}

// TestTwoFactorRecovery checks a twofactor.RecoveryStore: replacing the set, single use,
// the set's generation time returned with each consumed code, isolation between
// subscribers, and that one code consumed by Contenders goroutines at once is consumed
// exactly once.
func TestTwoFactorRecovery(t *testing.T, newStore func(t *testing.T, now func() time.Time) twofactor.RecoveryStore) {
	ctx := context.Background()
	hashes := func(prefix string, n int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = fmt.Appendf(nil, "%s-hash-%02d-0123456789abcdef0123456789", prefix, i)
		}
		return out
	}
	left := func(t *testing.T, s twofactor.RecoveryStore, sub string, want int) {
		t.Helper()
		n, err := s.RecoveryCodesLeft(ctx, sub)
		tfNoErr(t, err, "RecoveryCodesLeft")
		if n != want {
			t.Errorf("%s has %d codes left, want %d", sub, n, want)
		}
	}

	t.Run("single use and replacement", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		left(t, s, "alice", 0)
		_, _, err := s.ConsumeRecoveryCode(ctx, "alice", []byte("nothing"))
		wantErr(t, err, twofactor.ErrNotFound, "consuming with no set")

		t1, t2 := Epoch.Add(time.Hour), Epoch.Add(48*time.Hour)
		first := hashes("first", 10)
		tfNoErr(t, s.ReplaceRecoveryCodes(ctx, "alice", first, t1), "ReplaceRecoveryCodes")
		tfNoErr(t, s.ReplaceRecoveryCodes(ctx, "bob", hashes("bob", 10), t2), "ReplaceRecoveryCodes bob")
		kept := string(first[0])
		first[0][0] ^= 0xff // the store must have kept its own copy
		left(t, s, "alice", 10)
		_, _, err = s.ConsumeRecoveryCode(ctx, "alice", []byte(kept))
		tfNoErr(t, err, "consuming a code whose caller-side slice was changed after the replace")
		n, at, err := s.ConsumeRecoveryCode(ctx, "alice", first[3])
		tfNoErr(t, err, "ConsumeRecoveryCode")
		if n != 8 {
			t.Errorf("ConsumeRecoveryCode left %d, want 8", n)
		}
		if !at.Equal(t1) {
			t.Errorf("ConsumeRecoveryCode says the set was generated at %v, want %v (the time given to ReplaceRecoveryCodes)", at, t1)
		}
		_, _, err = s.ConsumeRecoveryCode(ctx, "alice", first[3])
		wantErr(t, err, twofactor.ErrNotFound, "consuming the same code twice")
		_, _, err = s.ConsumeRecoveryCode(ctx, "bob", first[4])
		wantErr(t, err, twofactor.ErrNotFound, "alice's code for bob")
		_, _, err = s.ConsumeRecoveryCode(ctx, "alice", first[4][:10])
		wantErr(t, err, twofactor.ErrNotFound, "a prefix of a hash")
		left(t, s, "bob", 10)

		second := hashes("second", 10)
		tfNoErr(t, s.ReplaceRecoveryCodes(ctx, "alice", second, t2), "ReplaceRecoveryCodes again")
		left(t, s, "alice", 10)
		_, _, err = s.ConsumeRecoveryCode(ctx, "alice", first[6])
		wantErr(t, err, twofactor.ErrNotFound, "a code from the replaced set")
		_, at, err = s.ConsumeRecoveryCode(ctx, "alice", second[5])
		tfNoErr(t, err, "a code from the new set")
		if !at.Equal(t2) {
			t.Errorf("a code of the regenerated set says it was generated at %v, want %v", at, t2)
		}

		tfNoErr(t, s.ReplaceRecoveryCodes(ctx, "alice", nil, t2), "deleting the set")
		left(t, s, "alice", 0)
	})

	t.Run("concurrent use", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		set := hashes("race", 10)
		tfNoErr(t, s.ReplaceRecoveryCodes(ctx, "alice", set, Epoch), "ReplaceRecoveryCodes")
		errs := ExactlyOnce(t, Contenders, func(int) error {
			_, _, err := s.ConsumeRecoveryCode(ctx, "alice", set[7])
			return err
		})
		for _, err := range errs {
			wantErr(t, err, twofactor.ErrNotFound, "a losing consumer")
		}
		left(t, s, "alice", 9)
	})
}

// TestTwoFactorFailures checks a twofactor.FailureStore: counting, lockout by the policy
// measured with the store's clock, reset, isolation, and that Contenders concurrent
// attempts are each counted and never get past a lockout.
func TestTwoFactorFailures(t *testing.T, newStore func(t *testing.T, now func() time.Time) twofactor.FailureStore) {
	ctx := context.Background()
	policy := twofactor.LockoutPolicy{Threshold: 3, Base: time.Minute, MaxLockout: time.Hour, HardLimit: 9}

	t.Run("count, lock, expire, reset", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		f, err := s.Failures(ctx, "alice")
		tfNoErr(t, err, "Failures")
		if f.Count != 0 {
			t.Errorf("unknown subscriber has %d failures", f.Count)
		}
		for i := 1; i <= 3; i++ {
			f, err := s.BeginAttempt(ctx, "alice", policy)
			tfNoErr(t, err, "BeginAttempt")
			if f.Count != i || !f.Last.Equal(clk.Now()) {
				t.Errorf("attempt %d: %+v, want count %d at %v", i, f, i, clk.Now())
			}
			clk.Advance(time.Second)
		}
		_, err = s.BeginAttempt(ctx, "alice", policy)
		var le *twofactor.LockedError
		if !errors.As(err, &le) || le.Hard || !le.Until.Equal(Epoch.Add(2*time.Second+time.Minute)) {
			t.Fatalf("BeginAttempt while locked = %v, want a timed lock until %v", err, Epoch.Add(2*time.Second+time.Minute))
		}
		if f, _ := s.Failures(ctx, "alice"); f.Count != 3 {
			t.Errorf("a refused attempt was counted: %d", f.Count)
		}
		if _, err := s.BeginAttempt(ctx, "bob", policy); err != nil {
			t.Errorf("bob is affected by alice's lockout: %v", err)
		}
		clk.Advance(time.Minute)
		f, err = s.BeginAttempt(ctx, "alice", policy)
		tfNoErr(t, err, "BeginAttempt after the lockout")
		if f.Count != 4 {
			t.Errorf("count after the lockout = %d, want 4 (expiry does not reset)", f.Count)
		}
		tfNoErr(t, s.ResetFailures(ctx, "alice"), "ResetFailures")
		if f, _ := s.Failures(ctx, "alice"); f.Count != 0 {
			t.Errorf("count after reset = %d", f.Count)
		}
		if f, _ := s.Failures(ctx, "bob"); f.Count != 1 {
			t.Errorf("resetting alice changed bob: %d", f.Count)
		}
	})

	t.Run("hard limit", func(t *testing.T) {
		clk := NewClock()
		s := newStore(t, clk.Now)
		for i := 0; i < policy.HardLimit; i++ {
			_, err := s.BeginAttempt(ctx, "alice", policy)
			tfNoErr(t, err, "BeginAttempt")
			clk.Advance(2 * time.Hour)
		}
		clk.Advance(1000 * time.Hour)
		_, err := s.BeginAttempt(ctx, "alice", policy)
		var le *twofactor.LockedError
		if !errors.As(err, &le) || !le.Hard {
			t.Fatalf("BeginAttempt after %d failures = %v, want a hard lock", policy.HardLimit, err)
		}
		tfNoErr(t, s.ResetFailures(ctx, "alice"), "ResetFailures")
		_, err = s.BeginAttempt(ctx, "alice", policy)
		tfNoErr(t, err, "BeginAttempt after support lifted the lock")
	})

	t.Run("concurrent attempts stop at the lockout", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		var wg sync.WaitGroup
		start := make(chan struct{})
		var mu sync.Mutex
		allowed := 0
		for range Contenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := s.BeginAttempt(ctx, "alice", policy)
				switch {
				case err == nil:
					mu.Lock()
					allowed++
					mu.Unlock()
				case !errors.Is(err, twofactor.ErrLocked):
					t.Errorf("BeginAttempt: %v", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		f, err := s.Failures(ctx, "alice")
		tfNoErr(t, err, "Failures")
		if allowed != policy.Threshold || f.Count != policy.Threshold {
			t.Errorf("%d of %d concurrent attempts were allowed and %d counted, want %d", allowed, Contenders, f.Count, policy.Threshold)
		}
	})
}

// TestTwoFactorChallenges checks a twofactor.ChallengeStore: a binding is returned as
// stored and replaced under the same ID, a miss is ErrNotFound, and PutChallenge never
// drops a binding still live at the time it is given.
func TestTwoFactorChallenges(t *testing.T, newStore func(t *testing.T) twofactor.ChallengeStore) {
	ctx := context.Background()
	bind := func(id, flow string, exp time.Time) twofactor.ChallengeBinding {
		return twofactor.ChallengeBinding{ID: id, Subscriber: "alice", ContactID: "c1", Flow: flow,
			Purpose: otp.PurposeSIMSwap, ExpiresAt: exp}
	}
	s := newStore(t)
	_, err := s.Challenge(ctx, "nope")
	wantErr(t, err, twofactor.ErrNotFound, "Challenge of an unknown ID")
	a := bind("a", "session:1", Epoch.Add(10*time.Minute))
	tfNoErr(t, s.PutChallenge(ctx, a, Epoch), "PutChallenge")
	got, err := s.Challenge(ctx, "a")
	tfNoErr(t, err, "Challenge")
	if got != a {
		t.Errorf("Challenge = %+v, want %+v", got, a)
	}
	a2 := bind("a", "signin:2", Epoch.Add(20*time.Minute))
	tfNoErr(t, s.PutChallenge(ctx, a2, Epoch), "PutChallenge again")
	if got, _ := s.Challenge(ctx, "a"); got != a2 {
		t.Errorf("after replacing, Challenge = %+v, want %+v", got, a2)
	}
	// b is put at a time when a2 is still live: a2 must stay.
	b := bind("b", "case:3", Epoch.Add(30*time.Minute))
	tfNoErr(t, s.PutChallenge(ctx, b, Epoch.Add(15*time.Minute)), "PutChallenge b")
	if _, err := s.Challenge(ctx, "a"); err != nil {
		t.Errorf("a live binding was dropped: %v", err)
	}
	// A binding that expired before the time of a later put may be dropped; a live one
	// is still there.
	tfNoErr(t, s.PutChallenge(ctx, bind("c", "session:4", Epoch.Add(time.Hour)), Epoch.Add(25*time.Minute)), "PutChallenge c")
	if got, _ := s.Challenge(ctx, "b"); got != b {
		t.Errorf("Challenge(b) = %+v, want %+v", got, b)
	}

	// Contenders bindings put at once are all kept, each under its own ID.
	var wg sync.WaitGroup
	for i := range Contenders {
		wg.Go(func() {
			err := s.PutChallenge(ctx, bind(fmt.Sprintf("race-%d", i), fmt.Sprintf("session:%d", i), Epoch.Add(time.Hour)), Epoch)
			if err != nil {
				t.Errorf("concurrent PutChallenge: %v", err)
			}
		})
	}
	wg.Wait()
	for i := range Contenders {
		got, err := s.Challenge(ctx, fmt.Sprintf("race-%d", i))
		if err != nil || got.Flow != fmt.Sprintf("session:%d", i) {
			t.Errorf("binding race-%d = %+v, %v after concurrent puts", i, got, err)
		}
	}
}
