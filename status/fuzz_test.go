package status_test

import (
	"context"
	"testing"

	"github.com/carrierguard/carrierguard/status"
)

// FuzzVerify: Verify never panics, and any string other than a live link token is
// refused with ErrInvalidLink without verifying anyone.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f, status.Config{})
	link, err := fx.svc.SendLink(context.Background(), "alice", "alice@example.com")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("")
	f.Add(link.Token[:42] + "B")
	f.Add(link.Token + "=")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		if s == link.Token {
			return // consuming the real link would change the state for later inputs
		}
		if _, err := fx.svc.Verify(context.Background(), s); err != status.ErrInvalidLink {
			t.Fatalf("Verify(%q) = %v, want ErrInvalidLink", s, err)
		}
		if st, err := fx.svc.Status(context.Background(), "alice"); err != nil || st.Done(status.StepAccountVerification) {
			t.Fatalf("a fuzzed token verified the account: %v", err)
		}
	})
}
