package risk_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/store/memory"
)

// Wrap the publisher every carrierguard service publishes through, and risk learns each
// account change from the library's own events. Here a thief who has Alice's password
// adds his own email as a trusted contact (twofactor publishes contact.added), then asks
// for a SIM swap: the integrator filled no account-change field, and the swap is High.
func ExampleFacts() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc, err := risk.New(risk.Config{Now: func() time.Time { return now }},
		memory.NewRiskProfiles(memory.Options{}), memory.NewRiskGlobal(memory.Options{}))
	if err != nil {
		panic(err)
	}
	outbox := &notify.Recorder{} // the notify outbox in production
	pub, err := risk.NewFacts(outbox, svc, nil)
	if err != nil {
		panic(err)
	}
	// Hand pub to twofactor.New, password.New, protection.New, ... They publish:
	err = pub.Publish(ctx, notify.Event{ID: notify.NewID(), Type: notify.TrustedContactAdded,
		Subscriber: "alice", Time: now, Actor: notify.Actor{Kind: notify.ActorSubscriber}, Channel: "app"})
	if err != nil {
		panic(err)
	}

	now = now.Add(10 * time.Minute)
	a, _ := svc.Assess(ctx, risk.Request{
		Subscriber: "alice", Action: risk.ActionSIMSwap, Channel: risk.ChannelApp,
		IP: netip.MustParseAddr("198.51.100.66"), Device: "thief-phone", UserAgent: "Mozilla/5.0",
		Account: risk.Account{EmailVerified: true, Created: now.AddDate(-2, 0, 0)},
	})
	fmt.Println(a.Level)
	for _, s := range a.Signals {
		fmt.Printf("  %s: %s\n", s.Name, s.Reason)
	}
	fmt.Println("events published:", outbox.Types())
	// Output:
	// high
	//   credential_change: trusted contact changed 10m0s before this sim_swap
	// events published: [contact.added]
}

// A partner's port-out is scored on account signals only: the gaining carrier's server
// is not the subscriber's device. On an established account it is Low; right after a
// SIM change it is not.
func ExampleChannel_SubscriberClient() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc, err := risk.New(risk.Config{Now: func() time.Time { return now }},
		memory.NewRiskProfiles(memory.Options{}), memory.NewRiskGlobal(memory.Options{}))
	if err != nil {
		panic(err)
	}
	req := risk.Request{
		Subscriber: "alice", Action: risk.ActionPortOut, Channel: risk.ChannelAPI,
		IP: netip.MustParseAddr("192.0.2.200"), UserAgent: "Go-http-client/1.1",
		Account: risk.Account{EmailVerified: true, Created: now.AddDate(-2, 0, 0)},
	}
	fmt.Println(risk.ChannelAPI.SubscriberClient(), risk.ChannelApp.SubscriberClient())
	a, _ := svc.Assess(ctx, req)
	fmt.Println("partner port-out:", a.Level, len(a.Signals), "signals")

	if err := svc.NoteChange(ctx, "alice", risk.ChangeSIM, now.Add(-12*time.Hour)); err != nil {
		panic(err)
	}
	a, _ = svc.Assess(ctx, req)
	fmt.Println("after a SIM change:", a.Level, a.Signals[0].Name)
	// Output:
	// false true
	// partner port-out: low 0 signals
	// after a SIM change: medium recent_sim_change
}
