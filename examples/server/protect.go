package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/status"
	"github.com/carrierguard/carrierguard/twofactor"
)

// decisionJSON is how every decision comes back: the outcome, the machine-readable
// reasons, a sentence for people and, for a step-up, the evidence sets still missing
// (any one of them, complete, would do).
type decisionJSON struct {
	Action        string     `json:"action"`
	Channel       string     `json:"channel"`
	Outcome       string     `json:"outcome"`
	Reasons       []string   `json:"reasons"`
	Message       string     `json:"message"`
	RequiredSteps [][]string `json:"required_steps,omitempty"`
	Counted       []string   `json:"counted_evidence"`
	Risk          riskJSON   `json:"risk"`
	HoldUntil     *time.Time `json:"hold_until,omitempty"`
	// CodePurpose, on a step-up in the app that a contact code would satisfy, is the
	// purpose to ask that code for (POST /v1/2fa/challenge): a code counts only toward
	// the purpose its message named.
	CodePurpose string `json:"code_purpose,omitempty"`
}

func kindNames(ks protection.EvidenceKinds) []string {
	list := ks.List()
	out := make([]string, 0, len(list))
	for _, k := range list {
		out = append(out, k.String())
	}
	return out
}

func decisionView(d protection.Decision, rj riskJSON) decisionJSON {
	v := decisionJSON{Action: d.Action.String(), Channel: d.Channel.String(), Outcome: d.Outcome.String(),
		Reasons: d.Reasons.Codes(), Message: d.Message(), Counted: kindNames(d.Counted), Risk: rj}
	if v.Reasons == nil {
		v.Reasons = []string{}
	}
	if d.Outcome == protection.StepUp {
		for _, m := range d.Missing() {
			v.RequiredSteps = append(v.RequiredSteps, kindNames(m))
			if d.Channel == protection.ChannelApp && m.Has(protection.EvidenceContactCode) {
				v.CodePurpose = codePurposeName(stepUpPurpose(d.Action))
			}
		}
	}
	if !d.HoldUntil.IsZero() {
		t := d.HoldUntil
		v.HoldUntil = &t
	}
	return v
}

// stepUpPurpose is the purpose a second-factor proof must have been given for to
// count toward action a: protection's table (protection.PurposeFor), so a subscriber
// talked into reading out a code for a routine change has not agreed to a SIM swap, a
// port-out or turning 2FA off.
func stepUpPurpose(a protection.Action) otp.Purpose { return protection.PurposeFor(a) }

// flagPurpose is the step-up purpose for turning flag f off: that of what the flag
// guards (protection.PurposeForFlag).
func flagPurpose(f protection.Flags) otp.Purpose { return protection.PurposeForFlag(f) }

// codePurposeName is the API's name for a step-up purpose (the inverse of
// stepUpPurposes).
func codePurposeName(p otp.Purpose) string {
	for name, q := range stepUpPurposes {
		if q == p && name != "" {
			return name
		}
	}
	return ""
}

// proofEvidence converts a twofactor proof into protection evidence with
// protection.EvidenceFromProof: checked against the service that issued it, with the
// purpose it was given for, its factor's age and, for an SMS code, the E.164 number;
// a proof of another subscriber than the one decided for is refused. A refused proof
// is no evidence (logged): the policy then asks for more, never less.
func (s *Server) proofEvidence(ctx context.Context, subscriber string, p twofactor.Proof) (protection.Evidence, bool) {
	ev, err := protection.EvidenceFromProof(s.tf, subscriber, p)
	if err != nil {
		s.log.ErrorContext(ctx, "step-up proof refused as evidence", "error", err.Error())
		return protection.Evidence{}, false
	}
	return ev, true
}

// evidence is what the signed-in caller has proved toward action a:
// protection.SessionEvidence gives the session, a password entered at sign-in or
// re-entered since, and the newest second factor, with the times the session registry
// recorded; the session's step-up proofs (package stepup, which hands out only proofs
// given for purpose want, checked; stepUpPurpose gives it) say which second factor that
// was (and, for an SMS code, the number), and older ones of other kinds are added while
// they are kept. A proof for another purpose is never evidence here.
func (s *Server) evidence(c *caller, want otp.Purpose) []protection.Evidence {
	proofs, err := s.steps.Proofs(c.ctx, c.sess, want)
	if err != nil {
		s.log.Error("step-up proofs", "error", err.Error())
		proofs = nil // no second factor: the policy asks for more, never less
	}
	var second protection.Evidence
	if len(proofs) > 0 {
		second, _ = s.proofEvidence(c.ctx, c.account.ID, proofs[0])
	}
	ev, err := protection.SessionEvidence(c.account.ID, c.sess, second)
	if err != nil {
		s.log.Error("session evidence", "error", err.Error())
		return nil // no evidence: the policy asks for more, never less
	}
	for _, p := range proofs[min(1, len(proofs)):] {
		if e, ok := s.proofEvidence(c.ctx, c.account.ID, p); ok {
			ev = append(ev, e)
		}
	}
	return ev
}

