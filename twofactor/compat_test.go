package twofactor_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/carrierguard/carrierguard/otp"
	"log"
	"strings"

	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/questions"
	"github.com/carrierguard/carrierguard/status"
	"github.com/carrierguard/carrierguard/twofactor"
)

// The services plug into each other directly.
var (
	_ twofactor.SIMChanges    = (*protection.Service)(nil)
	_ status.TwoFactorState   = (*twofactor.Service)(nil)
	_ questions.ProofVerifier = (*twofactor.Service)(nil)
)

// A proof is evidence for package protection once protection.EvidenceFromProof has
// checked it with the service that issued it: genuine, and for the subscriber the
// decision is about.
func ExampleProof_protectionEvidence() {
	d := newDemo()
	ctx := context.Background()
	email, phone := d.setUp(ctx)
	d.quiet = true
	for _, c := range []twofactor.Contact{phone, email} {
		d.wait()
		ch, err := d.svc.Begin(ctx, twofactor.BeginRequest{Flow: flow, Subscriber: "sub-42", ContactID: c.ID})
		if err != nil {
			log.Fatal(err)
		}
		proof, err := d.svc.Complete(ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSignIn, Flow: flow, Subscriber: "sub-42", ChallengeID: ch.ID, Code: d.inbox[c.Value]})
		if err != nil {
			log.Fatal(err)
		}
		ev, err := protection.EvidenceFromProof(d.svc, "sub-42", proof)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(strings.TrimSpace(fmt.Sprintln(proof.Method, "by", proof.Kind, "→", ev.Kind, "by", ev.Contact, ev.Destination)))

		// The same proof is no evidence about another subscriber.
		_, err = protection.EvidenceFromProof(d.svc, "sub-43", proof)
		fmt.Println(errors.Is(err, twofactor.ErrProofRequired))
	}
	// Output:
	// contact_code by phone → contact_code by sms +447400123456
	// true
	// contact_code by email → contact_code by email
	// true
}
