package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/protection"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// (thiefEmail is the thief's address of chains_test.go.)

// probationHeld is an account whose owner added her email contact long ago and whose
// thief (with the password) added his own contact four days ago: past risk's
// credential-change window, still in the factor probation. The thief's SIM swap rests
// on a code to his contact, so it is held for a day (no established factor).
type probationHeld struct {
	owner, thief string // contact IDs
	tok          string // the thief's session
	request      string
}

func (h *harness) probationHeldSwap() probationHeld {
	h.t.Helper()
	var p probationHeld
	tok := h.signup("ada@example.com", "+14155550102")
	p.owner = h.addContact(tok, "email", backupEmail)
	h.clock.Advance(8 * 24 * time.Hour)
	tok = h.signin("ada@example.com", testPassword)
	p.thief = h.addContact(tok, "email", thiefEmail)
	h.clock.Advance(73 * time.Hour)
	p.tok = h.signin("ada@example.com", testPassword)
	h.stepUp(p.tok, p.thief, thiefEmail, "sim_swap")
	r := h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(p.tok))
	require.Equal(h.t, 200, r.Status, r.Raw)
	require.Equal(h.t, "held", r.str("status"), r.Raw)
	p.request = r.str("request_id")
	return p
}

// Attack: the thief's SIM swap is held for a day, and during the hold he changes the
// password (to keep the owner out) or enrols his own authenticator. The hold job
// re-decides the swap when it comes due with risk as it is then: the credential change
// since the decision is High risk for a SIM swap, so the swap is not carried out.
func TestAttackCredentialChangeDuringHoldStopsHeldSwap(t *testing.T) {
	for _, tt := range []struct {
		name      string
		change    func(t *testing.T, h *harness, p probationHeld)
		completes bool
	}{
		{"nothing changes: the hold completes", func(*testing.T, *harness, probationHeld) {}, true},
		{"attack: the password is changed during the hold", func(t *testing.T, h *harness, p probationHeld) {
			tok := h.signin("ada@example.com", testPassword)
			h.stepUp(tok, p.thief, thiefEmail, "account_change")
			r := h.do("POST", "/v1/password/change", map[string]any{"current": testPassword, "new": testPassword + " v2"}, bearerH(tok))
			require.Equal(t, 200, r.Status, r.Raw)
		}, false},
		{"attack: an authenticator is enrolled during the hold", func(t *testing.T, h *harness, p probationHeld) {
			tok := h.signin("ada@example.com", testPassword)
			h.stepUp(tok, p.owner, backupEmail, "add_factor") // he reads the owner's mail too, say
			key := h.enrollApp(tok)
			r := h.do("POST", "/v1/2fa/authenticator/confirm", map[string]any{"code": key.TOTP(h.clock.Now())}, bearerH(tok))
			require.Equal(t, 200, r.Status, r.Raw)
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			p := h.probationHeldSwap()
			h.clock.Advance(2 * time.Hour)
			tt.change(t, h.in(t), p)
			h.clock.Advance(22*time.Hour + time.Minute)
			n := h.srv.applyDueHolds(context.Background())
			if tt.completes {
				assert.Equal(t, 1, n)
				h.eventTo("ada@example.com", "sim_swap.completed")
				return
			}
			assert.Zero(t, n, "a held swap completed after a credential change during its hold")
			h.noEvent(t, "ada@example.com", "sim_swap.completed")
		})
	}
}

// Attack: the thief's held SIM swap rests on a code to his own contact. The owner sees
// the notice and removes that contact (without cancelling the swap). When the hold
// comes due, the code from a contact no longer on the account does not count, so the
// swap is not carried out.
func TestAttackRemovedContactEvidenceStopsHeldSwap(t *testing.T) {
	for _, tt := range []struct {
		name      string
		remove    bool
		completes bool
	}{
		{"the contact stays: the hold completes", false, true},
		{"attack: the owner removed the thief's contact", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Removing a contact is itself a credential change, which the re-decision's
			// risk already sees (TestAttackCredentialChangeDuringHoldStopsHeldSwap). With
			// heldPolicy high risk only holds a SIM swap (the hold has ended by then) and
			// asks for one more proof, so only the evidence decides here.
			h := newHarness(t, heldPolicy(t))
			p := h.probationHeldSwap()
			h.clock.Advance(2 * time.Hour)
			if tt.remove {
				tok := h.signin("ada@example.com", testPassword)
				h.stepUp(tok, p.owner, backupEmail, "disable_two_factor")
				r := h.do("DELETE", "/v1/2fa/contacts/"+p.thief, nil, bearerH(tok))
				require.Equal(t, http.StatusNoContent, r.Status, r.Raw)
			}
			// The hold is due, and still within the approval's hour.
			h.clock.Advance(22*time.Hour + time.Minute)
			n := h.srv.applyDueHolds(context.Background())
			if tt.completes {
				assert.Equal(t, 1, n)
				h.eventTo("ada@example.com", "sim_swap.completed")
				return
			}
			assert.Zero(t, n, "a held swap resting on a removed contact completed")
			h.noEvent(t, "ada@example.com", "sim_swap.completed")
		})
	}
}

