package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carrierguard/carrierguard/line"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/password"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/status"
	"github.com/carrierguard/carrierguard/twofactor"
)

type signupRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
	Phone    string `json:"phone"`
}

// handleSignup creates an account: POST /v1/signup. The answer is the same whether or
// not the email or number is already registered (no account enumeration); the owner of
// an existing address is told by email instead.
func (s *Server) handleSignup(w http.ResponseWriter, r *http.Request) error {
	var req signupRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	for _, f := range [][2]string{{"email", req.Email}, {"password", req.Password}, {"name", req.Name}, {"phone", req.Phone}} {
		if err := required(f[0], f[1]); err != nil {
			return err
		}
	}
	email, err := status.NormalizeEmail(req.Email)
	if err != nil {
		return errorf(http.StatusBadRequest, codeInvalidField, "field \"email\" is not a valid email address")
	}
	phone, err := protection.NormalizeE164(req.Phone)
	if err != nil {
		return errorf(http.StatusBadRequest, codeInvalidField, "field \"phone\" must be an E.164 number such as +14155550101")
	}
	name := strings.TrimSpace(req.Name)
	if utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		return errorf(http.StatusBadRequest, codeInvalidField, "field \"name\" must be valid UTF-8, at most 100 characters")
	}
	subject := password.Subject{Name: name, Email: email, Phone: phone}
	res, err := s.passwords.Check(r.Context(), req.Password, subject)
	if err := passwordError(res, err); err != nil {
		return err
	}
	a := account{ID: "sub_" + newID(), Email: email, Name: name, Phone: phone, Created: s.now()}
	accepted := map[string]string{"status": "verification_sent", "email": status.MaskEmail(email),
		"next": "open the verification message and POST its token to /v1/email/verify"}
	if err := s.dir.create(a); errors.Is(err, errAccountExists) {
		// Spend the hash a new account would, so the answer's timing says nothing either.
		if _, err := s.passwords.Hasher().Hash(r.Context(), req.Password); err != nil {
			return err
		}
		// The owner hears of it by email (never by SMS: a number given at sign-up is not
		// proved, and an SMS to it would let sign-ups pump messages to numbers of the
		// caller's choosing), at most once per signupNoticeEvery per address or number.
		if existing, ok := s.dir.byEmailAddr(email); ok {
			if s.noticeLimits.allow(noticeKeyEmail(existing.Email)) {
				s.send(r.Context(), message{Channel: "email", To: existing.Email, Subject: "Someone tried to sign up with your address",
					Body: "Someone tried to create an account with this email address. You already have one: sign in instead. If it was not you, you need do nothing."})
			}
		} else if existing, ok := s.dir.byNumber(phone); ok {
			if s.noticeLimits.allow(noticeKeyNumber(existing.Phone)) {
				s.send(r.Context(), message{Channel: "email", To: existing.Email, Subject: "Someone tried to sign up with your number",
					Body: "Someone tried to open an account with your mobile number. If it was not you, you need do nothing; we never move a number without your proof."})
			}
		}
		writeJSON(w, http.StatusAccepted, accepted)
		return nil
	}
	if _, err := s.passwords.Enroll(r.Context(), a.ID, req.Password, subject); err != nil {
		return err // the password passed Check a moment ago: anything now is a fault
	}
	// A new account starts its addresses' notice pacing as a notice would: otherwise a
	// second sign-up with the same number would send a message where one for a number
	// registered earlier sends none, and the difference in timing would tell them apart.
	s.noticeLimits.allow(noticeKeyEmail(a.Email))
	s.noticeLimits.allow(noticeKeyNumber(a.Phone))
	if err := s.sendVerification(r.Context(), a); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, accepted)
	return nil
}

// signupNoticeEvery is the least time between two "someone tried to sign up" notices
// about one address or number.
const signupNoticeEvery = time.Hour

