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
	"github.com/carrierguard/carrierguard/twofactor"
)

// The probation of new factors is set once, in the policy: FactorGate reports it, and
// twofactor takes it as its own, so a thief's new factor counts in neither package
// before the other trusts it.
func ExampleFactorGate_probation() {
	const day = 24 * time.Hour
	events := &notify.Recorder{}
	policy, err := protection.NewPolicy(protection.PolicyConfig{
		Probation: map[protection.Action]time.Duration{protection.ActionDisableTwoFactor: 14 * day},
	})
	if err != nil {
		log.Fatal(err)
	}
	st := memory.NewProtection(memory.Options{})
	prot, err := protection.New(protection.Config{TwoFactor: twoFactorOn, Factors: factorsOnFile, PINKey: exampleKey(), Policy: policy}, protection.Stores{Flags: st, History: st, PINs: st}, events)
	if err != nil {
		log.Fatal(err)
	}
	otpStore, tfStore := memory.NewOTP(memory.Options{}), memory.NewTwoFactor(memory.Options{})
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: exampleKey(), Budgets: otp.SMSBudgets{HomeRegions: []string{"GB"}}}, otpStore, otpStore, events)
	if err != nil {
		log.Fatal(err)
	}
	deps := twofactor.Deps{Codes: codes, Contacts: tfStore, Recovery: tfStore, Failures: tfStore, Publisher: events,
		Sender:     twofactor.SenderFunc(func(context.Context, twofactor.Message) error { return nil }),
		SIMChanges: prot, Gate: protection.FactorGate(prot)}

	// A week, shorter than the policy's two: refused.
	_, err = twofactor.New(twofactor.Config{HashKey: exampleKey(), FactorProbation: 7 * day}, deps)
	fmt.Println(err != nil)
	// Left zero: the policy's.
	tf, err := twofactor.New(twofactor.Config{HashKey: exampleKey()}, deps)
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	fmt.Println(tf.Established(now.Add(-10*day)), tf.Established(now.Add(-15*day)))
	// Output:
	// true
	// false true
}