func callerRisk(c *caller) riskInput {
	return riskInput{IP: c.client.IP, UserAgent: c.client.UserAgent, Device: c.client.Device}
}

// decide runs a self-service action by the signed-in caller (app channel) through risk
// and protection. Any outcome but Allow comes back as the step-up error carrying the
// decision; on Allow the decision is returned for the response.
func (s *Server) decide(ctx context.Context, c *caller, a protection.Action) (decisionJSON, error) {
	lvl, rj, rreq := s.assess(ctx, c.account.ID, a, protection.ChannelApp, callerRisk(c))
	d, err := s.protect.Decide(ctx, c.account.ID, protection.Request{Action: a, Channel: protection.ChannelApp,
		Risk: lvl, Evidence: s.evidence(c, stepUpPurpose(a)), At: s.now()})
	if err != nil {
		return decisionView(d, rj), protectionError(err)
	}
	s.recordDecision(ctx, rreq, d)
	dv := decisionView(d, rj)
	if d.Outcome != protection.Allow {
		return dv, stepUpError(dv)
	}
	return dv, nil
}

func protectionError(err error) error {
	switch {
	case errors.Is(err, protection.ErrInvalidRequest), errors.Is(err, protection.ErrInvalidNumber):
		return errorf(http.StatusBadRequest, codeInvalidField, "%s", strings.TrimPrefix(err.Error(), "protection: "))
	case errors.Is(err, protection.ErrNotFound):
		return errorf(http.StatusNotFound, codeNotFound, "%s", strings.TrimPrefix(err.Error(), "protection: "))
	case errors.Is(err, protection.ErrUnknownFlag):
		return errorf(http.StatusNotFound, codeNotFound, "no such flag: use never_sim_swap, no_port_out or account_lockdown")
	case errors.Is(err, protection.ErrFlagOff):
		return errorf(http.StatusConflict, codeConflict, "the flag is not on")
	case errors.Is(err, protection.ErrDisablePending):
		return errorf(http.StatusConflict, codeConflict, "a disable of this flag is already pending")
	default:
		return err
	}
}

func parseFlag(r *http.Request) (protection.Flags, error) {
	f, err := protection.ParseFlag(r.PathValue("flag"))
	if err != nil {
		return 0, protectionError(protection.ErrUnknownFlag)
	}
	return f, nil
}

