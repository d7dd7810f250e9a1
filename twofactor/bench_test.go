package twofactor_test

import (
	"context"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
	"github.com/carrierguard/carrierguard/twofactor"
)

// BenchmarkSignInChallenge is one sign-in by SMS: Begin (SIM-change check, code issued
// and handed to a no-op sender) and Complete (attempt counted, code verified, count
// reset, proof tagged), on the memory stores with otp's default limits.
func BenchmarkSignInChallenge(b *testing.B) {
	ctx := context.Background()
	clk := storetest.NewClock()
	st := memory.NewTwoFactor(memory.Options{Now: clk.Now})
	os := memory.NewOTP(memory.Options{Now: clk.Now})
	pub := notify.PublisherFunc(func(context.Context, notify.Event) error { return nil })
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("otp"), Now: clk.Now, Budgets: gbHome}, os, os, pub)
	if err != nil {
		b.Fatal(err)
	}
	var code string
	sender := twofactor.SenderFunc(func(_ context.Context, m twofactor.Message) error { code = m.Code; return nil })
	sims := twofactor.SIMChangesFunc(func(context.Context, string, time.Duration) (bool, error) { return false, nil })
	svc, err := twofactor.New(twofactor.Config{HashKey: hashKey, Now: clk.Now}, twofactor.Deps{
		Codes: codes, Contacts: st, Recovery: st, Failures: st, Sender: sender, SIMChanges: sims, Publisher: pub,
		Gate: twofactor.GateFunc(func(context.Context, twofactor.FactorChange) error { return nil }),
	})
	if err != nil {
		b.Fatal(err)
	}
	pc, err := svc.AddContact(ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindPhone, Value: "+44 7400 123456", Reauth: twofactor.Reauth{PasswordAt: clk.Now()}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.VerifyContact(ctx, twofactor.VerifyContactRequest{Subscriber: "alice", ChallengeID: pc.ChallengeID, Code: code, Reauth: twofactor.Reauth{PasswordAt: clk.Now()}}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		clk.Advance(13 * time.Minute) // past otp's resend interval and hourly limit
		ch, err := svc.Begin(ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "alice", ContactID: pc.Contact.ID})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Complete(ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "alice", ChallengeID: ch.ID, Code: code}); err != nil {
			b.Fatal(err)
		}
	}
}
