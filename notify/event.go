package notify

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"
	"unicode"
	"unicode/utf8"
)

// Type names a kind of account event. Values are stable strings suitable for storage.
type Type string

// Account events emitted by carrierguard.
const (
	EmailVerified Type = "email.verified"
	EmailChanged  Type = "email.changed"

	PasswordChanged     Type = "password.changed"
	PasswordRotationDue Type = "password.rotation_due"
	PasswordCompromised Type = "password.compromised"

	TwoFactorEnabled  Type = "twofactor.enabled"
	TwoFactorDisabled Type = "twofactor.disabled"

	TrustedContactAdded    Type = "contact.added"
	TrustedContactVerified Type = "contact.verified"
	TrustedContactRemoved  Type = "contact.removed"

	AuthenticatorEnrolled Type = "authenticator.enrolled"
	AuthenticatorRemoved  Type = "authenticator.removed"

	RecoveryCodesGenerated Type = "recovery_codes.generated"
	RecoveryCodeUsed       Type = "recovery_codes.used"

	SecurityQuestionsSet                Type = "questions.set"
	SecurityQuestionsChanged            Type = "questions.changed"
	SecurityQuestionsVerified           Type = "questions.verified"
	SecurityQuestionsVerificationFailed Type = "questions.verification_failed"
	SecurityQuestionsLocked             Type = "questions.locked"

	ProtectionFlagEnabled          Type = "protection.flag_enabled"
	ProtectionFlagDisableRequested Type = "protection.flag_disable_requested"
	ProtectionFlagDisableCancelled Type = "protection.flag_disable_cancelled"
	ProtectionFlagDisabled         Type = "protection.flag_disabled"

	SIMSwapRequested Type = "sim_swap.requested"
	SIMSwapApproved  Type = "sim_swap.approved"
	SIMSwapDenied    Type = "sim_swap.denied"
	SIMSwapCompleted Type = "sim_swap.completed"

	PortOutRequested Type = "port_out.requested"
	PortOutApproved  Type = "port_out.approved"
	PortOutDenied    Type = "port_out.denied"
	PortOutCompleted Type = "port_out.completed"

	TransferPINIssued Type = "transfer_pin.issued"

	SignInNewDevice    Type = "signin.new_device"
	SuspiciousActivity Type = "security.suspicious_activity"
	SessionsRevoked    Type = "sessions.revoked"
	Lockout            Type = "security.lockout"
	LockoutLifted      Type = "security.lockout_lifted"

	AccountDetailsChanged Type = "account.details_changed"

	// DeliveryFailed is an operator signal, not a subscriber message: the notify
	// dispatcher publishes it when it abandons a message (or finds no address for a
	// security event), so operators can reach the subscriber another way. It is never
	// routed to subscribers (see Type.Operator).
	DeliveryFailed Type = "notify.delivery_failed"
)

// typeInfo is what the package knows about a type.
type typeInfo struct {
	// security events go to every verified contact and cannot be muted.
	security bool
	// operator events are for the carrier's operators, never for subscribers.
	operator bool
}

// info describes each known type. Security events are those a subscriber must always
// hear about, on every verified contact: they cannot be muted.
var info = map[Type]typeInfo{
	EmailVerified: {}, EmailChanged: {security: true},
	PasswordChanged: {security: true}, PasswordRotationDue: {}, PasswordCompromised: {security: true},
	TwoFactorEnabled: {security: true}, TwoFactorDisabled: {security: true},
	TrustedContactAdded: {security: true}, TrustedContactVerified: {security: true}, TrustedContactRemoved: {security: true},
	AuthenticatorEnrolled: {security: true}, AuthenticatorRemoved: {security: true},
	RecoveryCodesGenerated: {security: true}, RecoveryCodeUsed: {security: true},
	SecurityQuestionsSet: {security: true}, SecurityQuestionsChanged: {security: true},
	SecurityQuestionsVerified: {}, SecurityQuestionsVerificationFailed: {security: true}, SecurityQuestionsLocked: {security: true},
	ProtectionFlagEnabled: {security: true}, ProtectionFlagDisableRequested: {security: true},
	ProtectionFlagDisableCancelled: {security: true}, ProtectionFlagDisabled: {security: true},
	SIMSwapRequested: {security: true}, SIMSwapApproved: {security: true}, SIMSwapDenied: {security: true}, SIMSwapCompleted: {security: true},
	PortOutRequested: {security: true}, PortOutApproved: {security: true}, PortOutDenied: {security: true}, PortOutCompleted: {security: true},
	TransferPINIssued: {security: true},
	SignInNewDevice:   {security: true}, SuspiciousActivity: {security: true}, SessionsRevoked: {security: true},
	Lockout: {security: true}, LockoutLifted: {},
	AccountDetailsChanged: {security: true},
	DeliveryFailed:        {operator: true},
}

