package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

func TestRiskProfiles(t *testing.T) {
	storetest.TestRiskProfiles(t, func(t *testing.T, now func() time.Time) risk.ProfileStore {
		return memory.NewRiskProfiles(memory.Options{Now: now})
	})
}

func TestRiskGlobal(t *testing.T) {
	storetest.TestRiskGlobal(t, func(t *testing.T, now func() time.Time) risk.GlobalStore {
		return memory.NewRiskGlobal(memory.Options{Now: now})
	})
}

// TestRiskProfilesUpdateDoesNotAllocate: updating a known subscriber (every sensitive
// request does) reuses the profile it replaces instead of allocating a new one.
func TestRiskProfilesUpdateDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	s := memory.NewRiskProfiles(memory.Options{})
	at := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	update := func(sub string) {
		if err := s.UpdateProfile(ctx, sub, func(p *risk.Profile) error {
			p.Attempt(risk.ActionSIMSwap, false, at)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	update("alice")
	update("bob")
	if n := testing.AllocsPerRun(100, func() { update("alice"); update("bob") }); n != 0 {
		t.Errorf("UpdateProfile of known subscribers allocates %v times", n)
	}
}
