package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/password"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/status"
	"github.com/carrierguard/carrierguard/twofactor"
)

// errCodeNotSent marks a one-time code the courier did not take. twofactor withdraws the
// code and gives back its place in the resend limits, so the client may simply try
// again: the answer is 503, not an internal fault.
var errCodeNotSent = errors.New("the code could not be sent")

// sendCode is twofactor's Sender: it delivers a one-time code at once, straight to the
// courier (codes never sit in the notification outbox). The code is in the message
// body only; the log courier never logs bodies.
func (s *Server) sendCode(ctx context.Context, m twofactor.Message) error {
	channel := "email"
	if m.Kind == twofactor.KindPhone {
		channel = "sms"
	}
	err := s.courier.deliver(ctx, message{ID: notify.NewID(), Time: s.now(), Channel: channel, To: m.To,
		Subject: "Your security code",
		Body: fmt.Sprintf("Your code is %s. It is %s and expires at %s UTC. We will never ask you for it: do not share it.",
			m.Code, codeUse(m.Purpose), m.ExpiresAt.UTC().Format("15:04"))})
	if err != nil {
		return fmt.Errorf("%w: %w", errCodeNotSent, err)
	}
	return nil
}

// secondFactorProof is the session's newest second-factor proof given for purpose
// want (stepup checks its tag and subscriber, and hands out no other purpose's), for
// the services that demand a fresh one (twofactor and questions check its freshness
// and tag themselves). A store failure is no proof: the request needs one again.
func (s *Server) secondFactorProof(c *caller, want otp.Purpose) (twofactor.Proof, bool) {
	p, ok, err := s.steps.Latest(c.ctx, c.sess, want)
	if err != nil {
		s.log.Error("step-up proofs", "error", err.Error())
		return twofactor.Proof{}, false
	}
	return p, ok
}

// Flows that begin contact-code challenges (twofactor.BeginRequest.Flow): twofactor
// binds each challenge to its flow in its challenge store and completes it only there,
// so a step-up code cannot finish a sign-in, nor an app code prove a support case. A
// contact's verification is bound to twofactor.ContactFlow.
func sessionScope(sessionID string) string { return "session:" + sessionID }
func signinScope(signinID string) string   { return "signin:" + signinID }
func caseScope(caseID string) string       { return "case:" + caseID }

