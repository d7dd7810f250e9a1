package protection_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/risk"
	sessions "github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/twofactor"
)

// requestFacts is what an HTTP handler knows about the client, carried in the context.
type requestFacts struct{}

// A SIM swap asked for in the app, wired to the session registry, twofactor and the risk
// service: the session's times come from the registry, the second factor is the proof
// the session stepped up with for this purpose (the sign-in code counts for nothing
// here), Decide scores the request itself and asks twofactor whether 2FA is on (with it
// off the swap would be held), and a completion re-checks that the proof's factor is
// still on file. Every service publishes through risk.Facts, so risk learns account
// changes from the library's events: the same swap an hour after a password change (the
// takeover chain) is high risk and refused in the app, with no account field filled.
func Example_wiring() {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) // a year before the swap
	clock := func() time.Time { return now }
	opts := memory.Options{Now: clock}
	events := &notify.Recorder{}

	riskSvc, err := risk.New(risk.Config{Now: clock}, memory.NewRiskProfiles(opts), memory.NewRiskGlobal(opts))
	if err != nil {
		log.Fatal(err)
	}
	pub, err := risk.NewFacts(events, riskSvc, nil) // every service below publishes through it
	if err != nil {
		log.Fatal(err)
	}
	registry, err := sessions.New(sessions.Config{Now: clock}, memory.NewSession(opts), pub)
	if err != nil {
		log.Fatal(err)
	}
	st := memory.NewProtection(opts)
	var tf *twofactor.Service // built below: it needs prot for its factor gate
	prot, err := protection.New(protection.Config{
		PINKey: exampleKey(), Now: clock,
		Risk: protection.RiskFromScorer(riskSvc, func(ctx context.Context, _ string, _ protection.Request) (risk.Request, error) {
			facts, _ := ctx.Value(requestFacts{}).(risk.Request)
			return facts, nil
		}),
		TwoFactor: protection.TwoFactorStateFunc(func(ctx context.Context, sub string) (bool, error) {
			return tf.TwoFactorEnabled(ctx, sub)
		}),
		Factors: protection.FactorCheckerFunc(func(ctx context.Context, sub string, ev protection.Evidence) (bool, error) {
			return protection.FactorsFromTwoFactor(tf).FactorPresent(ctx, sub, ev)
		}),
	}, protection.Stores{Flags: st, History: st, PINs: st}, pub)
	if err != nil {
		log.Fatal(err)
	}
	otpStore := memory.NewOTP(opts)
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: exampleKey(), Now: clock,
		Budgets: otp.SMSBudgets{HomeRegions: []string{"GB"}}}, otpStore, otpStore, pub)
	if err != nil {
		log.Fatal(err)
	}
	inbox := map[string]string{}
	tfStore := memory.NewTwoFactor(opts)
	tf, err = twofactor.New(twofactor.Config{HashKey: exampleKey(), Now: clock}, twofactor.Deps{
		Codes: codes, Contacts: tfStore, Recovery: tfStore, Failures: tfStore, Publisher: pub,
		Sender:     twofactor.SenderFunc(func(_ context.Context, m twofactor.Message) error { inbox[m.To] = m.Code; return nil }),
		SIMChanges: prot,                        // SMS codes are checked against the SIM-change history
		Gate:       protection.FactorGate(prot), // adding a factor is decided here too
	})
	if err != nil {
		log.Fatal(err)
	}
	// prove sends a code for purpose and completes it in the same flow.
	prove := func(c twofactor.Contact, purpose otp.Purpose, flow string) twofactor.Proof {
		now = now.Add(time.Minute)
		ch, err := tf.Begin(ctx, twofactor.BeginRequest{Subscriber: "sub-42", ContactID: c.ID, Purpose: purpose, Flow: flow})
		if err != nil {
			log.Fatal(err)
		}
		p, err := tf.Complete(ctx, twofactor.CompleteRequest{Subscriber: "sub-42", ChallengeID: ch.ID, Code: inbox[c.Value],
			Purpose: purpose, Flow: flow})
		if err != nil {
			log.Fatal(err)
		}
		return p
	}

	// A year ago: the subscriber's first contact, with the password just entered.
	re := twofactor.Reauth{SignedInAt: now, PasswordAt: now}
	pending, err := tf.AddContact(ctx, twofactor.AddContactRequest{Subscriber: "sub-42", Kind: twofactor.KindEmail,
		Value: "ada@example.com", Reauth: re})
	if err != nil {
		log.Fatal(err)
	}
	email, err := tf.VerifyContact(ctx, twofactor.VerifyContactRequest{Subscriber: "sub-42", ChallengeID: pending.ChallengeID,
		Code: inbox["ada@example.com"], Reauth: re})
	if err != nil {
		log.Fatal(err)
	}
	// Once the contact is past its probation, 2FA on, with a code sent for it.
	now = now.AddDate(0, 0, 8)
	re = twofactor.Reauth{SignedInAt: now, PasswordAt: now}
	re.Proof = prove(email, otp.PurposeAddFactor, "session:setup")
	setup := risk.Request{IP: netip.MustParseAddr("203.0.113.10"), Account: risk.Account{EmailVerified: true, Created: now.AddDate(-1, 0, 0)}}
	if err := tf.Enable(context.WithValue(ctx, requestFacts{}, setup), "sub-42", re, twofactor.Origin{}); err != nil {
		log.Fatal(err)
	}

	// Today: sign-in with the password and a sign-in code.
	now = now.AddDate(1, 0, 0)
	signIn := prove(email, otp.PurposeSignIn, "signin:p-1")
	app := sessions.Client{Device: "install-7f3a", UserAgent: "CarrierApp/5.2", IP: netip.MustParseAddr("203.0.113.10")}
	token, _, _ := registry.Create(ctx, "sub-42", app, sessions.ProofPassword, sessions.ProofSecondFactor)
	facts := risk.Request{IP: app.IP, Device: app.Device, UserAgent: app.UserAgent,
		Account: risk.Account{EmailVerified: true, Created: now.AddDate(-2, 0, 0)}}
	fctx := context.WithValue(ctx, requestFacts{}, facts)

	// evidence is what the session has proved, with proof as its newest second factor.
	evidence := func(proof twofactor.Proof) []protection.Evidence {
		s, err := registry.Validate(ctx, token, app)
		if err != nil {
			log.Fatal(err)
		}
		second, err := protection.EvidenceFromProof(tf, "sub-42", proof) // checks the tag; keeps purpose and factor age
		if err != nil {
			log.Fatal(err)
		}
		ev, err := protection.SessionEvidence("sub-42", s, second)
		if err != nil {
			log.Fatal(err)
		}
		return ev
	}
	swap := protection.ChangeRequest{Subscriber: "sub-42", Number: "+15550104477",
		Kind: protection.ChangeSIMSwap, Channel: protection.ChannelApp, Evidence: evidence(signIn)}
	res, err := prot.RequestSIMChange(fctx, swap)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("with the sign-in code:", res.Decision.Outcome, res.Decision.Reasons)

	// The app asks for a code "for a SIM swap", in this session's flow.
	s, _ := registry.Validate(ctx, token, app)
	stepUp := prove(email, protection.PurposeFor(protection.ActionSIMSwap), "session:"+s.ID)
	if _, err := registry.StepUp(ctx, token, app, sessions.ProofSecondFactor); err != nil {
		log.Fatal(err)
	}
	swap.RequestID, swap.Evidence = res.RequestID, evidence(stepUp)
	res, err = prot.RequestSIMChange(fctx, swap)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("with a SIM-swap code:", res.Decision.Outcome, res.Decision.Reasons)

	// An hour ago the password changed: package password published it, and risk.Facts
	// recorded it on the way through.
	err = pub.Publish(ctx, notify.Event{ID: notify.NewID(), Type: notify.PasswordChanged, Subscriber: "sub-42",
		Time: now.Add(-time.Hour), Actor: notify.Actor{Kind: notify.ActorSubscriber}, Channel: "app"})
	if err != nil {
		log.Fatal(err)
	}
	swap.RequestID = ""
	res, err = prot.RequestSIMChange(fctx, swap)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after a password change:", res.Decision.Outcome, res.Decision.Reasons)
	// Output:
	// with the sign-in code: step_up evidence_required,evidence_wrong_purpose
	// with a SIM-swap code: allow evidence_satisfied
	// after a password change: deny risk_high,visit_store
}
