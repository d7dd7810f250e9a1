package twofactor_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
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
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: key(), Now: clock,
		Budgets: otp.SMSBudgets{HomeRegions: []string{"GB"}}}, otpStore, otpStore, d.events)
	if err != nil {
		log.Fatal(err)
	}
	// Authenticator apps: secrets sealed with the keyring.
	keys, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 1, Secret: key()}}})
	if err != nil {
		log.Fatal(err)
	}
	apps, err := otp.NewAuthenticators(otp.AuthenticatorConfig{Issuer: "Acme Mobile", Now: clock}, otpStore, keys, d.events)
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
	// In production: the *protection.Service, which answers from the SIM-change history.
	history := twofactor.SIMChangesFunc(func(ctx context.Context, number string, within time.Duration) (bool, error) {
		return d.swapped[number], nil
	})
	// The account's protection decides every factor change: Account Lockdown and risk
	// apply to adding a contact or turning 2FA on as to any change.
	// It reads the 2FA state from this service, built next (it needs the protection
	// service first), to hold SIM changes while 2FA is off.
	ps := memory.NewProtection(memory.Options{Now: clock})
	twoFactor := protection.TwoFactorStateFunc(func(ctx context.Context, sub string) (bool, error) {
		return d.svc.TwoFactorEnabled(ctx, sub)
	})
	factors := protection.FactorCheckerFunc(func(ctx context.Context, sub string, ev protection.Evidence) (bool, error) {
		return protection.FactorsFromTwoFactor(d.svc).FactorPresent(ctx, sub, ev)
	})
	protect, err := protection.New(protection.Config{PINKey: key(), Now: clock, TwoFactor: twoFactor, Factors: factors},
		protection.Stores{Flags: ps, History: ps, PINs: ps}, d.events)
	if err != nil {
		log.Fatal(err)
	}
	d.svc, err = twofactor.New(twofactor.Config{
		HashKey: key(),
		Phone:   twofactor.PhoneOptions{DefaultRegion: "GB"},
		Now:     clock,
	}, twofactor.Deps{
		Codes: codes, Authenticators: apps, Contacts: store, Recovery: store, Failures: store, // store is the ChallengeStore too
		Sender: sender, SIMChanges: history, Publisher: d.events,
		Gate: protection.FactorGate(protect),
	})
	if err != nil {
		log.Fatal(err)
	}
	return d
}

// wait moves the demo clock past otp's resend interval.
func (d *demo) wait() { d.now = d.now.Add(time.Minute) }

// session is what the server's session registry records for the signed-in subscriber:
// when the session signed in and when the password was last entered. Factor changes
// take these from the registry, never from the request.
func (d *demo) session() twofactor.Reauth {
	return twofactor.Reauth{SignedInAt: d.now, PasswordAt: d.now}
}

// prove sends a code for purpose to contact in flow and completes it there, as a
// step-up screen does.
func (d *demo) prove(ctx context.Context, c twofactor.Contact, purpose otp.Purpose, flow string) twofactor.Proof {
	d.wait()
	ch, err := d.svc.Begin(ctx, twofactor.BeginRequest{ClientIP: clientIP, Subscriber: "sub-42", ContactID: c.ID, Purpose: purpose, Flow: flow})
	if err != nil {
		log.Fatal(err)
	}
	p, err := d.svc.Complete(ctx, twofactor.CompleteRequest{Subscriber: "sub-42", ChallengeID: ch.ID,
		Code: d.inbox[c.Value], Purpose: purpose, Flow: flow})
	if err != nil {
		log.Fatal(err)
	}
	return p
}

