package otp_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
)

// Send a sign-in code by SMS and check what the subscriber types back.
func Example_smsCode() {
	ctx := context.Background()
	store := memory.NewOTP(memory.Options{})
	hashKey := make([]byte, 32) // in production: from configuration, e.g. keyring.GenerateKey
	_, _ = rand.Read(hashKey)
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: hashKey,
		Budgets: otp.SMSBudgets{HomeRegions: []string{"US"}}}, store, store, &notify.Recorder{})
	if err != nil {
		log.Fatal(err)
	}

	phone := otp.Destination{Channel: otp.ChannelSMS, Address: "+12015550123"}
	issued, err := codes.Issue(ctx, otp.IssueRequest{Subscriber: "sub-42", Purpose: otp.PurposeSignIn, Destination: phone})
	if err != nil {
		log.Fatal(err)
	}
	sms := func(to, text string) {} // your SMS gateway
	sms(phone.Address, "Your Acme Mobile code is "+issued.Code+". Never share it.")

	// Later, the subscriber types the code back. A code is bound to its purpose (and
	// destination and subscriber): presented for a SIM swap, it is simply wrong.
	typed := issued.Code[:3] + " " + issued.Code[3:]
	check := otp.VerifyRequest{ChallengeID: issued.ChallengeID, Subscriber: "sub-42", Purpose: otp.PurposeSIMSwap, Destination: phone, Code: typed}
	_, err = codes.Verify(ctx, check)
	fmt.Println(err)

	check.Purpose = otp.PurposeSignIn
	v, err := codes.Verify(ctx, check)
	fmt.Println(v.Purpose, v.Channel, err)

	// It is accepted once.
	_, err = codes.Verify(ctx, check)
	fmt.Println(err)

	// Asking again at once is throttled.
	_, err = codes.Issue(ctx, otp.IssueRequest{Subscriber: "sub-42", Purpose: otp.PurposeSignIn, Destination: phone})
	var te *otp.ThrottleError
	fmt.Println(errors.As(err, &te), te.Reason, te.RetryAfter)
	// Output:
	// otp: invalid code
	// sign_in sms <nil>
	// otp: code already used
	// true interval 30s
}

// Enroll an authenticator app: show the QR code, confirm with the first code, then
// verify sign-in codes, each accepted once.
func Example_authenticatorApp() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) // time.Now in production
	store := memory.NewOTP(memory.Options{Now: clock.Now})
	secret, err := keyring.GenerateKey() // in production: from configuration, made once
	if err != nil {
		log.Fatal(err)
	}
	keys, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 1, Secret: secret}}})
	if err != nil {
		log.Fatal(err)
	}
	events := &notify.Recorder{}
	auth, err := otp.NewAuthenticators(otp.AuthenticatorConfig{Issuer: "Acme Mobile", Now: clock.Now}, store, keys, events)
	if err != nil {
		log.Fatal(err)
	}

	en, err := auth.Enroll(ctx, otp.EnrollRequest{Subscriber: "sub-42", Account: "•••• 0123"})
	if err != nil {
		log.Fatal(err)
	}
	// Show en.QRCodePNG (and en.Secret for typing in) on the signed-in page.
	fmt.Println(strings.SplitN(en.URI, "?", 2)[0], len(en.QRCodePNG) > 0)

	// The app, having scanned the QR code, shows a code.
	app := func() string {
		u, _ := otp.ParseKeyURI(en.URI)
		k, _ := otp.NewKey(u.Secret, u.Params)
		return k.TOTP(clock.Now())
	}
	_, err = auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "sub-42", Code: app(), Channel: "web"})
	fmt.Println(err, events.Types())

	clock.Advance(30 * time.Second)
	code := app()
	_, err = auth.Verify(ctx, "sub-42", code)
	fmt.Println(err)
	_, err = auth.Verify(ctx, "sub-42", code) // replayed within its window
	fmt.Println(err)
	// Output:
	// otpauth://totp/Acme%20Mobile:%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%200123 true
	// <nil> [authenticator.enrolled]
	// <nil>
	// otp: code already used
}
