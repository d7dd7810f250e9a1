package protection

import (
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/carrierguard/carrierguard/otp"
)

// Action is a sensitive request the policy decides on. The zero value is not an action.
type Action uint8

// Actions. Their String forms are stable and suitable for storage and events.
const (
	ActionSIMSwap                 Action = iota + 1 // move the number to a new physical SIM
	ActionESIMTransfer                              // transfer or activate an eSIM profile
	ActionPortOut                                   // port the number to another carrier
	ActionChangeEmail                               // change the account email
	ActionChangePhoneContact                        // change or add a phone contact
	ActionChangePassword                            // change the account password
	ActionChangeShippingAddress                     // change the shipping address
	ActionChangePaymentMethod                       // change the payment method
	ActionChangeLines                               // add or remove a line
	ActionDisableTwoFactor                          // turn two-factor authentication off
	ActionRemoveTrustedContact                      // remove a trusted contact
	ActionChangeSecurityQuestions                   // change the security questions
	ActionDisableFlag                               // turn a protection flag off
	ActionViewAccount                               // view account details (CPNI)
	ActionIssueTransferPIN                          // issue a transfer PIN for a port-out
	// ActionAddFactor adds a way to sign in (a trusted contact, an authenticator app, a
	// new set of recovery codes) to an account that has one already, or while 2FA is on.
	ActionAddFactor
	// ActionAddFirstFactor adds the first way to sign in to an account that has none,
	// with 2FA off: there is no factor to ask a code of, so the session and a fresh
	// password are all the subscriber can give online.
	ActionAddFirstFactor
	// ActionEnableTwoFactor turns two-factor authentication on.
	ActionEnableTwoFactor
	numActions = iota + 1
)

var actionNames = [numActions]string{
	"", "sim_swap", "esim_transfer", "port_out", "change_email", "change_phone_contact",
	"change_password", "change_shipping_address", "change_payment_method", "change_lines",
	"disable_two_factor", "remove_trusted_contact", "change_security_questions",
	"disable_flag", "view_account", "issue_transfer_pin", "add_factor", "add_first_factor",
	"enable_two_factor",
}

// Actions returns every action, in declaration order.
func Actions() []Action {
	out := make([]Action, 0, numActions-1)
	for a := Action(1); a < numActions; a++ {
		out = append(out, a)
	}
	return out
}

// Valid reports whether a is one of the declared actions.
func (a Action) Valid() bool { return a > 0 && a < numActions }

func (a Action) String() string {
	if !a.Valid() {
		return fmt.Sprintf("Action(%d)", uint8(a))
	}
	return actionNames[a]
}

// IsSIMChange reports whether a moves the number to another SIM or eSIM.
func (a Action) IsSIMChange() bool { return a == ActionSIMSwap || a == ActionESIMTransfer }

// movesNumber reports whether a moves the number away from the subscriber's SIM: a SIM
// change or a port-out. Done in self-service with only a new factor, it is held.
func (a Action) movesNumber() bool { return a.IsSIMChange() || a == ActionPortOut }

// PurposeFor returns the purpose a second-factor proof must have been given for to
// count toward action a under the default policy (PolicyConfig.Purposes overrides it
// per action):
//
//	sim_swap, esim_transfer                  otp.PurposeSIMSwap
//	port_out, issue_transfer_pin             otp.PurposePortOut
//	disable_two_factor, remove_trusted_contact  otp.PurposeDisableTwoFactor
//	add_factor, add_first_factor, enable_two_factor  otp.PurposeAddFactor
//	disable_flag                             that of what the flag guards: PurposeForFlag
//	view_account                             otp.PurposeSupportIdentity (an agent's identity code)
//	everything else                          otp.PurposeAccountChange
//
// For ActionDisableFlag it returns "" (no purpose fits every flag): the policy then
// takes the purpose from Request.Flag. A sign-in proof (otp.PurposeSignIn) counts for no
// action: it proves the sign-in, which the session evidence stands for.
func PurposeFor(a Action) otp.Purpose {
	switch a {
	case ActionSIMSwap, ActionESIMTransfer:
		return otp.PurposeSIMSwap
	case ActionPortOut, ActionIssueTransferPIN:
		return otp.PurposePortOut
	case ActionDisableTwoFactor, ActionRemoveTrustedContact:
		return otp.PurposeDisableTwoFactor
	case ActionAddFactor, ActionAddFirstFactor, ActionEnableTwoFactor:
		return otp.PurposeAddFactor
	case ActionDisableFlag:
		return ""
	case ActionViewAccount:
		// Only agents ask for a code to show the account (the app needs a session);
		// theirs says it verifies the caller's identity and approves nothing else.
		return otp.PurposeSupportIdentity
	}
	if !a.Valid() {
		return ""
	}
	return otp.PurposeAccountChange
}