// Set up 2FA with two trusted contacts, an email address and a mobile number. The first
// contact of an account that has none is added with the password just entered; every
// later one needs a code, sent for adding a factor, to a contact already on file, never
// only the contact being added. 2FA goes on once a contact has been on file for the
// probation period (7 days), with a code from it: so a thief with the password who adds
// his own contact cannot turn 2FA on with it and lock the owner out.
func Example_setUp() {
	d := newDemo()
	ctx := context.Background()
	const flow = "session:s-1" // the signed-in session's step-ups

	add := func(kind twofactor.Kind, typed string, re twofactor.Reauth) twofactor.Contact {
		pending, err := d.svc.AddContact(ctx, twofactor.AddContactRequest{ClientIP: clientIP, Subscriber: "sub-42", Kind: kind, Value: typed, Reauth: re})
		if err != nil {
			log.Fatal(err)
		}
		// The subscriber reads the code at the new contact and types it in.
		c, err := d.svc.VerifyContact(ctx, twofactor.VerifyContactRequest{
			Subscriber: "sub-42", ChallengeID: pending.ChallengeID, Code: d.inbox[pending.Contact.Value], Reauth: re,
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("verified", c.Masked(), "stored as", c.Value)
		d.wait()
		return c
	}
	// The first contact: the password entered at sign-in is all there is to ask for.
	email := add(twofactor.KindEmail, " Alice@Example.com", d.session())

	// The second: a code to the email, sent for adding a factor, and the password.
	re := d.session()
	re.Proof = d.prove(ctx, email, otp.PurposeAddFactor, flow)
	_, err := d.svc.AddContact(ctx, twofactor.AddContactRequest{ClientIP: clientIP, Subscriber: "sub-42", Kind: twofactor.KindPhone,
		Value: "07400 123456", Reauth: d.session()})
	fmt.Println("without a code from the email:", err)
	add(twofactor.KindPhone, "07400 123456", re) // national format: Config.Phone.DefaultRegion

	// A third contact is refused, and so is bad input, with the reason.
	_, err = d.svc.AddContact(ctx, twofactor.AddContactRequest{ClientIP: clientIP, Subscriber: "sub-42", Kind: twofactor.KindPhone, Value: "07400 654321", Reauth: re})
	fmt.Println(err)
	_, err = d.svc.AddContact(ctx, twofactor.AddContactRequest{ClientIP: clientIP, Subscriber: "sub-42", Kind: twofactor.KindPhone, Value: "020 7946 0000", Reauth: re})
	fmt.Println(err)

	// Recovery codes are a factor too: shown once, stored only as keyed hashes.
	recovery, err := d.svc.GenerateRecoveryCodes(ctx, "sub-42", re, twofactor.Origin{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(recovery), "recovery codes like", strings.Map(func(r rune) rune {
		if r == '-' {
			return r
		}
		return 'X'
	}, recovery[0]))

	// Turning 2FA on with a contact verified today is refused...
	re.Proof = d.prove(ctx, email, otp.PurposeAddFactor, flow)
	fmt.Println("today:", d.svc.Enable(ctx, "sub-42", re, twofactor.Origin{Channel: "app"}))
	// ...and done a week later, signed in again, with a fresh code from the email.
	d.now = d.now.Add(7 * 24 * time.Hour)
	re = d.session()
	re.Proof = d.prove(ctx, email, otp.PurposeAddFactor, "session:s-2")
	if err := d.svc.Enable(ctx, "sub-42", re, twofactor.Origin{Channel: "app"}); err != nil {
		log.Fatal(err)
	}

	st, err := d.svc.Status(ctx, "sub-42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("2FA on:", st.Enabled, "contacts:", len(st.Contacts), "recovery codes left:", st.RecoveryCodesLeft)
	for _, e := range d.events.Events() {
		if strings.HasPrefix(string(e.Type), "otp.") {
			continue
		}
		fmt.Println(strings.TrimSpace("event " + string(e.Type) + " " + e.Attributes["contact"]))
	}
	// Output:
	// (email for contact_verification sent to a•••@example.com)
	// verified a•••@example.com stored as alice@example.com
	// (email for add_factor sent to a•••@example.com)
	// without a code from the email: twofactor: a fresh second-factor proof is required: none was given
	// (phone for contact_verification sent to •••• 3456)
	// verified •••• 3456 stored as +447400123456
	// twofactor: a subscriber may have at most 2 trusted contacts; remove one first
	// twofactor: invalid contact: invalid phone number: not a mobile number: it is a fixed-line number
	// 10 recovery codes like XXXXX-XXXXX
	// (email for add_factor sent to a•••@example.com)
	// today: twofactor: a fresh second-factor proof is required: the factor that gave it was added too recently to authorise this; use one on file for longer
	// (email for add_factor sent to a•••@example.com)
	// 2FA on: true contacts: 2 recovery codes left: 10
	// event contact.added a•••@example.com
	// event contact.verified a•••@example.com
	// event contact.added •••• 3456
	// event contact.verified •••• 3456
	// event recovery_codes.generated
	// event twofactor.enabled
}

// Sign in with 2FA: the subscriber picks a contact, the code goes there, and the code
// typed back gives a Proof for the sign-in, and for nothing else. Taking a contact away
// needs a step-up code sent for that, in the signed-in session's flow. A number with a
// recent SIM change gets no code; the other contact is offered instead.
func Example_signIn() {
	d := newDemo()
	ctx := context.Background()
	email, phone := d.setUp(ctx)
	d.wait()

	// After the password: "Where should we send your code?" The challenge is bound to
	// this pending sign-in.
	const signin = "signin:p-7"
	ch, err := d.svc.Begin(ctx, twofactor.BeginRequest{ClientIP: clientIP, Subscriber: "sub-42", ContactID: phone.ID,
		Purpose: otp.PurposeSignIn, Flow: signin})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("we sent a code to", ch.Masked)

	complete := twofactor.CompleteRequest{Subscriber: "sub-42", ChallengeID: ch.ID, Code: "000000",
		Purpose: otp.PurposeSignIn, Flow: signin}
	_, err = d.svc.Complete(ctx, complete)
	fmt.Println(err)
	complete.Code = d.inbox[phone.Value]
	proof, err := d.svc.Complete(ctx, complete)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in:", proof.Method, proof.Kind, proof.Masked, "for", proof.Purpose)

	// A sign-in proof does not take a contact away.
	const session = "session:s-9"
	err = d.svc.RemoveContact(ctx, twofactor.RemoveContactRequest{Subscriber: "sub-42", ContactID: phone.ID, Proof: proof})
	fmt.Println(err)

	// The number is swapped to a new SIM. Its SMS codes are no longer trusted.
	d.swapped[phone.Value] = true
	d.wait()
	_, err = d.svc.Begin(ctx, twofactor.BeginRequest{ClientIP: clientIP, Subscriber: "sub-42", ContactID: phone.ID,
		Purpose: otp.PurposeDisableTwoFactor, Flow: session})
	var sim *twofactor.SIMChangeError
	if !errors.As(err, &sim) {
		log.Fatal(err)
	}
	fmt.Println(err)

	// A step-up code for removing the phone, to the email, in the session's flow.
	proof = d.prove(ctx, sim.Alternatives[0], otp.PurposeDisableTwoFactor, session)
	fmt.Println("stepped up:", proof.Method, proof.Kind, proof.Masked, "for", proof.Purpose)
	err = d.svc.RemoveContact(ctx, twofactor.RemoveContactRequest{Subscriber: "sub-42", ContactID: phone.ID, Proof: proof})
	fmt.Println("phone removed:", err == nil)
	_ = email
	// Output:
	// (phone for sign_in sent to •••• 3456)
	// we sent a code to •••• 3456
	// twofactor: invalid code
	// signed in: contact_code phone •••• 3456 for sign_in
	// twofactor: a fresh second-factor proof is required: a proof given for sign_in does not authorise this; give one for disable_two_factor
	// twofactor: the number had a recent SIM change or port; codes are not sent to it (•••• 3456); use a•••@example.com instead
	// (email for disable_two_factor sent to a•••@example.com)
	// stepped up: contact_code email a•••@example.com for disable_two_factor
	// phone removed: true
}

// setUp quietly gives sub-42 a verified email and phone, established, and turns 2FA on.
func (d *demo) setUp(ctx context.Context) (email, phone twofactor.Contact) {
	d.quiet = true
	defer func() { d.quiet = false }()
	add := func(kind twofactor.Kind, v string, re twofactor.Reauth) twofactor.Contact {
		d.wait()
		p, err := d.svc.AddContact(ctx, twofactor.AddContactRequest{ClientIP: clientIP, Subscriber: "sub-42", Kind: kind, Value: v, Reauth: re})
		if err != nil {
			log.Fatal(err)
		}
		c, err := d.svc.VerifyContact(ctx, twofactor.VerifyContactRequest{Subscriber: "sub-42", ChallengeID: p.ChallengeID,
			Code: d.inbox[p.Contact.Value], Reauth: re})
		if err != nil {
			log.Fatal(err)
		}
		return c
	}
	email = add(twofactor.KindEmail, "alice@example.com", d.session())
	re := d.session()
	re.Proof = d.prove(ctx, email, otp.PurposeAddFactor, "session:setup")
	phone = add(twofactor.KindPhone, "+44 7400 123456", re)
	d.now = d.now.Add(8 * 24 * time.Hour) // past the probation
	re = d.session()
	re.Proof = d.prove(ctx, email, otp.PurposeAddFactor, "session:setup")
	if err := d.svc.Enable(ctx, "sub-42", re, twofactor.Origin{}); err != nil {
		log.Fatal(err)
	}
	return email, phone
}

// Enrol an authenticator app through the 2FA service, which checks what every new factor
// needs (otp's own Enroll checks nothing): with 2FA on, a fresh code sent for adding a
// factor, from a contact on file for longer than the probation. A sign-in code the
// subscriber was tricked into reading out does not do.
func Example_authenticator() {
	d := newDemo()
	ctx := context.Background()
	email, _ := d.setUp(ctx)

	re := d.session()
	re.Proof = d.prove(ctx, email, otp.PurposeSignIn, "signin:p-3")
	_, err := d.svc.EnrollAuthenticator(ctx, twofactor.EnrollAuthenticatorRequest{Subscriber: "sub-42", Account: "•••• 3456", Reauth: re})
	fmt.Println(err)

	re.Proof = d.prove(ctx, email, otp.PurposeAddFactor, "session:s-4")
	en, err := d.svc.EnrollAuthenticator(ctx, twofactor.EnrollAuthenticatorRequest{Subscriber: "sub-42", Account: "•••• 3456", Reauth: re})
	if err != nil {
		log.Fatal(err)
	}
	// The subscriber scans en.URI (or en.QRCodePNG) and types the first code.
	u, err := otp.ParseKeyURI(en.URI)
	if err != nil {
		log.Fatal(err)
	}
	app, err := otp.NewKey(u.Secret, u.Params)
	if err != nil {
		log.Fatal(err)
	}
	err = d.svc.ConfirmAuthenticator(ctx, twofactor.ConfirmAuthenticatorRequest{Subscriber: "sub-42", Code: app.TOTP(d.now), Reauth: re})
	fmt.Println("confirmed:", err == nil)

	// Its codes are new for a week: entered to turn 2FA off, they are refused.
	d.now = d.now.Add(time.Minute)
	p, err := d.svc.Complete(ctx, twofactor.CompleteRequest{Subscriber: "sub-42", Method: twofactor.MethodAuthenticator,
		Code: app.TOTP(d.now), Purpose: otp.PurposeDisableTwoFactor})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.svc.Disable(ctx, "sub-42", p, twofactor.Origin{}))
	// Output:
	// (email for sign_in sent to a•••@example.com)
	// twofactor: a fresh second-factor proof is required: a proof given for sign_in does not authorise this; give one for add_factor
	// (email for add_factor sent to a•••@example.com)
	// confirmed: true
	// twofactor: a fresh second-factor proof is required: the factor that gave it was added too recently to authorise this; use one on file for longer
}

// clientIP is the address of the subscriber's device as the examples' server sees it:
// from the connection (or a proxy you trust), never a header the client wrote. Every
// code a client asks for passes it, for otp's SMS budgets.
const clientIP = "198.51.100.7"
