package session_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/store/memory"
)

// A sign-in in two steps: the password is right, so the sign-in waits, in the store,
// for the second factor. Any replica can finish it, once, from the device that began it.
func ExampleService_BeginSignin() {
	ctx := context.Background()
	sessions, err := session.New(session.Config{}, memory.NewSession(memory.Options{}), &notify.Recorder{})
	if err != nil {
		log.Fatal(err)
	}
	app := session.Client{Device: "install-7f3a", UserAgent: "CarrierApp/5.2", IP: netip.MustParseAddr("203.0.113.10")}

	// POST /signin: the password was verified and 2FA is on.
	p, err := sessions.BeginSignin(ctx, "sub-42", app)
	if err != nil {
		log.Fatal(err)
	}
	// POST /signin/complete: check the code with twofactor (Purpose sign-in, Flow
	// "signin:"+p.ID), then take the pending sign-in and start the session.
	p, err = sessions.TakeSignin(ctx, p.ID, app)
	if err != nil {
		log.Fatal(err)
	}
	_, s, err := sessions.Create(ctx, p.Subscriber, app, session.ProofPassword, session.ProofSecondFactor)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in:", s.Subscriber)
	_, err = sessions.TakeSignin(ctx, p.ID, app)
	fmt.Println("again:", err)
	// Output:
	// signed in: sub-42
	// again: session: not authenticated
}
