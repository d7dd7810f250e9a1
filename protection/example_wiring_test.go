package protection_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/risk"
	sessions "github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/store/memory"
)

// requestFacts is what an HTTP handler knows about the client, carried in the context.
type requestFacts struct{}

// A SIM swap asked for in the app, wired to the session registry and the risk service:
// the session's sign-in and second-factor times come from the registry, and Decide
// scores the request itself. The same swap an hour after a password change (the
// takeover chain) is high risk and refused in the app.
func Example_wiring() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	opts := memory.Options{Now: clock}
	events := &notify.Recorder{}

	riskSvc, err := risk.New(risk.Config{Now: clock}, memory.NewRiskProfiles(opts), memory.NewRiskGlobal(opts))
	if err != nil {
		log.Fatal(err)
	}
	registry, err := sessions.New(sessions.Config{Now: clock}, memory.NewSession(opts), events)
	if err != nil {
		log.Fatal(err)
	}
	st := memory.NewProtection(opts)
	prot, err := protection.New(protection.Config{
		PINKey: exampleKey(), Now: clock,
		Risk: protection.RiskFromScorer(riskSvc, func(ctx context.Context, _ string, _ protection.Request) (risk.Request, error) {
			facts, _ := ctx.Value(requestFacts{}).(risk.Request)
			return facts, nil
		}),
	}, protection.Stores{Flags: st, History: st, PINs: st}, events)
	if err != nil {
		log.Fatal(err)
	}

	// Sign-in with password and an email code, then the SIM swap request.
	app := sessions.Client{Device: "install-7f3a", UserAgent: "CarrierApp/5.2", IP: netip.MustParseAddr("203.0.113.10")}
	token, _, _ := registry.Create(ctx, "sub-42", app, sessions.ProofPassword, sessions.ProofSecondFactor)
	s, err := registry.Validate(ctx, token, app)
	if err != nil {
		log.Fatal(err)
	}
	ev, err := protection.SessionEvidence("sub-42", s, protection.Evidence{Kind: protection.EvidenceContactCode, Contact: protection.ContactEmail})
	if err != nil {
		log.Fatal(err)
	}
	facts := risk.Request{IP: app.IP, Device: app.Device, UserAgent: app.UserAgent,
		Account: risk.Account{EmailVerified: true, Created: now.AddDate(-2, 0, 0)}}
	swap := protection.ChangeRequest{Subscriber: "sub-42", Number: "+15550104477",
		Kind: protection.ChangeSIMSwap, Channel: protection.ChannelApp, Evidence: ev}

	res, err := prot.RequestSIMChange(context.WithValue(ctx, requestFacts{}, facts), swap)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("usual request:", res.Decision.Outcome, res.Decision.Reasons)

	facts.Account.PasswordChanged = now.Add(-time.Hour)
	res, err = prot.RequestSIMChange(context.WithValue(ctx, requestFacts{}, facts), swap)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after a password change:", res.Decision.Outcome, res.Decision.Reasons)
	// Output:
	// usual request: allow evidence_satisfied
	// after a password change: deny risk_high,visit_store
}
