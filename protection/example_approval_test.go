package protection_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
)

// An approval is not a promise: it expires after an hour, and it is decided again when
// the SIM change is carried out. Here the subscriber turns Never SIM Swap on between
// approval and completion, which cancels the approval; the carrier's provisioning job
// then finds it can no longer complete it.
func ExampleService_CompleteSIMChange_redecided() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc, events := newExampleService(now)

	res, err := svc.RequestSIMChange(ctx, protection.ChangeRequest{
		Subscriber: "sub-42", Number: "+15550104477", Kind: protection.ChangeSIMSwap,
		Channel: protection.ChannelApp, Risk: protection.RiskLow,
		Evidence: []protection.Evidence{
			{Kind: protection.EvidenceSession, ObtainedAt: now.Add(-time.Hour)},
			// An email code sent for the SIM swap, to a contact verified months ago.
			{Kind: protection.EvidenceContactCode, ObtainedAt: now, Contact: protection.ContactEmail,
				Purpose: otp.PurposeSIMSwap, FactorAddedAt: now.AddDate(0, -6, 0)},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Decision.Outcome)

	// Minutes later, from another signed-in session, the real subscriber locks the SIM.
	if err := svc.EnableFlag(ctx, "sub-42", protection.NeverSIMSwap, protection.ChannelWeb, notify.Actor{}); err != nil {
		log.Fatal(err)
	}
	err = svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{Kind: notify.ActorSystem, ID: "provisioning"})
	fmt.Println("complete:", errors.Is(err, protection.ErrNotApproved))
	fmt.Println(events.Types())
	// Output:
	// allow
	// complete: true
	// [sim_swap.requested sim_swap.approved sim_swap.denied protection.flag_enabled]
}

// The approved notice carries a cancel token in its "cancel" attribute, for a link such
// as https://carrier.example/cancel?t=TOKEN. Whoever follows it stops the change; the
// token works once. A signed-in subscriber or an agent can cancel with
// CancelSIMChange instead.
func ExampleService_CancelSIMChangeByToken() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc, events := newExampleService(now)
	res, err := svc.RequestSIMChange(ctx, protection.ChangeRequest{
		Subscriber: "sub-42", Number: "+15550104477", Kind: protection.ChangeESIMTransfer,
		Channel: protection.ChannelApp, Risk: protection.RiskLow,
		Evidence: []protection.Evidence{
			{Kind: protection.EvidenceSession, ObtainedAt: now.Add(-time.Hour)},
			// An email code sent for the SIM swap, to a contact verified months ago.
			{Kind: protection.EvidenceContactCode, ObtainedAt: now, Contact: protection.ContactEmail,
				Purpose: otp.PurposeSIMSwap, FactorAddedAt: now.AddDate(0, -6, 0)},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	approved, _ := events.Last(notify.SIMSwapApproved)
	link := "https://carrier.example/cancel?t=" + approved.Attributes["cancel"]

	// The subscriber did not ask for this, and follows the link.
	token := link[strings.Index(link, "t=")+2:]
	fmt.Println("cancel:", svc.CancelSIMChangeByToken(ctx, token))
	fmt.Println("again:", errors.Is(svc.CancelSIMChangeByToken(ctx, token), protection.ErrNotApproved))
	fmt.Println("complete:", errors.Is(svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{}), protection.ErrNotApproved))
	// Output:
	// cancel: <nil>
	// again: true
	// complete: true
}

// A partner's port-out is decided with its transfer PIN in one call. The partner
// learns accepted or not, nothing else: here a number that is no customer's, a
// customer's without a PIN and with a wrong one all get the same zero answer, and no
// subscriber hears of them (they are audited in the SIM-change history). The right PIN
// is accepted, spent, and the port completed with the reference.
func ExampleService_PartnerPortOut() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	st := memory.NewProtection(memory.Options{})
	events := &notify.Recorder{}
	svc, err := protection.New(protection.Config{TwoFactor: twoFactorOn, Factors: factorsOnFile, PINKey: exampleKey(), Now: func() time.Time { return now }},
		protection.Stores{Flags: st, History: st, PINs: st, Probes: st}, events)
	if err != nil {
		log.Fatal(err)
	}
	pin, _, err := svc.IssueTransferPIN(ctx, "sub-42", protection.Request{Channel: protection.ChannelApp, Risk: protection.RiskLow,
		Evidence: []protection.Evidence{
			{Kind: protection.EvidenceSession, ObtainedAt: now.Add(-time.Hour)},
			// An email code sent for the port-out, to a contact verified months ago.
			{Kind: protection.EvidenceContactCode, ObtainedAt: now, Contact: protection.ContactEmail,
				Purpose: otp.PurposePortOut, FactorAddedAt: now.AddDate(0, -6, 0)},
		}}, notify.Actor{})
	if err != nil {
		log.Fatal(err)
	}
	events.Reset()

	// The integrator resolves the number to its subscriber ("" if none) and sets the
	// partner from the partner's credential.
	for _, pr := range []protection.PartnerRequest{
		{Partner: "acme", Number: "+15550109999", Risk: protection.RiskLow},
		{Partner: "acme", Subscriber: "sub-42", Number: "+15550104477", Risk: protection.RiskLow},
		{Partner: "acme", Subscriber: "sub-42", Number: "+15550104477", PIN: "000000", Risk: protection.RiskLow},
	} {
		ans, err := svc.PartnerPortOut(ctx, pr)
		fmt.Printf("%+v %v\n", ans, err)
	}
	fmt.Println("events:", events.Types())

	ans, err := svc.PartnerPortOut(ctx, protection.PartnerRequest{Partner: "acme", Subscriber: "sub-42", Number: "+15550104477", PIN: pin, Risk: protection.RiskLow})
	fmt.Println("accepted:", ans.Accepted, err)
	fmt.Println("complete:", svc.CompleteSIMChange(ctx, ans.Reference, notify.Actor{Kind: notify.ActorSystem, ID: "npac"}))
	// Output:
	// {Accepted:false Reference:} <nil>
	// {Accepted:false Reference:} <nil>
	// {Accepted:false Reference:} <nil>
	// events: []
	// accepted: true <nil>
	// complete: <nil>
}
