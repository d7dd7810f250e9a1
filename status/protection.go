package status

import "github.com/carrierguard/carrierguard/protection"

// CapabilityOf is the Capability the trust gate checks before a protection action, so
// an integrator gates exactly what package protection decides:
//
//   - protection.ActionSIMSwap: CapabilitySIMSwap
//   - protection.ActionESIMTransfer: CapabilityESIM
//   - protection.ActionPortOut and ActionIssueTransferPIN (the PIN exists only to port
//     the number out): CapabilityPortOut
//   - protection.ActionChangeEmail, ActionChangePhoneContact and
//     ActionRemoveTrustedContact: CapabilityContactChange
//   - protection.ActionAddFactor, ActionAddFirstFactor and ActionEnableTwoFactor:
//     CapabilityContactChange too. A new way to sign in, or 2FA turned on over one, is
//     the thief's step before the swap (his own contact, then the owner locked out), and
//     an account whose email was never verified has nobody reliable to tell of it.
//
// Every other action is its own capability, named by the action's stable string
// ("change_payment_method", "view_account"...), which Config.Restricted may list. Call
// Allow(ctx, subscriber, CapabilityOf(action)) before (*protection.Service).Decide; the
// gate only ever refuses more, never authorises anything on its own.
func CapabilityOf(a protection.Action) Capability {
	switch a {
	case protection.ActionSIMSwap:
		return CapabilitySIMSwap
	case protection.ActionESIMTransfer:
		return CapabilityESIM
	case protection.ActionPortOut, protection.ActionIssueTransferPIN:
		return CapabilityPortOut
	case protection.ActionChangeEmail, protection.ActionChangePhoneContact, protection.ActionRemoveTrustedContact,
		protection.ActionAddFactor, protection.ActionAddFirstFactor, protection.ActionEnableTwoFactor:
		return CapabilityContactChange
	}
	return Capability(a.String())
}
