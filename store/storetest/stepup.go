package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/stepup"
	"github.com/carrierguard/carrierguard/twofactor"
)

// TestStepUpStore checks a stepup.Store: one record per session and slot with the
// newest proof kept, the per-session bound dropping the oldest, isolation between
// sessions, deletion by session and by subscriber up to a time, and that records put
// by 64 goroutines at once into distinct slots and sessions are all kept.
func TestStepUpStore(t *testing.T, newStore func(t *testing.T) stepup.Store) {
	ctx := context.Background()
	rec := func(sess, sub string, m twofactor.Method, purpose otp.Purpose, at time.Time) stepup.Record {
		p := twofactor.Proof{Subscriber: sub, Method: m, Purpose: purpose, At: at, Tag: []byte("tag-" + sess)}
		return stepup.Record{Session: sess, Slot: stepup.Slot(p), Proof: p, ExpiresAt: at.Add(time.Hour)}
	}
	slots := func(t *testing.T, s stepup.Store, sess string) map[string]time.Time {
		t.Helper()
		rs, err := s.Proofs(ctx, sess)
		tfNoErr(t, err, "Proofs")
		out := map[string]time.Time{}
		for _, r := range rs {
			if r.Session != sess {
				t.Errorf("Proofs(%s) returned a record of session %s", sess, r.Session)
			}
			out[r.Slot] = r.Proof.At
		}
		return out
	}

	t.Run("slots", func(t *testing.T) {
		s := newStore(t)
		if got := slots(t, s, "s1"); len(got) != 0 {
			t.Fatalf("an unknown session has %d records", len(got))
		}
		a := rec("s1", "alice", twofactor.MethodAuthenticator, otp.PurposeSIMSwap, Epoch)
		tfNoErr(t, s.PutProof(ctx, a, 16, Epoch), "PutProof")
		rs, err := s.Proofs(ctx, "s1")
		tfNoErr(t, err, "Proofs")
		if len(rs) != 1 || !rs[0].Proof.At.Equal(Epoch) || string(rs[0].Proof.Tag) != "tag-s1" || rs[0].Proof.Subscriber != "alice" {
			t.Fatalf("Proofs = %+v, want the record put", rs)
		}
		rs[0].Proof.Tag[0] = 'X' // the caller's copy
		if rs, _ := s.Proofs(ctx, "s1"); string(rs[0].Proof.Tag) != "tag-s1" {
			t.Error("the store shares its Tag with the caller")
		}
		// Newer in the same slot replaces; older does not.
		tfNoErr(t, s.PutProof(ctx, rec("s1", "alice", twofactor.MethodAuthenticator, otp.PurposeSIMSwap, Epoch.Add(time.Minute)), 16, Epoch), "PutProof newer")
		tfNoErr(t, s.PutProof(ctx, rec("s1", "alice", twofactor.MethodAuthenticator, otp.PurposeSIMSwap, Epoch.Add(-time.Minute)), 16, Epoch), "PutProof older")
		got := slots(t, s, "s1")
		if len(got) != 1 || !got[a.Slot].Equal(Epoch.Add(time.Minute)) {
			t.Errorf("after newer and older puts in one slot: %v, want the newer only", got)
		}
		// Another purpose is another slot; another session is kept apart.
		tfNoErr(t, s.PutProof(ctx, rec("s1", "alice", twofactor.MethodAuthenticator, otp.PurposeAccountChange, Epoch), 16, Epoch), "PutProof other purpose")
		tfNoErr(t, s.PutProof(ctx, rec("s2", "alice", twofactor.MethodRecoveryCode, otp.PurposeSIMSwap, Epoch), 16, Epoch), "PutProof s2")
		if got := slots(t, s, "s1"); len(got) != 2 {
			t.Errorf("s1 has %d slots, want 2", len(got))
		}
		if got := slots(t, s, "s2"); len(got) != 1 {
			t.Errorf("s2 has %d slots, want 1", len(got))
		}
		tfNoErr(t, s.DeleteSession(ctx, "s1"), "DeleteSession")
		if got := slots(t, s, "s1"); len(got) != 0 {
			t.Errorf("after DeleteSession, s1 has %v", got)
		}
		if got := slots(t, s, "s2"); len(got) != 1 {
			t.Error("DeleteSession(s1) touched s2")
		}
		tfNoErr(t, s.DeleteSession(ctx, "never"), "DeleteSession of an unknown session")
	})

	t.Run("bound", func(t *testing.T) {
		s := newStore(t)
		purposes := []otp.Purpose{otp.PurposeSignIn, otp.PurposeAccountChange, otp.PurposeSIMSwap, otp.PurposePortOut, otp.PurposeDisableTwoFactor}
		for i, p := range purposes {
			tfNoErr(t, s.PutProof(ctx, rec("s1", "alice", twofactor.MethodAuthenticator, p, Epoch.Add(time.Duration(i)*time.Minute)), 3, Epoch), "PutProof")
		}
		got := slots(t, s, "s1")
		if len(got) != 3 {
			t.Fatalf("with max 3, the session has %d records", len(got))
		}
		for _, p := range purposes[:2] {
			if _, ok := got[stepup.Slot(twofactor.Proof{Method: twofactor.MethodAuthenticator, Purpose: p})]; ok {
				t.Errorf("the oldest record (%s) was kept over a newer one", p)
			}
		}
	})

	t.Run("subscriber", func(t *testing.T) {
		s := newStore(t)
		tfNoErr(t, s.PutProof(ctx, rec("a1", "alice", twofactor.MethodAuthenticator, otp.PurposeSIMSwap, Epoch), 16, Epoch), "PutProof")
		tfNoErr(t, s.PutProof(ctx, rec("a2", "alice", twofactor.MethodRecoveryCode, otp.PurposeSIMSwap, Epoch.Add(time.Minute)), 16, Epoch), "PutProof")
		tfNoErr(t, s.PutProof(ctx, rec("a2", "alice", twofactor.MethodAuthenticator, otp.PurposePortOut, Epoch.Add(3*time.Minute)), 16, Epoch), "PutProof")
		tfNoErr(t, s.PutProof(ctx, rec("b1", "bob", twofactor.MethodAuthenticator, otp.PurposeSIMSwap, Epoch), 16, Epoch), "PutProof")
		n, err := s.DeleteSubscriber(ctx, "alice", Epoch.Add(time.Minute))
		tfNoErr(t, err, "DeleteSubscriber")
		if n != 2 {
			t.Errorf("DeleteSubscriber deleted %d, want 2 (both given up to at, the one at at included)", n)
		}
		if got := slots(t, s, "a1"); len(got) != 0 {
			t.Errorf("a1 kept %v", got)
		}
		if got := slots(t, s, "a2"); len(got) != 1 {
			t.Errorf("a2 has %v, want only the proof given after at", got)
		}
		if got := slots(t, s, "b1"); len(got) != 1 {
			t.Error("DeleteSubscriber(alice) deleted bob's proof")
		}
	})

	t.Run("expiry", func(t *testing.T) {
		s := newStore(t)
		old := rec("s1", "alice", twofactor.MethodAuthenticator, otp.PurposeSIMSwap, Epoch)
		tfNoErr(t, s.PutProof(ctx, old, 16, Epoch), "PutProof")
		// A put at a time when old is still live keeps it.
		tfNoErr(t, s.PutProof(ctx, rec("s2", "bob", twofactor.MethodAuthenticator, otp.PurposeSIMSwap, Epoch.Add(30*time.Minute)), 16, Epoch.Add(30*time.Minute)), "PutProof")
		if got := slots(t, s, "s1"); len(got) != 1 {
			t.Error("a live record was dropped")
		}
	})

	t.Run("race", func(t *testing.T) {
		s := newStore(t)
		errs := Race(Contenders, func(i int) error {
			return s.PutProof(ctx, rec(fmt.Sprintf("s%d", i%8), "alice", twofactor.MethodAuthenticator, otp.Purpose(fmt.Sprintf("p%d", i)), Epoch), Contenders, Epoch)
		})
		for _, err := range errs {
			tfNoErr(t, err, "concurrent PutProof")
		}
		total := 0
		for i := range 8 {
			total += len(slots(t, s, fmt.Sprintf("s%d", i)))
		}
		if total != Contenders {
			t.Errorf("%d records after %d concurrent puts into distinct slots", total, Contenders)
		}
	})
}