func (s *Server) twofactorError(err error) error {
	var le *twofactor.LockedError
	var se *twofactor.SIMChangeError
	var te *otp.ThrottleError
	var de *protection.DecisionError
	if berr := budgetError(err); berr != nil {
		return berr // before ThrottleError: a spent budget is ErrThrottled too
	}
	switch {
	case errors.As(err, &de):
		// The account's protection (Account Lockdown, risk, probation) decided on a
		// factor change: say what it decided and, for a step-up, what would do.
		d := de.Decision
		details := map[string]any{"decision": decisionView(d, riskJSON{})}
		if d.Outcome == protection.StepUp {
			return &apiError{Status: http.StatusForbidden, Code: "step_up_required", Message: d.Message(), Details: details}
		}
		return &apiError{Status: http.StatusForbidden, Code: codeForbidden, Message: d.Message(), Details: details}
	case errors.As(err, &le):
		if le.Hard {
			return errorf(http.StatusForbidden, codeLocked, "two-step verification is locked; call support to unlock it")
		}
		return tooManyRequests(codeLocked, le.Until.Sub(s.now()), "too many wrong codes; try again after %s", le.Until.UTC().Format(time.RFC3339))
	case errors.As(err, &se):
		return &apiError{Status: http.StatusConflict, Code: "recent_sim_change", Message: strings.TrimPrefix(se.Error(), "twofactor: ")}
	case errors.As(err, &te):
		return tooManyRequests(codeRateLimited, te.RetryAfter, "%s", strings.TrimPrefix(te.Error(), "otp: "))
	case errors.Is(err, twofactor.ErrInvalidCode), errors.Is(err, otp.ErrExpired), errors.Is(err, otp.ErrAttemptsExhausted),
		errors.Is(err, otp.ErrReplay), errors.Is(err, otp.ErrMalformedCode), errors.Is(err, twofactor.ErrMalformedRecoveryCode):
		return errorf(http.StatusForbidden, codeInvalidCode, "the code is wrong, used or expired")
	case errors.Is(err, twofactor.ErrInvalidContact), errors.Is(err, twofactor.ErrInvalidRequest):
		return errorf(http.StatusBadRequest, codeInvalidField, "%s", strings.TrimPrefix(err.Error(), "twofactor: "))
	case errors.Is(err, twofactor.ErrUnknownContact):
		return errorf(http.StatusNotFound, codeNotFound, "no such contact")
	case errors.Is(err, twofactor.ErrTooManyContacts), errors.Is(err, twofactor.ErrDuplicateContact),
		errors.Is(err, twofactor.ErrLastContact), errors.Is(err, twofactor.ErrContactNotVerified),
		errors.Is(err, twofactor.ErrNoSecondFactor):
		return errorf(http.StatusConflict, codeConflict, "%s", strings.TrimPrefix(err.Error(), "twofactor: "))
	case errors.Is(err, twofactor.ErrProofRequired):
		return errorf(http.StatusForbidden, "step_up_required", "%s: POST /v1/2fa/challenge and /v1/2fa/verify first", strings.TrimPrefix(err.Error(), "twofactor: "))
	case errors.Is(err, otp.ErrAlreadyEnrolled):
		return errorf(http.StatusConflict, codeConflict, "an authenticator app is already set up: remove it first (DELETE /v1/2fa/authenticator), then enrol the new one")
	case errors.Is(err, otp.ErrNotEnrolled):
		return errorf(http.StatusConflict, codeConflict, "no authenticator app is set up")
	case errors.Is(err, errCodeNotSent):
		// Logged in full: twofactor's undo (withdrawing the code, removing a pending
		// contact) may have failed too, and the 503 says nothing of it. The code itself
		// is already redacted from the sender's error by twofactor.
		s.log.Error("one-time code not sent", "error", err.Error())
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "the code could not be sent just now; try again shortly")
	default:
		return err
	}
}

// contactGate keeps unverified accounts from changing trusted contacts (status's trust
// gate: an account whose email was never verified has nobody reliable to tell).
func (s *Server) contactGate(r *http.Request, c *caller) error {
	if err := s.status.Allow(r.Context(), c.account.ID, status.CapabilityOf(protection.ActionChangePhoneContact)); err != nil {
		if errors.Is(err, status.ErrUnverified) {
			return errorf(http.StatusForbidden, codeAccountUnverified, "verify the account email before changing trusted contacts")
		}
		return err
	}
	return nil
}

// passwordFreshness is how long a password entered at sign-in or re-entered with POST
// /v1/reauth counts: the window protection gives password evidence. The server runs
// protection's default policy (protection.Config.Policy is nil), so it is the default.
func passwordFreshness() time.Duration {
	return protection.DefaultFreshness()[protection.EvidencePassword]
}

// reauthWhileOff guards setting up a second factor or recovery codes, and turning 2FA
// on (ASVS: full reauthentication before changing MFA or recovery data). It reports
// whether 2FA is on; the caller then asks for a fresh second factor, as twofactor and
// protection do. While 2FA is off there is no second factor to ask for, and the
// default policy's contact-change alternatives (session+password+code, +password+app,
// +code+app) all need one, so the session's password must be fresh instead: a session
// token stolen later than that cannot take the account over by enrolling its thief's
// factors. Signing in counts as entering the password.
func (s *Server) reauthWhileOff(ctx context.Context, c *caller) (bool, error) {
	on, err := s.tf.TwoFactorEnabled(ctx, c.account.ID)
	if err != nil || on {
		return on, err
	}
	if !c.sess.Fresh(session.ProofPassword, passwordFreshness(), s.now()) {
		return false, reauthRequired()
	}
	return false, nil
}

