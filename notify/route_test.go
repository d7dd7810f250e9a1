package notify_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
)

var (
	t0       = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	email    = notify.Recipient{Channel: notify.ChannelEmail, Address: "alice@example.com"}
	phone    = notify.Recipient{Channel: notify.ChannelSMS, Address: "+15551230001"}
	backup   = notify.Recipient{Channel: notify.ChannelEmail, Address: "alice.backup@example.org"}
	device   = notify.Recipient{Channel: notify.ChannelPush, Address: "push-token-1"}
	oldEmail = notify.Recipient{Channel: notify.ChannelEmail, Address: "alice.old@example.com"}
	oldPhone = notify.Recipient{Channel: notify.ChannelSMS, Address: "+15559990000"}
)

func profile() notify.Profile {
	return notify.Profile{
		Email:    email.Address,
		Contacts: []notify.Recipient{phone, backup, email}, // email listed twice: deduplicated
		Devices:  []notify.Recipient{device},
		Former: []notify.FormerAddress{
			{Recipient: oldEmail, Until: t0.Add(-time.Hour)},
			{Recipient: oldPhone, Until: t0.Add(-30 * 24 * time.Hour)}, // too old
		},
	}
}

func event(typ notify.Type) notify.Event {
	return notify.Event{ID: "evt-1", Type: typ, Subscriber: "sub-1", Time: t0,
		Actor: notify.Actor{Kind: notify.ActorSubscriber}, Channel: "app"}
}

func recipients(routes []notify.Route) (current, former []notify.Recipient) {
	for _, r := range routes {
		if r.Former {
			former = append(former, r.Recipient)
		} else {
			current = append(current, r.Recipient)
		}
	}
	return current, former
}

// TestRoutesEveryType is the routing table: for every event type, who is told, first
// with preferences that mute everything they can, then with none.
func TestRoutesEveryType(t *testing.T) {
	everyone := []notify.Recipient{email, phone, backup, device}
	security := map[notify.Type]bool{}
	changes := map[notify.Type]bool{
		notify.EmailChanged: true, notify.TrustedContactAdded: true, notify.TrustedContactRemoved: true,
	}
	nonSecurity := map[notify.Type]bool{
		notify.EmailVerified: true, notify.PasswordRotationDue: true,
		notify.SecurityQuestionsVerified: true, notify.LockoutLifted: true,
	}
	for _, typ := range notify.Types() {
		if typ.Operator() {
			continue
		}
		security[typ] = !nonSecurity[typ]
	}
	// The list of security events must all be security events.
	for _, typ := range []notify.Type{
		notify.SIMSwapRequested, notify.SIMSwapApproved, notify.SIMSwapCompleted, notify.PortOutRequested,
		notify.PortOutApproved, notify.PortOutCompleted, notify.ProtectionFlagEnabled, notify.ProtectionFlagDisabled,
		notify.ProtectionFlagDisableRequested, notify.TrustedContactAdded, notify.TrustedContactRemoved,
		notify.EmailChanged, notify.PasswordChanged, notify.TwoFactorDisabled, notify.Lockout,
		notify.SignInNewDevice, notify.SuspiciousActivity, notify.AccountDetailsChanged,
	} {
		require.True(t, security[typ], "%s must be a security event", typ)
	}

	for _, typ := range notify.Types() {
		if typ.Operator() {
			continue
		}
		t.Run(string(typ), func(t *testing.T) {
			assert.Equal(t, security[typ], typ.Security())
			assert.Equal(t, changes[typ], typ.ChangesAddress())

			// Muted, and limited to push: security events ignore both.
			p := profile()
			p.Preferences = notify.Preferences{Muted: notify.Types(), Channels: []notify.Channel{notify.ChannelPush}}
			routes, err := notify.Routes(event(typ), p, notify.DefaultFormerWindow)
			require.NoError(t, err)
			current, former := recipients(routes)
			if security[typ] {
				assert.Equal(t, everyone, current, "security events go to every verified contact, email and device")
			} else {
				assert.Empty(t, current, "a muted non-security event goes nowhere")
			}
			if changes[typ] {
				assert.Equal(t, []notify.Recipient{oldEmail}, former, "address changes also go to the recent former address")
			} else {
				assert.Empty(t, former)
			}

			// No preferences: everyone.
			routes, err = notify.Routes(event(typ), profile(), notify.DefaultFormerWindow)
			require.NoError(t, err)
			current, _ = recipients(routes)
			assert.Equal(t, everyone, current)
		})
	}
}

