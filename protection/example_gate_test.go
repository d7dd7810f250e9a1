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
	"github.com/carrierguard/carrierguard/twofactor"
)

// Adding a way to sign in is decided like any sensitive change: twofactor asks
// FactorGate, so with Account Lockdown on, even the first contact of an account is not
// added from the app; the refusal carries the decision, which says where to go instead.
func ExampleFactorGate() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	opts := memory.Options{Now: clock}
	events := &notify.Recorder{}

	st := memory.NewProtection(opts)
	prot, err := protection.New(protection.Config{TwoFactor: twoFactorOn, Factors: factorsOnFile, PINKey: exampleKey(), Now: clock}, protection.Stores{Flags: st, History: st, PINs: st}, events)
	if err != nil {
		log.Fatal(err)
	}
	otpStore := memory.NewOTP(opts)
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: exampleKey(), Now: clock,
		Budgets: otp.SMSBudgets{HomeRegions: []string{"GB"}}}, otpStore, otpStore, events)
	if err != nil {
		log.Fatal(err)
	}
	tfStore := memory.NewTwoFactor(opts)
	tf, err := twofactor.New(twofactor.Config{HashKey: exampleKey(), Now: clock}, twofactor.Deps{
		Codes: codes, Contacts: tfStore, Recovery: tfStore, Failures: tfStore, Publisher: events,
		Sender:     twofactor.SenderFunc(func(context.Context, twofactor.Message) error { return nil }),
		SIMChanges: prot,
		Gate:       protection.FactorGate(prot),
	})
	if err != nil {
		log.Fatal(err)
	}

	if err := prot.EnableFlag(ctx, "sub-42", protection.AccountLockdown, protection.ChannelApp, notify.Actor{}); err != nil {
		log.Fatal(err)
	}
	// Signed in just now with the password: all an account without a factor can give.
	_, err = tf.AddContact(ctx, twofactor.AddContactRequest{Subscriber: "sub-42", Kind: twofactor.KindEmail,
		Value: "ada@example.com", Reauth: twofactor.Reauth{SignedInAt: now, PasswordAt: now}})
	var refused *protection.DecisionError
	if errors.Is(err, twofactor.ErrChangeRefused) && errors.As(err, &refused) {
		fmt.Println(refused.Decision.Action, refused.Decision.Outcome, refused.Decision.Reasons)
		fmt.Println(refused.Decision.Message())
	}
	// Output:
	// add_first_factor deny channel_cannot_satisfy,flag_account_lockdown,visit_store
	// Denied. Account Lockdown is on: changes need a code sent to a trusted contact plus security questions, or a government ID in a store.
}