// PurposeForFlag is the purpose a proof must have been given for to turn flag f off:
// that of what the flag guards. Never SIM Swap: otp.PurposeSIMSwap; No Port Out:
// otp.PurposePortOut; Account Lockdown: otp.PurposeAccountChange. So the code a
// subscriber asks for to swap the SIM can also lift Never SIM Swap (after its
// cooling-off), and a code for a routine change lifts neither. "" for anything but a
// single flag.
func PurposeForFlag(f Flags) otp.Purpose {
	switch f {
	case NeverSIMSwap:
		return otp.PurposeSIMSwap
	case NoPortOut:
		return otp.PurposePortOut
	case AccountLockdown:
		return otp.PurposeAccountChange
	}
	return ""
}

// ParseAction returns the action whose String form is s (case-insensitive, surrounding
// space ignored). It returns an error wrapping ErrUnknownAction otherwise.
func ParseAction(s string) (Action, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for a := Action(1); a < numActions; a++ {
		if actionNames[a] == t {
			return a, nil
		}
	}
	return 0, fmt.Errorf("%w %q", ErrUnknownAction, clip(s))
}

// Channel is where a request comes from. The zero value is not a channel.
type Channel uint8

// Channels. App and Web are signed-in sessions; Chat and Phone are agent-assisted;
// Store is a retail store where an employee can check a government ID; Partner is a
// machine-to-machine API such as another carrier's port request.
const (
	ChannelApp Channel = iota + 1
	ChannelWeb
	ChannelChat
	ChannelPhone
	ChannelStore
	ChannelPartner
	numChannels = iota + 1
)

var channelNames = [numChannels]string{"", "app", "web", "chat", "phone", "store", "partner"}

// Channels returns every channel, in declaration order.
func Channels() []Channel {
	out := make([]Channel, 0, numChannels-1)
	for c := Channel(1); c < numChannels; c++ {
		out = append(out, c)
	}
	return out
}

// Valid reports whether c is one of the declared channels.
func (c Channel) Valid() bool { return c > 0 && c < numChannels }

// String returns the channel's stable name, the same string notify.Event.Channel uses.
func (c Channel) String() string {
	if !c.Valid() {
		return fmt.Sprintf("Channel(%d)", uint8(c))
	}
	return channelNames[c]
}

// SelfService reports whether c is a channel the subscriber uses alone (app or web).
func (c Channel) SelfService() bool { return c == ChannelApp || c == ChannelWeb }

// ParseChannel returns the channel whose String form is s (case-insensitive). It returns
// an error wrapping ErrUnknownChannel otherwise.
func ParseChannel(s string) (Channel, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for c := Channel(1); c < numChannels; c++ {
		if channelNames[c] == t {
			return c, nil
		}
	}
	return 0, fmt.Errorf("%w %q", ErrUnknownChannel, clip(s))
}

// Flags is a set of protection flags. The zero value is "no flag on".
type Flags uint8

// The protection flags every subscriber can turn on for free.
const (
	// NeverSIMSwap restricts every SIM swap and eSIM transfer: none in self-service or
	// through an agent; only extensive verification in a store, or turning the flag
	// off through its cooling-off period.
	NeverSIMSwap Flags = 1 << iota
	// NoPortOut is the port-out freeze: a port-out needs a transfer PIN, a fresh
	// trusted-contact code and security questions verified by an agent.
	NoPortOut
	// AccountLockdown makes every significant change need extensive verification: a
	// trusted-contact code plus security questions, or a government ID in a store.
	AccountLockdown

	allFlags = NeverSIMSwap | NoPortOut | AccountLockdown
)

var flagNames = [...]string{"never_sim_swap", "no_port_out", "account_lockdown"}

// FlagList returns the three flags, each as a single-flag set.
func FlagList() []Flags { return []Flags{NeverSIMSwap, NoPortOut, AccountLockdown} }

// Single reports whether f is exactly one known flag.
func (f Flags) Single() bool { return f&^allFlags == 0 && bits.OnesCount8(uint8(f)) == 1 }

