// Package otp issues and checks the one-time passcodes every carrierguard protection
// ends in: out-of-band codes sent by SMS, voice or email, and codes from authenticator
// apps (TOTP) and hardware tokens (HOTP), with replay protection.
//
// A code that can be guessed, replayed, reused for another purpose or read from the
// database defeats 2FA, contact verification and SIM-swap or port-out authorisation
// alike. This package closes each of those doors and leaves the decision of when to ask
// for a code, and what to do after it, to its callers (package twofactor, chiefly).
//
// # Out-of-band codes
//
// [Codes] issues a code for a subscriber, a [Purpose] and a [Destination], returns the
// plaintext once for the caller to send, and stores only a keyed hash:
//
//	// hashKey: 32 or more random bytes from configuration (keyring.GenerateKey makes
//	// them once); publisher: your notify.Publisher.
//	store := memory.NewOTP(memory.Options{})
//	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: hashKey,
//		Budgets: otp.SMSBudgets{HomeRegions: []string{"US"}}}, store, store, publisher)
//	dest := otp.Destination{Channel: otp.ChannelSMS, Address: "+14155552671"}
//	issued, err := codes.Issue(ctx, otp.IssueRequest{
//		Subscriber: "sub-42", Purpose: otp.PurposeSIMSwap, Destination: dest,
//		ClientIP: clientIP, // the address your server vouches for
//	})
//	// Send issued.Code to dest and keep issued.ChallengeID (if the sender refused the
//	// message: codes.Undelivered(ctx, issued.ChallengeID)). Later, with typed what the
//	// subscriber entered:
//	v, err := codes.Verify(ctx, otp.VerifyRequest{ChallengeID: issued.ChallengeID,
//		Subscriber: "sub-42", Purpose: otp.PurposeSIMSwap, Destination: dest, Code: typed})
//
// The policy, and why:
//
//   - Codes are 6 digits by default (6 to 10), uniform from crypto/rand without modulo
//     bias. NIST SP 800-63B asks for at least 6.
//   - The stored hash is HMAC-SHA-256 under CodeConfig.HashKey over the challenge ID,
//     subscriber, purpose, channel, address and code. A database copy reveals no code
//     (a 6-digit code is trivial to brute-force from an unkeyed hash), and a code issued
//     for one purpose, destination or subscriber never verifies for another.
//   - SMS and voice codes live at most 10 minutes (default 10); email codes may be given
//     up to an hour with EmailTTL.
//   - Each code allows 5 attempts (MaxAttempts). The attempt is counted in the store
//     before the code is compared (see [ChallengeStore]), so concurrent guesses cannot
//     exceed the limit, and consumption is atomic, so 64 concurrent correct submissions
//     give one success. The attempt that exhausts a code publishes
//     notify.SuspiciousActivity.
//   - Resends are throttled per subscriber and purpose, in the store so the limits
//     survive restarts: 30 s between codes, 5 an hour. Wrong codes are counted across
//     codes; a new code never resets the count, a correct one does; after 10 in a row no
//     code is issued for 15 minutes. Lockout across all methods is twofactor's job.
//   - Each destination has an hourly cap of its own, across subscribers and purposes:
//     10 codes an hour to one number or address (DestinationHourlyLimit; SMS and voice
//     to a number count together). Otherwise many accounts that each name the same
//     number as a contact could flood it with codes (SMS bombing) or run up messages to
//     it (SMS pumping). The store counts under a keyed hash of the address, never the
//     address, and the refusal (ThrottleDestination) always says to wait an hour, so it
//     tells nothing of when other subscribers' codes went out. The cap is shared, so
//     whoever fills it also holds up codes for the number's owner for up to an hour;
//     that is the price of bounding what reaches one phone, and why twofactor offers a
//     second contact and authenticator apps.
//   - SMS and voice codes cost money, so they also spend [SMSBudgets], shared by every
//     subscriber: the destination's country must be in HomeRegions or AllowedRegions
//     (told from the number, so +1 876 is Jamaica, not the United States); then, per
//     hour by default, 2000 codes in all (Global), 20 asked for by one client
//     (PerClient: IPv4 address or IPv6 /64, from IssueRequest.ClientIP; see package
//     netkey), 100 by one IPv6 /48 (PerNetwork), and 100 to one calling code outside
//     the home regions (PerCountry). This is what stops SMS pumping: a bot asking for
//     codes to thousands of numbers, each for an account of its own, often premium
//     numbers abroad whose operator shares the fee. A refusal is a [BudgetError] naming
//     the budget. The store counts clients under a keyed hash of their prefix, and the
//     refusal always says to wait the whole window, so it tells nothing of when other
//     people's codes went out. HomeRegions is required: NewCodes refuses a
//     configuration without it unless the unsafe AnyCountry says codes go worldwide.
//   - A code the sender refused is withdrawn with [Codes.Undelivered]: the challenge is
//     deleted and its issue no longer counts toward the interval, either hourly limit or
//     the budgets, so a gateway outage does not throttle subscribers for codes they
//     never got. The failure count is never given back. [Codes.Revoke] deletes a challenge whose code
//     may have been delivered and gives nothing back.
//   - What people type is normalised by [NormalizeCode]: spaces and dashes dropped,
//     full-width and other-script digits folded; anything else is ErrMalformedCode,
//     decided before any lookup and not counted as an attempt.
//
// # Authenticator apps and tokens
//
// [Authenticators] enrolls one authenticator per subscriber: a 160-bit secret (or
// longer), an otpauth:// key URI (base32 without padding, the issuer in both label and
// parameter) and a QR code PNG drawn by github.com/pquerna/otp. The secret is sealed with
// a [keyring.Keyring] whose associated data binds it to the subscriber and the enrollment,
// so a sealed secret copied to another row does not open. The enrollment stays pending
// until [Authenticators.Confirm] sees a valid code from the app:
//
//	// keys: a keyring.Keyring (keyring.NewLocal, or your KMS); store and publisher as above.
//	auth, err := otp.NewAuthenticators(otp.AuthenticatorConfig{Issuer: "Acme Mobile"}, store, keys, publisher)
//	en, err := auth.Enroll(ctx, otp.EnrollRequest{Subscriber: "sub-42", Account: "•••• 0123"})
//	// Show en.QRCodePNG (or en.Secret) once, over the signed-in session; first is the
//	// app's first code.
//	_, err = auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "sub-42", Code: first})
//	// At each sign-in, with typed what the subscriber entered:
//	m, err := auth.Verify(ctx, "sub-42", typed)
//
// Verification accepts TOTP codes within ±1 step of 30 s by default (AuthenticatorConfig.Skew)
// and HOTP codes up to 10 counters ahead, with [Authenticators.Resync] for tokens that
// drifted further (two consecutive codes, RFC 4226 §7.4). Every accepted code records
// its step or counter, atomically in the store, and a code whose step is not later than
// the last accepted one is ErrReplay, even inside the window and even when requests race.
// pquerna/otp's validators cannot do this: they do not say which step matched. SHA1,
// SHA256 and SHA512 and 6 or 8 digits are supported; the defaults (SHA1, 6, 30 s) are
// what every app reads.
//
// [Key] is the low-level engine, usable on its own: it keys HMAC once and checks every
// step of the window in constant time, without allocating, whether or not one matched.
// Authenticators does not count wrong codes; its caller does, toward the subscriber's
// lockout.
//
// # Errors
//
// See the variable block in errors.go for which error means what and which may be shown
// to a subscriber. In short: a wrong code and a code for an unknown challenge are the
// same ErrInvalidCode; ErrMalformedCode, ErrWrongLength, ErrExpired, ErrAttemptsExhausted,
// ErrReplay and ErrThrottled are distinct; any other error is an internal failure and
// never means success.
//
// # Stores
//
// [ChallengeStore], [RateStore] (with its [BudgetStore]) and [AuthenticatorStore] are
// small interfaces whose atomic methods carry the guarantees above. store/memory implements all three in
// [github.com/carrierguard/carrierguard/store/memory.OTP]; store/storetest holds the
// suite an adapter of your own must pass.
package otp
