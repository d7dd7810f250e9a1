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
//		Contacts: store, Recovery: store, Failures: store,
//		Sender:     gateway,   // your SMS and email delivery
//		SIMChanges: protect,   // *protection.Service: the SIM-change history
//		Publisher:  outbox,    // notify.Publisher
//	})
//
// Setting up: AddContact (the input is parsed and normalised, and a code is sent to the
// new contact) → VerifyContact with that code → repeat for a second contact → Enable.
// Signing in: Begin (the subscriber picks a contact; the code is sent there) → Complete
// with the code → a Proof. An authenticator-app code or a recovery code goes straight to
// Complete with MethodAuthenticator or MethodRecoveryCode.
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
// Complete returns a Proof: subscriber, method, contact, time, and an HMAC tag under a
// key derived from Config.HashKey. Keep it server-side (in the session record, say) and
// pass it back: removing a verified contact, disabling 2FA, and, once 2FA is on, adding a
// contact or regenerating recovery codes all require one no older than
// Config.ProofMaxAge (5 minutes), checked by [Service.CheckProof]. A proof by a contact
// code carries the purpose its message named: disabling 2FA and removing the
// authenticator app take such a proof only if it was sent for
// otp.PurposeDisableTwoFactor, and callers should likewise count it only toward
// actions of its purpose. A proof a client makes up or alters fails the tag. The last verified contact cannot be removed while
// 2FA is on ([ErrLastContact]); to replace it, add and verify the new one first. A
// contact left pending from before 2FA was turned on needs a proof to be verified
// (VerifyContactRequest.Proof). protection.EvidenceFromProof checks a proof with
// [Service.VerifyProof] and turns it into protection.Evidence; the Proof documentation
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
// [ContactStore], [RecoveryStore] and [FailureStore] are small interfaces whose atomic
// methods carry the guarantees above. store/memory implements all three in
// memory.TwoFactor; store/storetest holds the suite your own adapter must pass.
package twofactor