// Has reports whether every flag in g is in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// String returns the flag names joined by "+", or "none".
func (f Flags) String() string {
	if f == 0 {
		return "none"
	}
	var parts []string
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if rest := f &^ allFlags; rest != 0 {
		parts = append(parts, fmt.Sprintf("Flags(%#x)", uint8(rest)))
	}
	return strings.Join(parts, "+")
}

// ParseFlag returns the single flag named s ("never_sim_swap", "no_port_out",
// "account_lockdown"), or an error wrapping ErrUnknownFlag.
func ParseFlag(s string) (Flags, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i, n := range flagNames {
		if n == t {
			return 1 << i, nil
		}
	}
	return 0, fmt.Errorf("%w %q", ErrUnknownFlag, clip(s))
}

// RiskLevel is the risk of a request, as assessed by package risk or the integrator's
// own scorer. Levels are ordered: RiskLow < RiskMedium < RiskHigh. The zero value is not
// a level: a request without a risk level is rejected rather than treated as low.
type RiskLevel uint8

// Risk levels.
const (
	RiskLow RiskLevel = iota + 1
	RiskMedium
	RiskHigh
	numRisk = iota + 1
)

// Valid reports whether r is Low, Medium or High.
func (r RiskLevel) Valid() bool { return r > 0 && r < numRisk }

func (r RiskLevel) String() string {
	switch r {
	case RiskLow:
		return "low"
	case RiskMedium:
		return "medium"
	case RiskHigh:
		return "high"
	}
	return fmt.Sprintf("RiskLevel(%d)", uint8(r))
}

// EvidenceKind is a kind of proof of identity. Integrators convert what other packages
// produce (a twofactor proof, a verified security-question session, a checked ID) into
// [Evidence] values of these kinds. The numeric values are stable: they are the bit
// positions of [EvidenceKinds], which stores persist.
type EvidenceKind uint8

// Evidence kinds.
const (
	// EvidenceSession is a signed-in app or web session; ObtainedAt is when it signed in.
	EvidenceSession EvidenceKind = iota + 1
	// EvidencePassword is the password re-entered for this request.
	EvidencePassword
	// EvidenceContactCode is a one-time code sent to a trusted contact (Contact says
	// email, SMS or voice) and entered back.
	EvidenceContactCode
	// EvidenceAuthenticator is a code from an enrolled authenticator app (TOTP).
	EvidenceAuthenticator
	// EvidenceRecoveryCode is a single-use recovery code.
	EvidenceRecoveryCode
	// EvidenceSecurityQuestions is security questions verified by a support agent.
	EvidenceSecurityQuestions
	// EvidenceTransferPIN is a transfer PIN checked with Service.VerifyTransferPIN.
	EvidenceTransferPIN
	// EvidenceGovernmentID is a government ID checked in person in a retail store.
	EvidenceGovernmentID
	numEvidence = iota + 1
)

var evidenceNames = [numEvidence]string{
	"", "session", "password", "contact_code", "authenticator", "recovery_code",
	"security_questions", "transfer_pin", "government_id",
}

// Valid reports whether k is one of the declared kinds.
func (k EvidenceKind) Valid() bool { return k > 0 && k < numEvidence }

// SecondFactor reports whether k is a second-factor proof (contact code, authenticator
// code, recovery code): the kinds that carry a Purpose and a FactorAddedAt, and that
// count only toward actions of their purpose and, for the actions with a probation,
// only once their factor is established.
func (k EvidenceKind) SecondFactor() bool {
	return k == EvidenceContactCode || k == EvidenceAuthenticator || k == EvidenceRecoveryCode
}

func (k EvidenceKind) String() string {
	if !k.Valid() {
		return fmt.Sprintf("EvidenceKind(%d)", uint8(k))
	}
	return evidenceNames[k]
}

// EvidenceKinds is a set of evidence kinds: one alternative of a step-up, or the
// evidence that counted for a decision.
type EvidenceKinds uint16

// Kinds returns the set holding ks.
func Kinds(ks ...EvidenceKind) EvidenceKinds {
	var s EvidenceKinds
	for _, k := range ks {
		s |= 1 << k
	}
	return s
}

// Has reports whether k is in s.
func (s EvidenceKinds) Has(k EvidenceKind) bool { return s&(1<<k) != 0 }

// Contains reports whether every kind in t is in s.
func (s EvidenceKinds) Contains(t EvidenceKinds) bool { return s&t == t }

