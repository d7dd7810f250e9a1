package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/password"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/status"
	"github.com/carrierguard/carrierguard/twofactor"
)

// A hard sign-in lock (password's MaxConsecutive failures in a row, which no waiting
// ends) is lifted in one of two ways (password.LiftHardLock):
//
//   - by the subscriber: a code for account recovery to a verified trusted contact
//     (POST /v1/signin/unlock/send), read back with a new password (POST
//     /v1/signin/unlock): the password being guessed is the one replaced, and the
//     change ends every session;
//   - by a support agent in a case, once the caller's identity is verified there
//     (caseIdentityCheck), keeping the password.

// unlockScope binds a recovery code to the unlock flow of one subscriber: a code sent
// for a step-up, a sign-in or a case cannot unlock, nor can an unlock code do any of
// those.
func unlockScope(subscriber string) string { return "unlock:" + subscriber }

// Unlock codes are asked for without authentication: each client gets a few a minute
// (on top of otp's per-subscriber resend limits and SMS budgets).
const (
	unlockPerMinute = 5
	unlockBurst     = 3
)

type unlockSendRequest struct {
	Email string `json:"email"`
}

// handleUnlockSend sends a code for account recovery to the account's first established
// trusted contact (verified, past the factor probation) that can take one: POST /v1/signin/unlock/send {"email"}. The answer
// is the same whether or not the account exists, has a contact or is locked, and
// whether or not a code went out (a throttled or failed send included): a stranger
// learns nothing. unlock_id is the challenge to complete (a random one when no code
// was sent, which never completes).
func (s *Server) handleUnlockSend(w http.ResponseWriter, r *http.Request) error {
	if !s.unlockLimits.allowClient(clientIP(r)) {
		return tooManyRequests(codeRateLimited, time.Minute, "too many unlock requests from this address; try again in a minute")
	}
	var req unlockSendRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("email", req.Email); err != nil {
		return err
	}
	// A challenge ID's shape (see twofactor), so an answer without a code looks the same.
	id := notify.NewID() + "." + notify.NewID()[:16] + "." + string(otp.PurposeAccountRecovery)
	if email, err := status.NormalizeEmail(req.Email); err == nil {
		if a, ok := s.dir.byEmailAddr(email); ok {
			if ch, ok := s.sendUnlockCode(r.Context(), a.ID, clientIP(r).String()); ok {
				id = ch
			}
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"unlock_id": id,
		"message": "If the account's sign-in is locked and it has a trusted contact verified a week or more ago, a code for account recovery was sent to it. Send it back with a new password to POST /v1/signin/unlock."})
	return nil
}

// sendUnlockCode sends the recovery code and returns its challenge ID. Failures are
// logged (never the code) and answered like success.
//
// The code goes only to an established contact: verified and past twofactor's factor
// probation (twofactor.Service.Established). A thief who hard-locked the account
// himself after adding his own contact (the contact's own probation says he cannot use
// it for anything that matters yet) must not get the code that resets the password.
func (s *Server) sendUnlockCode(ctx context.Context, sub, client string) (string, bool) {
	cs, err := s.tf.Contacts(ctx, sub)
	if err != nil {
		s.log.WarnContext(ctx, "unlock: listing contacts", "error", err.Error())
		return "", false
	}
	for _, c := range cs {
		if !c.Verified() || !s.tf.Established(c.VerifiedAt) {
			continue
		}
		// The code counts against the asking client's SMS budget.
		ch, err := s.tf.Begin(ctx, twofactor.BeginRequest{Subscriber: sub, ContactID: c.ID, Purpose: otp.PurposeAccountRecovery,
			Flow: unlockScope(sub), ClientIP: client})
		var se *twofactor.SIMChangeError
		if errors.As(err, &se) {
			continue // an SMS to a number whose SIM just changed proves nothing: try the next
		}
		if err != nil {
			s.log.WarnContext(ctx, "unlock: code not sent", "error", err.Error())
			return "", false
		}
		return ch.ID, true
	}
	return "", false
}

type unlockRequest struct {
	Email       string `json:"email"`
	UnlockID    string `json:"unlock_id"`
	Code        string `json:"code"`
	NewPassword string `json:"new_password"`
}

