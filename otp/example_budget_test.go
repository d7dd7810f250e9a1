package otp_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
)

// SMS budgets: codes go only to the home country (and regions allowed on purpose), and
// one client cannot ask for codes to number after number.
func Example_smsBudgets() {
	ctx := context.Background()
	store := memory.NewOTP(memory.Options{})
	hashKey, err := keyring.GenerateKey() // in production: 32 random bytes from configuration
	if err != nil {
		log.Fatal(err)
	}
	codes, err := otp.NewCodes(otp.CodeConfig{
		HashKey: hashKey,
		Budgets: otp.SMSBudgets{HomeRegions: []string{"US"}, PerClient: 2},
	}, store, store, &notify.Recorder{})
	if err != nil {
		log.Fatal(err)
	}
	ask := func(subscriber, number, clientIP string) error {
		_, err := codes.Issue(ctx, otp.IssueRequest{
			Subscriber:  subscriber,
			Purpose:     otp.PurposeSignIn,
			Destination: otp.Destination{Channel: otp.ChannelSMS, Address: number},
			ClientIP:    clientIP, // from the connection (or your proxy), never a header the client wrote
		})
		return err
	}

	// A premium number abroad, even one that shares the +1 calling code.
	err = ask("sub-1", "+18762100001", "198.51.100.7")
	fmt.Println(err, errors.Is(err, otp.ErrCountryNotAllowed))

	// One client, three accounts, three numbers.
	for i, number := range []string{"+14155550101", "+14155550102", "+14155550103"} {
		err := ask(fmt.Sprint("sub-", i+2), number, "198.51.100.7:50123")
		var be *otp.BudgetError
		if errors.As(err, &be) {
			fmt.Println(be.Limit, be.RetryAfter, errors.Is(err, otp.ErrThrottled))
			continue
		}
		fmt.Println(err)
	}
	// Output:
	// otp: codes are not sent to this country (JM) true
	// <nil>
	// <nil>
	// client 1h0m0s true
}
