package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/twofactor"
	"github.com/stretchr/testify/assert"
)

func TestProofLedger(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	l := newProofLedger(clock.Now)
	email := twofactor.Proof{Subscriber: "s", Method: twofactor.MethodContactCode, Kind: twofactor.KindEmail, Purpose: otp.PurposeAccountChange, At: clock.Now()}
	l.add("sess", email)
	clock.Advance(time.Minute)
	newer := email
	newer.At = clock.Now()
	l.add("sess", newer)
	auth := twofactor.Proof{Subscriber: "s", Method: twofactor.MethodAuthenticator, At: clock.Now().Add(-time.Second)}
	l.add("sess", auth)
	assert.Len(t, l.get("sess"), 2, "one proof per method and kind")
	p, ok := l.latest("sess", otp.PurposeAccountChange)
	assert.True(t, ok)
	assert.Equal(t, newer.At, p.At)
	_, ok = l.latest("other", otp.PurposeAccountChange)
	assert.False(t, ok)

	// Old sessions are swept as proofs keep coming.
	clock.Advance(2 * proofKeep)
	for i := range 300 {
		l.add("s"+strconv.Itoa(i), twofactor.Proof{Subscriber: "s", Method: twofactor.MethodRecoveryCode, At: clock.Now()})
	}
	assert.Empty(t, l.get("sess"))
	assert.Len(t, l.get("s299"), 1)
}

// A proof counts only toward what it was given for: a contact code toward what its
// message said, an app or recovery code toward the step-up it was entered for, a
// sign-in code toward nothing.
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
				assert.True(t, provesPurpose(tt.proof, stepUpPurpose(a)), "should count toward %s", a)
			}
			for _, a := range tt.not {
				assert.False(t, provesPurpose(tt.proof, stepUpPurpose(a)), "should not count toward %s", a)
			}
		})
	}
}

// The ledger keeps a proof per purpose: a later code for a routine change does not
// push out a SIM-swap code, and the newest proof that fits is the one handed out.
func TestProofLedgerPurposes(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	l := newProofLedger(clock.Now)
	swap := twofactor.Proof{Method: twofactor.MethodContactCode, Kind: twofactor.KindEmail, Purpose: otp.PurposeSIMSwap, At: clock.Now()}
	l.add("sess", swap)
	clock.Advance(time.Minute)
	change := swap
	change.Purpose, change.At = otp.PurposeAccountChange, clock.Now()
	l.add("sess", change)
	assert.Len(t, l.get("sess"), 2)
	p, ok := l.latest("sess", otp.PurposeSIMSwap)
	assert.True(t, ok)
	assert.Equal(t, swap, p)
	p, ok = l.latest("sess", otp.PurposeAccountChange)
	assert.True(t, ok)
	assert.Equal(t, change, p)
	_, ok = l.latest("sess", otp.PurposeDisableTwoFactor)
	assert.False(t, ok, "no proof fits")
}