// reauthRequired is the step-up answer when only a fresh password is missing: 403
// step_up_required, with the steps that would do (as in a decision's required_steps)
// and the request that provides the missing one.
func reauthRequired() error {
	return &apiError{Status: http.StatusForbidden, Code: "step_up_required",
		Message: fmt.Sprintf("re-enter your password first (POST /v1/reauth): a password counts for %s after sign-in or re-entry", passwordFreshness()),
		Details: map[string]any{"step_up": "POST /v1/reauth",
			"required_steps": [][]string{kindNames(protection.Kinds(protection.EvidenceSession, protection.EvidencePassword))}}}
}

// contact finds one of the subscriber's contacts by ID.
func (s *Server) contact(r *http.Request, sub, id string) (twofactor.Contact, bool, error) {
	cs, err := s.tf.Contacts(r.Context(), sub)
	if err != nil {
		return twofactor.Contact{}, false, err
	}
	for _, c := range cs {
		if c.ID == id {
			return c, true, nil
		}
	}
	return twofactor.Contact{}, false, nil
}

type contactJSON struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Masked   string `json:"masked"`
	Verified bool   `json:"verified"`
}

func contactViews(cs []twofactor.Contact, verifiedOnly bool) []contactJSON {
	out := []contactJSON{}
	for _, c := range cs {
		if verifiedOnly && !c.Verified() {
			continue
		}
		out = append(out, contactJSON{ID: c.ID, Kind: string(c.Kind), Masked: c.Masked(), Verified: c.Verified()})
	}
	return out
}

// origin is where a subscriber's own request comes from: the app.
func origin() twofactor.Origin {
	return twofactor.Origin{Actor: notify.Actor{Kind: notify.ActorSubscriber}, Channel: "app"}
}

// handleTwoFactor shows the 2FA state: GET /v1/2fa.
func (s *Server) handleTwoFactor(w http.ResponseWriter, r *http.Request, c *caller) error {
	st, err := s.tf.Status(r.Context(), c.account.ID)
	if err != nil {
		return err
	}
	out := map[string]any{"enabled": st.Enabled, "contacts": contactViews(st.Contacts, false),
		"authenticator": st.Authenticator, "recovery_codes_left": st.RecoveryCodesLeft}
	if st.Lock != nil {
		out["locked"] = true
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type addContactRequest struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// handleAddContact adds a trusted contact and sends it a code: POST /v1/2fa/contacts.
// Adding a factor is decided by protection through twofactor's gate
// (protection.FactorGateRisk, with the caller's risk); once 2FA is on, a fresh
// add-factor proof is needed too. While 2FA is off, a fresh password is.
func (s *Server) handleAddContact(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req addContactRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	kind := twofactor.Kind(req.Kind)
	if kind != twofactor.KindEmail && kind != twofactor.KindPhone {
		return errorf(http.StatusBadRequest, codeInvalidField, "field \"kind\" must be email or phone")
	}
	if err := required("value", req.Value); err != nil {
		return err
	}
	if err := s.contactGate(r, c); err != nil {
		return err
	}
	// Check the input before deciding, so a typo is not counted as a sensitive request.
	if _, err := twofactor.ParseContact(kind, req.Value, contactPhones); err != nil {
		return s.twofactorError(err)
	}
	// While 2FA is on, twofactor asks protection's factor gate (Lockdown, risk,
	// probation) and needs a fresh add-factor proof; the server does not decide it too.
	if _, err := s.reauthWhileOff(r.Context(), c); err != nil {
		return err
	}
	pc, err := s.tf.AddContact(r.Context(), twofactor.AddContactRequest{Subscriber: c.account.ID, Kind: kind, Value: req.Value,
		ClientIP: clientIP(r).String(), Reauth: s.reauth(c), Origin: origin()})
	if err != nil {
		return s.twofactorError(err)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"contact": contactViews([]twofactor.Contact{pc.Contact}, false)[0],
		"challenge_id": pc.ChallengeID, "next": "POST /v1/2fa/contacts/{id}/verify with the code sent to the contact"})
	return nil
}

type codeRequest struct {
	ChallengeID string `json:"challenge_id"`
	Code        string `json:"code"`
}

// handleVerifyContact checks the code sent to a new contact:
// POST /v1/2fa/contacts/{id}/verify. The challenge must be the one twofactor bound to
// this subscriber and this contact's flow (its challenge store says so, not the body):
// a code sent to one contact never verifies another.
func (s *Server) handleVerifyContact(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req codeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("challenge_id", req.ChallengeID); err != nil {
		return err
	}
	if err := required("code", req.Code); err != nil {
		return err
	}
	pending, found, err := s.contact(r, c.account.ID, r.PathValue("id"))
	if err != nil {
		return err
	} else if !found {
		return errorf(http.StatusNotFound, codeNotFound, "no such contact")
	}
	if p, err := s.tf.ChallengePurpose(r.Context(), c.account.ID, twofactor.ContactFlow(pending.ID), req.ChallengeID); err != nil || p != otp.PurposeContactVerification {
		if err != nil && !errors.Is(err, twofactor.ErrInvalidCode) {
			return err
		}
		return errorf(http.StatusForbidden, codeInvalidCode, "the code is wrong, used or expired, or the challenge was not issued for this contact")
	}
	// Verifying makes the contact a factor: twofactor checks the session's password or
	// its fresh proof for adding a factor again.
	ct, err := s.tf.VerifyContact(r.Context(), twofactor.VerifyContactRequest{Subscriber: c.account.ID, ChallengeID: req.ChallengeID,
		Code: req.Code, Reauth: s.reauth(c), Origin: origin()})
	if err != nil {
		return s.twofactorError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"contact": contactViews([]twofactor.Contact{ct}, false)[0]})
	return nil
}

