package questions_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/questions"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/twofactor"
)

// newExampleService wires a Service to in-memory stores. In production the key comes
// from configuration or a KMS, and events go to the notify outbox.
func newExampleService(events notify.Publisher) *questions.Service {
	svc, _ := newExampleServices(events)
	return svc
}

// exampleTwoFactor is package twofactor on the memory stores, with an inbox standing in
// for the SMS and email gateway.
type exampleTwoFactor struct {
	*twofactor.Service
	inbox map[string]string // address → last code sent
}

// newExampleServices wires a Service together with the twofactor service whose proofs
// it accepts for Change.
func newExampleServices(events notify.Publisher) (*questions.Service, *exampleTwoFactor) {
	// In production every key comes from configuration, made once with
	// keyring.GenerateKey; each service has a key of its own.
	keys, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 1, Secret: exampleKey()}}})
	if err != nil {
		log.Fatal(err)
	}
	otpStore, tfStore := memory.NewOTP(memory.Options{}), memory.NewTwoFactor(memory.Options{})
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: exampleKey(),
		Budgets: otp.SMSBudgets{HomeRegions: []string{"US"}}}, otpStore, otpStore, events)
	if err != nil {
		log.Fatal(err)
	}
	tf := &exampleTwoFactor{inbox: map[string]string{}}
	tf.Service, err = twofactor.New(twofactor.Config{HashKey: exampleKey()}, twofactor.Deps{
		Codes: codes, Contacts: tfStore, Recovery: tfStore, Failures: tfStore, Publisher: events,
		Sender: twofactor.SenderFunc(func(_ context.Context, m twofactor.Message) error { tf.inbox[m.To] = m.Code; return nil }),
		// In production: a *protection.Service, which answers from the SIM-change history.
		SIMChanges: twofactor.SIMChangesFunc(func(context.Context, string, time.Duration) (bool, error) { return false, nil }),
		// In production: protection.FactorGate over the *protection.Service, so that
		// Account Lockdown and risk apply to adding a factor.
		Gate: protection.FactorGate(examplePolicy()),
	})
	if err != nil {
		log.Fatal(err)
	}
	svc, err := questions.New(questions.Config{},
		memory.NewQuestionAnswers(memory.Options{}), memory.NewQuestionAttempts(memory.Options{}),
		keys, events, tf.Service) // tf checks the proofs Change is given
	if err != nil {
		log.Fatal(err)
	}
	return svc, tf
}

