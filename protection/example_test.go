package protection_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
)

// newExampleService builds a service on the in-memory stores with a fixed clock.
func newExampleService(now time.Time) (*protection.Service, *notify.Recorder) {
	st := memory.NewProtection(memory.Options{})
	events := &notify.Recorder{}
	svc, err := protection.New(protection.Config{
		PINKey: exampleKey(), // from configuration or a KMS in production
		Now:    func() time.Time { return now },
	}, protection.Stores{Flags: st, History: st, PINs: st}, events)
	if err != nil {
		log.Fatal(err)
	}
	return svc, events
}

// A subscriber turns Never SIM Swap on from the app: at once, for free, and notified.
// From then on no SIM swap is possible in the app.
func Example_neverSIMSwap() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc, events := newExampleService(now)

	err := svc.EnableFlag(ctx, "sub-42", protection.NeverSIMSwap, protection.ChannelApp, notify.Actor{Kind: notify.ActorSubscriber})
	if err != nil {
		log.Fatal(err)
	}
	flags, _ := svc.Flags(ctx, "sub-42")
	fmt.Println("flags on:", flags.On)
	fmt.Println("event:", events.Types())

	d, _ := svc.Decide(ctx, "sub-42", protection.Request{
		Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow,
		Evidence: []protection.Evidence{
			{Kind: protection.EvidenceSession, ObtainedAt: now.Add(-time.Hour)},
			{Kind: protection.EvidenceContactCode, ObtainedAt: now, Contact: protection.ContactEmail},
		},
	})
	fmt.Println(d.Outcome, d.Reasons)
	fmt.Println(d.Message())
	// Output:
	// flags on: never_sim_swap
	// event: [protection.flag_enabled]
	// deny flag_never_sim_swap,visit_store
	// Denied. Never SIM Swap is on: a SIM change needs a government ID and a code sent to a trusted contact, in a store, or the flag turned off first.
}

// A SIM swap requested from a signed-in app session steps up: the app is told which
// evidence would do, asks for it, and continues the same request.
func Example_simSwapStepUp() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc, events := newExampleService(now)

	req := protection.ChangeRequest{
		Subscriber: "sub-42", Number: "+1 555 010 4477", Kind: protection.ChangeSIMSwap,
		Channel: protection.ChannelApp, Risk: protection.RiskLow,
		Evidence: []protection.Evidence{{Kind: protection.EvidenceSession, ObtainedAt: now.Add(-time.Hour)}},
	}
	res, err := svc.RequestSIMChange(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Decision.Outcome, "- offer:", res.Decision.Missing())

	// The app sends a one-time code to a trusted contact and the subscriber enters it.
	req.RequestID = res.RequestID
	req.Evidence = append(req.Evidence, protection.Evidence{
		Kind: protection.EvidenceContactCode, ObtainedAt: now, Contact: protection.ContactEmail})
	res, err = svc.RequestSIMChange(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Decision.Outcome, res.Decision.Counted)
	fmt.Println("events:", events.Types())
	// Output:
	// step_up - offer: [contact_code]
	// allow session+contact_code
	// events: [sim_swap.requested sim_swap.approved]
}

// A caller on the phone asks an agent for a SIM swap. However much the caller knows,
// SIM changes are never carried out on a phone call; the subscriber is told at once.
func Example_phoneSIMSwapDenied() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc, events := newExampleService(now)

	res, err := svc.RequestSIMChange(ctx, protection.ChangeRequest{
		Subscriber: "sub-42", Number: "+15550104477", Kind: protection.ChangeSIMSwap,
		Channel: protection.ChannelPhone, Actor: notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"},
		Risk: protection.RiskLow,
		Evidence: []protection.Evidence{
			{Kind: protection.EvidenceSecurityQuestions, ObtainedAt: now},
			{Kind: protection.EvidenceContactCode, ObtainedAt: now, Contact: protection.ContactEmail},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Decision.Outcome, res.Decision.Reasons)
	fmt.Println(res.Decision.Message())
	fmt.Println("events:", events.Types())
	// Output:
	// deny channel_not_allowed,sim_change_channel,visit_store
	// Denied. SIM changes are never carried out on a phone call or chat: use the signed-in app or website, or visit a store with a government ID.
	// events: [sim_swap.requested sim_swap.denied]
}
