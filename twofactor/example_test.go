package twofactor_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/twofactor"
)

// demo wires a service on the memory stores, with a clock the examples move by hand, an
// inbox standing in for the SMS and email gateway, and a SIM-change history.
type demo struct {
	svc     *twofactor.Service
	now     time.Time
	inbox   map[string]string // address → last code received
	swapped map[string]bool   // numbers with a recent SIM change
	events  *notify.Recorder
	quiet   bool // do not print deliveries
}

func newDemo() *demo {
	d := &demo{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), inbox: map[string]string{},
		swapped: map[string]bool{}, events: &notify.Recorder{}}
	clock := func() time.Time { return d.now }
	key := func() []byte { // in production: from configuration (keyring.GenerateKey makes one)
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		return k
	}

	otpStore := memory.NewOTP(memory.Options{Now: clock})
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: key(), Now: clock}, otpStore, otpStore, d.events)
	if err != nil {
		log.Fatal(err)
	}
	store := memory.NewTwoFactor(memory.Options{Now: clock})
	sender := twofactor.SenderFunc(func(ctx context.Context, m twofactor.Message) error {
		d.inbox[m.To] = m.Code // your SMS / email gateway; never log m.Code
		if !d.quiet {
			fmt.Printf("(%s for %s sent to %s)\n", m.Kind, m.Purpose, twofactor.Mask(m.Kind, m.To))
		}
		return nil
	})
	// In production: a *protection.Service, which answers from the SIM-change history.
	history := twofactor.SIMChangesFunc(func(ctx context.Context, number string, within time.Duration) (bool, error) {
		return d.swapped[number], nil
	})
	d.svc, err = twofactor.New(twofactor.Config{
		HashKey: key(),
		Phone:   twofactor.PhoneOptions{DefaultRegion: "GB"},
		Now:     clock,
	}, twofactor.Deps{
		Codes: codes, Contacts: store, Recovery: store, Failures: store,
		Sender: sender, SIMChanges: history, Publisher: d.events,
	})
	if err != nil {
		log.Fatal(err)
	}
	return d
}

// wait moves the demo clock past otp's resend interval.
func (d *demo) wait() { d.now = d.now.Add(time.Minute) }