// List returns the kinds in s in declaration order.
func (s EvidenceKinds) List() []EvidenceKind {
	var out []EvidenceKind
	for k := EvidenceKind(1); k < numEvidence; k++ {
		if s.Has(k) {
			out = append(out, k)
		}
	}
	return out
}

// String returns the kind names joined by "+", or "none".
func (s EvidenceKinds) String() string {
	if s == 0 {
		return "none"
	}
	var parts []string
	for _, k := range s.List() {
		parts = append(parts, k.String())
	}
	if rest := s &^ allEvidence; rest != 0 {
		parts = append(parts, fmt.Sprintf("EvidenceKinds(%#x)", uint16(rest)))
	}
	return strings.Join(parts, "+")
}

const allEvidence EvidenceKinds = (1<<numEvidence - 1) &^ 1

// ContactKind says how a one-time code reached a trusted contact.
type ContactKind uint8

// Contact kinds.
const (
	ContactEmail ContactKind = iota + 1
	ContactSMS
	ContactVoice
)

func (c ContactKind) String() string {
	switch c {
	case ContactEmail:
		return "email"
	case ContactSMS:
		return "sms"
	case ContactVoice:
		return "voice"
	}
	return fmt.Sprintf("ContactKind(%d)", uint8(c))
}

// phoneBased reports whether a code to this contact travels over the phone number, and
// so could have been intercepted by whoever swapped or ported it.
func (c ContactKind) phoneBased() bool { return c == ContactSMS || c == ContactVoice }

// valid reports whether c is one of the contact kinds above.
func (c ContactKind) valid() bool { return c == ContactEmail || c.phoneBased() }

// SIMStatus is what is known about recent SIM changes or ports of the number an SMS or
// voice code was sent to.
type SIMStatus uint8

// SIM statuses. The zero value, SIMStatusUnknown, makes an SMS or voice code not count
// (fail closed); [Service.Decide] fills it in from the SIM-change history when the
// evidence names its Destination.
const (
	SIMStatusUnknown SIMStatus = iota
	// SIMStatusStable: no SIM change or port of the number within the policy's window.
	SIMStatusStable
	// SIMStatusChanged: the number had a SIM change or port within the window.
	SIMStatusChanged
)

func (s SIMStatus) String() string {
	switch s {
	case SIMStatusUnknown:
		return "unknown"
	case SIMStatusStable:
		return "stable"
	case SIMStatusChanged:
		return "changed"
	}
	return fmt.Sprintf("SIMStatus(%d)", uint8(s))
}

// Evidence is one proof the requester has given, with the time it was obtained.
// Integrators build it from what the other packages return: a twofactor proof becomes
// EvidenceContactCode, EvidenceAuthenticator or EvidenceRecoveryCode; a questions
// verification becomes EvidenceSecurityQuestions; Service.VerifyTransferPIN returns
// EvidenceTransferPIN itself.
type Evidence struct {
	Kind EvidenceKind
	// ObtainedAt is when the proof was given (for a session: when it signed in). It
	// must not be in the future; evidence older than its freshness window does not count.
	ObtainedAt time.Time
	// Contact is how an EvidenceContactCode reached the subscriber. Required for that kind.
	Contact ContactKind
	// Destination is the E.164 number an SMS or voice code went to. Service.Decide uses
	// it to fill in SIM from the SIM-change history.
	Destination string
	// SIM is what is known about recent SIM changes of Destination. An SMS or voice code
	// counts only when it is SIMStatusStable.
	SIM SIMStatus
	// Purpose is what a second-factor proof (contact code, authenticator code, recovery
	// code) was requested for: the purpose its message named, or the step-up it was
	// entered for. It counts only toward actions of that purpose (PurposeFor); an
	// empty or other purpose counts for nothing (ReasonEvidenceWrongPurpose). Ignored
	// for evidence kinds that carry no purpose (session, password, security questions,
	// transfer PIN, government ID).
	Purpose otp.Purpose
	// FactorAddedAt is when the factor behind a second-factor proof was added or last
	// changed (twofactor.Proof.FactorAddedAt). For the actions with a probation
	// (PolicyConfig.Probation: SIM changes, port-outs, flag lifts, taking factors away,
	// adding factors, turning 2FA on) a factor added within it does not count
	// (ReasonFactorInProbation). Zero means unknown, which counts as in probation.
	FactorAddedAt time.Time
}

// clip bounds caller input echoed in error messages.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
