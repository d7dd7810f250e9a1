package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/store/memory"
)

// BenchmarkDispatch publishes one event (one recipient, email: subject, text and HTML
// rendered) into the memory outbox and delivers it to a no-op sender.
func BenchmarkDispatch(b *testing.B) { benchmarkDispatch(b, false) }

// BenchmarkDispatchDeferred is BenchmarkDispatch with Config.DeferRendering: the same
// work, with the rendering done by the dispatcher instead of Publish.
func BenchmarkDispatchDeferred(b *testing.B) { benchmarkDispatch(b, true) }

func benchmarkDispatch(b *testing.B, deferRendering bool) {
	ctx := context.Background()
	outbox := memory.NewNotify(memory.Options{})
	dir := notify.DirectoryFunc(func(context.Context, string) (notify.Profile, error) {
		return notify.Profile{Email: "alice@example.com"}, nil
	})
	svc, err := notify.New(notify.Config{DeferRendering: deferRendering}, dir, outbox)
	if err != nil {
		b.Fatal(err)
	}
	noop := notify.SenderFunc(func(context.Context, notify.Delivery) error { return nil })
	d, err := notify.NewDispatcher(notify.DispatcherConfig{
		Senders: map[notify.Channel]notify.Sender{notify.ChannelEmail: noop}, Batch: 1,
	}, outbox)
	if err != nil {
		b.Fatal(err)
	}
	e := notify.Event{Type: notify.SIMSwapRequested, Subscriber: "sub-1", Time: time.Now(),
		Actor: notify.Actor{Kind: notify.ActorSubscriber}, Channel: "app", Attributes: map[string]string{"line": "•••• 1234"}}
	b.ReportAllocs()
	for b.Loop() {
		e.ID = notify.NewID()
		if err := svc.Publish(ctx, e); err != nil {
			b.Fatal(err)
		}
		if n, err := d.RunOnce(ctx); err != nil || n != 1 {
			b.Fatalf("RunOnce = %d, %v", n, err)
		}
	}
}