// handleRemoveContact removes a trusted contact: DELETE /v1/2fa/contacts/{id}.
func (s *Server) handleRemoveContact(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.contactGate(r, c); err != nil {
		return err
	}
	removed, found, err := s.contact(r, c.account.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !found {
		return errorf(http.StatusNotFound, codeNotFound, "no such contact")
	}
	if _, err := s.decide(r.Context(), c, protection.ActionRemoveTrustedContact); err != nil {
		return err
	}
	proof, _ := s.secondFactorProof(c, stepUpPurpose(protection.ActionRemoveTrustedContact))
	if removed.Verified() {
		ch := notify.ChannelEmail
		if removed.Kind == twofactor.KindPhone {
			ch = notify.ChannelSMS
		}
		// The removed address hears of its removal (notify's old-address rule), so an
		// attacker who removes the owner's contact cannot hide it from them. It is
		// recorded first: twofactor publishes the event inside RemoveContact.
		s.dir.formerContact(c.account.ID, notify.Recipient{Channel: ch, Address: removed.Value}, s.now(), notify.DefaultFormerWindow)
	}
	if err := s.tf.RemoveContact(r.Context(), twofactor.RemoveContactRequest{Subscriber: c.account.ID, ContactID: removed.ID,
		Proof: proof, Origin: origin()}); err != nil {
		return s.twofactorError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleEnable turns 2FA on: POST /v1/2fa/enable. It needs a fresh password (when
// 2FA is already on it does nothing).
func (s *Server) handleEnable(w http.ResponseWriter, r *http.Request, c *caller) error {
	if _, err := s.reauthWhileOff(r.Context(), c); err != nil {
		return err
	}
	if err := s.tf.Enable(r.Context(), c.account.ID, s.reauth(c), origin()); err != nil {
		return s.twofactorError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"enabled": true})
	return nil
}

// handleDisable turns 2FA off: POST /v1/2fa/disable. Protection decides it, and a
// fresh second-factor proof is needed.
func (s *Server) handleDisable(w http.ResponseWriter, r *http.Request, c *caller) error {
	dv, err := s.decide(r.Context(), c, protection.ActionDisableTwoFactor)
	if err != nil {
		return err
	}
	proof, _ := s.secondFactorProof(c, stepUpPurpose(protection.ActionDisableTwoFactor))
	if err := s.tf.Disable(r.Context(), c.account.ID, proof, origin()); err != nil {
		return s.twofactorError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"enabled": false, "decision": dv})
	return nil
}

// handleRecoveryCodes makes a new set of recovery codes, shown once:
// POST /v1/2fa/recovery-codes. Once 2FA is on it needs a fresh second-factor proof
// (twofactor checks it); while 2FA is off, a fresh password.
func (s *Server) handleRecoveryCodes(w http.ResponseWriter, r *http.Request, c *caller) error {
	if _, err := s.reauthWhileOff(r.Context(), c); err != nil {
		return err
	}
	codes, err := s.tf.GenerateRecoveryCodes(r.Context(), c.account.ID, s.reauth(c), origin())
	if err != nil {
		return s.twofactorError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes, "note": "shown once: store them offline; each works once"})
	return nil
}

type challengeRequest struct {
	ContactID string `json:"contact_id"`
	Purpose   string `json:"purpose"`
}

var stepUpPurposes = map[string]otp.Purpose{
	"": otp.PurposeAccountChange, "account_change": otp.PurposeAccountChange, "sim_swap": otp.PurposeSIMSwap,
	"port_out": otp.PurposePortOut, "disable_two_factor": otp.PurposeDisableTwoFactor, "add_factor": otp.PurposeAddFactor,
}

// handleChallenge sends a step-up code to a verified contact: POST /v1/2fa/challenge.
func (s *Server) handleChallenge(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req challengeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("contact_id", req.ContactID); err != nil {
		return err
	}
	purpose, ok := stepUpPurposes[req.Purpose]
	if !ok {
		return errorf(http.StatusBadRequest, codeInvalidField, "field \"purpose\" must be account_change, sim_swap, port_out, disable_two_factor or add_factor")
	}
	ch, err := s.tf.Begin(r.Context(), twofactor.BeginRequest{Subscriber: c.account.ID, ContactID: req.ContactID, Purpose: purpose,
		Flow: sessionScope(c.sess.ID), ClientIP: clientIP(r).String()})
	if err != nil {
		return s.twofactorError(err)
	}
	writeJSON(w, http.StatusOK, challengeView(ch))
	return nil
}

func challengeView(ch twofactor.Challenge) map[string]any {
	return map[string]any{"challenge_id": ch.ID, "sent_to": ch.Masked, "expires_at": ch.ExpiresAt}
}

type verifyRequest struct {
	Method      string `json:"method"`
	ChallengeID string `json:"challenge_id"`
	Code        string `json:"code"`
	// Purpose is what an authenticator or recovery code is entered for (the step-up
	// purposes of POST /v1/2fa/challenge; default account_change). A contact code's
	// purpose is the one its challenge was sent for: twofactor's binding says which
	// (ChallengePurpose), whatever this field says.
	Purpose string `json:"purpose"`
}

func (v verifyRequest) complete(sub string) (twofactor.CompleteRequest, error) {
	m := twofactor.Method(v.Method)
	switch m {
	case "":
		m = twofactor.MethodContactCode
	case twofactor.MethodContactCode, twofactor.MethodAuthenticator, twofactor.MethodRecoveryCode:
	default:
		return twofactor.CompleteRequest{}, errorf(http.StatusBadRequest, codeInvalidField, "field \"method\" must be contact_code, authenticator or recovery_code")
	}
	if m == twofactor.MethodContactCode {
		if err := required("challenge_id", v.ChallengeID); err != nil {
			return twofactor.CompleteRequest{}, err
		}
	}
	if err := required("code", v.Code); err != nil {
		return twofactor.CompleteRequest{}, err
	}
	purpose, ok := stepUpPurposes[v.Purpose]
	if !ok {
		return twofactor.CompleteRequest{}, errorf(http.StatusBadRequest, codeInvalidField, "field \"purpose\" must be account_change, sim_swap, port_out, disable_two_factor or add_factor")
	}
	return twofactor.CompleteRequest{Subscriber: sub, Method: m, ChallengeID: v.ChallengeID, Code: v.Code, Purpose: purpose}, nil
}

// complete checks a second factor given in the flow named by scope. twofactor is the
// judge: it completes a contact code only for a challenge it bound to this subscriber,
// flow and purpose. With boundPurpose (a step-up screen or a case, where the code may
// have been asked for any of several purposes) the purpose of a contact code is the one
// twofactor bound to the challenge in this flow (ChallengePurpose); a challenge it does
// not know there goes to Complete as it is, which refuses it as a wrong code, counted.
// Without it (a sign-in) cr.Purpose is the only purpose accepted.
func (s *Server) complete(ctx context.Context, cr twofactor.CompleteRequest, scope string, boundPurpose bool) (twofactor.Proof, error) {
	cr.Flow = scope
	if boundPurpose && cr.Method == twofactor.MethodContactCode {
		purpose, err := s.tf.ChallengePurpose(ctx, cr.Subscriber, scope, cr.ChallengeID)
		switch {
		case err == nil:
			cr.Purpose = purpose
		case !errors.Is(err, twofactor.ErrInvalidCode):
			return twofactor.Proof{}, err
		case cr.Purpose == "": // nothing to complete it for: no code is compared
			return twofactor.Proof{}, s.twofactorError(err)
		}
	}
	proof, err := s.tf.Complete(ctx, cr)
	if err != nil {
		return twofactor.Proof{}, s.twofactorError(err)
	}
	return proof, nil
}

// handleVerify completes a step-up: POST /v1/2fa/verify. The proof is kept with the
// session, and counts as evidence for the next sensitive requests while it is fresh.
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req verifyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	cr, err := req.complete(c.account.ID)
	if err != nil {
		return err
	}
	proof, err := s.complete(r.Context(), cr, sessionScope(c.sess.ID), true)
	if err != nil {
		return err
	}
	sess, err := s.sessions.StepUp(r.Context(), c.token, c.client, session.ProofSecondFactor)
	if err != nil {
		return err
	}
	if err := s.steps.Remember(r.Context(), sess, proof); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"method": proof.Method, "contact": proof.Masked, "proved_at": proof.At})
	return nil
}

