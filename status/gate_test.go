package status_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/status"
)

func TestTrustGateDefaults(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})

	got, err := f.svc.Restrictions(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []status.Capability{"contact_change", "esim", "port_out", "sim_swap"}, got)
	assert.ElementsMatch(t, status.DefaultRestricted(), got)

	for _, c := range status.DefaultRestricted() {
		err := f.svc.Allow(ctx, "alice", c)
		assert.ErrorIs(t, err, status.ErrUnverified, c)
		assert.Contains(t, err.Error(), string(c))
	}
	assert.NoError(t, f.svc.Allow(ctx, "alice", "view_bill"), "capabilities outside the list pass this gate")

	got[0] = "mutated"
	again, _ := f.svc.Restrictions(ctx, "alice")
	assert.Equal(t, status.Capability("contact_change"), again[0], "callers get a copy")

	f.verify(t, "alice", "alice@example.com")
	got, err = f.svc.Restrictions(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, got)
	for _, c := range status.DefaultRestricted() {
		assert.NoError(t, f.svc.Allow(ctx, "alice", c))
	}
	assert.ErrorIs(t, f.svc.Allow(ctx, "bob", status.CapabilitySIMSwap), status.ErrUnverified, "per subscriber")
}

func TestTrustGateCustomList(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{Restricted: []status.Capability{"payment_change", status.CapabilitySIMSwap, "payment_change"}})
	got, err := f.svc.Restrictions(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []status.Capability{"payment_change", "sim_swap"}, got)
	assert.ErrorIs(t, f.svc.Allow(ctx, "alice", "payment_change"), status.ErrUnverified)
	assert.NoError(t, f.svc.Allow(ctx, "alice", status.CapabilityPortOut), "not in the configured list")
}
