package notify_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
)

func valid() notify.Event {
	return notify.Event{
		ID: notify.NewID(), Type: notify.SIMSwapRequested, Subscriber: "sub-1",
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Actor: notify.Actor{Kind: notify.ActorSubscriber},
		Channel: "app", Attributes: map[string]string{"line": "•••• 1234"},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*notify.Event)
		want   string
	}{
		{"valid", func(*notify.Event) {}, ""},
		{"no id", func(e *notify.Event) { e.ID = "" }, "ID is empty"},
		{"unknown type", func(e *notify.Event) { e.Type = "sim_swap.teleported" }, "unknown event type"},
		{"no subscriber", func(e *notify.Event) { e.Subscriber = "" }, "Subscriber is empty"},
		{"no time", func(e *notify.Event) { e.Time = time.Time{} }, "Time is zero"},
		{"agent without id", func(e *notify.Event) { e.Actor = notify.Actor{Kind: notify.ActorAgent} }, "agent actor needs an ID"},
		{"agent with id", func(e *notify.Event) { e.Actor = notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"} }, ""},
		{"bad actor", func(e *notify.Event) { e.Actor = notify.Actor{Kind: "robot"} }, "Actor.Kind \"robot\""},
		{"secret attr", func(e *notify.Event) { e.Attributes["otp_code"] = "123456" }, "looks like a secret"},
		{"answer attr", func(e *notify.Event) { e.Attributes["Answer"] = "blue" }, "looks like a secret"},
		{"pin attr", func(e *notify.Event) { e.Attributes["transfer_pin"] = "1" }, "looks like a secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := valid()
			tt.mutate(&e)
			err := e.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, notify.ErrInvalidEvent)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "123456")
		})
	}
}

func TestTypes(t *testing.T) {
	types := notify.Types()
	assert.GreaterOrEqual(t, len(types), 38)
	seen := map[notify.Type]bool{}
	for i, typ := range types {
		assert.True(t, typ.Known())
		assert.False(t, seen[typ])
		seen[typ] = true
		if i > 0 {
			assert.Less(t, string(types[i-1]), string(typ), "sorted")
		}
	}
	for _, typ := range []notify.Type{notify.SIMSwapRequested, notify.PortOutRequested, notify.ProtectionFlagDisableRequested, notify.PasswordChanged, notify.TwoFactorDisabled, notify.SuspiciousActivity, notify.Lockout} {
		assert.True(t, typ.Security(), "%s must be a security event", typ)
	}
	assert.False(t, notify.PasswordRotationDue.Security())
	assert.False(t, notify.Type("nope").Known())

	// Operator signals are known types, but never security events or address changes.
	var operators []notify.Type
	for _, typ := range types {
		if typ.Operator() {
			operators = append(operators, typ)
			assert.False(t, typ.Security())
			assert.False(t, typ.ChangesAddress())
		}
	}
	assert.Equal(t, []notify.Type{notify.DeliveryFailed}, operators)
	assert.False(t, notify.SIMSwapRequested.Operator())
	assert.True(t, notify.EmailChanged.ChangesAddress())
	assert.False(t, notify.PasswordChanged.ChangesAddress())
}

func TestNewIDUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := notify.NewID()
		assert.Len(t, id, 32)
		assert.False(t, seen[id])
		seen[id] = true
	}
}

func TestRecorder(t *testing.T) {
	ctx := context.Background()
	var rec notify.Recorder
	e := valid()
	require.NoError(t, rec.Publish(ctx, e))
	e.Attributes["line"] = "changed after publish"
	got, ok := rec.Last(notify.SIMSwapRequested)
	require.True(t, ok)
	assert.Equal(t, "•••• 1234", got.Attributes["line"], "recorder must copy attributes")

	bad := valid()
	bad.Type = "x"
	assert.ErrorIs(t, rec.Publish(ctx, bad), notify.ErrUnknownType)
	assert.Len(t, rec.Events(), 1)

	boom := errors.New("outbox down")
	rec.Err = boom
	assert.ErrorIs(t, rec.Publish(ctx, valid()), boom)
	rec.Err = nil

	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = rec.Publish(ctx, valid()) }()
	}
	wg.Wait()
	assert.Len(t, rec.Types(), 65)
	_, ok = rec.Last(notify.PortOutDenied)
	assert.False(t, ok)
	rec.Reset()
	assert.Empty(t, rec.Events())

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, rec.Publish(cctx, valid()), context.Canceled)
}

func TestPublisherFunc(t *testing.T) {
	var got notify.Type
	var p notify.Publisher = notify.PublisherFunc(func(_ context.Context, e notify.Event) error { got = e.Type; return nil })
	require.NoError(t, p.Publish(context.Background(), valid()))
	assert.Equal(t, notify.SIMSwapRequested, got)
}

func TestSecretAttributeNames(t *testing.T) {
	secret := []string{"code", "otp_code", "OTPCode", "transferPIN", "transfer_pin", "pins", "Answer",
		"security-answers", "passcode", "password", "new.password", "recoveryCodes", "totp", "session_token", "seed"}
	fine := []string{"shipping", "postcode", "spinner", "opinion", "country", "contact", "line",
		"reasons", "flag", "tokenizer", "passage", "seeding", "destination"}
	for _, name := range secret {
		e := valid()
		e.Attributes = map[string]string{name: "x"}
		assert.ErrorIs(t, e.Validate(), notify.ErrInvalidEvent, "%q must be refused", name)
	}
	for _, name := range fine {
		e := valid()
		e.Attributes = map[string]string{name: "x"}
		assert.NoError(t, e.Validate(), "%q must be allowed", name)
	}
}