// Set up 2FA with two trusted contacts, an email address and a mobile number: each is
// added, proved with the code sent to it, and then 2FA is switched on.
func Example_setUp() {
	d := newDemo()
	ctx := context.Background()

	for _, in := range []struct {
		kind  twofactor.Kind
		typed string
	}{
		{twofactor.KindEmail, " Alice@Example.com"},
		{twofactor.KindPhone, "07400 123456"}, // national format: Config.Phone.DefaultRegion
	} {
		pending, err := d.svc.AddContact(ctx, twofactor.AddContactRequest{Subscriber: "sub-42", Kind: in.kind, Value: in.typed})
		if err != nil {
			log.Fatal(err)
		}
		// The subscriber reads the code at the new contact and types it in.
		c, err := d.svc.VerifyContact(ctx, twofactor.VerifyContactRequest{
			Subscriber: "sub-42", ChallengeID: pending.ChallengeID, Code: d.inbox[pending.Contact.Value],
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("verified", c.Masked(), "stored as", c.Value)
		d.wait()
	}

	// A third contact is refused, and so is bad input, with the reason.
	_, err := d.svc.AddContact(ctx, twofactor.AddContactRequest{Subscriber: "sub-42", Kind: twofactor.KindPhone, Value: "07400 654321"})
	fmt.Println(err)
	_, err = d.svc.AddContact(ctx, twofactor.AddContactRequest{Subscriber: "sub-42", Kind: twofactor.KindPhone, Value: "020 7946 0000"})
	fmt.Println(err)

	// Recovery codes: shown once, stored only as keyed hashes. (Once 2FA is on,
	// regenerating them needs a fresh proof.)
	recovery, err := d.svc.GenerateRecoveryCodes(ctx, "sub-42", twofactor.Proof{}, twofactor.Origin{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(recovery), "recovery codes like", strings.Map(func(r rune) rune {
		if r == '-' {
			return r
		}
		return 'X'
	}, recovery[0]))

	if err := d.svc.Enable(ctx, "sub-42", twofactor.Origin{Channel: "app"}); err != nil {
		log.Fatal(err)
	}

	st, err := d.svc.Status(ctx, "sub-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("2FA on:", st.Enabled, "contacts:", len(st.Contacts), "recovery codes left:", st.RecoveryCodesLeft)
	for _, e := range d.events.Events() {
		fmt.Println(strings.TrimSpace("event " + string(e.Type) + " " + e.Attributes["contact"]))
	}
	// Output:
	// (email for contact_verification sent to a•••@example.com)
	// verified a•••@example.com stored as alice@example.com
	// (phone for contact_verification sent to •••• 3456)
	// verified •••• 3456 stored as +447400123456
	// twofactor: a subscriber may have at most 2 trusted contacts; remove one first
	// twofactor: invalid contact: invalid phone number: not a mobile number: it is a fixed-line number
	// 10 recovery codes like XXXXX-XXXXX
	// 2FA on: true contacts: 2 recovery codes left: 10
	// event contact.added a•••@example.com
	// event contact.verified a•••@example.com
	// event contact.added •••• 3456
	// event contact.verified •••• 3456
	// event recovery_codes.generated
	// event twofactor.enabled
}

// Sign in with 2FA: the subscriber picks a contact, the code goes there, and the code
// typed back gives a Proof. A number with a recent SIM change gets no code; the other
// contact is offered instead.
func Example_signIn() {
	d := newDemo()
	ctx := context.Background()
	email, phone := d.setUp(ctx)
	d.wait()

	// After the password: "Where should we send your code?"
	ch, err := d.svc.Begin(ctx, twofactor.BeginRequest{Subscriber: "sub-42", ContactID: phone.ID})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("we sent a code to", ch.Masked)

	_, err = d.svc.Complete(ctx, twofactor.CompleteRequest{Subscriber: "sub-42", ChallengeID: ch.ID, Code: "000000"})
	fmt.Println(err)
	proof, err := d.svc.Complete(ctx, twofactor.CompleteRequest{Subscriber: "sub-42", ChallengeID: ch.ID, Code: d.inbox[phone.Value]})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in:", proof.Method, proof.Kind, proof.Masked)

	// The number is swapped to a new SIM. Its SMS codes are no longer trusted.
	d.swapped[phone.Value] = true
	d.wait()
	_, err = d.svc.Begin(ctx, twofactor.BeginRequest{Subscriber: "sub-42", ContactID: phone.ID})
	var sim *twofactor.SIMChangeError
	if errors.As(err, &sim) {
		fmt.Println(err)
		ch, err = d.svc.Begin(ctx, twofactor.BeginRequest{Subscriber: "sub-42", ContactID: sim.Alternatives[0].ID})
		if err != nil {
			log.Fatal(err)
		}
	}
	proof, err = d.svc.Complete(ctx, twofactor.CompleteRequest{Subscriber: "sub-42", ChallengeID: ch.ID, Code: d.inbox[email.Value]})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in:", proof.Method, proof.Kind, proof.Masked)

	// The proof authorises sensitive changes for a few minutes, here removing the phone.
	err = d.svc.RemoveContact(ctx, twofactor.RemoveContactRequest{Subscriber: "sub-42", ContactID: phone.ID, Proof: proof})
	fmt.Println("phone removed:", err == nil)
	// Output:
	// (phone for sign_in sent to •••• 3456)
	// we sent a code to •••• 3456
	// twofactor: invalid code
	// signed in: contact_code phone •••• 3456
	// twofactor: the number had a recent SIM change or port; codes are not sent to it (•••• 3456); use a•••@example.com instead
	// (email for sign_in sent to a•••@example.com)
	// signed in: contact_code email a•••@example.com
	// phone removed: true
}

// setUp quietly gives sub-42 a verified email and phone and turns 2FA on.
func (d *demo) setUp(ctx context.Context) (email, phone twofactor.Contact) {
	d.quiet = true
	defer func() { d.quiet = false }()
	quiet := d.svc
	add := func(kind twofactor.Kind, v string) twofactor.Contact {
		d.wait()
		p, err := quiet.AddContact(ctx, twofactor.AddContactRequest{Subscriber: "sub-42", Kind: kind, Value: v})
		if err != nil {
			log.Fatal(err)
		}
		c, err := quiet.VerifyContact(ctx, twofactor.VerifyContactRequest{Subscriber: "sub-42", ChallengeID: p.ChallengeID, Code: d.inbox[p.Contact.Value]})
		if err != nil {
			log.Fatal(err)
		}
		return c
	}
	email, phone = add(twofactor.KindEmail, "alice@example.com"), add(twofactor.KindPhone, "+44 7400 123456")
	if err := quiet.Enable(ctx, "sub-42", twofactor.Origin{}); err != nil {
		log.Fatal(err)
	}
	return email, phone
}
