package line_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/line"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
)

// A number given at sign-up is no line until proved; the carrier's provisioning proves
// the lines it sold.
func ExampleService_Check() {
	ctx := context.Background()
	crm := line.ProvisioningFunc(func(_ context.Context, subscriber, number string) (bool, error) {
		return subscriber == "sub-dana" && number == "+12015550001", nil
	})
	svc, _ := line.New(line.Config{}, line.Deps{Store: memory.NewLines(memory.Options{}), Provisioning: crm, Publisher: &notify.Recorder{}})

	_, err := svc.Check(ctx, "sub-stranger", "+12015550001") // registered the number under his own email
	fmt.Println(errors.Is(err, line.ErrUnproved))
	b, err := svc.Check(ctx, "sub-dana", "+12015550001")
	fmt.Println(b.Subscriber, b.Source, err)
	// Output:
	// true
	// sub-dana provisioning <nil>
}

// A number typed in at sign-up becomes the account's line once the SMS code sent to it
// is read back.
func ExampleService_Complete() {
	ctx := context.Background()
	st := memory.NewOTP(memory.Options{})
	hashKey, err := keyring.GenerateKey() // in production: 32 random bytes from configuration
	if err != nil {
		log.Fatal(err)
	}
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: hashKey,
		Budgets: otp.SMSBudgets{HomeRegions: []string{"US"}}}, st, st, &notify.Recorder{})
	if err != nil {
		log.Fatal(err)
	}
	var sms line.Message // the SMS gateway
	noRecentSwap := simChangesFunc(func(context.Context, string, time.Duration) (bool, error) { return false, nil })
	svc, _ := line.New(line.Config{}, line.Deps{Store: memory.NewLines(memory.Options{}), Codes: codes,
		Sender:     line.SenderFunc(func(_ context.Context, m line.Message) error { sms = m; return nil }),
		SIMChanges: noRecentSwap, Publisher: &notify.Recorder{}})

	ch, _ := svc.BeginFrom(ctx, "sub-ada", "+12015550002", "203.0.113.7") // the client's address, for the SMS budgets
	fmt.Println("code sent to", ch.Masked)
	b, err := svc.Complete(ctx, line.CompleteRequest{Subscriber: "sub-ada", Number: "+12015550002",
		ChallengeID: ch.ID, Code: sms.Code})
	fmt.Println(b.Subscriber, b.Source, err)
	_, err = svc.Check(ctx, "sub-ada", "+12015550002")
	fmt.Println("proved:", err == nil)
	// Output:
	// code sent to •••• 0002
	// sub-ada sms_code <nil>
	// proved: true
}
