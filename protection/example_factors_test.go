package protection_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
)

// With Config.Factors, an approval completed later rests only on factors still on the
// account: here a SIM swap held for a day on a contact in probation, whose contact is
// removed during the hold, is denied when it comes due. In production the checker is
// FactorsFromTwoFactor over the twofactor service (wrapped in a FactorCheckerFunc,
// since twofactor is built after protection).
func ExampleFactorCheckerFunc() {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	removed := false
	st := memory.NewProtection(memory.Options{Now: clock})
	prot, err := protection.New(protection.Config{TwoFactor: twoFactorOn, PINKey: exampleKey(), Now: clock,
		Factors: protection.FactorCheckerFunc(func(context.Context, string, protection.Evidence) (bool, error) {
			return !removed, nil
		})}, protection.Stores{Flags: st, History: st, PINs: st}, &notify.Recorder{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := prot.RequestSIMChange(ctx, protection.ChangeRequest{Subscriber: "alice", Number: "+15550104477",
		Kind: protection.ChangeSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow,
		Evidence: []protection.Evidence{
			{Kind: protection.EvidenceSession, ObtainedAt: now},
			{Kind: protection.EvidenceContactCode, Contact: protection.ContactEmail, ObtainedAt: now,
				Purpose: otp.PurposeSIMSwap, FactorAddedAt: now.Add(-96 * time.Hour)}, // in probation
		}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Decision.Outcome)

	removed = true // the subscriber removes the contact during the hold
	now = now.Add(24*time.Hour + time.Minute)
	err = prot.CompleteSIMChange(ctx, res.RequestID, notify.Actor{Kind: notify.ActorSystem})
	fmt.Println(errors.Is(err, protection.ErrNoLongerPermitted))
	// Output:
	// hold
	// true
}