func noticeKeyEmail(addr string) string  { return "email:" + addr }
func noticeKeyNumber(e164 string) string { return "number:" + e164 }

// passwordError turns a policy result into a 422 listing every reason.
func passwordError(res password.Result, err error) error {
	switch {
	case err == nil && res.OK():
		return nil
	case err == nil, errors.Is(err, password.ErrRejected):
		details := make([]map[string]string, 0, len(res.Problems))
		for _, p := range res.Problems {
			details = append(details, map[string]string{"reason": string(p.Reason), "message": p.Message})
		}
		return &apiError{Status: http.StatusUnprocessableEntity, Code: codePasswordRejected,
			Message: "the password does not meet the policy", Details: map[string]any{"policy": res.Policy, "problems": details}}
	case errors.Is(err, password.ErrEmpty), errors.Is(err, password.ErrTooLong), errors.Is(err, password.ErrInvalidUTF8):
		return errorf(http.StatusBadRequest, codeInvalidField, "field \"password\": %s", strings.TrimPrefix(err.Error(), "password: "))
	case errors.Is(err, password.ErrBreachUnavailable):
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "the breached-password check is unavailable; try again shortly")
	default:
		return err
	}
}

// sendVerification issues an email verification link and delivers it.
func (s *Server) sendVerification(ctx context.Context, a account) error {
	lt, err := s.status.SendLink(ctx, a.ID, a.Email)
	if err != nil {
		return err
	}
	s.send(ctx, message{Channel: "email", To: a.Email, Subject: "Verify your email address",
		Body: fmt.Sprintf("Confirm this address for your account:\n\ncurl --json '{\"token\":\"%s\"}' %s/v1/email/verify\n\nThe link works once, until %s.",
			lt.Token, s.opts.BaseURL, lt.ExpiresAt.UTC().Format(time.RFC1123))})
	return nil
}

// send delivers a direct message (verification link, code). A delivery failure is
// logged and does not fail the request.
func (s *Server) send(ctx context.Context, m message) {
	m.ID, m.Time = notify.NewID(), s.now()
	if err := s.courier.deliver(ctx, m); err != nil {
		s.log.WarnContext(ctx, "message not delivered", "channel", m.Channel, "error", err.Error())
	}
}

type tokenRequest struct {
	Token string `json:"token"`
}

// handleVerifyEmail consumes a verification link token: POST /v1/email/verify.
func (s *Server) handleVerifyEmail(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("token", req.Token); err != nil {
		return err
	}
	v, err := s.status.Verify(r.Context(), req.Token)
	switch {
	case errors.Is(err, status.ErrInvalidLink):
		return errorf(http.StatusBadRequest, codeInvalidLink, "the verification token is invalid or already used")
	case errors.Is(err, status.ErrLinkExpired):
		return errorf(http.StatusGone, codeLinkExpired, "the verification token expired; sign in and POST /v1/email/resend")
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"verified": true, "email": status.MaskEmail(v.Email), "verified_at": v.VerifiedAt})
	return nil
}

type signinRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// unknownID is the stand-in subscriber ID for an email with no account: sign-in still
// spends a password hash and counts failures for it, so an unknown address looks and
// times like a wrong password.
func unknownID(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return "unknown_" + hex.EncodeToString(sum[:12])
}

