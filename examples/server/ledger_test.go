package main

import (
	"testing"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/twofactor"
	"github.com/stretchr/testify/assert"
)

// A proof counts only toward what it was given for: a contact code toward what its
// message said, an app or recovery code toward the step-up it was entered for, a
// sign-in code toward nothing. (stepup hands out a session's proofs by purpose; this
// is the table that names the purpose of each action.)
func TestProofFits(t *testing.T) {
	code := func(p otp.Purpose) twofactor.Proof {
		return twofactor.Proof{Method: twofactor.MethodContactCode, Kind: twofactor.KindEmail, Purpose: p}
	}
	tests := []struct {
		name  string
		proof twofactor.Proof
		fits  []protection.Action
		not   []protection.Action
	}{
		{"account change code", code(otp.PurposeAccountChange),
			[]protection.Action{protection.ActionChangePassword, protection.ActionChangePhoneContact, protection.ActionChangeSecurityQuestions},
			[]protection.Action{protection.ActionSIMSwap, protection.ActionESIMTransfer, protection.ActionPortOut, protection.ActionIssueTransferPIN,
				protection.ActionDisableTwoFactor, protection.ActionRemoveTrustedContact, protection.ActionDisableFlag, protection.ActionAddFactor}},
		{"sign-in code", code(otp.PurposeSignIn), nil, protection.Actions()},
		{"SIM swap code", code(otp.PurposeSIMSwap),
			[]protection.Action{protection.ActionSIMSwap, protection.ActionESIMTransfer},
			[]protection.Action{protection.ActionPortOut, protection.ActionChangePassword, protection.ActionDisableTwoFactor}},
		{"port-out code", code(otp.PurposePortOut),
			[]protection.Action{protection.ActionPortOut, protection.ActionIssueTransferPIN},
			[]protection.Action{protection.ActionSIMSwap, protection.ActionChangeEmail}},
		{"disable 2FA code", code(otp.PurposeDisableTwoFactor),
			[]protection.Action{protection.ActionDisableTwoFactor, protection.ActionRemoveTrustedContact},
			[]protection.Action{protection.ActionSIMSwap, protection.ActionChangePassword}},
		{"add-factor code", code(otp.PurposeAddFactor),
			[]protection.Action{protection.ActionAddFactor, protection.ActionEnableTwoFactor},
			[]protection.Action{protection.ActionSIMSwap, protection.ActionChangePassword, protection.ActionDisableTwoFactor}},
		{"account recovery code (agent cases only)", code(otp.PurposeAccountRecovery),
			nil, protection.Actions()},
		{"authenticator for a SIM swap", twofactor.Proof{Method: twofactor.MethodAuthenticator, Purpose: otp.PurposeSIMSwap},
			[]protection.Action{protection.ActionSIMSwap}, []protection.Action{protection.ActionChangePassword, protection.ActionDisableTwoFactor}},
		{"recovery code for an account change", twofactor.Proof{Method: twofactor.MethodRecoveryCode, Purpose: otp.PurposeAccountChange},
			[]protection.Action{protection.ActionChangeEmail}, []protection.Action{protection.ActionSIMSwap, protection.ActionAddFactor}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, a := range tt.fits {
				assert.True(t, tt.proof.Purpose == stepUpPurpose(a), "should count toward %s", a)
			}
			for _, a := range tt.not {
				assert.False(t, tt.proof.Purpose == stepUpPurpose(a), "should not count toward %s", a)
			}
		})
	}
}
