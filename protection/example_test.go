package protection_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
)

// newExampleService builds a service on the in-memory stores with a fixed clock, for a
// subscriber who has had 2FA on for a long time.
func newExampleService(now time.Time) (*protection.Service, *notify.Recorder) {
	st := memory.NewProtection(memory.Options{})
	events := &notify.Recorder{}
	svc, err := protection.New(protection.Config{
		PINKey: exampleKey(), // from configuration or a KMS in production
		Now:    func() time.Time { return now },
		// In production the twofactor service (Example_wiring): with 2FA off, a SIM
		// change asked for in the app is held, not carried out at once.
		TwoFactor: protection.TwoFactorStateFunc(func(context.Context, string) (bool, error) { return true, nil }),
		// In production FactorsFromTwoFactor: a completion drops evidence whose factor
		// was removed since the decision.
		Factors: factorsOnFile,
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
			{Kind: protection.EvidenceContactCode, ObtainedAt: now, Contact: protection.ContactEmail,
				Purpose: otp.PurposeSIMSwap, FactorAddedAt: now.AddDate(-1, 0, 0)},
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

	// The app sends a one-time code, "for a SIM swap", to a trusted contact verified a
	// year ago, and the subscriber enters it (protection.EvidenceFromProof converts the
	// twofactor proof into this).
	req.RequestID = res.RequestID
	req.Evidence = append(req.Evidence, protection.Evidence{
		Kind: protection.EvidenceContactCode, ObtainedAt: now, Contact: protection.ContactEmail,
		Purpose: otp.PurposeSIMSwap, FactorAddedAt: now.AddDate(-1, 0, 0)})
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
			{Kind: protection.EvidenceContactCode, ObtainedAt: now, Contact: protection.ContactEmail,
				Purpose: otp.PurposeSIMSwap, FactorAddedAt: now.AddDate(-1, 0, 0)},
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

// Which proof counts for a SIM swap in the app: a code the subscriber read out at
// sign-in counts for nothing but the sign-in; one sent "for a SIM swap" counts, but if
// its contact was verified yesterday (a thief's own, perhaps) the swap is held for a
// day, while every contact on file hears of it; from a contact on file for a year it
// goes ahead.
func Example_whichProofCounts() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	policy, err := protection.NewPolicy(protection.PolicyConfig{Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	code := func(purpose otp.Purpose, contactVerified time.Time) protection.Evidence {
		return protection.Evidence{Kind: protection.EvidenceContactCode, ObtainedAt: now.Add(-time.Minute),
			Contact: protection.ContactEmail, Purpose: purpose, FactorAddedAt: contactVerified}
	}
	session := protection.Evidence{Kind: protection.EvidenceSession, ObtainedAt: now.Add(-time.Hour)}
	for _, tc := range []struct {
		name string
		code protection.Evidence
	}{
		{"sign-in code", code(otp.PurposeSignIn, now.AddDate(-1, 0, 0))},
		{"account-change code", code(otp.PurposeAccountChange, now.AddDate(-1, 0, 0))},
		{"SIM-swap code, contact verified yesterday", code(otp.PurposeSIMSwap, now.AddDate(0, 0, -1))},
		{"SIM-swap code, contact verified a year ago", code(otp.PurposeSIMSwap, now.AddDate(-1, 0, 0))},
	} {
		d, err := policy.Evaluate(&protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp,
			Risk: protection.RiskLow, Evidence: []protection.Evidence{session, tc.code}})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s %s\n", tc.name, d.Outcome, d.Reasons)
	}
	// Output:
	// sign-in code: step_up evidence_required,evidence_wrong_purpose
	// account-change code: step_up evidence_required,evidence_wrong_purpose
	// SIM-swap code, contact verified yesterday: hold evidence_satisfied,factor_in_probation,probation_hold
	// SIM-swap code, contact verified a year ago: allow evidence_satisfied
}

// The purpose a step-up code must be asked for, per action: the message that carries
// the code names it, and the policy counts the proof only toward actions of it.
func ExamplePurposeFor() {
	for _, a := range []protection.Action{protection.ActionSIMSwap, protection.ActionIssueTransferPIN,
		protection.ActionRemoveTrustedContact, protection.ActionEnableTwoFactor, protection.ActionChangeEmail} {
		fmt.Println(a, "->", protection.PurposeFor(a))
	}
	fmt.Println("lifting", protection.NeverSIMSwap, "->", protection.PurposeForFlag(protection.NeverSIMSwap))
	// Output:
	// sim_swap -> sim_swap_authorisation
	// issue_transfer_pin -> port_out_authorisation
	// remove_trusted_contact -> disable_two_factor
	// enable_two_factor -> add_factor
	// change_email -> account_change
	// lifting never_sim_swap -> sim_swap_authorisation
}