// setupGate guards enrolling and confirming an authenticator app, and setting security
// questions (which an agent then accepts as proof of identity): a fresh second factor
// once 2FA is on (replacing a second factor needs a fresh one, ASVS), a fresh password
// while it is off. Confirming an app is checked again because 2FA may have gone on
// since the key was enrolled: the pending key becomes a second factor only when it is
// confirmed.
// The proof must have been given for purpose: adding a factor for an app, an account
// change for the questions.
func (s *Server) setupGate(ctx context.Context, c *caller, purpose otp.Purpose) error {
	on, err := s.reauthWhileOff(ctx, c)
	if err != nil || !on {
		return err
	}
	if p, ok := s.secondFactorProof(c, purpose); !ok || s.tf.CheckProof(c.account.ID, p) != nil {
		return s.twofactorError(twofactor.ErrProofRequired)
	}
	return nil
}

// factorRisk is the risk request of a factor change that twofactor's gate assesses
// (protection.RiskFromScorer): the client of the session making it, which
// session.NewContext put on the context, scored like the server's own decisions. A
// change without a session on its context (none today) is scored without a client,
// which risk reads as a missing address: more risk, never less.
func (s *Server) factorRisk(ctx context.Context, sub string, req protection.Request) (risk.Request, error) {
	var in riskInput
	if sess, ok := session.FromContext(ctx); ok && sess.Subscriber == sub {
		in = riskInput{IP: sess.LastIP, UserAgent: sess.UserAgent, Device: sess.Device}
	}
	return s.riskRequest(ctx, sub, protection.RiskAction(req.Action), protection.RiskChannel(req.Channel), in), nil
}