// protection's own assessment (protectionRisk) takes the level the handler gave the same
// decision in the same HTTP request, with the request's client, instead of scoring it
// again; the hold job, which has no client, is scored on the account facts only, so a
// settled account's due hold is not High for a missing address.
func TestProtectionRiskOncePerRequestAccountOnlyInJob(t *testing.T) {
	h := newHarness(t)
	h.settledAccount()
	sub := h.accountID("ada@example.com")
	assess := h.srv.protectionRisk()
	swap := protection.Request{Action: protection.ActionSIMSwap, Channel: protection.ChannelApp, At: h.clock.Now()}

	ctx := withRiskMemo(context.Background())
	lvl, _, _ := h.srv.assess(ctx, sub, protection.ActionSIMSwap, protection.ChannelApp, riskInput{})
	require.Greater(t, lvl, protection.RiskLow, "no client address: more risk")
	m := ctx.Value(riskMemoKey{}).(*riskMemo)
	m.put(sub, protection.ActionSIMSwap, protection.ChannelApp, protection.RiskLow) // marks the memo as the answer
	got, err := assess.Assess(ctx, sub, swap)
	require.NoError(t, err)
	assert.Equal(t, protection.RiskLow, got, "the request's own assessment, not a second one")
	other := swap
	other.Action = protection.ActionPortOut
	got, err = assess.Assess(ctx, sub, other)
	require.NoError(t, err)
	assert.Equal(t, lvl, got, "another action is scored (here without a client)")

	got, err = assess.Assess(holdJobContext(context.Background()), sub, swap)
	require.NoError(t, err)
	assert.Equal(t, protection.RiskLow, got, "the job scores the account facts only")
}

// Attack: a thief with the password adds his own email as the account's contact (2FA
// is off, so the password is enough), then hard-locks the sign-in with wrong guesses
// and asks for an unlock code: it must not go to his contact, still in its probation,
// or he resets the password and has the account. An established contact gets it (see
// TestUnlockWithRecoveryCodeAndNewPassword); a contact once past its probation does too.
func TestAttackUnlockCodeNotSentToProbationContact(t *testing.T) {
	for _, tt := range []struct {
		name  string
		after time.Duration // from adding the contact to the lock
		sent  bool
	}{
		{"attack: the contact was added yesterday", 24 * time.Hour, false},
		{"the contact has been there for eight days", 8 * 24 * time.Hour, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, smallLockout)
			tok := h.signup("ada@example.com", "+14155550102")
			h.addContact(tok, "email", thiefEmail)
			h.clock.Advance(tt.after)
			h.hardLock("ada@example.com")
			before := h.inbox(thiefEmail)
			id := h.unlockSend("ada@example.com")
			if !tt.sent {
				assert.Equal(t, before, h.inbox(thiefEmail), "an unlock code went to a contact in probation")
				r := h.do("POST", "/v1/signin/unlock", map[string]any{"email": "ada@example.com", "unlock_id": id, "code": "000000", "new_password": newPassphrase})
				assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
				r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": newPassphrase})
				assert.Equal(t, http.StatusForbidden, r.Status, "still locked: %s", r.Raw)
				return
			}
			assert.Contains(t, h.mailTo(thiefEmail, "security code").Body, "account recovery")
			r := h.do("POST", "/v1/signin/unlock", map[string]any{"email": "ada@example.com", "unlock_id": id, "code": h.code(thiefEmail), "new_password": newPassphrase})
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
		})
	}
}
