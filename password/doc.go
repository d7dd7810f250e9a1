// Package password runs the password lifecycle of a carrier's subscribers: a policy
// for new passwords (length, a blocklist of common passwords, context words, runs, a
// zxcvbn strength estimate and a breached-password check), argon2id hashing with legacy
// bcrypt migration and an optional pepper, sign-in verification with failure limits,
// changes without reuse, yearly rotation and forced change after a compromise.
//
// # Getting started
//
// A sign-up form only needs a [Checker]; everything stateful is a [Service]:
//
//	svc, err := password.New(password.Config{
//		Policy:       password.DefaultPolicy(), // or password.NISTPolicy()
//		ContextWords: []string{"Acme", "AcmeMobile"},
//		Breach:       pwned, // a *password.PwnedClient, or your own BreachChecker
//		Hasher:       password.HasherConfig{Pepper: pepper, PepperID: "p2026"},
//	}, credStore, attemptStore, publisher)
//
//	res, err := svc.Enroll(ctx, subscriberID, pw, password.Subject{Name: name, Email: email, Phone: phone})
//	// err == password.ErrRejected: show every res.Problems[i].Message.
//
//	out, err := svc.Verify(ctx, password.SignIn{Subscriber: id, Password: pw, ClientKey: ip, Channel: "app"})
//	// errors.Is(err, password.ErrLocked): too many failures; out.Rotation.MustChange(): send to Change.
//
// The in-memory stores in store/memory (memory.NewPassword, memory.NewPasswordAttempts)
// serve tests and development; production adapters pass store/storetest's
// TestPasswordCredentials and TestPasswordAttempts.
//
// # Two profiles, and why they differ
//
// Carriers ask new subscribers for stringent passwords and ask every subscriber to
// change theirs at least once a year, to the same standard and without reuse, so that
// a breach elsewhere does not quietly become a breach of the carrier account.
// NIST SP 800-63B rev 4 and OWASP ASVS 5 disagree on two points: they ask for longer
// passwords instead of rules, and for no periodic rotation, because forced changes
// push people to predictable variations (Summer2025! becomes Summer2026!) while a
// blocklist, a breach check and a forced change on evidence of compromise address the
// same risk directly. Both views are available as named, documented values:
//
//	                   DefaultPolicy (the carriers' ask)   NISTPolicy (SP 800-63B rev 4)
//	minimum length     12                                  15, or 8 with two-factor
//	maximum length     128                                 128 (NIST: allow at least 64)
//	rotation           365 days, warned 30 days ahead      none
//	reuse              not the last 5                      not the current one
//	blocklist, context words, runs, zxcvbn >= 3, breach check: the same in both
//	composition rules  available, off                      off
//
// In both, a reported compromise (ReportCompromise) forces a change at the next
// sign-in. Lengths count Unicode code points after NFC normalisation; spaces and every
// printable character are allowed; nothing is truncated. Input that is empty, over
// MaxBytes (1,024 bytes) or not UTF-8 is refused with ErrEmpty, ErrTooLong or
// ErrInvalidUTF8 before any work. A Policy is a plain value: start from a profile and
// change your copy.
//
// # Checks and reasons
//
// [Checker.Check] reports every problem at once as a [Problem]: a stable [Reason] code
// for programs and translations and an English message for people; messages never
// repeat the password. The blocklist is [CommonPasswords], the 30,000-entry "passwords"
// frequency list of zxcvbn 4.4.2 as shipped by the github.com/trustelem/zxcvbn module,
// which is also the strength estimator, so the two agree; it matches case-insensitively,
// with look-alike substitutions undone and with digits and symbols stripped from the
// ends (Password2024! is "password"). Context words are the subscriber's name, email
// local part and any six consecutive phone digits, and the carrier's own words.
//
// The breached-password check goes through the [BreachChecker] interface, which is
// given only the SHA-1 digest. [PwnedClient] speaks the Pwned Passwords range API with
// k-anonymity: only five hex characters of the digest leave the process, the
// Add-Padding header hides the answer's size, and padding entries are ignored. When
// the check fails (timeout, 5xx, malformed answer) the default is to fail closed:
// the password is rejected with ReasonBreachUnverified, which tells the subscriber to
// try again; CheckerConfig.BreachFailOpen accepts it instead, and Result.Breach says
// which happened.
//
// # Hashing
//
// New hashes are argon2id in PHC string format, $argon2id$v=19$m=19456,t=2,p=1$salt$hash,
// with OWASP's parameters as both default and floor. [Hasher.Verify] also accepts
// legacy bcrypt hashes, and reports needsRehash for bcrypt, for parameters other than
// the configured ones (including those below the floor) and for a different pepper;
// [Service.Verify] then replaces the hash at the same sign-in. Each hash takes 19 MiB,
// so at most HasherConfig.Concurrency (default GOMAXPROCS) run at once; further
// callers wait, and give up when their context ends. A stored hash may ask for at most
// HasherConfig.MaxParams (default twice Params: 38 MiB, 4 passes, 2 lanes) and a
// bcrypt hash for at most cost HasherConfig.MaxBcryptCost (default 12); anything
// dearer is refused with [ErrCostTooHigh] before any work, so memory stays bounded by
// Concurrency × MaxParams.Memory whatever the database holds.
//
// The optional pepper is an HMAC-SHA-256 key kept outside the database: argon2id hashes
// HMAC(pepper, password) and the hash names the pepper (keyid=ID), so peppers can be
// rotated with HasherConfig.OldPeppers. Legacy bcrypt hashes were made by the old
// system without a pepper, so they are verified against the password as typed (then
// its NFC form), never peppered; the rehash after the first successful sign-in is
// peppered, which closes the gap account by account. Until then a bcrypt hash is as
// strong as the old system made it: migrate, then expire what is left.
//
// # Sign-in limits
//
// Each Verify (and the current-password step of Change) is counted as a failure
// before the password is checked and taken back on success, so parallel guesses
// cannot exceed the limits. Failures are counted per subscriber and, with a client key
// such as an IP address, per subscriber and client. A threshold locks for a minute,
// doubling with every further failure up to an hour; locks expire but the count does
// not. At 100 consecutive failures (NIST's maximum; LockoutPolicy.MaxConsecutive may
// lower it) the account is locked until [Service.LiftHardLock]: by a support agent
// after an identity check, or by the subscriber with a fresh code from a verified
// trusted contact and a new password (ResetFailures remains for recovery by other
// means).
//
// A stranger cannot reach that lock alone. A client (an IP address; IPv6 addresses
// count per /64, and each /48 site as one client too, so moving from /64 to /64 buys
// nothing) that has failed 10 times in a row on an account
// (LockoutPolicy.ClientMaxConsecutive) is refused there, uncounted, for 30 days
// (ClientRetention), so locking the owner out takes failures from
// [LockoutPolicy.ClientsToHardLock] clients, 10 with the defaults: credential stuffing
// from many addresses still trips the cap, a stranger's few addresses over days do not.
// Pass a ClientKey: attempts without one count fully.
//
// Failures on subscriber IDs that have no password (invented email addresses) are
// forgotten 24 hours after the last (StrangerRetention), client counts after 30 days;
// the AttemptStore holds a bounded number of such expiring keys and forgets the ones
// that expire soonest to make room, so a flood of invented identities keeps memory flat.
// A real subscriber's own count never expires and is never evicted.
//
// The request types that carry a password in plaintext ([SignIn], [ChangeRequest])
// print (fmt, any verb), log (log/slog) and encode (encoding/json) with each password
// replaced by "[redacted]" and a ChangeRequest's Subject left out, so logging a request
// cannot leak a password.
//
// # Events
//
// The Service publishes through the notify.Publisher it is given:
//
//	notify.PasswordChanged      after Change; next_step=offer_sign_out_other_sessions, reason
//	notify.PasswordRotationDue  once when due soon and once when expired (RotationStatus)
//	notify.PasswordCompromised  ReportCompromise
//	notify.Lockout              when a subscriber lock starts (temporary, until_recovery)
//	notify.LockoutLifted        ResetFailures, LiftHardLock (method, identity_check)
//	notify.PasswordChanged      LiftHardLock by the subscriber (reason lock_reset)
//
// A publishing failure is returned as an error: the operation is not reported as a
// success it could not announce.
package password