// reauth is what the signed-in caller presents for a factor change, from the session
// registry and the session's proofs: never from the request.
func (s *Server) reauth(c *caller) twofactor.Reauth {
	p, _ := s.secondFactorProof(c, otp.PurposeAddFactor)
	return twofactor.Reauth{Proof: p, SignedInAt: c.sess.CreatedAt, PasswordAt: c.sess.PasswordAt}
}

// handleAuthenticatorEnroll starts (or restarts) authenticator enrollment:
// POST /v1/2fa/authenticator returns the otpauth URI and secret;
// POST /v1/2fa/authenticator/qr.png returns the same as a QR code PNG. Each call makes a
// new pending key; confirm it with a code from the app.
func (s *Server) handleAuthenticatorEnroll(png bool) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		if err := s.setupGate(r.Context(), c, otp.PurposeAddFactor); err != nil {
			return err
		}
		label := "•••• " + c.account.Phone[len(c.account.Phone)-4:]
		e, err := s.tf.EnrollAuthenticator(r.Context(), twofactor.EnrollAuthenticatorRequest{Subscriber: c.account.ID, Account: label,
			Reauth: s.reauth(c), Origin: origin()})
		if err != nil {
			return s.twofactorError(err)
		}
		if png {
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("Content-Length", strconv.Itoa(len(e.QRCodePNG)))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(e.QRCodePNG)
			return nil
		}
		writeJSON(w, http.StatusOK, map[string]any{"uri": e.URI, "secret": e.Secret, "confirm_by": e.ConfirmBy,
			"next": "scan the URI (or GET the PNG from POST /v1/2fa/authenticator/qr.png), then POST /v1/2fa/authenticator/confirm with a code"})
		return nil
	}
}

