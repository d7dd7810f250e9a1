package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/risk"
)

func riskLogin(sub string, i int) risk.Request {
	return risk.Request{Subscriber: sub, Action: risk.ActionSignIn,
		IP:     netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}),
		Geo:    risk.Geo{Country: "US", Region: "FL", City: "Miami", ASN: 7922, Coordinates: &risk.Coordinates{Lat: 25.76, Lon: -80.19}},
		Device: fmt.Sprint("device-", i), UserAgent: "test-agent/1.0",
		Client: risk.Client{Browser: "Test 1", OS: "TestOS 1.0", DeviceType: "mobile"}}
}

func learn(p *risk.Profile, r risk.Request) {
	p.Learn(&r, Epoch)
}

// TestRiskProfiles is the conformance suite for risk.ProfileStore.
func TestRiskProfiles(t *testing.T, newStore func(t *testing.T, now func() time.Time) risk.ProfileStore) {
	ctx := context.Background()

	t.Run("missing profile is ErrNotFound and leaves dst alone", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		var dst risk.Profile
		learn(&dst, riskLogin("x", 1))
		want := dst
		err := s.LoadProfile(ctx, "nobody", &dst)
		if !errors.Is(err, risk.ErrNotFound) {
			t.Fatalf("LoadProfile of unknown subscriber: %v, want ErrNotFound", err)
		}
		if dst != want {
			t.Fatal("LoadProfile changed dst on a miss")
		}
	})

	t.Run("update starts from zero and round-trips", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		var want risk.Profile
		err := s.UpdateProfile(ctx, "alice", func(p *risk.Profile) error {
			if *p != (risk.Profile{}) {
				t.Error("a new subscriber's profile is not the zero Profile")
			}
			for i := range risk.MaxValues + 3 {
				learn(p, riskLogin("alice", i))
				p.Attempt(risk.ActionSIMSwap, i%2 == 0, Epoch)
				p.Attempt(risk.ActionPortOut, true, Epoch.Add(time.Duration(i)*time.Second))
			}
			p.NoteChange(risk.ChangeContact, Epoch.Add(time.Hour))
			want = *p
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var got risk.Profile
		if err := s.LoadProfile(ctx, "alice", &got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatal("the loaded profile differs from the one stored")
		}
		if got.Changed(risk.ChangeContact) != Epoch.Add(time.Hour) || got.LastSeen() != Epoch.Add(time.Hour) {
			t.Fatalf("changes and last-seen time did not round-trip: %v, %v", got.Changed(risk.ChangeContact), got.LastSeen())
		}
		if got.Distinct(risk.FeatureDevice) != risk.MaxValues {
			t.Fatalf("device values: %d, want %d", got.Distinct(risk.FeatureDevice), risk.MaxValues)
		}
	})

	t.Run("a failed update stores nothing", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		if err := s.UpdateProfile(ctx, "bob", func(p *risk.Profile) error { learn(p, riskLogin("bob", 1)); return nil }); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := s.UpdateProfile(ctx, "bob", func(p *risk.Profile) error { learn(p, riskLogin("bob", 2)); return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("UpdateProfile returned %v, want fn's error", err)
		}
		var got risk.Profile
		if err := s.LoadProfile(ctx, "bob", &got); err != nil {
			t.Fatal(err)
		}
		if got.Logins() != 1 {
			t.Fatalf("logins %d after a failed update, want 1", got.Logins())
		}
		err = s.UpdateProfile(ctx, "carol", func(p *risk.Profile) error {
			if *p != (risk.Profile{}) {
				t.Error("after a failed update, a new subscriber's profile is not the zero Profile")
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if err := s.LoadProfile(ctx, "carol", &got); !errors.Is(err, risk.ErrNotFound) {
			t.Fatalf("a failed first update created a profile: %v", err)
		}
	})

	t.Run("subscribers are isolated", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		for _, sub := range []string{"a", "b"} {
			if err := s.UpdateProfile(ctx, sub, func(p *risk.Profile) error { learn(p, riskLogin(sub, 1)); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.UpdateProfile(ctx, "a", func(p *risk.Profile) error { learn(p, riskLogin("a", 2)); return nil }); err != nil {
			t.Fatal(err)
		}
		var a, b risk.Profile
		if err := s.LoadProfile(ctx, "a", &a); err != nil {
			t.Fatal(err)
		}
		if err := s.LoadProfile(ctx, "b", &b); err != nil {
			t.Fatal(err)
		}
		if a.Logins() != 2 || b.Logins() != 1 {
			t.Fatalf("logins a=%d b=%d, want 2 and 1", a.Logins(), b.Logins())
		}
	})

	t.Run("concurrent updates are atomic", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		var wg sync.WaitGroup
		for i := range Contenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.UpdateProfile(ctx, "busy", func(p *risk.Profile) error { learn(p, riskLogin("busy", i)); return nil }); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		var got risk.Profile
		if err := s.LoadProfile(ctx, "busy", &got); err != nil {
			t.Fatal(err)
		}
		if got.Logins() != Contenders {
			t.Fatalf("%d logins after %d concurrent updates: updates were lost", got.Logins(), Contenders)
		}
	})

	testRiskPrune(t, newStore)
}

// provisional stores a profile that is not established, last seen at at.
func provisional(t *testing.T, s risk.ProfileStore, sub string, at time.Time) {
	t.Helper()
	if err := s.UpdateProfile(context.Background(), sub, func(p *risk.Profile) error {
		p.Attempt(risk.ActionSignIn, true, at)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// present reports which of subs have a profile.
func present(t *testing.T, s risk.ProfileStore, subs ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, sub := range subs {
		var p risk.Profile
		switch err := s.LoadProfile(context.Background(), sub, &p); {
		case err == nil:
			out[sub] = true
		case !errors.Is(err, risk.ErrNotFound):
			t.Fatal(err)
		}
	}
	return out
}

// testRiskPrune is the part of the ProfileStore suite about provisional profiles.
func testRiskPrune(t *testing.T, newStore func(t *testing.T, now func() time.Time) risk.ProfileStore) {
	ctx := context.Background()

	t.Run("prune deletes provisional profiles seen before the cutoff, never established ones", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		provisional(t, s, "old-stranger", Epoch)
		provisional(t, s, "new-stranger", Epoch.Add(2*time.Hour))
		if err := s.UpdateProfile(ctx, "learned", func(p *risk.Profile) error { learn(p, riskLogin("learned", 1)); return nil }); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateProfile(ctx, "changed", func(p *risk.Profile) error { p.NoteChange(risk.ChangeContact, Epoch); return nil }); err != nil {
			t.Fatal(err)
		}
		n, err := s.PruneProfiles(ctx, Epoch.Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("PruneProfiles deleted %d profiles, want 1", n)
		}
		got := present(t, s, "old-stranger", "new-stranger", "learned", "changed")
		want := map[string]bool{"new-stranger": true, "learned": true, "changed": true}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after pruning: %v, want %v", got, want)
		}
		// Even keep 0 and a cutoff far in the future leave established profiles alone.
		if _, err := s.PruneProfiles(ctx, Epoch.AddDate(10, 0, 0), 0); err != nil {
			t.Fatal(err)
		}
		got = present(t, s, "new-stranger", "learned", "changed")
		if fmt.Sprint(got) != fmt.Sprint(map[string]bool{"learned": true, "changed": true}) {
			t.Fatalf("after pruning everything provisional: %v", got)
		}
	})

	t.Run("prune keeps the most recently seen provisional profiles", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		var subs []string
		for i := range 10 {
			sub := fmt.Sprint("stranger-", i)
			subs = append(subs, sub)
			provisional(t, s, sub, Epoch.Add(time.Duration(i)*time.Minute))
		}
		provisional(t, s, "stranger-0", Epoch.Add(time.Hour)) // seen again: now the most recent
		if err := s.UpdateProfile(ctx, "alice", func(p *risk.Profile) error { learn(p, riskLogin("alice", 1)); return nil }); err != nil {
			t.Fatal(err)
		}
		n, err := s.PruneProfiles(ctx, Epoch, 3)
		if err != nil {
			t.Fatal(err)
		}
		if n != 7 {
			t.Errorf("PruneProfiles deleted %d profiles, want 7", n)
		}
		got := present(t, s, append(subs, "alice")...)
		want := map[string]bool{"stranger-0": true, "stranger-8": true, "stranger-9": true, "alice": true}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after pruning to 3: %v, want %v", got, want)
		}
	})

	t.Run("a provisional profile that becomes established is no longer pruned", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		provisional(t, s, "bob", Epoch)
		if err := s.UpdateProfile(ctx, "bob", func(p *risk.Profile) error { p.NoteChange(risk.ChangePassword, Epoch); return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PruneProfiles(ctx, Epoch.AddDate(1, 0, 0), 0); err != nil {
			t.Fatal(err)
		}
		if !present(t, s, "bob")["bob"] {
			t.Fatal("an established profile was pruned")
		}
	})

	t.Run("concurrent creates and prunes stay within keep", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		const keep = 8
		var subs []string
		for i := range Contenders {
			subs = append(subs, fmt.Sprint("flood-", i))
		}
		for _, err := range Race(Contenders, func(i int) error {
			if err := s.UpdateProfile(ctx, subs[i], func(p *risk.Profile) error {
				p.Attempt(risk.ActionSignIn, true, Epoch.Add(time.Duration(i)*time.Second))
				return nil
			}); err != nil {
				return err
			}
			_, err := s.PruneProfiles(ctx, Epoch, keep)
			return err
		}) {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := len(present(t, s, subs...)); n > keep {
			t.Fatalf("%d provisional profiles after every create was followed by a prune to %d", n, keep)
		}
	})
}

// TestRiskGlobal is the conformance suite for risk.GlobalStore.
func TestRiskGlobal(t *testing.T, newStore func(t *testing.T, now func() time.Time) risk.GlobalStore) {
	ctx := context.Background()

	t.Run("empty", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		k := riskLogin("a", 1).Keys()
		st, err := s.GlobalStats(ctx, &k)
		if err != nil {
			t.Fatal(err)
		}
		if st != (risk.GlobalStats{}) {
			t.Fatalf("an empty store reports %+v", st)
		}
	})

	t.Run("counts", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		// a logs in from IPs 1, 1, 2; b from 3 and without a device.
		logins := []struct {
			r     risk.Request
			first bool
		}{{riskLogin("a", 1), true}, {riskLogin("a", 1), false}, {riskLogin("a", 2), false}, {riskLogin("b", 3), true}}
		logins[3].r.Device = ""
		for _, l := range logins {
			k := l.r.Keys()
			if err := s.AddLogin(ctx, &k, l.first); err != nil {
				t.Fatal(err)
			}
		}
		k := riskLogin("a", 1).Keys()
		st, err := s.GlobalStats(ctx, &k)
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, got, want uint64) {
			t.Helper()
			if got != want {
				t.Errorf("%s = %d, want %d", what, got, want)
			}
		}
		check("Subscribers", st.Subscribers, 2)
		check("Logins", st.Logins, 4)
		check("Count[IP]", st.Count[risk.FeatureIP], 2)
		check("Count[ASN]", st.Count[risk.FeatureASN], 4)
		check("Total[IP]", st.Total[risk.FeatureIP], 4)
		check("Distinct[IP]", st.Distinct[risk.FeatureIP], 3)
		check("Distinct[Country]", st.Distinct[risk.FeatureCountry], 1)
		check("Total[Device]", st.Total[risk.FeatureDevice], 3)
		check("Distinct[Device]", st.Distinct[risk.FeatureDevice], 2)

		var none risk.Keys
		st, err = s.GlobalStats(ctx, &none)
		if err != nil {
			t.Fatal(err)
		}
		if st.Count != ([risk.NumFeatures]uint64{}) {
			t.Errorf("zero keys have counts %v", st.Count)
		}
	})

	t.Run("concurrent adds are all counted", func(t *testing.T) {
		s := newStore(t, NewClock().Now)
		k := riskLogin("a", 1).Keys()
		var wg sync.WaitGroup
		for i := range Contenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.AddLogin(ctx, &k, i == 0); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		st, err := s.GlobalStats(ctx, &k)
		if err != nil {
			t.Fatal(err)
		}
		if st.Logins != Contenders || st.Count[risk.FeatureIP] != Contenders || st.Subscribers != 1 {
			t.Fatalf("after %d concurrent adds: %+v", Contenders, st)
		}
	})
}
