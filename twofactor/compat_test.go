package twofactor_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/carrierguard/carrierguard/otp"
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

// A step-up proof is evidence for package protection once protection.EvidenceFromProof
// has checked it with the service that issued it: genuine, and for the subscriber the
// decision is about. The evidence keeps the purpose the code was sent for (here a SIM
// swap, asked for in the session's flow), so it counts toward that action only, and
// the factor's age, for the probation. A sign-in proof is no such evidence: the session
// stands for the sign-in.
func ExampleProof_protectionEvidence() {
	d := newDemo()
	ctx := context.Background()
	email, phone := d.setUp(ctx)
	d.quiet = true
	const session = "session:s-9"
	for _, c := range []twofactor.Contact{phone, email} {
		d.wait()
		ch, err := d.svc.Begin(ctx, twofactor.BeginRequest{Flow: session, Subscriber: "sub-42", ContactID: c.ID,
			Purpose: otp.PurposeSIMSwap})
		if err != nil {
			log.Fatal(err)
		}
		proof, err := d.svc.Complete(ctx, twofactor.CompleteRequest{Purpose: otp.PurposeSIMSwap, Flow: session,
			Subscriber: "sub-42", ChallengeID: ch.ID, Code: d.inbox[c.Value]})
		if err != nil {
			log.Fatal(err)
		}
		ev, err := protection.EvidenceFromProof(d.svc, "sub-42", proof)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(strings.Join(strings.Fields(fmt.Sprintln(proof.Method, "by", proof.Kind, "→", ev.Kind, "by", ev.Contact, ev.Destination,
			"for", ev.Purpose)), " "), "- factor age known:", !ev.FactorAddedAt.IsZero())

		// The same proof is no evidence about another subscriber.
		_, err = protection.EvidenceFromProof(d.svc, "sub-43", proof)
		fmt.Println(errors.Is(err, twofactor.ErrProofRequired))
	}
	// Output:
	// contact_code by phone → contact_code by sms +447400123456 for sim_swap_authorisation - factor age known: true
	// true
	// contact_code by email → contact_code by email for sim_swap_authorisation - factor age known: true
	// true
}
