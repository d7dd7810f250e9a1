package risk_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A flood of failed sign-ins for 100,000 invented emails leaves the profile store no
// bigger than MaxStrangers, and evicts no real subscriber's profile: neither one that
// learned sign-ins nor one that only has recorded account changes.
func TestAttackInventedIdentitiesKeepMemoryFlat(t *testing.T) {
	const flood, maxStrangers = 100_000, 1000
	clock := fakeclock.New(epoch)
	profiles := memory.NewRiskProfiles(memory.Options{})
	s, err := risk.New(risk.Config{Now: clock.Now, MaxStrangers: maxStrangers}, profiles, memory.NewRiskGlobal(memory.Options{}))
	require.NoError(t, err)
	ctx := context.Background()
	alice := homeReq(risk.ActionSignIn)
	require.NoError(t, s.Record(ctx, alice, risk.Verified))
	require.NoError(t, s.NoteChange(ctx, "bob", risk.ChangePassword, epoch))

	r := risk.Request{Action: risk.ActionSignIn, Channel: risk.ChannelWeb, IP: netip.MustParseAddr("198.51.100.66")}
	peak := 0
	for i := range flood {
		r.Subscriber = fmt.Sprintf("nobody-%d@example.com", i)
		require.NoError(t, s.Record(ctx, r, risk.Failed))
		if i%1000 == 0 {
			clock.Advance(time.Second)
			peak = max(peak, profiles.Len())
		}
	}
	peak = max(peak, profiles.Len())
	t.Logf("profiles after %d invented subjects: %d (peak %d)", flood, profiles.Len(), peak)
	assert.LessOrEqual(t, peak, maxStrangers+2, "two real subscribers and at most MaxStrangers strangers")
	var p risk.Profile
	require.NoError(t, profiles.LoadProfile(ctx, "alice", &p))
	assert.Equal(t, uint64(1), p.Logins())
	require.NoError(t, profiles.LoadProfile(ctx, "bob", &p))
	assert.Equal(t, epoch, p.Changed(risk.ChangePassword))
	// The most recent strangers are still there, with their velocity.
	require.NoError(t, profiles.LoadProfile(ctx, fmt.Sprintf("nobody-%d@example.com", flood-1), &p))
	assert.False(t, p.Established())
}

// A provisional profile is forgotten after StrangerTTL: its failures no longer count,
// and the next stranger's profile prunes it from the store. An established profile
// keeps its velocity history however long it waits.
func TestProvisionalProfilesExpire(t *testing.T) {
	clock := fakeclock.New(epoch)
	profiles := memory.NewRiskProfiles(memory.Options{})
	s, err := risk.New(risk.Config{Now: clock.Now, StrangerTTL: 2 * time.Hour, PortWindow: time.Hour}, profiles, memory.NewRiskGlobal(memory.Options{}))
	require.NoError(t, err)
	ctx := context.Background()
	fail := func(sub string) {
		r := homeReq(risk.ActionSignIn)
		r.Subscriber, r.Time = sub, clock.Now()
		require.NoError(t, s.Record(ctx, r, risk.Failed))
	}
	for range 5 {
		fail("stranger")
	}
	r := homeReq(risk.ActionSignIn)
	r.Subscriber = "stranger"
	a, err := s.Assess(ctx, r)
	require.NoError(t, err)
	assert.Contains(t, names(a), risk.SignalVelocity, "five failures within the hour")

	clock.Advance(2*time.Hour + time.Second)
	var p risk.Profile
	require.NoError(t, profiles.LoadProfile(ctx, "stranger", &p), "not yet pruned")
	fail("another-stranger") // creating a provisional profile prunes the expired ones
	assert.ErrorIs(t, profiles.LoadProfile(ctx, "stranger", &p), risk.ErrNotFound)
	assert.Equal(t, 1, profiles.Len())

	// An expired provisional profile is read as empty even before it is pruned.
	failed := clock.Now()
	for range 5 {
		fail("late")
	}
	clock.Advance(3 * time.Hour)
	// Assessed now, for a request made half an hour after the failures: they would
	// count, but the profile has expired.
	r.Subscriber, r.Time = "late", failed.Add(30*time.Minute)
	a, err = s.Assess(ctx, r)
	require.NoError(t, err)
	assert.NotContains(t, names(a), risk.SignalVelocity, "an expired stranger's history is read as empty")
}

func TestStrangerConfig(t *testing.T) {
	p, g := memory.NewRiskProfiles(memory.Options{}), memory.NewRiskGlobal(memory.Options{})
	for _, cfg := range []risk.Config{
		{StrangerTTL: 30 * time.Minute},
		{StrangerTTL: 2 * time.Hour, PortWindow: 3 * time.Hour},
		{MaxStrangers: -1},
		{MaxPortRequests: 5},
	} {
		_, err := risk.New(cfg, p, g)
		assert.Error(t, err, "%+v", cfg)
	}
	_, err := risk.New(risk.Config{StrangerTTL: time.Hour, PortWindow: time.Hour}, p, g)
	assert.NoError(t, err)
}
