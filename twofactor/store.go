package twofactor

import (
	"context"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
)

// MaxContacts is how many trusted contacts a subscriber may register, verified or not.
const MaxContacts = 2

// Contact is a trusted contact method as stored. Value is the normalised address (an
// E.164 number or a lower-case email address); show Masked() to people.
type Contact struct {
	// ID is random and identifies the contact within its subscriber.
	ID         string
	Subscriber string
	Kind       Kind
	Value      string
	CreatedAt  time.Time
	// VerifiedAt is when its owner entered the code sent to it; zero while pending. Only
	// verified contacts receive sign-in codes or keep 2FA usable.
	VerifiedAt time.Time
	// RemovedAt is when a former contact was removed (State.Former only).
	RemovedAt time.Time
}

// Verified reports whether the contact has been proved with a code.
func (c Contact) Verified() bool { return !c.VerifiedAt.IsZero() }

// Masked is the contact as UIs and messages show it: "•••• 2671", "a•••@example.com".
func (c Contact) Masked() string { return Mask(c.Kind, c.Value) }

// State is a subscriber's 2FA switch and trusted contacts.
type State struct {
	Enabled   bool
	EnabledAt time.Time
	// Contacts are in the order they were added.
	Contacts []Contact
	// Former are verified contacts removed within the last FormerRetention, so that
	// the real owner of an address hears about changes made after it was removed (see
	// State.Recipients and notify.Profile.Former).
	Former []Contact
}

// FormerRetention is how long a store keeps a removed verified contact in State.Former:
// longer than notify.DefaultFormerWindow, so the notify router can always find it.
const FormerRetention = 30 * 24 * time.Hour

// Contact returns the contact with the given ID.
func (s State) Contact(id string) (Contact, bool) {
	for _, c := range s.Contacts {
		if c.ID == id {
			return c, true
		}
	}
	return Contact{}, false
}

// Recipients returns the verified contacts and the former ones in the form package
// notify's Directory reports them, for notify.Profile.Contacts and notify.Profile.Former.
// Pending contacts are left out: they may belong to anyone.
func (s State) Recipients() (contacts []notify.Recipient, former []notify.FormerAddress) {
	for _, c := range s.Contacts {
		if c.Verified() {
			contacts = append(contacts, c.recipient())
		}
	}
	for _, c := range s.Former {
		former = append(former, notify.FormerAddress{Recipient: c.recipient(), Until: c.RemovedAt})
	}
	return contacts, former
}

func (c Contact) recipient() notify.Recipient {
	if c.Kind == KindPhone {
		return notify.Recipient{Channel: notify.ChannelSMS, Address: c.Value}
	}
	return notify.Recipient{Channel: notify.ChannelEmail, Address: c.Value}
}

func (s State) verified() int {
	n := 0
	for _, c := range s.Contacts {
		if c.Verified() {
			n++
		}
	}
	return n
}

// ContactStore keeps each subscriber's trusted contacts and 2FA switch. They live in one
// store because two rules span both and must hold however requests race: "at most
// MaxContacts, no duplicates" and "the last verified contact cannot be removed while 2FA
// is on". Implementations must be safe for concurrent use and make every method atomic.
// A subscriber the store has never seen has the zero State.
type ContactStore interface {
	// State returns the subscriber's switch, contacts and former contacts (a zero State,
	// nil error, for a subscriber never seen). The caller may modify the returned slices.
	State(ctx context.Context, subscriber string) (State, error)
	// AddContact stores a new contact (VerifiedAt zero). It returns ErrDuplicateContact if
	// the subscriber has a contact of the same Kind and Value, ErrTooManyContacts if they
	// have max contacts already, and changes nothing in either case.
	AddContact(ctx context.Context, c Contact, max int) error
	// VerifyContact sets VerifiedAt to at if the contact is pending, and returns the
	// contact as stored. ErrNotFound if the subscriber has no contact with this ID.
	VerifyContact(ctx context.Context, subscriber, id string, at time.Time) (Contact, error)
	// RemoveContact deletes the contact and returns it. A verified contact moves to
	// State.Former with RemovedAt = at, and is kept there for at least FormerRetention
	// (measured with the store's clock); a pending one is simply deleted. ErrNotFound if
	// there is none; ErrLastContact, changing nothing, if 2FA is on and it is the
	// subscriber's only verified contact. With pendingOnly (the service saw the contact
	// pending and holds no proof), ErrConflict, changing nothing, if the contact is
	// verified by now: the check and the removal are one step, so a verification that
	// races with the removal cannot let a verified contact go without a proof.
	RemoveContact(ctx context.Context, subscriber, id string, at time.Time, pendingOnly bool) (Contact, error)
	// SetEnabled turns 2FA on or off at time at and reports whether that changed
	// anything. Turning it on with needContact returns ErrNoSecondFactor, changing
	// nothing, unless the subscriber has a verified contact.
	SetEnabled(ctx context.Context, subscriber string, on bool, at time.Time, needContact bool) (changed bool, err error)
}

