package session_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/password"
	"github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/store/memory"
)

// A thief signed in with the subscriber's password. When the owner changes it from the
// app, the thief's session ends by itself: the password service publishes through the
// session registry's Publisher, which revokes every other session and clears the step-up
// proofs of the owner's own.
func Example_revokeOnPasswordChange() {
	ctx := context.Background()
	events := &notify.Recorder{}
	sessions, err := session.New(session.Config{}, memory.NewSession(memory.Options{}), events)
	if err != nil {
		log.Fatal(err)
	}
	// Every service that changes credentials publishes through sessions.Publisher().
	passwords, err := password.New(password.Config{}, memory.NewPassword(memory.Options{}),
		memory.NewPasswordAttempts(memory.Options{}), sessions.Publisher())
	if err != nil {
		log.Fatal(err)
	}
	if _, err := passwords.Enroll(ctx, "sub-42", "correct horse battery staple", password.Subject{}); err != nil {
		log.Fatal(err)
	}

	app := session.Client{Device: "install-7f3a", IP: netip.MustParseAddr("203.0.113.10")}
	thiefPC := session.Client{Device: "browser-0bad", IP: netip.MustParseAddr("198.51.100.66")}
	ownerToken, _, _ := sessions.Create(ctx, "sub-42", app, session.ProofPassword, session.ProofSecondFactor)
	thiefToken, _, _ := sessions.Create(ctx, "sub-42", thiefPC, session.ProofPassword)

	// The handler validates the owner's request and puts the session on the context.
	owner, err := sessions.Validate(ctx, ownerToken, app)
	if err != nil {
		log.Fatal(err)
	}
	_, err = passwords.Change(session.NewContext(ctx, owner), password.ChangeRequest{
		Subscriber: "sub-42", Current: "correct horse battery staple", New: "violet kettle under nine moons",
	})
	if err != nil {
		log.Fatal(err)
	}

	if _, err := sessions.Validate(ctx, thiefToken, thiefPC); err != nil {
		fmt.Println("thief:", err)
	}
	owner, _ = sessions.Validate(ctx, ownerToken, app)
	fmt.Println("owner signed in; second factor to prove again:", owner.SecondFactorAt.IsZero())
	ev, _ := events.Last(notify.SessionsRevoked)
	fmt.Println("event:", ev.Attributes["scope"], ev.Attributes["reason"], ev.Attributes["count"])
	// Output:
	// thief: session: not authenticated
	// owner signed in; second factor to prove again: true
	// event: credential_change password.changed 1
}
