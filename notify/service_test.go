package notify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/store/memory"
)

func newService(t testing.TB, outbox notify.Outbox, ops notify.Publisher) *notify.Service {
	t.Helper()
	p := profile()
	svc, err := notify.New(notify.Config{Operators: ops, Now: func() time.Time { return t0 }},
		directory(map[string]notify.Profile{"sub-1": p, "nobody": {}}), outbox)
	require.NoError(t, err)
	return svc
}

func TestPublishStoresOneMessagePerRecipientBeforeSending(t *testing.T) {
	ctx := context.Background()
	outbox := memory.NewNotify(memory.Options{Now: func() time.Time { return t0 }})
	svc := newService(t, outbox, nil)
	e := sampleEvent(notify.EmailChanged, map[string]string{"email": "n•••@example.com"})
	require.NoError(t, svc.Publish(ctx, e))

	want := []notify.Recipient{email, phone, backup, device, oldEmail}
	for i, id := range ids(e.ID, want...) {
		m, err := outbox.Lookup(ctx, id)
		require.NoError(t, err, want[i].Address)
		assert.Equal(t, notify.StatePending, m.State)
		assert.Equal(t, 0, m.Attempts, "nothing sent yet")
		assert.Equal(t, want[i], m.Recipient)
		assert.Equal(t, want[i] == oldEmail, m.Former)
		assert.Equal(t, e.ID, m.EventID)
		assert.Equal(t, notify.EmailChanged, m.Type)
		assert.True(t, m.Created.Equal(t0))
		assert.NotEmpty(t, m.Content.Text)
		switch m.Recipient.Channel {
		case notify.ChannelEmail:
			assert.NotEmpty(t, m.Content.HTML)
			assert.Equal(t, "The email address on your account was changed", m.Content.Subject)
		case notify.ChannelSMS:
			assert.Contains(t, m.Content.Text, "n***@example.com")
		}
	}
	claimed, err := outbox.Claim(ctx, "count", 100, time.Minute)
	require.NoError(t, err)
	assert.Len(t, claimed, len(want), "one message per recipient and channel, no more")
}

func TestPublishIsIdempotent(t *testing.T) {
	ctx := context.Background()
	outbox := memory.NewNotify(memory.Options{Now: func() time.Time { return t0 }})
	svc := newService(t, outbox, nil)
	e := sampleEvent(notify.PasswordChanged, nil)
	require.NoError(t, svc.Publish(ctx, e))
	require.NoError(t, svc.Publish(ctx, e), "a caller retrying after an ambiguous failure")
	claimed, err := outbox.Claim(ctx, "count", 100, time.Minute)
	require.NoError(t, err)
	assert.Len(t, claimed, 4)
}

func TestPublishFailures(t *testing.T) {
	ctx := context.Background()
	outbox := memory.NewNotify(memory.Options{Now: func() time.Time { return t0 }})
	svc := newService(t, outbox, nil)
	tests := []struct {
		name string
		svc  *notify.Service
		e    notify.Event
		want error
	}{
		{"unknown type", svc, sampleEvent("sim_swap.teleported", nil), notify.ErrUnknownType},
		{"operator type", svc, sampleEvent(notify.DeliveryFailed, nil), notify.ErrInvalidEvent},
		{"secret attribute", svc, sampleEvent(notify.Lockout, map[string]string{"otp_code": "123456"}), notify.ErrInvalidEvent},
		{"unknown subscriber", svc, func() notify.Event { e := sampleEvent(notify.Lockout, nil); e.Subscriber = "ghost"; return e }(), notify.ErrNotFound},
		{"outbox down", newService(t, failingOutbox{outbox}, nil), sampleEvent(notify.Lockout, nil), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.svc.Publish(ctx, tt.e)
			require.Error(t, err)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
			assert.NotContains(t, err.Error(), "123456")
			c, _ := outbox.Claim(ctx, "check", 100, time.Minute)
			assert.Empty(t, c, "nothing stored")
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, svc.Publish(cctx, sampleEvent(notify.Lockout, nil)), context.Canceled)
}

func TestPublishNoRecipient(t *testing.T) {
	ctx := context.Background()
	outbox := memory.NewNotify(memory.Options{})
	var ops notify.Recorder
	svc := newService(t, outbox, &ops)
	e := sampleEvent(notify.SIMSwapRequested, nil)
	e.Subscriber = "nobody"
	require.NoError(t, svc.Publish(ctx, e), "a change for a subscriber without contacts is not blocked")
	sig, ok := ops.Last(notify.DeliveryFailed)
	require.True(t, ok, "operators are told a security event had nowhere to go")
	assert.Equal(t, "nobody", sig.Subscriber)
	assert.Equal(t, e.ID, sig.Attributes["event_id"])
	assert.Equal(t, string(notify.SIMSwapRequested), sig.Attributes["event_type"])

	ops.Reset()
	e = sampleEvent(notify.EmailVerified, nil)
	e.Subscriber = "nobody"
	require.NoError(t, svc.Publish(ctx, e))
	assert.Empty(t, ops.Events(), "non-security events without recipients are not an operator problem")
}

func TestNewValidation(t *testing.T) {
	outbox := memory.NewNotify(memory.Options{})
	dir := directory(nil)
	_, err := notify.New(notify.Config{}, nil, outbox)
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
	_, err = notify.New(notify.Config{}, dir, nil)
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
	_, err = notify.New(notify.Config{FormerWindow: -time.Hour}, dir, outbox)
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "Config.FormerWindow")
	_, err = notify.New(notify.Config{}, dir, outbox)
	assert.NoError(t, err)

	dirErr := errors.New("crm timeout")
	svc, err := notify.New(notify.Config{}, notify.DirectoryFunc(func(context.Context, string) (notify.Profile, error) {
		return notify.Profile{}, dirErr
	}), outbox)
	require.NoError(t, err)
	assert.ErrorIs(t, svc.Publish(context.Background(), sampleEvent(notify.Lockout, nil)), dirErr, "fail closed on directory errors")
}