// Types returns every known event type, sorted.
func Types() []Type {
	out := make([]Type, 0, len(info))
	for t := range info {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Known reports whether t is one of the types this package defines.
func (t Type) Known() bool { _, ok := info[t]; return ok }

// Security reports whether t is a security event: one that goes to every verified contact
// and cannot be muted.
func (t Type) Security() bool { return info[t].security }

// Operator reports whether t is an operator signal (such as [DeliveryFailed]) rather than
// a message for the subscriber. Operator events have no subscriber templates and the
// notify outbox refuses to route them.
func (t Type) Operator() bool { return info[t].operator }

// ChangesAddress reports whether t records a change of where the subscriber is reached
// (the account email or a trusted contact). For these types the notify router also tells
// addresses that were removed or replaced recently, so the real owner hears about a
// change an attacker made.
func (t Type) ChangesAddress() bool {
	switch t {
	case EmailChanged, TrustedContactAdded, TrustedContactRemoved:
		return true
	}
	return false
}

// ActorKind says who caused an event.
type ActorKind string

// Actor kinds.
const (
	ActorSubscriber ActorKind = "subscriber"
	ActorAgent      ActorKind = "agent"
	ActorSystem     ActorKind = "system"
)

// Actor is who caused an event: the subscriber, a support agent (with the agent's ID) or
// the system itself.
type Actor struct {
	Kind ActorKind
	// ID identifies an agent or system component; empty for the subscriber.
	ID string
}

// Event is one account event. Events are values: publishers copy what they keep.
type Event struct {
	// ID is unique per event and the root of delivery idempotency keys. Use NewID.
	ID string
	// Type is what happened.
	Type Type
	// Subscriber is the account the event is about.
	Subscriber string
	// Time is when it happened, from the publishing service's clock.
	Time time.Time
	// Actor is who made it happen.
	Actor Actor
	// Channel is where the request came from, such as "app", "web", "chat", "phone",
	// "store", "partner" or "system".
	Channel string
	// Attributes are non-secret details for templates and audit, such as the masked
	// contact ("•••• 1234"), a flag name or a decision reason code.
	Attributes map[string]string
}

// Errors returned by Event.Validate and publishers.
var (
	ErrInvalidEvent = errors.New("notify: invalid event")
	ErrUnknownType  = fmt.Errorf("%w: unknown event type", ErrInvalidEvent)
)

// secretWords are attribute-name words that suggest a secret value. Names are split into
// words at punctuation and case changes ("otp_code", "transferPIN", "OTPCode"), and
// each word is compared whole, also in the plural, so "shipping" or "postcode" pass.
var secretWords = map[string]bool{
	"code": true, "passcode": true, "pincode": true, "password": true, "passwd": true,
	"passphrase": true, "secret": true, "seed": true, "answer": true, "pin": true,
	"token": true, "otp": true, "totp": true, "hotp": true, "cvv": true,
}

// maxSecretWord is longer than any word in secretWords, plural included; a longer word
// is not a secret word, so secretName keeps only the first maxSecretWord letters of each.
const maxSecretWord = 16

// secretName reports whether an attribute name has a word that suggests a secret, also
// in the plural. Words are split at anything but a letter or digit, before an upper-case
// letter that follows a lower-case letter or digit ("transferPIN" -> transfer | PIN),
// and before the last of a run of upper-case letters followed by a lower-case one
// ("OTPCode" -> OTP | Code), and compared in lower case. Every published event's
// attribute names go through it, so it does not allocate.
func secretName(name string) bool {
	var word [maxSecretWord]rune // the current word's first letters, in lower case
	n := 0                       // letters in the current word, even beyond len(word)
	var last, before rune        // the current word's last two letters as written
	prevLower := false
	flush := func() bool {
		w := word[:min(n, len(word))]
		secret := n <= len(word) && (isSecretWord(w) || (n > 0 && w[n-1] == 's' && isSecretWord(w[:n-1])))
		n = 0
		return secret
	}
	add := func(r rune) {
		if n < len(word) {
			word[n] = unicode.ToLower(r)
		}
		n++
		before, last = last, r
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			if flush() {
				return true
			}
			prevLower = false
			continue
		}
		switch {
		case unicode.IsUpper(r) && prevLower:
			if flush() {
				return true
			}
		case unicode.IsLower(r) && n >= 2 && unicode.IsUpper(last) && unicode.IsUpper(before):
			moved := last
			n--
			if flush() {
				return true
			}
			add(moved)
		}
		add(r)
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	return flush()
}

// isSecretWord reports whether w, in lower case, is one of secretWords.
func isSecretWord(w []rune) bool {
	if len(w) == 0 {
		return false
	}
	var b [maxSecretWord]byte
	for i, r := range w {
		if r >= utf8.RuneSelf {
			return false
		}
		b[i] = byte(r)
	}
	return secretWords[string(b[:len(w)])]
}

// Validate checks that the event is complete and carries no attribute whose name suggests
// a secret (code, password, answer, seed, PIN, token…). Masked display forms belong in
// attributes such as "contact" or "destination".
func (e Event) Validate() error {
	switch {
	case e.ID == "":
		return fmt.Errorf("%w: ID is empty (use notify.NewID)", ErrInvalidEvent)
	case !e.Type.Known():
		return fmt.Errorf("%w %q", ErrUnknownType, e.Type)
	case e.Subscriber == "":
		return fmt.Errorf("%w: %s: Subscriber is empty", ErrInvalidEvent, e.Type)
	case e.Time.IsZero():
		return fmt.Errorf("%w: %s: Time is zero", ErrInvalidEvent, e.Type)
	}
	switch e.Actor.Kind {
	case ActorSubscriber, ActorSystem:
	case ActorAgent:
		if e.Actor.ID == "" {
			return fmt.Errorf("%w: %s: an agent actor needs an ID", ErrInvalidEvent, e.Type)
		}
	default:
		return fmt.Errorf("%w: %s: Actor.Kind %q is not subscriber, agent or system", ErrInvalidEvent, e.Type, e.Actor.Kind)
	}
	for k := range e.Attributes {
		if secretName(k) {
			return fmt.Errorf("%w: %s: attribute %q looks like a secret; events never carry secrets", ErrInvalidEvent, e.Type, k)
		}
	}
	return nil
}

// NewID returns a random 128-bit event ID in hex.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