// A subscriber enrolls three questions in the app; later a support agent on the phone
// asks one, types what the subscriber says, and gets a verdict — never the answer.
func Example() {
	ctx := context.Background()
	events := &notify.Recorder{}
	svc := newExampleService(events)

	qs, err := svc.Enroll(ctx, questions.Enrollment{
		Subscriber: "sub-42",
		Channel:    "app",
		Choices: []questions.Choice{
			{QuestionID: "poem-line", Answer: "Two roads diverged in a wood and I – I took the one less traveled by, and that has made all the difference."},
			{QuestionID: "robot-name", Answer: "Mister Clanky"},
			{Custom: "What did we call the broken lawnmower?", Answer: "The Grumbler"},
		},
		// Readily available facts no answer may be (FCC rules).
		Facts: questions.Facts{Name: "Ada Lovelace", Email: "ada@example.com", ZIP: "10001"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, q := range qs {
		fmt.Println(q.Text)
	}

	res, err := svc.Verify(ctx, questions.Verification{
		Subscriber: "sub-42",
		QuestionID: "poem-line",
		Spoken:     "Two roads diverged but I took the one less traveled by. That has made all the difference.",
		AgentID:    "agent-7",
		Channel:    "phone",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Verdict)
	fmt.Println(events.Types())
	// Output:
	// What is your favorite line from a poem?
	// What would you name a robot butler?
	// What did we call the broken lawnmower?
	// match
	// [questions.set questions.verified]
}

// A different line on the same theme does not match, and costs one of the three
// attempts the subscriber has in 24 hours.
func ExampleService_Verify_nearMiss() {
	ctx := context.Background()
	svc := newExampleService(&notify.Recorder{})
	_, err := svc.Enroll(ctx, questions.Enrollment{Subscriber: "sub-42", Channel: "app", Choices: []questions.Choice{
		{QuestionID: "poem-line", Answer: "Two roads diverged in a wood and I – I took the one less traveled by, and that has made all the difference."},
		{QuestionID: "robot-name", Answer: "Mister Clanky"},
		{QuestionID: "odd-collection", Answer: "Snow globes from twelve countries"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := svc.Verify(ctx, questions.Verification{
		Subscriber: "sub-42", QuestionID: "poem-line", AgentID: "agent-7", Channel: "chat",
		Spoken: "Two roads diverged in a yellow wood, and sorry I could not travel both",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Verdict, res.FailuresLeft) // the verdict only: no score to climb on
	res, err = svc.Verify(ctx, questions.Verification{
		Subscriber: "sub-42", QuestionID: "odd-collection", AgentID: "agent-7", Channel: "chat",
		Spoken: "um, I collect snow globes, from 12 countries",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Verdict, res.FailuresLeft)
	// Output:
	// close 2
	// match 2
}

// Enrollment errors say which rule failed for which choice, without echoing the answer.
func ExampleService_Enroll_rules() {
	svc := newExampleService(&notify.Recorder{})
	_, err := svc.Enroll(context.Background(), questions.Enrollment{
		Subscriber: "sub-42", Channel: "app",
		Choices: []questions.Choice{
			{QuestionID: "robot-name", Answer: "Mister Clanky"},
			{QuestionID: "motto", Answer: "Measure twice, cut once"},
			{QuestionID: "band-name", Answer: "10001"},
		},
		Facts: questions.Facts{ZIP: "10001"},
	})
	fmt.Println(errors.Is(err, questions.ErrAnswerPersonalFact))
	fmt.Println(err)
	// Output:
	// true
	// questions: invalid enrollment: answer is a readily available personal fact (choice 3, question "band-name"): it is the subscriber's ZIP code, which others can find out
}

// Changing questions needs a fresh second factor. The subscriber confirms a code sent
// to their trusted email address; the proof twofactor returns authorises the change. A
// proof filled in by hand is refused: only the twofactor service that issued a proof
// can vouch for it.
func ExampleService_Change() {
	ctx := context.Background()
	events := &notify.Recorder{}
	svc, tf := newExampleServices(events)
	choices := []questions.Choice{
		{QuestionID: "robot-name", Answer: "Mister Clanky"},
		{QuestionID: "motto", Answer: "Measure twice, cut once"},
		{QuestionID: "odd-collection", Answer: "Snow globes from twelve countries"},
	}
	if _, err := svc.Enroll(ctx, questions.Enrollment{Subscriber: "sub-42", Channel: "app", Choices: choices}); err != nil {
		log.Fatal(err)
	}
	// Set up earlier: a verified trusted contact.
	re := twofactor.Reauth{SignedInAt: time.Now(), PasswordAt: time.Now()} // from the session registry
	pc, err := tf.AddContact(ctx, twofactor.AddContactRequest{Subscriber: "sub-42", Kind: twofactor.KindEmail, Value: "ada@example.com", Reauth: re})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tf.VerifyContact(ctx, twofactor.VerifyContactRequest{Subscriber: "sub-42", ChallengeID: pc.ChallengeID, Code: tf.inbox["ada@example.com"], Reauth: re}); err != nil {
		log.Fatal(err)
	}

	choices[2] = questions.Choice{QuestionID: "unshared-snack", Answer: "Pickled onion Monster Munch"}
	change := questions.Enrollment{Subscriber: "sub-42", Channel: "app", Choices: choices}

	forged := twofactor.Proof{Subscriber: "sub-42", Method: twofactor.MethodAuthenticator, At: time.Now()}
	_, err = svc.Change(ctx, change, forged)
	fmt.Println("forged:", errors.Is(err, questions.ErrProofRequired))

	// The app asks for a code, and the subscriber types the one they received.
	ch, err := tf.Begin(ctx, twofactor.BeginRequest{Subscriber: "sub-42", ContactID: pc.Contact.ID, Purpose: otp.PurposeAccountChange,
		Flow: "session:s-1"})
	if err != nil {
		log.Fatal(err)
	}
	proof, err := tf.Complete(ctx, twofactor.CompleteRequest{Subscriber: "sub-42", ChallengeID: ch.ID, Code: tf.inbox["ada@example.com"],
		Purpose: otp.PurposeAccountChange, Flow: "session:s-1"})
	if err != nil {
		log.Fatal(err)
	}
	qs, err := svc.Change(ctx, change, proof)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("changed:", qs[2].Text)
	ev, _ := events.Last(notify.SecurityQuestionsChanged)
	fmt.Println(ev.Type, "proved by", ev.Attributes["proof_method"])
	// Output:
	// forged: true
	// changed: Which snack would you never share?
	// questions.changed proved by email
}

// exampleKey stands in for a key from configuration, made once with
// keyring.GenerateKey; each service has a key of its own.
func exampleKey() []byte {
	k, err := keyring.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	return k
}

// examplePolicy is the carrier's protection service, on the memory stores. The 2FA
// state and the factors on file come from the twofactor service in production; here
// 2FA is on and no factor is ever removed.
func examplePolicy() *protection.Service {
	st := memory.NewProtection(memory.Options{})
	twoFactorOn := protection.TwoFactorStateFunc(func(context.Context, string) (bool, error) { return true, nil })
	factorsOnFile := protection.FactorCheckerFunc(func(context.Context, string, protection.Evidence) (bool, error) { return true, nil })
	svc, err := protection.New(protection.Config{PINKey: exampleKey(), TwoFactor: twoFactorOn, Factors: factorsOnFile},
		protection.Stores{Flags: st, History: st, PINs: st}, &notify.Recorder{})
	if err != nil {
		log.Fatal(err)
	}
	return svc
}