type confirmRequest struct {
	Code string `json:"code"`
}

// handleAuthenticatorConfirm confirms enrollment with a code from the app:
// POST /v1/2fa/authenticator/confirm. It needs the same proof as enrolling.
func (s *Server) handleAuthenticatorConfirm(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req confirmRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("code", req.Code); err != nil {
		return err
	}
	if err := s.setupGate(r.Context(), c, otp.PurposeAddFactor); err != nil {
		return err
	}
	if err := s.tf.ConfirmAuthenticator(r.Context(), twofactor.ConfirmAuthenticatorRequest{Subscriber: c.account.ID, Code: req.Code,
		Reauth: s.reauth(c), Origin: origin()}); err != nil {
		switch {
		case errors.Is(err, otp.ErrInvalidCode):
			return errorf(http.StatusForbidden, codeInvalidCode, "the code is wrong; check the app's clock and try the next code")
		case errors.Is(err, otp.ErrNotEnrolled): // nothing pending, or already confirmed
			return errorf(http.StatusConflict, codeConflict, "no authenticator app is waiting to be confirmed: enrol one with POST /v1/2fa/authenticator (a confirmed app needs no confirming)")
		}
		return s.twofactorError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"authenticator": true})
	return nil
}

// handleAuthenticatorRemove removes the authenticator: DELETE /v1/2fa/authenticator.
// Protection decides it and twofactor needs a fresh proof; while 2FA is on, twofactor
// refuses to remove the app if no verified contact would be left (409).
func (s *Server) handleAuthenticatorRemove(w http.ResponseWriter, r *http.Request, c *caller) error {
	dv, err := s.decide(r.Context(), c, protection.ActionDisableTwoFactor)
	if err != nil {
		return err
	}
	p, ok := s.secondFactorProof(c, stepUpPurpose(protection.ActionDisableTwoFactor))
	if !ok || s.tf.CheckProof(c.account.ID, p) != nil {
		return stepUpError(dv)
	}
	if err := s.tf.RemoveAuthenticator(r.Context(), c.account.ID, p, origin()); err != nil {
		return s.twofactorError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// secondFactorNeeded answers a correct password for an account with 2FA on: the
// sign-in waits for the second factor.
func (s *Server) secondFactorNeeded(w http.ResponseWriter, r *http.Request, sub string, client session.Client, rot password.Rotation) error {
	st, err := s.tf.Status(r.Context(), sub)
	if err != nil {
		return err
	}
	// The pending sign-in is kept by the session registry, in its store: any replica
	// can finish it, once, from this device.
	p, err := s.sessions.BeginSignin(r.Context(), sub, client)
	if err != nil {
		return err
	}
	methods := []string{}
	if len(contactViews(st.Contacts, true)) > 0 {
		methods = append(methods, string(twofactor.MethodContactCode))
	}
	if st.Authenticator {
		methods = append(methods, string(twofactor.MethodAuthenticator))
	}
	if st.RecoveryCodesLeft > 0 {
		methods = append(methods, string(twofactor.MethodRecoveryCode))
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "second_factor_required", "signin_id": p.ID,
		"methods": methods, "contacts": contactViews(st.Contacts, true), "expires_at": p.ExpiresAt,
		"next": "POST /v1/signin/challenge {signin_id, contact_id}, then POST /v1/signin/complete {signin_id, challenge_id, code}"})
	return nil
}

// errSigninGone is the answer for a pending sign-in that is unknown, expired, already
// completed or presented from another device.
func errSigninGone() error {
	return errorf(http.StatusUnauthorized, codeUnauthenticated, "the sign-in expired or is unknown; start again")
}

// pendingSignin finds the sign-in that passed its password step (session's
// PendingSignin: live, for the device that started it), and returns it with the
// request's client.
func (s *Server) pendingSignin(r *http.Request, signinID string) (session.Pending, session.Client, error) {
	if err := required("signin_id", signinID); err != nil {
		return session.Pending{}, session.Client{}, err
	}
	client, err := s.client(r)
	if err != nil {
		return session.Pending{}, session.Client{}, err
	}
	p, err := s.sessions.PendingSignin(r.Context(), signinID, client)
	if errors.Is(err, session.ErrNotAuthenticated) {
		return session.Pending{}, session.Client{}, errSigninGone()
	}
	if err != nil {
		return session.Pending{}, session.Client{}, err
	}
	return p, client, nil
}

type signinChallengeRequest struct {
	SigninID  string `json:"signin_id"`
	ContactID string `json:"contact_id"`
}

// handleSigninChallenge sends a sign-in code: POST /v1/signin/challenge.
func (s *Server) handleSigninChallenge(w http.ResponseWriter, r *http.Request) error {
	var req signinChallengeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("contact_id", req.ContactID); err != nil {
		return err
	}
	p, _, err := s.pendingSignin(r, req.SigninID)
	if err != nil {
		return err
	}
	ch, err := s.tf.Begin(r.Context(), twofactor.BeginRequest{Subscriber: p.Subscriber, ContactID: req.ContactID, Purpose: otp.PurposeSignIn,
		Flow: signinScope(p.ID), ClientIP: clientIP(r).String()})
	if err != nil {
		return s.twofactorError(err)
	}
	writeJSON(w, http.StatusOK, challengeView(ch))
	return nil
}

type signinCompleteRequest struct {
	SigninID string `json:"signin_id"`
	verifyRequest
}

// handleSigninComplete checks the second factor and starts the session:
// POST /v1/signin/complete.
func (s *Server) handleSigninComplete(w http.ResponseWriter, r *http.Request) error {
	var req signinCompleteRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	p, client, err := s.pendingSignin(r, req.SigninID)
	if err != nil {
		return err
	}
	cr, err := req.complete(p.Subscriber)
	if err != nil {
		return err
	}
	cr.Purpose = otp.PurposeSignIn // any code here proves the sign-in only
	proof, err := s.complete(r.Context(), cr, signinScope(p.ID), false)
	if err != nil {
		return err
	}
	// Used once: of two requests racing with codes, one signs in.
	if _, err := s.sessions.TakeSignin(r.Context(), p.ID, client); errors.Is(err, session.ErrNotAuthenticated) {
		return errorf(http.StatusUnauthorized, codeUnauthenticated, "the sign-in was already completed")
	} else if err != nil {
		return err
	}
	rot, err := s.passwords.RotationStatus(r.Context(), p.Subscriber)
	if err != nil {
		return err
	}
	return s.finishSignin(w, r, p.Subscriber, client, rot, &proof)
}
