package stepup_test

import (
	"context"
	"fmt"
	"time"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/stepup"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/twofactor"
)

// A step-up proof is kept with its session and handed out only for its own purpose.
// In a server, the proof comes from twofactor.Service.Complete and the verifier is that
// same *twofactor.Service; the Service is also session.Config.Proofs, so a password
// change forgets the proofs.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	steps, err := stepup.New(stepup.Config{Now: func() time.Time { return now }}, memory.NewStepUp(memory.Options{}), tags{})
	if err != nil {
		panic(err)
	}
	sess := session.Session{ID: "s1", Subscriber: "alice"}
	// The subscriber read out a code sent "for an account change".
	p := sign(twofactor.Proof{Subscriber: "alice", Method: twofactor.MethodContactCode, Purpose: otp.PurposeAccountChange, At: now})
	if err := steps.Remember(ctx, sess, p); err != nil {
		panic(err)
	}
	_, forSwap, _ := steps.Latest(ctx, sess, otp.PurposeSIMSwap)
	_, forChange, _ := steps.Latest(ctx, sess, otp.PurposeAccountChange)
	fmt.Println("counts for a SIM swap:", forSwap)
	fmt.Println("counts for an account change:", forChange)
	// The password changes: every proof given until now is forgotten.
	_ = steps.RevokeProofs(ctx, "alice", now)
	_, forChange, _ = steps.Latest(ctx, sess, otp.PurposeAccountChange)
	fmt.Println("after a password change:", forChange)
	// Output:
	// counts for a SIM swap: false
	// counts for an account change: true
	// after a password change: false
}