// RecoveryStore keeps each subscriber's recovery codes as keyed hashes. Implementations
// must be safe for concurrent use; ConsumeRecoveryCode must be atomic, so a code is used
// once even when 64 requests race with it.
type RecoveryStore interface {
	// ReplaceRecoveryCodes replaces the subscriber's whole set with hashes (an empty
	// hashes deletes the set), generated at time at, which it keeps with the set. The
	// store keeps its own copy of hashes.
	ReplaceRecoveryCodes(ctx context.Context, subscriber string, hashes [][]byte, at time.Time) error
	// ConsumeRecoveryCode removes the subscriber's code whose hash equals hash and
	// returns how many remain and when the set it belonged to was generated (the at of
	// ReplaceRecoveryCodes), in the same atomic step; ErrNotFound if none matches.
	ConsumeRecoveryCode(ctx context.Context, subscriber string, hash []byte) (remaining int, generatedAt time.Time, err error)
	// RecoveryCodesLeft returns how many unused codes the subscriber has (0 if none).
	RecoveryCodesLeft(ctx context.Context, subscriber string) (int, error)
}

// FailureStore counts consecutive second-factor failures per subscriber. It must be safe
// for concurrent use and make BeginAttempt atomic (check and count in one step), with
// time from its own clock. Durable adapters keep counts across restarts: that is what
// makes a lockout hold against an attacker who waits for a redeploy.
//
// The protocol is: BeginAttempt before a code is compared (counting it as a failure in
// advance), then ResetFailures if it was right. Because the attempt is counted before
// the comparison, requests that race cannot get more guesses than the policy allows.
type FailureStore interface {
	// BeginAttempt returns policy.Locked(current, now) (a *LockedError), counting nothing,
	// if the subscriber is locked; otherwise it adds one failure with Last = now and
	// returns the new Failures.
	BeginAttempt(ctx context.Context, subscriber string, policy LockoutPolicy) (Failures, error)
	// ResetFailures sets the subscriber's count to zero (after a success, or when support
	// lifts a lock).
	ResetFailures(ctx context.Context, subscriber string) error
	// Failures returns the subscriber's current count (zero if none).
	Failures(ctx context.Context, subscriber string) (Failures, error)
}

// ChallengeBinding is where a contact-code challenge was issued: to which subscriber,
// in which flow, for which purpose, until when. Begin stores it and Complete reads it,
// so the binding lives with the library's state, not in an application's memory, and a
// challenge issued in one flow (a step-up for a SIM swap in session A) cannot complete
// another (a pending sign-in).
type ChallengeBinding struct {
	// ID is the otp challenge's ID.
	ID         string
	Subscriber string
	// ContactID is the contact the code went to.
	ContactID string
	// Flow is the caller's opaque name for the flow that asked for the code
	// (BeginRequest.Flow).
	Flow    string
	Purpose otp.Purpose
	// ExpiresAt is when the code expires; the binding is useless after it.
	ExpiresAt time.Time
}

// ChallengeStore keeps challenge bindings. Implementations must be safe for concurrent
// use. It only persists: Complete compares the binding with what its caller expects.
// store/memory implements it in memory.TwoFactor, and storetest.TestTwoFactorChallenges
// is its conformance suite.
type ChallengeStore interface {
	// PutChallenge stores b under b.ID, replacing any binding with that ID. The store
	// may delete bindings whose ExpiresAt is before now (the core's clock) meanwhile, so
	// that bindings never outgrow the codes they describe.
	PutChallenge(ctx context.Context, b ChallengeBinding, now time.Time) error
	// Challenge returns the binding stored under id; ErrNotFound if there is none. A
	// binding outlives the use of its code (so a replayed code is reported as such) and
	// goes when it has expired.
	Challenge(ctx context.Context, id string) (ChallengeBinding, error)
}
