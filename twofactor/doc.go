// Package twofactor is two-factor authentication for a carrier's subscribers: up to two
// trusted contacts (any mix of email addresses and mobile numbers), one-time codes sent
// to them, authenticator apps, recovery codes, and a lockout after repeated failures.
//
// Once 2FA is on, signing in takes the password and then a second factor. This package
// owns the second half: it decides where a code may go, sends it through your gateway,
// checks what comes back, counts failures, and hands out a [Proof] that other packages
// (protection, session) accept as evidence. Every change a subscriber must hear about
// publishes a notify.Event from inside the package.
//
// # Getting started
//
//	store := memory.NewTwoFactor(memory.Options{})
//	svc, err := twofactor.New(twofactor.Config{
//		HashKey: hashKey, // ≥32 random bytes, its own key
//		Phone:   twofactor.PhoneOptions{DefaultRegion: "US"},
//	}, twofactor.Deps{
//		Codes:          codes,          // *otp.Codes
//		Authenticators: authenticators, // *otp.Authenticators, optional
//		Contacts: store, Recovery: store, Failures: store, // store is the ChallengeStore too
//		Sender:     gateway,                          // your SMS and email delivery
//		SIMChanges: protect,                          // *protection.Service: the SIM-change history
//		Publisher:  outbox,                           // notify.Publisher
//		Gate:       protection.FactorGate(protect),   // Lockdown and risk for factor changes
//	})
//
// Setting up: AddContact (the input is parsed and normalised, and a code is sent to the
// new contact) → VerifyContact with that code → repeat for a second contact → Enable,
// each with the [Reauth] the signed-in session presents (see Adding a factor below).
// Signing in: Begin (the subscriber picks a contact; the code is sent there, for
// otp.PurposeSignIn, in the flow of this pending sign-in) → Complete with the code, the
// purpose and the flow → a Proof of the sign-in. An authenticator-app code or a recovery
// code goes straight to Complete with MethodAuthenticator or MethodRecoveryCode and the
// purpose it is entered for.
//
// # Purposes and flows
//
// Every Proof carries the purpose it was given for ([Proof.Purpose]): a contact code the
// purpose its message named, an app or recovery code the one the caller passed to
// Complete ([CompleteRequest.Purpose]). A sign-in proof proves the sign-in only; a
// step-up proof counts for the one purpose it was asked for, and package protection
// matches it per action (protection.PurposeFor). This package checks it for its own
// changes: taking a factor away (Disable, RemoveContact, RemoveAuthenticator) takes a
// proof for otp.PurposeDisableTwoFactor, adding one a proof for otp.PurposeAddFactor.
//
// Each contact-code challenge is bound, server-side, to the flow that began it
// ([BeginRequest.Flow], an opaque name such as "session:<id>", "signin:<id>" or
// "case:<id>") and its purpose, in a [ChallengeStore]. Complete names the flow and
// purpose it expects, and a challenge begun elsewhere or for something else fails as a
// wrong code (counted): a SIM-swap step-up code cannot complete the thief's pending
// sign-in, and a code a subscriber asked for in the app cannot be read out to an agent
// as proof in a case. A contact's verification code is bound the same way, to
// [ContactFlow] of its contact. The bindings are library state, so two replicas of a
// server on one database share them, and an application keeps no table of its own: a
// step-up screen that does not know which purpose a code was asked for gets it from
// [Service.ChallengePurpose] (which answers only for a challenge of that subscriber and
// flow) and passes it to Complete.
//
// # Probation
//
// A proof also carries when its factor was added or last changed ([Proof.FactorAddedAt]:
// a contact's verification, an app's confirmation, a recovery-code set's generation),
// bound into its tag. A factor within Config.FactorProbation (7 days) of that time is
// new: its proofs do not take a factor away, add one while 2FA is on, or turn 2FA on
// ([ErrFactorInProbation]), and package protection does not count them toward SIM
// changes, port-outs or flag lifts. So a thief who got his own factor in cannot use it
// to push the owner's out or move the number before the owner hears of it.
//
// The probation is set once, in protection's policy: a Gate that reports it
// ([ProbationGate], as protection.FactorGate does) makes it the default of
// Config.FactorProbation, and [New] refuses a FactorProbation shorter than it, so the
// two packages cannot disagree about when a new factor starts to count.
//
// # Adding a factor
//
// AddContact, VerifyContact, EnrollAuthenticator, ConfirmAuthenticator,
// GenerateRecoveryCodes and Enable add a way to sign in, and each takes a [Reauth] from
// the server's own records (the session's sign-in and password times, and its proofs):
//   - while 2FA is off, the password entered within Config.PasswordMaxAge (15 minutes);
//   - if a verified contact or a confirmed app is on file (and always while 2FA is on,
//     or to turn it on), a fresh proof for otp.PurposeAddFactor from it, never from the
//     contact being added;
//   - while 2FA is on, and to turn it on, from a factor past its probation.
//
// Then the [Gate] decides (protection.FactorGate: protection's ActionAddFactor,
// ActionAddFirstFactor and ActionEnableTwoFactor, so Account Lockdown and risk apply),
// and the change is announced to every contact on file before it takes effect
// (TrustedContactAdded, TrustedContactVerified, RecoveryCodesGenerated,
// TwoFactorEnabled; otp announces a confirmed app itself, also before it counts).
//
// A brand-new account with no factor adds its first contact or app with the password
// alone (FactorChange.First): there is nothing else on file to ask. That factor is new
// for the probation period, during which it cannot turn 2FA on or take anything away,
// and a SIM change resting on it alone is held by protection; the account's own address
// hears of everything meanwhile. 2FA goes on once it is established (or in a store,
// with an ID).
//
// # Trusted contacts
//
// Email addresses are parsed with net/mail and lower-cased; a bare address is required.
// Phone numbers are parsed with github.com/nyaruka/phonenumbers (national formats need
// Config.Phone.DefaultRegion) and kept in E.164; numbers the numbering plan says cannot
// receive SMS (fixed line, toll free, premium rate, pager…) are refused, VoIP too unless
// PhoneOptions.AllowVoIP. Every refusal says what was wrong ([ErrInvalidEmail],
// [ErrInvalidPhone], [ErrNotMobile]). A contact counts only once its owner has entered
// the code sent to it. Each subscriber may have [MaxContacts] (2), pending ones included,
// and no duplicates; the store enforces both atomically. Contacts are shown masked
// ("•••• 2671", "a•••@example.com") everywhere: [Contact.Masked], events, errors.
// A removed verified contact is kept for [FormerRetention] as a former contact, and
// [Service.Recipients] reports both kinds in the form a notify.Directory returns, so
// the real owner of an address an attacker removed still hears about it.
//
// # Fresh proofs
//
// Complete returns a Proof: subscriber, method, purpose, contact, time, factor age, and
// an HMAC tag under a key derived from Config.HashKey. Keep it server-side (in the
// session record, say) and pass it back: removing a verified contact, disabling 2FA and
// every factor change require one no older than Config.ProofMaxAge (5 minutes), checked
// by [Service.CheckProof], and given for the right purpose (above). A proof a client
// makes up or alters fails the tag. The last verified contact cannot be removed while
// 2FA is on ([ErrLastContact]); to replace it, add and verify the new one first.
// protection.EvidenceFromProof checks a proof with [Service.VerifyProof] and turns it
// into protection.Evidence, purpose and factor age included; the Proof documentation
// shows the mapping. A printed or logged Proof leaves out its tag.
//
// # SIM-change awareness
//
// SMS is a "restricted" authenticator in NIST SP 800-63B: whoever swaps or ports the
// number receives the codes. Before an SMS code goes out, Begin asks [SIMChanges]
// whether the number had a SIM change or port within Config.SIMChangeWindow (7 days);
// if it had, no code is sent and a [SIMChangeError] names the subscriber's other
// contacts to use instead. If the question cannot be answered, nothing is sent (fail
// closed). Complete asks again before accepting an SMS code, since a message the network
// held while the phone was off reaches whichever SIM has the number when it comes back.
// *protection.Service answers from the carrier's own SIM-change history. Begin accepts
// only otp's purposes and Config.Purposes, because otp's resend limits are per purpose.
//
// # SMS budgets
//
// SMS codes cost the carrier money, and a bot that asks for them to number after number
// (SMS pumping) is stopped by otp's SMSBudgets: per client, per country calling code,
// in all, and only to allowed countries. Every request that sends a code therefore
// names the client that asked: [BeginRequest.ClientIP], [AddContactRequest.ClientIP]
// and [ResendVerificationRequest.ClientIP], the address your server or its proxy
// vouches for, never a header the client wrote. Leave it empty only for codes no client
// asked for (a support agent's console); those count against the global and country
// budgets alone. A refusal is a *otp.BudgetError naming the budget.
//
// # Recovery codes
//
// [Service.GenerateRecoveryCodes] makes 10 codes of 10 characters from an alphabet
// without look-alikes ([RecoveryAlphabet], about 49 bits each), returns them once and
// stores only HMAC-SHA-256 hashes bound to the subscriber. Each works once, even when
// requests race; regenerating replaces the whole set. Using one publishes
// notify.RecoveryCodeUsed, a security event that goes to every contact; if that cannot
// be published, no proof is given.
//
// # Failures and lockout
//
// Failures are counted per subscriber across every method: contact codes, contact
// verification codes, authenticator codes and recovery codes. The attempt is counted in
// the store before the code is compared ([FailureStore]), so concurrent guesses cannot
// outrun the limit; a success resets the count. With [DefaultLockoutPolicy], the 5th
// consecutive failure locks the subscriber out for 15 minutes, the 10th for 30, each
// further 5 doubling up to 24 hours, and the 100th (NIST's ceiling) locks until support
// lifts it with [Service.Unlock] (a notify.ActorAgent must be named). Each lockout
// publishes notify.Lockout. Issuing a new
// code never resets the count. Input that cannot be a code at all (no digits, letters in
// a numeric code, a recovery code with a character outside the alphabet) is refused
// without counting, decided from the input alone; everything else counts, whether the
// code was wrong, expired or already used.
//
// From outside, an unknown subscriber, an unknown challenge, a wrong code, a code of a
// length the verifier does not expect and a method the subscriber has not set up are
// all [ErrInvalidCode], counted and locked alike.
//
// # Delivery
//
// [Sender] receives a [Message] whose Code field is the only plaintext copy of a code
// anywhere; Message's String and LogValue leave it out. If sending fails, the code is
// withdrawn with otp.Codes.Undelivered and the error returned: nothing counts toward the
// lockout or toward otp's resend limits, so an SMS gateway outage does not leave the
// subscriber throttled for codes they never got. The limits therefore trust the
// Sender's word: return an error only when the message was not accepted for delivery
// (a timeout after the gateway took it is not such a failure, or codes would go out
// beyond the limits). Resends are throttled by package otp per subscriber and purpose
// (30 s apart, 5 an hour by default), so a subscriber switching contacts within 30 s
// gets otp.ErrThrottled with a RetryAfter, and per destination (10 an hour to one
// number or address, whoever asks), so many accounts naming the same number as a
// contact cannot flood it.
//
// # Stores
//
// [ContactStore], [RecoveryStore], [FailureStore] and [ChallengeStore] are small
// interfaces whose atomic methods carry the guarantees above (the recovery store keeps
// each set's generation time, the challenge store each challenge's flow and purpose).
// store/memory implements all four in memory.TwoFactor; store/storetest holds the suite
// your own adapter must pass.
package twofactor
