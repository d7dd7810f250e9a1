package agent

import (
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
)

// PurposeIdentity is the purpose of a code an agent sends so that a caller can prove who
// they are. It lets the agent see the account and handle requests that need only
// identity; it never approves a SIM swap, eSIM transfer or port-out, which have codes of
// their own (otp.PurposeSIMSwap, otp.PurposePortOut) whose message says so. It is
// otp.PurposeSupportIdentity, the purpose protection.PurposeFor gives
// protection.ActionViewAccount, and twofactor sends it without configuration.
const PurposeIdentity = otp.PurposeSupportIdentity

// CodePurpose is the purpose of the code an agent sends to the caller before action a:
// otp.PurposeSIMSwap for a SIM swap or eSIM transfer, otp.PurposePortOut for a port-out,
// and PurposeIdentity for everything else (viewing the account first of all).
func CodePurpose(a protection.Action) otp.Purpose {
	switch a {
	case protection.ActionSIMSwap, protection.ActionESIMTransfer:
		return otp.PurposeSIMSwap
	case protection.ActionPortOut:
		return otp.PurposePortOut
	}
	return PurposeIdentity
}

// CodeMessage is what a code of purpose p is for, in the words the message carrying it
// should use ("Your code is 123456. It is to approve a SIM swap on your line and expires at 12:10 UTC."), for the
// purposes of agent cases. A subscriber reading a code out to a caller who claims to be
// from the carrier can then see what it will do. It reports false for other purposes.
func CodeMessage(p otp.Purpose) (string, bool) {
	switch p {
	case otp.PurposeSIMSwap:
		return "to approve a SIM swap on your line", true
	case otp.PurposePortOut:
		return "to approve a port-out of your number to another carrier", true
	case PurposeIdentity:
		return "to verify your identity with support (it cannot approve a SIM swap or a port-out)", true
	}
	return "", false
}

// secondFactor reports whether evidence of kind k is a one-time-code proof, which counts
// only for the purpose it was sent for.
func secondFactor(k protection.EvidenceKind) bool {
	return k == protection.EvidenceContactCode || k == protection.EvidenceAuthenticator || k == protection.EvidenceRecoveryCode
}

// EvidenceFor returns the evidence in evs that counts toward action a: every code proof
// whose Purpose is CodePurpose(a), and every piece that is not a code proof (government
// ID, security questions, transfer PIN). A code sent to verify the caller's identity is
// thus no evidence for a SIM swap, and a code with no purpose is evidence for nothing.
// The result is a new slice.
func EvidenceFor(a protection.Action, evs []protection.Evidence) []protection.Evidence {
	want := CodePurpose(a)
	out := make([]protection.Evidence, 0, len(evs))
	for _, ev := range evs {
		if !secondFactor(ev.Kind) || ev.Purpose == want {
			out = append(out, ev)
		}
	}
	return out
}

// EvidenceFor returns the case's evidence that counts toward action a (see the
// package-level EvidenceFor).
func (c Case) EvidenceFor(a protection.Action) []protection.Evidence {
	return EvidenceFor(a, c.Evidence)
}