func TestRoutesPreferredChannels(t *testing.T) {
	p := profile()
	p.Preferences.Channels = []notify.Channel{notify.ChannelSMS, notify.ChannelPush}
	routes, err := notify.Routes(event(notify.PasswordRotationDue), p, notify.DefaultFormerWindow)
	require.NoError(t, err)
	current, _ := recipients(routes)
	assert.Equal(t, []notify.Recipient{phone, device}, current)

	p.Preferences.Muted = []notify.Type{notify.EmailVerified}
	routes, err = notify.Routes(event(notify.PasswordRotationDue), p, notify.DefaultFormerWindow)
	require.NoError(t, err)
	assert.Len(t, routes, 2, "muting one type leaves others alone")
}

// TestOldAddressRule: the change is stored before the event is published, so the old
// address is no longer in the profile; the Directory reports it as former and the router
// tells it within the window.
func TestOldAddressRule(t *testing.T) {
	tests := []struct {
		name   string
		typ    notify.Type
		until  time.Time
		window time.Duration
		want   bool
	}{
		{"email changed just now", notify.EmailChanged, t0, notify.DefaultFormerWindow, true},
		{"stored a moment after the event time", notify.EmailChanged, t0.Add(time.Second), notify.DefaultFormerWindow, true},
		{"contact removed 6 days ago", notify.TrustedContactRemoved, t0.Add(-6 * 24 * time.Hour), notify.DefaultFormerWindow, true},
		{"contact replaced (added)", notify.TrustedContactAdded, t0.Add(-time.Minute), notify.DefaultFormerWindow, true},
		{"outside the window", notify.EmailChanged, t0.Add(-8 * 24 * time.Hour), notify.DefaultFormerWindow, false},
		{"short window", notify.EmailChanged, t0.Add(-2 * time.Hour), time.Hour, false},
		{"not an address change", notify.SIMSwapRequested, t0, notify.DefaultFormerWindow, false},
		{"not an address change, password", notify.PasswordChanged, t0, notify.DefaultFormerWindow, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := notify.Profile{
				Email:  "new@example.com",
				Former: []notify.FormerAddress{{Recipient: oldEmail, Until: tt.until}},
			}
			routes, err := notify.Routes(event(tt.typ), p, tt.window)
			require.NoError(t, err)
			_, former := recipients(routes)
			if tt.want {
				assert.Equal(t, []notify.Recipient{oldEmail}, former)
			} else {
				assert.Empty(t, former)
			}
		})
	}
	// A former address that is also current is told once, as current.
	p := notify.Profile{Email: oldEmail.Address, Former: []notify.FormerAddress{{Recipient: oldEmail, Until: t0}}}
	routes, err := notify.Routes(event(notify.EmailChanged), p, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, []notify.Route{{Recipient: oldEmail}}, routes)
}

func TestRoutesRejects(t *testing.T) {
	_, err := notify.Routes(event("sim_swap.teleported"), profile(), time.Hour)
	assert.ErrorIs(t, err, notify.ErrUnknownType)
	_, err = notify.Routes(event(notify.DeliveryFailed), profile(), time.Hour)
	assert.ErrorIs(t, err, notify.ErrInvalidEvent)
	// Empty addresses and unknown channels are skipped.
	routes, err := notify.Routes(event(notify.Lockout), notify.Profile{
		Contacts: []notify.Recipient{{Channel: notify.ChannelSMS}, {Channel: "fax", Address: "+1555"}},
	}, time.Hour)
	require.NoError(t, err)
	assert.Empty(t, routes)
}
