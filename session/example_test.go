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

// After a credential scare the subscriber signs out everywhere from the app: every other
// session ends at once, the app's own session survives, and the subscriber is told.
func Example_signOutEverywhere() {
	ctx := context.Background()
	events := &notify.Recorder{}
	sessions, err := session.New(session.Config{}, memory.NewSession(memory.Options{}), events)
	if err != nil {
		log.Fatal(err)
	}

	app := session.Client{Device: "install-7f3a", UserAgent: "CarrierApp/5.2", IP: netip.MustParseAddr("203.0.113.10")}
	web := session.Client{Device: "browser-91c2", UserAgent: "Firefox/140", IP: netip.MustParseAddr("198.51.100.20")}
	tablet := session.Client{Device: "install-0b44", UserAgent: "CarrierApp/5.1", IP: netip.MustParseAddr("192.0.2.30")}

	appToken, current, _ := sessions.Create(ctx, "sub-42", app, session.ProofPassword, session.ProofSecondFactor)
	webToken, _, _ := sessions.Create(ctx, "sub-42", web, session.ProofPassword)
	_, _, _ = sessions.Create(ctx, "sub-42", tablet, session.ProofPassword)

	list, _ := sessions.List(ctx, "sub-42")
	fmt.Println("signed in on", len(list), "devices")

	n, err := sessions.RevokeAll(ctx, "sub-42", current.ID, session.By{Channel: "app"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed out of", n, "other sessions")

	if _, err := sessions.Validate(ctx, webToken, web); err != nil {
		fmt.Println("web:", err)
	}
	if _, err := sessions.Validate(ctx, appToken, app); err == nil {
		fmt.Println("app: still signed in")
	}
	ev, _ := events.Last(notify.SessionsRevoked)
	fmt.Println("event:", ev.Type, ev.Attributes["count"], ev.Attributes["scope"])
	// Output:
	// signed in on 3 devices
	// signed out of 2 other sessions
	// web: session: not authenticated
	// app: still signed in
	// event: sessions.revoked 2 all_but_current
}