// handleSignin checks the password and starts a session: POST /v1/signin.
func (s *Server) handleSignin(w http.ResponseWriter, r *http.Request) error {
	var req signinRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("email", req.Email); err != nil {
		return err
	}
	if err := required("password", req.Password); err != nil {
		return err
	}
	client, err := s.client(r)
	if err != nil {
		return err
	}
	id := unknownID(req.Email)
	email, err := status.NormalizeEmail(req.Email)
	if err == nil {
		if a, ok := s.dir.byEmailAddr(email); ok {
			id = a.ID
		} else {
			id = unknownID(email)
		}
	}
	res, verr := s.passwords.Verify(r.Context(), password.SignIn{Subscriber: id, Password: req.Password,
		ClientKey: client.IP.String(), Channel: "app"})
	if err := s.signinError(verr); err != nil {
		if errors.Is(verr, password.ErrMismatch) {
			s.recordRisk(r.Context(), s.riskRequest(r.Context(), id, risk.ActionSignIn, risk.ChannelApp,
				riskInput{IP: client.IP, UserAgent: client.UserAgent, Device: client.Device}), risk.Failed)
		}
		return err
	}
	on, err := s.tf.TwoFactorEnabled(r.Context(), id)
	if err != nil {
		return err
	}
	if on {
		return s.secondFactorNeeded(w, r, id, client, res.Rotation)
	}
	return s.finishSignin(w, r, id, client, res.Rotation, nil)
}

// finishSignin scores the sign-in, teaches the risk profile this device and place,
// and starts the session (with the second-factor proof, if one was given).
func (s *Server) finishSignin(w http.ResponseWriter, r *http.Request, id string, client session.Client, rot password.Rotation, proof *twofactor.Proof) error {
	rreq := s.riskRequest(r.Context(), id, risk.ActionSignIn, risk.ChannelApp,
		riskInput{IP: client.IP, UserAgent: client.UserAgent, Device: client.Device})
	as, aerr := s.risk.Assess(r.Context(), rreq)
	if aerr != nil {
		s.log.WarnContext(r.Context(), "risk assessment failed; treating as high", "error", aerr.Error())
	}
	s.recordSignin(r.Context(), rreq, proof)
	proofs := []session.Proof{session.ProofPassword}
	if proof != nil {
		proofs = append(proofs, session.ProofSecondFactor)
	}
	tok, sess, err := s.sessions.Create(r.Context(), id, client, proofs...)
	if err != nil {
		return err
	}
	// A password change that raced with this sign-in (stored after the password was
	// checked, its revocation run before this session existed) would leave the session
	// alive: check once more now that it exists. The change stores the new password
	// before it revokes, so either this check sees it or its revocation ends the session.
	if cur, err := s.passwords.RotationStatus(r.Context(), id); err != nil || !cur.ChangedAt.Equal(rot.ChangedAt) {
		by := session.By{Actor: notify.Actor{Kind: notify.ActorSystem, ID: "signin"}, Channel: "app"}
		if rerr := s.sessions.Revoke(r.Context(), id, sess.ID, by); rerr != nil && !errors.Is(rerr, session.ErrNotFound) {
			return errors.Join(err, rerr)
		}
		if err != nil {
			return err
		}
		return errorf(http.StatusUnauthorized, codeInvalidCreds, "the password changed while signing in; sign in again")
	}
	if proof != nil {
		// The sign-in proof counts for the sign-in only (stepup hands it out for nothing
		// else); if it cannot be kept, the session simply has no step-up proof yet.
		if err := s.steps.Remember(r.Context(), sess, *proof); err != nil {
			s.log.WarnContext(r.Context(), "sign-in proof not kept", "error", err.Error())
		}
	}
	if info := infoFrom(r.Context()); info != nil {
		info.subscriber = id
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status":               "signed_in",
		"token":                tok,
		"token_type":           "Bearer",
		"session":              sessionView(sess, sess.ID),
		"must_change_password": rot.MustChange(),
		"password_rotation":    rotationView(rot),
		"risk":                 riskView(as),
	})
	return nil
}

func (s *Server) signinError(err error) error {
	var le *password.LockedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &le):
		if !le.Until.IsZero() {
			return tooManyRequests(codeLocked, le.Until.Sub(s.now()), "too many failed sign-ins; try again after %s", le.Until.UTC().Format(time.RFC3339))
		}
		return errorf(http.StatusForbidden, codeLocked, "sign-in is locked after too many failed attempts; recover the account with support")
	case errors.Is(err, password.ErrMismatch), errors.Is(err, password.ErrEmpty), errors.Is(err, password.ErrTooLong):
		return errorf(http.StatusUnauthorized, codeInvalidCreds, "wrong email or password")
	case errors.Is(err, password.ErrNoSubscriber), errors.Is(err, password.ErrInvalidUTF8):
		return errorf(http.StatusUnauthorized, codeInvalidCreds, "wrong email or password")
	default:
		return err
	}
}