type flagJSON struct {
	Flag               string     `json:"flag"`
	On                 bool       `json:"on"`
	Since              *time.Time `json:"since,omitempty"`
	DisableRequestedAt *time.Time `json:"disable_requested_at,omitempty"`
	DisableAt          *time.Time `json:"disable_at,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// handleFlags lists the three flags: GET /v1/protection/flags.
func (s *Server) handleFlags(w http.ResponseWriter, r *http.Request, c *caller) error {
	st, err := s.protect.Flags(r.Context(), c.account.ID)
	if err != nil {
		return err
	}
	out := []flagJSON{}
	for _, f := range protection.FlagList() {
		v := flagJSON{Flag: f.String(), On: st.On.Has(f)}
		for _, fs := range st.States {
			if fs.Flag == f {
				v.Since, v.DisableRequestedAt, v.DisableAt = timePtr(fs.Since), timePtr(fs.DisableRequestedAt), timePtr(fs.DisableAt)
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"flags": out})
	return nil
}

// handleFlagEnable turns a flag on at once: PUT /v1/protection/flags/{flag}.
func (s *Server) handleFlagEnable(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := parseFlag(r)
	if err != nil {
		return err
	}
	if err := s.protect.EnableFlag(r.Context(), c.account.ID, f, protection.ChannelApp, notify.Actor{Kind: notify.ActorSubscriber}); err != nil {
		return protectionError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"flag": f.String(), "on": true})
	return nil
}

// handleFlagDisable asks to turn a flag off: DELETE /v1/protection/flags/{flag}. If
// the policy permits, the flag goes off after the cooling-off period.
func (s *Server) handleFlagDisable(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := parseFlag(r)
	if err != nil {
		return err
	}
	lvl, rj, rreq := s.assess(r.Context(), c.account.ID, protection.ActionDisableFlag, protection.ChannelApp, callerRisk(c))
	req := protection.Request{Channel: protection.ChannelApp, Evidence: s.evidence(c, flagPurpose(f)), At: s.now(), Risk: lvl}
	d, at, err := s.protect.RequestFlagDisable(r.Context(), c.account.ID, f, req, notify.Actor{Kind: notify.ActorSubscriber})
	if err != nil {
		return protectionError(err)
	}
	s.recordDecision(r.Context(), rreq, d)
	dv := decisionView(d, rj)
	if d.Outcome == protection.StepUp {
		dv.CodePurpose = codePurposeName(flagPurpose(f))
	}
	out := map[string]any{"flag": f.String(), "decision": dv}
	if d.Outcome.Permits() {
		out["disable_at"] = at
		out["status"] = "cooling_off"
		writeJSON(w, http.StatusAccepted, out)
		return nil
	}
	out["status"] = "not_permitted"
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleFlagCancel cancels a pending disable: POST /v1/protection/flags/{flag}/cancel-disable.
func (s *Server) handleFlagCancel(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := parseFlag(r)
	if err != nil {
		return err
	}
	if err := s.protect.CancelFlagDisable(r.Context(), c.account.ID, f, protection.ChannelApp, notify.Actor{Kind: notify.ActorSubscriber}); err != nil {
		if errors.Is(err, protection.ErrNotFound) {
			return errorf(http.StatusNotFound, codeNotFound, "no disable is pending for this flag")
		}
		return protectionError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"flag": f.String(), "on": true, "disable_cancelled": true})
	return nil
}

type simChangeRequest struct {
	// Number defaults to the account's line.
	Number string `json:"number"`
	// RequestID continues a request after a step-up.
	RequestID string `json:"request_id"`
	// TransferPIN is for port-outs only.
	TransferPIN string `json:"transfer_pin"`
}

func actionOf(k protection.ChangeKind) protection.Action {
	switch k {
	case protection.ChangeESIMTransfer:
		return protection.ActionESIMTransfer
	case protection.ChangePortOut:
		return protection.ActionPortOut
	default:
		return protection.ActionSIMSwap
	}
}

// handleSIMChange handles a self-service SIM swap, eSIM transfer or port-out:
// POST /v1/sim-swap, /v1/esim-transfer, /v1/port-out.
func (s *Server) handleSIMChange(kind protection.ChangeKind) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		var req simChangeRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.TransferPIN != "" && kind != protection.ChangePortOut {
			return errorf(http.StatusBadRequest, codeInvalidField, "field \"transfer_pin\" is only for port-outs")
		}
		number := c.account.Phone
		if req.Number != "" {
			n, err := protection.NormalizeE164(req.Number)
			if err != nil {
				return errorf(http.StatusBadRequest, codeInvalidField, "field \"number\" must be an E.164 number")
			}
			if n != c.account.Phone {
				return errorf(http.StatusForbidden, codeForbidden, "the number is not a line on this account")
			}
		}
		cr := protection.ChangeRequest{RequestID: req.RequestID, Subscriber: c.account.ID, Number: number, Kind: kind,
			Channel: protection.ChannelApp, Actor: notify.Actor{Kind: notify.ActorSubscriber}, Evidence: s.evidence(c, stepUpPurpose(actionOf(kind)))}
		return s.simChange(w, r, cr, req.TransferPIN, callerRisk(c))
	}
}

// simChange runs a SIM-change request through the email-verification trust gate, the
// transfer PIN (if any) and protection, and carries out an approved change at once
// (a real carrier would provision the SIM here).
func (s *Server) simChange(w http.ResponseWriter, r *http.Request, cr protection.ChangeRequest, pin string, in riskInput) error {
	ctx := r.Context()
	if err := s.status.Allow(ctx, cr.Subscriber, status.CapabilityOf(actionOf(cr.Kind))); err != nil {
		if errors.Is(err, status.ErrUnverified) {
			return errorf(http.StatusForbidden, codeAccountUnverified, "verify the account email before SIM changes or port-outs")
		}
		return err
	}
	if err := s.requireLine(ctx, cr.Subscriber, cr.Number); err != nil {
		return err
	}
	var rj riskJSON
	var rreq risk.Request
	cr.Risk, rj, rreq = s.assess(ctx, cr.Subscriber, actionOf(cr.Kind), cr.Channel, in)
	if pin != "" {
		// A transfer PIN works once, so only spend it if it could make the request pass:
		// evaluate the request as if the PIN were right first.
		probe := append(append([]protection.Evidence(nil), cr.Evidence...),
			protection.Evidence{Kind: protection.EvidenceTransferPIN, ObtainedAt: s.now()})
		d, err := s.protect.Decide(ctx, cr.Subscriber, protection.Request{Action: protection.ActionPortOut,
			Channel: cr.Channel, Risk: cr.Risk, Evidence: probe, At: s.now()})
		if err != nil {
			return protectionError(err)
		}
		if d.Outcome.Permits() {
			ev, err := s.protect.VerifyTransferPIN(ctx, cr.Subscriber, pin)
			var pinErr *apiError
			switch {
			case errors.Is(err, protection.ErrPINMismatch), errors.Is(err, protection.ErrNotFound):
				pinErr = errorf(http.StatusForbidden, codeInvalidCode, "the transfer PIN is wrong, used or expired")
			case errors.Is(err, protection.ErrPINLocked):
				pinErr = errorf(http.StatusForbidden, codeLocked, "the transfer PIN is locked after too many wrong tries; it expires in 7 days")
			case err != nil:
				return err
			default:
				cr.Evidence = append(cr.Evidence, ev)
			}
			if pinErr != nil {
				// The attempt is still a port-out request: it is recorded in the history and
				// the subscriber is told, decided on the evidence without the PIN.
				res, err := s.protect.RequestSIMChange(ctx, cr)
				if err != nil {
					return protectionError(err)
				}
				s.recordRisk(ctx, rreq, risk.Failed)
				pinErr.Details = map[string]any{"request_id": res.RequestID, "decision": decisionView(res.Decision, rj)}
				return pinErr
			}
		}
	}
	res, err := s.protect.RequestSIMChange(ctx, cr)
	if err != nil {
		return protectionError(err)
	}
	s.recordDecision(ctx, rreq, res.Decision)
	state := ""
	switch res.Decision.Outcome {
	case protection.Allow:
		if err := s.carryOut(ctx, res.RequestID, cr.Subscriber, cr.Number, cr.Kind, cr.Actor); err != nil {
			return err
		}
		state = "completed"
	case protection.Hold:
		state = "held"
	case protection.StepUp:
		state = "step_up"
	default:
		state = "denied"
	}
	writeJSON(w, http.StatusOK, simChangeJSON{Decision: decisionView(res.Decision, rj), RequestID: res.RequestID, Status: state})
	return nil
}

// simChangeJSON is the answer to a SIM change request. A struct rather than a map,
// because this is the hottest answer the server writes; its fields are in the order a
// map's sorted keys would put them, so the bytes are the same.
type simChangeJSON struct {
	Decision  decisionJSON `json:"decision"`
	RequestID string       `json:"request_id"`
	Status    string       `json:"status"`
}

// unverifiedError turns status's trust-gate refusal into 403 account_unverified with
// msg; any other error (a store failure) passes through and fails the request.
func unverifiedError(err error, msg string) error {
	if errors.Is(err, status.ErrUnverified) {
		return errorf(http.StatusForbidden, codeAccountUnverified, "%s", msg)
	}
	return err
}

// handleTransferPIN issues a transfer PIN, shown once: POST /v1/transfer-pin. An
// account whose email was never verified gets none (status's trust gate), nor one
// whose number is not a proved line (requireLine): the PIN exists only to port the line
// out.
func (s *Server) handleTransferPIN(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.status.Allow(r.Context(), c.account.ID, status.CapabilityOf(protection.ActionIssueTransferPIN)); err != nil {
		return unverifiedError(err, "verify the account email before asking for a transfer PIN")
	}
	// A PIN ports a line out: a number only claimed at sign-up gets none.
	if err := s.requireLine(r.Context(), c.account.ID, c.account.Phone); err != nil {
		return err
	}
	lvl, rj, rreq := s.assess(r.Context(), c.account.ID, protection.ActionIssueTransferPIN, protection.ChannelApp, callerRisk(c))
	req := protection.Request{Channel: protection.ChannelApp, Evidence: s.evidence(c, stepUpPurpose(protection.ActionIssueTransferPIN)), At: s.now(), Risk: lvl}
	pin, d, err := s.protect.IssueTransferPIN(r.Context(), c.account.ID, req, notify.Actor{Kind: notify.ActorSubscriber})
	if errors.Is(err, protection.ErrPINLocked) {
		return errorf(http.StatusForbidden, codeLocked, "the current transfer PIN is locked after wrong tries; a new one can be issued when it expires")
	}
	if err != nil {
		return protectionError(err)
	}
	s.recordDecision(r.Context(), rreq, d)
	out := map[string]any{"decision": decisionView(d, rj)}
	if pin != "" {
		out["transfer_pin"] = pin
		out["note"] = "shown once; give it only to the carrier you are moving to"
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// addContacts adds the subscriber's verified trusted contacts to a notification
// profile, so security events reach them too.
func (s *Server) addContacts(ctx context.Context, sub string, p notify.Profile) (notify.Profile, error) {
	cs, err := s.tf.Contacts(ctx, sub)
	if err != nil {
		return p, err
	}
	for _, c := range cs {
		if !c.Verified() {
			continue
		}
		if c.Kind == twofactor.KindPhone {
			if c.Value != p.Contacts[0].Address { // the line is already there
				p.Contacts = append(p.Contacts, notify.Recipient{Channel: notify.ChannelSMS, Address: c.Value})
			}
		} else if c.Value != p.Email {
			p.Contacts = append(p.Contacts, notify.Recipient{Channel: notify.ChannelEmail, Address: c.Value})
		}
	}
	return p, nil
}