// handleUnlock lifts the subscriber's own hard sign-in lock: POST /v1/signin/unlock
// {"email", "unlock_id", "code", "new_password"}. The code must be the account-recovery
// code of that unlock flow (twofactor's binding of the challenge, not the body, says so); the
// new password must pass the policy and the reuse history. It answers 409 when the
// sign-in is not hard-locked (nothing changes: a temporary lock ends by itself, and an
// unlocked account changes its password signed in). After it, sign in with the new
// password (and the second factor, if 2FA is on); every other session has ended.
func (s *Server) handleUnlock(w http.ResponseWriter, r *http.Request) error {
	var req unlockRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	for _, f := range [][2]string{{"email", req.Email}, {"unlock_id", req.UnlockID}, {"code", req.Code}, {"new_password", req.NewPassword}} {
		if err := required(f[0], f[1]); err != nil {
			return err
		}
	}
	wrong := errorf(http.StatusForbidden, codeInvalidCode, "the code is wrong, used or expired, or the challenge was not issued for this request")
	email, err := status.NormalizeEmail(req.Email)
	if err != nil {
		return wrong
	}
	a, ok := s.dir.byEmailAddr(email)
	if !ok {
		return wrong
	}
	// Only an account-recovery code of this account's unlock flow completes here:
	// twofactor checks the challenge's binding to both.
	proof, err := s.complete(r.Context(), twofactor.CompleteRequest{Subscriber: a.ID, Method: twofactor.MethodContactCode,
		ChallengeID: req.UnlockID, Code: req.Code, Purpose: otp.PurposeAccountRecovery}, unlockScope(a.ID), false)
	if err != nil {
		return err
	}
	if proof.Method != twofactor.MethodContactCode || proof.Purpose != otp.PurposeAccountRecovery {
		return wrong // the scope only ever issues such codes; refuse anything else
	}
	if !s.tf.Established(proof.FactorAddedAt) {
		// sendUnlockCode sends only to established contacts; a contact removed and added
		// again since, or any other way round that, is refused here too.
		return wrong
	}
	client, err := s.client(r)
	if err != nil {
		return err
	}
	on, err := s.tf.TwoFactorEnabled(r.Context(), a.ID)
	if err != nil {
		return err
	}
	res, err := s.passwords.LiftHardLock(r.Context(), a.ID, password.LiftProof{ContactCodeAt: proof.At, NewPassword: req.NewPassword,
		Subject:   password.Subject{Name: a.Name, Email: a.Email, Phone: a.Phone, HasMFA: on},
		ClientKey: client.IP.String(), Channel: "app"})
	if err := liftError(err); err != nil {
		return err
	}
	if err := passwordError(res, err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "unlocked", "next": "sign in with the new password (POST /v1/signin)"})
	return nil
}

// liftError maps LiftHardLock's own refusals; other errors pass to passwordError.
func liftError(err error) error {
	switch {
	case errors.Is(err, password.ErrNotHardLocked):
		return errorf(http.StatusConflict, codeConflict, "sign-in is not hard-locked: there is nothing to lift (a temporary lock ends by itself)")
	case errors.Is(err, password.ErrLiftProof):
		return errorf(http.StatusForbidden, "step_up_required", "not enough proof to lift the sign-in lock")
	}
	return nil
}

// Identity checks an agent may lift a hard sign-in lock on, as LiftHardLock records
// them.
const (
	identityGovernmentID = "government_id_in_store"
	identityContactCode  = "contact_code_for_identity"
)

// caseIdentityCheck returns how the case verified the caller's identity well enough to
// lift a hard sign-in lock, or "" if it has not. Either counts, while fresh (protection's
// default freshness of the kind):
//
//   - a government ID checked in person (only a store case can hold one: the library
//     refuses it elsewhere);
//   - a code sent in the case for identity (its message said "to verify your identity
//     with support") and read back, to a trusted contact on the account for at least
//     probation (the policy's probation for lifting a protection flag, a week by
//     default): a contact a thief added last week is not the subscriber's. A factor age
//     that is not known does not count.
//
// Security questions never count (they are supplemental, never enough alone), nor do
// codes sent for a SIM swap or port-out (evidence counts only for its purpose).
func caseIdentityCheck(c agent.Case, now time.Time, probation time.Duration) string {
	fresh := protection.DefaultFreshness()
	for _, ev := range c.Evidence {
		age := now.Sub(ev.ObtainedAt)
		if age < 0 || age > fresh[ev.Kind] {
			continue
		}
		switch {
		case ev.Kind == protection.EvidenceGovernmentID:
			return identityGovernmentID
		case ev.Kind == protection.EvidenceContactCode && ev.Purpose == agent.PurposeIdentity &&
			!ev.FactorAddedAt.IsZero() && ev.ObtainedAt.Sub(ev.FactorAddedAt) >= probation:
			return identityContactCode
		}
	}
	return ""
}

// handleCaseLiftLock lifts the case subscriber's hard sign-in lock:
// POST /agent/v1/cases/{case}/lift-sign-in-lock. The caller's identity must be verified
// in the case first (caseIdentityCheck); the lift is audited with the agent's ID, who is
// its actor, and the password stays as it is (the subscriber changes it when signed in).
func (s *Server) handleCaseLiftLock(w http.ResponseWriter, r *http.Request, agentID string) error {
	c, err := s.getCase(r, agentID)
	if err != nil {
		return err
	}
	if err := decodeJSON(w, r, &struct{}{}); err != nil {
		return err
	}
	check := caseIdentityCheck(c, s.now(), s.protect.Policy().Probation(protection.ActionDisableFlag))
	if check == "" {
		return errorf(http.StatusForbidden, "step_up_required",
			"verify the caller's identity first: a code sent for identity (verify/code/send) to a contact on the account for a week or more, or a government ID in a store")
	}
	who, _ := whoFrom(r.Context())
	if err := s.cases.Record(r.Context(), who, c, agent.AuditChangeRequested, "lift_sign_in_lock "+check); err != nil {
		return err
	}
	_, err = s.passwords.LiftHardLock(r.Context(), c.Subscriber, password.LiftProof{
		Agent: notify.Actor{Kind: notify.ActorAgent, ID: who.Agent}, IdentityCheck: check, Channel: c.Channel.String()})
	if err := liftError(err); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "unlocked", "identity_check": check})
	return nil
}
