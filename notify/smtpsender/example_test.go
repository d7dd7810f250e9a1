package smtpsender_test

import (
	"context"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/notify/smtpsender"
	"github.com/carrierguard/carrierguard/store/memory"
)

// An event published by any carrierguard package travels through the outbox to an SMTP
// server. Here the server is a real one (github.com/emersion/go-smtp) running in this
// process; in production, set Host, Username and Password for your relay and keep the
// default STARTTLS.
func Example() {
	srv, stop, err := newMailServer(serverMode{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()

	// Where subscribers are reached: your CRM, behind the notify.Directory interface.
	dir := notify.DirectoryFunc(func(context.Context, string) (notify.Profile, error) {
		return notify.Profile{Email: "alice@example.com"}, nil
	})
	outbox := memory.NewNotify(memory.Options{})
	publisher, err := notify.New(notify.Config{}, dir, outbox)
	if err != nil {
		fmt.Println(err)
		return
	}

	email, err := smtpsender.New(smtpsender.Config{
		Host: srv.Host, Port: srv.Port, Security: smtpsender.Plaintext, // a local relay
		From: "security@carrier.example", FromName: "Carrier Security",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	dispatcher, err := notify.NewDispatcher(notify.DispatcherConfig{
		Senders: map[notify.Channel]notify.Sender{notify.ChannelEmail: email},
	}, outbox)
	if err != nil {
		fmt.Println(err)
		return
	}

	// A support agent takes a SIM swap request on the phone; the protection package
	// publishes this event. Publish stores the message before returning.
	err = publisher.Publish(ctx, notify.Event{
		ID: "3f1c0a7e9b2d4c6e8f0a1b2c3d4e5f60", Type: notify.SIMSwapRequested, Subscriber: "subscriber-42",
		Time:  time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC),
		Actor: notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"}, Channel: "phone",
		Attributes: map[string]string{"line": "•••• 1234"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Normally dispatcher.Run(ctx) runs in the background; one pass is enough here.
	n, err := dispatcher.RunOnce(ctx)
	fmt.Println("sent:", n, err)

	got := srv.Messages()[0]
	msg, _ := mail.ReadMessage(strings.NewReader(got.Data))
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	fmt.Println("to:", got.To)
	fmt.Println("subject:", subject)
	fmt.Println("message-id:", msg.Header.Get("Message-ID"))
	// Output:
	// sent: 1 <nil>
	// to: [alice@example.com]
	// subject: SIM swap requested for your line
	// message-id: <fa567a8c59a308bb9e0791ad50a26191@carrier.example>
}
