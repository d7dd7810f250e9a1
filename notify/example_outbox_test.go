package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/store/memory"
)

// The outbox end to end, delivering to the development LogSender: Publish stores one
// message per recipient and channel, the dispatcher sends them.
func ExampleService() {
	ctx := context.Background()
	dir := notify.DirectoryFunc(func(context.Context, string) (notify.Profile, error) {
		return notify.Profile{
			Email:    "alice@example.com",
			Contacts: []notify.Recipient{{Channel: notify.ChannelSMS, Address: "+15551230001"}},
		}, nil
	})
	outbox := memory.NewNotify(memory.Options{})
	publisher, err := notify.New(notify.Config{}, dir, outbox)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A logger without timestamps, so the output is stable.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "idempotency_key" {
				return slog.Attr{}
			}
			return a
		},
	}))
	log := notify.LogSender{Logger: logger}
	dispatcher, err := notify.NewDispatcher(notify.DispatcherConfig{
		Senders: map[notify.Channel]notify.Sender{notify.ChannelEmail: log, notify.ChannelSMS: log},
	}, outbox)
	if err != nil {
		fmt.Println(err)
		return
	}

	err = publisher.Publish(ctx, notify.Event{
		ID: notify.NewID(), Type: notify.PasswordChanged, Subscriber: "subscriber-42",
		Time: time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC), Actor: notify.Actor{Kind: notify.ActorSubscriber},
		Channel: "web",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := dispatcher.RunOnce(ctx)
	fmt.Println("delivered", n, err)
	// Output:
	// level=INFO msg="notify: delivered (log sender)" type=password.changed channel=email to=a•••@example.com subject="Your password was changed" attempt=1
	// level=INFO msg="notify: delivered (log sender)" type=password.changed channel=sms to="•••• 0001" subject="" attempt=1
	// delivered 2 <nil>
}

// The old-address rule: the email change is stored before the event is published, so the
// directory reports the replaced address as former, and the router tells it too.
func ExampleRoutes() {
	changedAt := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	p := notify.Profile{
		Email: "mallory@example.net", // the new address, possibly an attacker's
		Former: []notify.FormerAddress{{
			Recipient: notify.Recipient{Channel: notify.ChannelEmail, Address: "alice@example.com"},
			Until:     changedAt,
		}},
	}
	e := notify.Event{ID: notify.NewID(), Type: notify.EmailChanged, Subscriber: "subscriber-42",
		Time: changedAt, Actor: notify.Actor{Kind: notify.ActorSubscriber}, Channel: "app"}
	routes, err := notify.Routes(e, p, notify.DefaultFormerWindow)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range routes {
		fmt.Println(r.Recipient.Channel, r.Recipient.Masked(), "former:", r.Former)
	}
	// Output:
	// email m•••@example.net former: false
	// email a•••@example.com former: true
}
