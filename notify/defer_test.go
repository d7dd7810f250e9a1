package notify_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/store/memory"
)

// unmasked are attribute values a careless publisher might pass: identifiers that must
// never be stored or sent unmasked.
func unmasked() map[string]string {
	return map[string]string{"line": "+15551234567", "email": "alice@example.com", "detail": "call 555-123-4567 now"}
}

// TestDeferredRenderingStoresAndSendsTheSame: with Config.DeferRendering, Publish
// stores the same messages (same IDs, recipients, one per recipient and channel) with
// masked event data instead of content, and the Dispatcher sends exactly the content
// an eager Service would have stored, for every event type.
func TestDeferredRenderingStoresAndSendsTheSame(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return t0 }
	dir := directory(map[string]notify.Profile{"sub-1": profile()})
	eagerBox, deferBox := memory.NewNotify(memory.Options{Now: now}), memory.NewNotify(memory.Options{Now: now})
	eager, err := notify.New(notify.Config{Now: now}, dir, eagerBox)
	require.NoError(t, err)
	deferred, err := notify.New(notify.Config{Now: now, DeferRendering: true}, dir, deferBox)
	require.NoError(t, err)

	want := map[string]notify.Message{}
	for _, typ := range notify.Types() {
		if typ.Operator() {
			continue
		}
		for i, attrs := range []map[string]string{notify.SampleAttributes(), unmasked(), nil} {
			e := sampleEvent(typ, attrs)
			e.ID = string(typ) + "-" + string(rune('a'+i))
			require.NoError(t, eager.Publish(ctx, e))
			require.NoError(t, deferred.Publish(ctx, e))
		}
		// An unknown request channel with an identifier in it, and a system event.
		for i, ch := range []string{"ivr +15551234567 line", "system"} {
			e := sampleEvent(typ, unmasked())
			e.ID, e.Channel = string(typ)+"-ch"+string(rune('a'+i)), ch
			if ch == "system" {
				e.Actor = notify.Actor{Kind: notify.ActorSystem, ID: "sweeper"}
			}
			require.NoError(t, eager.Publish(ctx, e))
			require.NoError(t, deferred.Publish(ctx, e))
		}
	}
	eagerMsgs, err := eagerBox.Claim(ctx, "eager", 1_000_000, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, eagerMsgs)
	for _, m := range eagerMsgs {
		want[m.ID] = m
		require.Nil(t, m.Render, "an eager message carries no render data")
		d, err := deferBox.Lookup(ctx, m.ID)
		require.NoError(t, err, "deferred publish stores the same message IDs")
		assert.Equal(t, m.Recipient, d.Recipient)
		assert.Equal(t, m.Former, d.Former)
		assert.Equal(t, m.Type, d.Type)
		assert.Equal(t, notify.Content{}, d.Content, "nothing rendered at publish")
		require.NotNil(t, d.Render)
		assert.True(t, d.Render.Time.Equal(t0))
		assert.NotContains(t, d.Render.Channel, "1234567")
		for k, v := range d.Render.Attributes {
			assert.NotContains(t, v, "alice@", k)
			assert.NotContains(t, v, "1234567", k)
		}
	}

	rec := newRecorder()
	d, err := notify.NewDispatcher(notify.DispatcherConfig{Senders: allChannels(rec), Batch: 10, Now: now, Rand: zeroRand{}}, deferBox)
	require.NoError(t, err)
	for {
		n, err := d.RunOnce(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	got := rec.Delivered()
	require.Len(t, got, len(want), "every deferred message delivered, no other")
	for id, m := range want {
		assert.Equal(t, m.Content, got[id].Content, "%s renders the same at delivery", id)
		stored, err := deferBox.Lookup(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, notify.StateSent, stored.State)
	}
}

// TestDeferredRenderingErrors: an event type without templates is still refused at
// Publish (storing nothing), and a template that fails on one event's data at delivery
// abandons the message and tells the operators, without retrying it.
func TestDeferredRenderingErrors(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return t0 }
	outbox := memory.NewNotify(memory.Options{Now: now})
	// Renders the sample data (so construction succeeds) but fails on detail "boom".
	tpl, err := notify.NewTemplates(notify.TemplatesConfig{Overrides: fstest.MapFS{
		"account.details_changed.tmpl": {Data: []byte(`{{define "boom"}}{{if eq (index .Attr "detail") "boom"}}{{.Nope}}{{end}}{{end}}` +
			`{{define "subject"}}{{template "boom" .}}Changed{{end}}` +
			`{{define "summary"}}{{template "boom" .}}Changed.{{end}}{{define "short"}}{{template "boom" .}}changed{{end}}`)},
	}})
	require.NoError(t, err)
	svc, err := notify.New(notify.Config{Templates: tpl, DeferRendering: true, Now: now},
		directory(map[string]notify.Profile{"sub-1": profile()}), outbox)
	require.NoError(t, err)

	bad := sampleEvent("no.such_type", nil)
	require.ErrorIs(t, svc.Publish(ctx, bad), notify.ErrUnknownType)

	require.NoError(t, svc.Publish(ctx, sampleEvent(notify.AccountDetailsChanged, map[string]string{"detail": "boom"})))
	ops := &notify.Recorder{}
	rec := newRecorder()
	d, err := notify.NewDispatcher(notify.DispatcherConfig{Senders: allChannels(rec), Templates: tpl, Operators: ops,
		Now: now, Rand: zeroRand{}}, outbox)
	require.NoError(t, err)
	n, err := d.RunOnce(ctx)
	require.NoError(t, err)
	require.Positive(t, n)
	assert.Empty(t, rec.Delivered(), "nothing sent for a message that does not render")
	failed := 0
	for _, e := range ops.Events() {
		if e.Type == notify.DeliveryFailed {
			failed++
			assert.True(t, strings.Contains(e.Attributes["error"], "template"), e.Attributes["error"])
		}
	}
	assert.Positive(t, failed, "operators told")
	n, err = d.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "abandoned, not retried")
}
