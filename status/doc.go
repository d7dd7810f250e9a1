// Package status computes the Account Security Status a carrier greets its subscribers
// with, runs the email verification behind its first step, and gates what an
// unverified (untrusted) account may do.
//
// # The four steps
//
// The status has four steps, each worth 25%, presented and suggested in this order:
//
//	account_verification  the email address of record is verified (this package)
//	two_factor            two-factor authentication is on        (package twofactor)
//	security_questions    three security questions are set       (package questions)
//	password_update       the password is within its rotation    (package password)
//
// Status returns each step as done or not, the percentage (0, 25, 50, 75 or 100) and
// Next, the first step not done: the one thing to ask the subscriber to do now. The
// whole path takes a subscriber less than two minutes.
//
// The status reads the three steps it does not own through one-method interfaces
// (TwoFactorState, QuestionsState, PasswordState), collected in Sources. The services of
// package twofactor is meant to satisfy its interface directly, and FromQuestions and
// FromPassword adapt the services of packages questions and password; any other source (a CRM, a legacy directory) is adapted with TwoFactorFunc, QuestionsFunc
// or PasswordFunc. An error from any source makes Status fail: a status is never
// guessed, in either direction.
//
// # Password rotation
//
// The password step is done only while the password is within its rotation period:
// PasswordState reports a Rotation (when the password last changed and the period), and
// the step flips back to "not done" the moment ChangedAt+Period passes
// (Status.PasswordDueAt says when), and at once when a compromise was reported
// (Rotation.MustChange). Carriers ask subscribers to update their password
// yearly. NIST SP 800-63B rev 4 advises against periodic rotation; a password service
// running the NIST profile reports Period zero, and the step is then done whenever a
// password is set.
//
// # Email verification
//
//	link, err := svc.SendLink(ctx, subscriberID, "alice@example.com")
//	// email "https://carrier.example/verify?t=" + link.Token to link.Email
//	res, err := svc.Verify(ctx, tokenFromURL)
//	switch {
//	case errors.Is(err, status.ErrLinkExpired):
//		// offer "send a new link": svc.SendLink(ctx, res.Subscriber, res.Email)
//	case errors.Is(err, status.ErrInvalidLink):
//		// malformed, unknown, used or replaced
//	}
//
// A link token is 256 bits from crypto/rand (43 base64url characters). Only its SHA-256
// is stored (enough for a random token of that size), links are looked up by that
// hash, and consuming one is a single atomic store step that also records the
// verification, so a link verifies exactly once however many clicks race. Each
// subscriber has at most one pending link: sending a new one invalidates the old.
// Links expire after Config.LinkTTL (24 h by default); an expired link gets
// ErrLinkExpired with the subscriber and address, so the app can resend.
//
// # Resend limits
//
// Every link is an email the carrier sends, so links are throttled per subscriber:
// at most one per Config.MinResendInterval (60 s by default) and Config.HourlyLimit
// (5) in any sliding hour. A refused SendLink returns a *ThrottleError (errors.Is
// ErrThrottled) whose RetryAfter says when to try again (an HTTP API answers 429 with
// Retry-After); it changes nothing, and the pending link keeps working. The history
// lives in the store, so the limits hold across restarts, and reserving a place is
// one atomic store step, so racing requests cannot exceed them. ChangeEmail's links
// count and are throttled too, and changing the address keeps the history: otherwise
// "changing" the address to a victim's, again and again, would bypass the limits.
//
// A link is bound to the address it was sent to, and verifying it verifies that
// address. When the address of record changes, call ChangeEmail: it records the new
// address and drops the old verification and any pending link in one store step (so
// Account Verification is no longer done and the trust gate closes), issues a link for
// the new address and publishes notify.EmailChanged. Storing a link is a
// compare-and-set against the address of record, so a resend racing the change cannot
// leave a link to the old address behind (SendLink gets ErrAddressChanged), and a link
// to an address that is no longer current never verifies. If the resend limits refuse the link, the change still happens
// and ChangeEmail returns the *ThrottleError: send the link later with SendLink. Verify publishes notify.EmailVerified. Events carry addresses
// only masked ("a•••@example.com") and never a token.
//
// # Trust gate
//
// An account whose email is not verified is untrusted. Restrictions lists the
// capabilities it may not use and Allow answers for one capability (nil, or an error
// wrapping ErrUnverified). The list is Config.Restricted; by default DefaultRestricted:
// SIM swap, port-out, eSIM and contact changes, the steps of a number takeover.
// Capabilities are plain strings, so an integrator's own features map onto them by name;
// package protection's actions map onto them with CapabilityOf (see Wiring). The gate is
// one check among several: passing it never authorises a SIM swap on its own.
//
// # Wiring
//
// The three other steps come from the packages that own them, through Sources:
// FromQuestions wraps package questions' Service and FromPassword package password's;
// TwoFactorFunc adapts package twofactor or the carrier's own. The trust gate sits in
// front of package protection: call Allow(ctx, subscriber, CapabilityOf(action)) before
// (*protection.Service).Decide, so an unverified account is refused a SIM swap, eSIM
// transfer, port-out (or its transfer PIN) and contact change by the same action names
// protection decides on. Package risk reads the same fact as Account.EmailVerified.
//
// # Storage
//
// VerificationStore has five methods (ReserveLink, PutLink, ConsumeLink, Verification,
// ResetAddress).
// store/memory.Status implements it; store/storetest.TestStatusVerifications is the
// contract for any other adapter.
package status