type sessionJSON struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	LastIP     string    `json:"last_ip"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func sessionView(s session.Session, current string) sessionJSON {
	return sessionJSON{ID: s.ID, Current: s.ID == current, UserAgent: s.UserAgent, IP: s.IP.String(),
		LastIP: s.LastIP.String(), CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt}
}

func rotationView(r password.Rotation) map[string]any {
	v := map[string]any{"state": r.State.String(), "changed_at": r.ChangedAt}
	if !r.DueAt.IsZero() {
		v["due_at"], v["days_left"] = r.DueAt, r.DaysLeft
	}
	return v
}

// handleMe returns the caller's own account: GET /v1/me.
func (s *Server) handleMe(w http.ResponseWriter, _ *http.Request, c *caller) error {
	writeJSON(w, http.StatusOK, map[string]any{"subscriber_id": c.account.ID, "email": c.account.Email,
		"name": c.account.Name, "phone": c.account.Phone, "line_proved": c.account.Line != "" && c.account.Line == c.account.Phone,
		"created_at": c.account.Created})
	return nil
}

// handleLineSend sends an SMS code to the number given at sign-up, to prove it is the
// account's line: POST /v1/line/verify/send. The number is the account's, never the
// request's. Until it is proved the number gets no SIM swap, port-out or SMS notice. The
// account email must be verified first (each code is an SMS the carrier pays for), and
// otp limits resends per account and per number.
func (s *Server) handleLineSend(w http.ResponseWriter, r *http.Request, c *caller) error {
	if c.account.Line != "" && c.account.Line == c.account.Phone {
		return errorf(http.StatusConflict, codeConflict, "the number is already proved to be this account's line")
	}
	if err := s.status.Allow(r.Context(), c.account.ID, status.CapabilityContactChange); err != nil {
		if errors.Is(err, status.ErrUnverified) {
			return errorf(http.StatusForbidden, codeAccountUnverified, "verify the account email before proving the line")
		}
		return err
	}
	ch, err := s.lines.BeginFrom(r.Context(), c.account.ID, c.account.Phone, clientIP(r).String())
	if err != nil {
		return s.lineError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"challenge_id": ch.ID, "sent_to": ch.Masked, "expires_at": ch.ExpiresAt})
	return nil
}

// lineError maps the line service's errors (and otp's, which it passes on).
func (s *Server) lineError(err error) error {
	switch {
	case errors.Is(err, otp.ErrInvalidCode):
		return errorf(http.StatusForbidden, codeInvalidCode, "the code is wrong, used or expired")
	case errors.Is(err, line.ErrRecentSIMChange):
		return errorf(http.StatusConflict, "recent_sim_change", "the number had a recent SIM change or port; it cannot be proved by SMS for 7 days (call support)")
	case errors.Is(err, line.ErrInvalidRequest):
		return errorf(http.StatusBadRequest, codeInvalidField, "%s", strings.TrimPrefix(err.Error(), "line: "))
	}
	return s.twofactorError(err) // otp's expiry, replay, malformed-code and throttle errors
}

// decodeCode reads a {"challenge_id", "code"} body, both required.
func decodeCode(w http.ResponseWriter, r *http.Request) (codeRequest, error) {
	var req codeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return codeRequest{}, err
	}
	if err := required("challenge_id", req.ChallengeID); err != nil {
		return codeRequest{}, err
	}
	if err := required("code", req.Code); err != nil {
		return codeRequest{}, err
	}
	return req, nil
}

// handleLineVerify checks the code sent to the number: POST /v1/line/verify
// {"challenge_id", "code"}. A right code makes the number the account's line, unless it
// is already another account's (409: moving a line between accounts is for support).
func (s *Server) handleLineVerify(w http.ResponseWriter, r *http.Request, c *caller) error {
	req, err := decodeCode(w, r)
	if err != nil {
		return err
	}
	b, err := s.lines.Complete(r.Context(), line.CompleteRequest{Subscriber: c.account.ID, Number: c.account.Phone,
		ChallengeID: req.ChallengeID, Code: req.Code})
	switch {
	case errors.Is(err, line.ErrTaken):
		return errorf(http.StatusConflict, codeConflict, "the number is another account's line; call support to move it")
	case err != nil:
		return s.lineError(err)
	}
	s.dir.lineProved(c.account.ID, b.Number)
	writeJSON(w, http.StatusOK, map[string]any{"line": b.Number, "proved": true, "proved_at": b.ProvedAt})
	return nil
}

// handleResendEmail sends a new verification link: POST /v1/email/resend. Resends are
// throttled by package status (one a minute, five an hour): 429 with Retry-After.
func (s *Server) handleResendEmail(w http.ResponseWriter, r *http.Request, c *caller) error {
	err := s.sendVerification(r.Context(), c.account)
	var te *status.ThrottleError
	switch {
	case errors.Is(err, status.ErrAlreadyVerified):
		return errorf(http.StatusConflict, codeConflict, "the email address is already verified")
	case errors.Is(err, status.ErrAddressChanged):
		return errorf(http.StatusConflict, codeConflict, "the email address changed meanwhile; sign in again and resend")
	case errors.Is(err, status.ErrOtherAddressVerified):
		// The account's address and the verified one disagree; only an email change
		// (which tells the subscriber) may move the verification to another address.
		return errorf(http.StatusConflict, codeConflict, "another email address is verified for this account; change the email address instead")
	case errors.As(err, &te):
		return tooManyRequests(codeRateLimited, te.RetryAfter, "%s", strings.TrimPrefix(te.Error(), "status: "))
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "verification_sent", "email": status.MaskEmail(c.account.Email)})
	return nil
}

type passwordRequest struct {
	Password string `json:"password"`
}

// handleReauth records a re-entered password in the session: POST /v1/reauth.
func (s *Server) handleReauth(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req passwordRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("password", req.Password); err != nil {
		return err
	}
	_, err := s.passwords.Verify(r.Context(), password.SignIn{Subscriber: c.account.ID, Password: req.Password,
		ClientKey: c.client.IP.String(), Channel: "app"})
	if err := s.signinError(err); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
			ae.Status = http.StatusForbidden // the session is fine; the password was not
			ae.Message = "wrong password"
		}
		return err
	}
	sess, err := s.sessions.StepUp(r.Context(), c.token, c.client, session.ProofPassword)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"password_at": sess.PasswordAt})
	return nil
}

// handleSessions lists the caller's sessions: GET /v1/sessions.
func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request, c *caller) error {
	list, err := s.sessions.List(r.Context(), c.account.ID)
	if err != nil {
		return err
	}
	out := make([]sessionJSON, 0, len(list))
	for _, ss := range list {
		out = append(out, sessionView(ss, c.sess.ID))
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
	return nil
}

// handleRevokeSession ends one session: DELETE /v1/sessions/{id}.
func (s *Server) handleRevokeSession(w http.ResponseWriter, r *http.Request, c *caller) error {
	err := s.sessions.Revoke(r.Context(), c.account.ID, r.PathValue("id"), session.By{Channel: "app"})
	if errors.Is(err, session.ErrNotFound) {
		return errorf(http.StatusNotFound, codeNotFound, "no such session")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type revokeAllRequest struct {
	KeepCurrent bool `json:"keep_current"`
}

// handleRevokeAll signs out everywhere: POST /v1/sessions/revoke-all
// {"keep_current": true} keeps the calling session.
func (s *Server) handleRevokeAll(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req revokeAllRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	except := ""
	if req.KeepCurrent {
		except = c.sess.ID
	}
	n, err := s.sessions.RevokeAll(r.Context(), c.account.ID, except, session.By{Channel: "app"})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked": n, "kept_current": req.KeepCurrent})
	return nil
}

// handleSignout ends the calling session: POST /v1/signout.
func (s *Server) handleSignout(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.sessions.Revoke(r.Context(), c.account.ID, c.sess.ID, session.By{Channel: "app"}); err != nil && !errors.Is(err, session.ErrNotFound) {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleStatus returns the Account Security Status: GET /v1/status.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request, c *caller) error {
	st, err := s.status.Status(r.Context(), c.account.ID)
	if err != nil {
		return err
	}
	steps := make([]map[string]any, 0, len(st.Components))
	for _, comp := range st.Components {
		steps = append(steps, map[string]any{"step": comp.Step, "done": comp.Done})
	}
	restricted, err := s.status.Restrictions(r.Context(), c.account.ID)
	if err != nil {
		return err
	}
	if restricted == nil {
		restricted = []status.Capability{}
	}
	out := map[string]any{"percent": st.Percent, "steps": steps, "next": st.Next, "restricted": restricted}
	if !st.EmailVerifiedAt.IsZero() {
		out["email_verified_at"] = st.EmailVerifiedAt
	}
	if !st.PasswordDueAt.IsZero() {
		out["password_due_at"] = st.PasswordDueAt
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type passwordChangeRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// handlePasswordChange changes the password: POST /v1/password/change. A credential
// change is a sensitive action, decided by package protection first.
func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req passwordChangeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("current", req.Current); err != nil {
		return err
	}
	if err := required("new", req.New); err != nil {
		return err
	}
	dv, err := s.decide(r.Context(), c, protection.ActionChangePassword)
	if err != nil {
		return err
	}
	res, err := s.passwords.Change(r.Context(), password.ChangeRequest{Subscriber: c.account.ID, Current: req.Current, New: req.New,
		Subject:   password.Subject{Name: c.account.Name, Email: c.account.Email, Phone: c.account.Phone},
		ClientKey: c.client.IP.String(), Channel: "app"})
	if errors.Is(err, password.ErrMismatch) {
		return errorf(http.StatusForbidden, codeInvalidCreds, "the current password is wrong")
	}
	if err := s.signinError(errLocked(err)); err != nil {
		return err
	}
	if err := passwordError(res, err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"changed": true, "decision": dv,
		"next_step": "offer_sign_out_other_sessions", "sign_out_others": "POST /v1/sessions/revoke-all {\"keep_current\":true}"})
	return nil
}

// errLocked keeps only lockout errors, for signinError.
func errLocked(err error) error {
	if errors.Is(err, password.ErrLocked) {
		return err
	}
	return nil
}

// handleRotation returns the password rotation status: GET /v1/password/rotation.
func (s *Server) handleRotation(w http.ResponseWriter, r *http.Request, c *caller) error {
	rot, err := s.passwords.RotationStatus(r.Context(), c.account.ID)
	if err != nil {
		return err
	}
	out := rotationView(rot)
	out["must_change"] = rot.MustChange()
	out["policy"] = s.passwords.Policy().Name
	writeJSON(w, http.StatusOK, out)
	return nil
}

// stepUpError answers a sensitive request the policy did not allow now: 403 with the
// decision, its reasons and the steps that would satisfy it.
func stepUpError(dv decisionJSON) error {
	code := "step_up_required"
	if dv.Outcome == "deny" {
		code = "denied"
	} else if dv.Outcome == "hold" {
		code = "held"
	}
	return &apiError{Status: http.StatusForbidden, Code: code, Message: dv.Message, Details: map[string]any{"decision": dv}}
}
