// Package line decides which phone numbers are a subscriber's lines.
//
// A number typed into a sign-up form is a claim, not a line. If a carrier treats it as
// the account's line, a stranger can register a victim's number under his own email
// and then ask for a SIM swap of "his" line. This package makes a number an account's
// line only when it is proved, in one of two ways:
//
//   - an SMS code sent to the number is read back ([Service.Begin], [Service.Complete]):
//     whoever holds the SIM holds the line, unless the SIM changed within the last 7
//     days ([ErrRecentSIMChange]: [SIMChanges], which *protection.Service implements);
//     or
//   - the carrier's own provisioning system says the subscriber holds it
//     ([Provisioning].OwnsLine, asked by [Service.Check]): the lines a carrier sold.
//
// A proved line is a [Binding] in a [Store] (store/memory has one; storetest.TestLines
// is the contract for others). A number is bound to at most one subscriber: proving a
// number someone else has proved returns [ErrTaken], because moving a line between
// accounts is a provisioning matter. [Service.Release] unbinds a line after a completed
// port-out.
//
// Call [Service.Check] before every SIM swap, eSIM transfer or port-out, whatever the
// channel: it returns [ErrUnproved] for a number that is not a proved line of that
// subscriber.
//
//	svc, err := line.New(line.Config{}, line.Deps{Store: st, Codes: codes,
//		Sender: line.SenderFunc(sms), Provisioning: crm, Publisher: outbox})
//
//	// sign-up: the number is only claimed; prove it
//	ch, err := svc.BeginFrom(ctx, subscriberID, claimedNumber, clientIP) // the address your server vouches for
//	b, err := svc.Complete(ctx, line.CompleteRequest{Subscriber: subscriberID,
//		Number: claimedNumber, ChallengeID: ch.ID, Code: typed})
//
//	// before a SIM swap
//	if _, err := svc.Check(ctx, subscriberID, number); err != nil {
//		// refuse: errors.Is(err, line.ErrUnproved), or a fault
//	}
//
// The code's purpose is [PurposeLineProof]: it proves possession of the number and
// counts for nothing else. otp's resend limits (per subscriber and per number) bound how
// many codes one account can send, and Begin sends the code even for a number someone
// else has proved, so it does not reveal who is a customer.
package line
