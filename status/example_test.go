package status_test

import (
	"context"
	"fmt"
	"log"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/status"
	"github.com/carrierguard/carrierguard/store/memory"
)

// A new subscriber starts at 0% with "verify your email" as the next step; clicking the
// link takes them to 25% and opens the capabilities an unverified account may not use.
func Example_newSubscriber() {
	ctx := context.Background()

	// In production these are *twofactor.Service, FromQuestions and FromPassword; plain
	// functions stand in here, for a brand-new account that has none of the three.
	src := status.Sources{
		TwoFactor: status.TwoFactorFunc(func(context.Context, string) (bool, error) { return false, nil }),
		Questions: status.QuestionsFunc(func(context.Context, string) (bool, error) { return false, nil }),
		Password: status.PasswordFunc(func(context.Context, string) (status.Rotation, error) {
			return status.Rotation{}, nil // no password on record yet
		}),
	}
	svc, err := status.New(status.Config{}, memory.NewStatus(memory.Options{}), src, &notify.Recorder{})
	if err != nil {
		log.Fatal(err)
	}

	show := func() {
		st, err := svc.Status(ctx, "sub-42")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d%%, next: %s\n", st.Percent, st.Next)
		for _, c := range st.Components {
			mark := " "
			if c.Done {
				mark = "x"
			}
			fmt.Printf("  [%s] %s\n", mark, c.Step)
		}
	}

	show()
	restricted, _ := svc.Restrictions(ctx, "sub-42")
	fmt.Println("unverified, may not:", restricted)

	link, err := svc.SendLink(ctx, "sub-42", "new.subscriber@example.com")
	if err != nil {
		log.Fatal(err)
	}
	// Email https://carrier.example/verify?t=<link.Token>; the subscriber clicks it.
	fmt.Println("link sent to", status.MaskEmail(link.Email))
	if _, err := svc.Verify(ctx, link.Token); err != nil {
		log.Fatal(err)
	}

	show()
	fmt.Println("SIM swap gate:", svc.Allow(ctx, "sub-42", status.CapabilitySIMSwap))
	// Output:
	// 0%, next: account_verification
	//   [ ] account_verification
	//   [ ] two_factor
	//   [ ] security_questions
	//   [ ] password_update
	// unverified, may not: [contact_change esim port_out sim_swap]
	// link sent to n•••@example.com
	// 25%, next: two_factor
	//   [x] account_verification
	//   [ ] two_factor
	//   [ ] security_questions
	//   [ ] password_update
	// SIM swap gate: <nil>
}
