package otp

import "fmt"

// Purpose says what a one-time code authorises. A code issued for one purpose never
// verifies for another: the purpose is inside the code's keyed hash.
//
// The constants below are the purposes carrierguard itself uses. Integrators may define
// their own; a purpose is 1 to 64 characters from a-z, 0-9, '_', '-' and '.'.
type Purpose string

// Purposes used by carrierguard.
const (
	// PurposeSignIn is a code that completes a sign-in; the proof it gives proves the
	// sign-in only, never a later change.
	PurposeSignIn              Purpose = "sign_in"
	PurposeContactVerification Purpose = "contact_verification"
	PurposeSIMSwap             Purpose = "sim_swap_authorisation"
	PurposePortOut             Purpose = "port_out_authorisation"
	PurposeAccountChange       Purpose = "account_change"
	PurposeAccountRecovery     Purpose = "account_recovery"
	PurposeDisableTwoFactor    Purpose = "disable_two_factor"
	// PurposeAddFactor is a code that approves adding a sign-in factor (a trusted
	// contact, an authenticator app, a new set of recovery codes) or turning 2FA on. It is
	// sent to a factor the subscriber already has, never to the one being added.
	PurposeAddFactor Purpose = "add_factor"
	// PurposeSupportIdentity is a code a support agent sends so that a caller can prove
	// who they are: it lets the agent see the account, and never approves a SIM swap,
	// eSIM transfer or port-out, which have codes of their own.
	PurposeSupportIdentity Purpose = "support_identity"
)

// Validate reports whether p is a well-formed purpose.
func (p Purpose) Validate() error {
	if len(p) == 0 || len(p) > 64 {
		return fmt.Errorf("otp: purpose must be 1 to 64 characters, got %d", len(p))
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("otp: purpose has a character outside a-z 0-9 _ - . at position %d", i+1)
		}
	}
	return nil
}

// Channel is how an out-of-band code travels to the subscriber.
type Channel string

// Channels. SMS and voice codes live at most 10 minutes (NIST SP 800-63B); email codes
// may be given longer with CodeConfig.EmailTTL.
const (
	ChannelSMS   Channel = "sms"
	ChannelVoice Channel = "voice"
	ChannelEmail Channel = "email"
)

func (c Channel) valid() bool { return c == ChannelSMS || c == ChannelVoice || c == ChannelEmail }

// Destination is where a code is sent: a channel and an address (an E.164 number for
// SMS and voice, an email address for email). A code issued for one destination never
// verifies for another, byte for byte, so pass addresses in one canonical form (package
// twofactor normalises them). The address is bound into the code's keyed hash and is not
// stored by otp.
type Destination struct {
	Channel Channel
	Address string
}

func (d Destination) validate() error {
	if !d.Channel.valid() {
		return fmt.Errorf("otp: destination channel %q is not sms, voice or email", d.Channel)
	}
	if d.Address == "" || len(d.Address) > 320 {
		return fmt.Errorf("otp: destination address must be 1 to 320 bytes, got %d", len(d.Address))
	}
	return nil
}
