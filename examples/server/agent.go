package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/line"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/status"
	"github.com/carrierguard/carrierguard/twofactor"
)

// wireAgents builds the agent console's library state: cases in a store (not in
// handler memory), audited with the agent's ID from the credential.
func (s *Server) wireAgents() error {
	audit := s.opts.AgentAudit
	if audit == nil {
		audit = agent.LogAuditor{Logger: s.log}
	}
	var err error
	s.cases, err = agent.New(agent.Config{Now: s.now}, s.stores.AgentCases, audit)
	return err
}

// agentHandler is a console handler. agentID is the ID of the authenticated agent (from
// the credential); the full identity, with the credential's channel, is whoFrom(ctx).
type agentHandler func(w http.ResponseWriter, r *http.Request, agentID string) error

type whoKey struct{}

// whoFrom returns the agent identity the console middleware authenticated.
func whoFrom(ctx context.Context) (agent.Identity, bool) {
	who, ok := ctx.Value(whoKey{}).(agent.Identity)
	return who, ok && who.Valid()
}

// agent wraps a console handler: Authorization: Bearer <agent token>, one of the
// per-agent tokens of Options.Agents (the -agent-tokens file). The token names the agent
// and the one channel it is for; nothing in the request can change either. X-Agent-ID
// is not trusted: a request that sends one naming another agent is refused. A real
// deployment puts its SSO behind an agent.Authenticator instead.
func (s *Server) agent(h agentHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			tok, ok := bearer(r)
			var who agent.Identity
			var err error
			if ok && s.opts.Agents != nil {
				who, err = s.opts.Agents.Authenticate(r.Context(), tok)
			}
			switch {
			case !ok || s.opts.Agents == nil || errors.Is(err, agent.ErrUnauthenticated):
				w.Header().Set("WWW-Authenticate", `Bearer realm="carrierguard-agent"`)
				return errorf(http.StatusUnauthorized, codeUnauthenticated, "send Authorization: Bearer <your agent token>")
			case err != nil:
				return err
			case !who.Valid():
				return errors.New("agent authenticator returned an invalid identity")
			}
			if id := r.Header.Get("X-Agent-ID"); id != "" && id != who.Agent {
				return errorf(http.StatusForbidden, codeForbidden, "X-Agent-ID is not trusted: the agent is the one your token names (%s)", who.Agent)
			}
			if info := infoFrom(r.Context()); info != nil {
				info.agent = who.Agent
			}
			if !s.subLimits.allow("agent:" + who.Agent) {
				return errorf(http.StatusTooManyRequests, codeRateLimited, "too many requests for this agent; slow down")
			}
			return h(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, who)), who.Agent)
		}()
		if err != nil {
			writeError(w, r, err)
		}
	}
}

// codeUse is what a code's message says it is for: agent.CodeMessage's words for SIM
// swaps, port-outs and identity checks with support ("to approve a SIM swap on your
// line"), the purpose's name for the rest.
func codeUse(p otp.Purpose) string {
	if msg, ok := agent.CodeMessage(p); ok {
		return msg
	}
	return "for " + strings.ReplaceAll(string(p), "_", " ")
}

type openCaseRequest struct {
	Phone string `json:"phone"`
	// Channel, if sent, must be the channel of the agent's token: it is checked, never
	// taken.
	Channel string `json:"channel,omitempty"`
}

// handleCaseOpen looks a subscriber up by their proved line: POST /agent/v1/cases. The
// case's channel is the token's. The answer says an account exists and how the caller
// can be verified, and nothing about the account itself.
func (s *Server) handleCaseOpen(w http.ResponseWriter, r *http.Request, agentID string) error {
	who, _ := whoFrom(r.Context())
	var req openCaseRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("phone", req.Phone); err != nil {
		return err
	}
	if req.Channel != "" && req.Channel != who.Channel.String() {
		return errorf(http.StatusForbidden, codeForbidden, "your token is for the %s channel; the channel of a case comes from the token, not the request", who.Channel)
	}
	num, err := protection.NormalizeE164(req.Phone)
	if err != nil {
		return errorf(http.StatusBadRequest, codeInvalidField, "field \"phone\" must be an E.164 number")
	}
	a, ok := s.dir.byNumber(num) // proved lines only
	if !ok {
		return errorf(http.StatusNotFound, codeNotFound, "no account has this number as its line")
	}
	c, err := s.cases.Open(r.Context(), who, a.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.caseView(r, who, c))
	return nil
}

// caseView shows a case; account details only once the evidence permits viewing them
// (and that viewing is audited).
func (s *Server) caseView(r *http.Request, who agent.Identity, c agent.Case) map[string]any {
	out := map[string]any{"case_id": c.ID, "agent": c.Agent, "channel": c.Channel.String(), "opened_at": c.Opened,
		"expires_at": c.Expires, "verified_with": kindsOf(c.Evidence)}
	lvl, rj, _ := s.assess(r.Context(), c.Subscriber, protection.ActionViewAccount, c.Channel, riskInput{})
	d, err := s.protect.Decide(r.Context(), c.Subscriber, protection.Request{Action: protection.ActionViewAccount,
		Channel: c.Channel, Risk: lvl, Evidence: c.EvidenceFor(protection.ActionViewAccount), At: s.now()})
	out["view_decision"] = decisionView(d, rj)
	if err == nil && d.Outcome.Permits() && d.Outcome != protection.Hold {
		err = s.cases.Record(r.Context(), who, c, agent.AuditAccountViewed, "")
	}
	if err != nil || !d.Outcome.Permits() || d.Outcome == protection.Hold {
		out["verified"] = false
		out["account"] = "hidden until the caller is verified"
		if qs, err := s.questions.Questions(r.Context(), c.Subscriber); err == nil {
			out["questions_to_ask"] = questionViews(qs)
		}
		if cs, err := s.tf.Contacts(r.Context(), c.Subscriber); err == nil {
			out["contacts"] = contactViews(cs, true) // masked, to send a code to
		}
		return out
	}
	a, _ := s.dir.get(c.Subscriber)
	flags, ferr := s.protect.Flags(r.Context(), c.Subscriber)
	acct := map[string]any{"name": a.Name, "email": status.MaskEmail(a.Email), "phone": a.Line}
	if ferr == nil {
		acct["flags"] = flags.On.String()
	}
	out["verified"] = true
	out["account"] = acct
	return out
}

func kindsOf(evs []protection.Evidence) []string {
	var ks protection.EvidenceKinds
	for _, e := range evs {
		ks |= protection.Kinds(e.Kind)
	}
	return kindNames(ks)
}

// getCase returns the agent's live case named in the path: only the agent who opened it,
// with a token of the case's channel, gets it.
func (s *Server) getCase(r *http.Request, agentID string) (agent.Case, error) {
	who, ok := whoFrom(r.Context())
	if !ok || who.Agent != agentID {
		return agent.Case{}, errors.New("console handler called without an authenticated agent")
	}
	c, err := s.cases.Get(r.Context(), who, r.PathValue("case"))
	if errors.Is(err, agent.ErrNotFound) {
		return agent.Case{}, errorf(http.StatusNotFound, codeNotFound, "no such case of yours on this channel (cases last %v)", s.cases.TTL())
	}
	return c, err
}

// addCaseEvidence adds evidence to the request's case through the library, which
// refuses what the case's channel cannot give and audits the addition.
func (s *Server) addCaseEvidence(r *http.Request, c agent.Case, ev protection.Evidence) error {
	who, _ := whoFrom(r.Context())
	_, err := s.cases.AddEvidence(r.Context(), who, c.ID, ev)
	switch {
	case errors.Is(err, agent.ErrEvidenceChannel):
		return errorf(http.StatusForbidden, codeForbidden, "%s", trimAgent(err))
	case errors.Is(err, agent.ErrEvidenceFull):
		return errorf(http.StatusConflict, codeConflict, "the case holds all the evidence it can; open a new case")
	case errors.Is(err, agent.ErrNotFound):
		return errorf(http.StatusNotFound, codeNotFound, "the case expired")
	}
	return err
}

func trimAgent(err error) string {
	const p = "agent: "
	msg := err.Error()
	if len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}

// handleCaseGet shows a case: GET /agent/v1/cases/{case}.
func (s *Server) handleCaseGet(w http.ResponseWriter, r *http.Request, agentID string) error {
	c, err := s.getCase(r, agentID)
	if err != nil {
		return err
	}
	who, _ := whoFrom(r.Context())
	writeJSON(w, http.StatusOK, s.caseView(r, who, c))
	return nil
}

// handleCaseClose ends a case: DELETE /agent/v1/cases/{case}.
func (s *Server) handleCaseClose(w http.ResponseWriter, r *http.Request, agentID string) error {
	c, err := s.getCase(r, agentID)
	if err != nil {
		return err
	}
	who, _ := whoFrom(r.Context())
	if err := s.cases.Close(r.Context(), who, c.ID); err != nil && !errors.Is(err, agent.ErrNotFound) {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// casePurposes are the purposes an agent may send a code for, by API name. The code's
// message says which (agent.CodeMessage), and it counts only toward that.
var casePurposes = map[string]otp.Purpose{
	"identity": agent.PurposeIdentity,
	"sim_swap": agent.CodePurpose(protection.ActionSIMSwap),
	"port_out": agent.CodePurpose(protection.ActionPortOut),
}

type caseCodeRequest struct {
	ContactID string `json:"contact_id"`
	// Purpose is identity (the default), sim_swap or port_out.
	Purpose string `json:"purpose,omitempty"`
}

// handleCaseSendCode sends the caller a code on a trusted contact:
// POST /agent/v1/cases/{case}/verify/code/send {"contact_id", "purpose"}. The agent
// sees only the masked contact. The message names the purpose ("to approve a SIM swap
// on your line"), and the code counts only for it.
func (s *Server) handleCaseSendCode(w http.ResponseWriter, r *http.Request, agentID string) error {
	c, err := s.getCase(r, agentID)
	if err != nil {
		return err
	}
	var req caseCodeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("contact_id", req.ContactID); err != nil {
		return err
	}
	if req.Purpose == "" {
		req.Purpose = "identity"
	}
	purpose, ok := casePurposes[req.Purpose]
	if !ok {
		return errorf(http.StatusBadRequest, codeInvalidField, "field \"purpose\" must be identity, sim_swap or port_out")
	}
	who, _ := whoFrom(r.Context())
	if err := s.cases.Record(r.Context(), who, c, agent.AuditCodeSent, string(purpose)); err != nil {
		return err
	}
	ch, err := s.tf.Begin(r.Context(), twofactor.BeginRequest{Subscriber: c.Subscriber, ContactID: req.ContactID, Purpose: purpose,
		Flow: caseScope(c.ID)}) // no ClientIP: the agent's console, not a client, asks for it
	if err != nil {
		return s.twofactorError(err)
	}
	v := challengeView(ch)
	v["purpose"] = req.Purpose
	writeJSON(w, http.StatusOK, v)
	return nil
}

// handleCaseVerifyCode checks the code the caller reads out:
// POST /agent/v1/cases/{case}/verify/code. A match adds trusted-contact evidence for the
// purpose the code was sent for, and nothing else.
func (s *Server) handleCaseVerifyCode(w http.ResponseWriter, r *http.Request, agentID string) error {
	c, err := s.getCase(r, agentID)
	if err != nil {
		return err
	}
	req, err := decodeCode(w, r)
	if err != nil {
		return err
	}
	who, _ := whoFrom(r.Context())
	proof, err := s.complete(r.Context(), twofactor.CompleteRequest{Subscriber: c.Subscriber, Method: twofactor.MethodContactCode,
		ChallengeID: req.ChallengeID, Code: req.Code}, caseScope(c.ID), true)
	if err != nil {
		if aerr := s.cases.Record(r.Context(), who, c, agent.AuditCodeFailed, ""); aerr != nil {
			return aerr
		}
		return err
	}
	name := ""
	for n, p := range casePurposes {
		if p == proof.Purpose {
			name = n
		}
	}
	if name == "" { // only case codes are bound to a case scope; refuse anything else
		return errorf(http.StatusForbidden, codeInvalidCode, "the code was not sent for a support case")
	}
	ev, ok := s.proofEvidence(r.Context(), c.Subscriber, proof)
	if !ok {
		return errors.New("a case code's proof was refused as evidence")
	}
	if err := s.addCaseEvidence(r, c, ev); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"verified": true, "contact": proof.Masked, "purpose": name})
	return nil
}

func (s *Server) caseChange(w http.ResponseWriter, r *http.Request, agentID string, kind protection.ChangeKind) error {
	c, err := s.getCase(r, agentID)
	if err != nil {
		return err
	}
	var req portOutRequest
	if kind == protection.ChangePortOut {
		err = decodeJSON(w, r, &req)
	} else {
		err = decodeJSON(w, r, &struct{}{})
	}
	if err != nil {
		return err
	}
	a, _ := s.dir.get(c.Subscriber)
	who, _ := whoFrom(r.Context())
	if err := s.cases.Record(r.Context(), who, c, agent.AuditChangeRequested, kind.String()); err != nil {
		return err
	}
	cr := protection.ChangeRequest{Subscriber: c.Subscriber, Number: a.Line, Kind: kind, Channel: c.Channel,
		Actor: notify.Actor{Kind: notify.ActorAgent, ID: who.Agent}, Evidence: c.EvidenceFor(actionOf(kind))}
	return s.simChange(w, r, cr, req.TransferPIN, riskInput{})
}

// handleCaseSIMSwap requests a SIM swap on the caller's behalf:
// POST /agent/v1/cases/{case}/sim-swap. Only evidence for a SIM swap counts (a code sent
// for it, an ID checked in a store case); on the phone or in chat the policy denies it
// anyway: SIM swaps are never carried out on a call.
func (s *Server) handleCaseSIMSwap(w http.ResponseWriter, r *http.Request, agentID string) error {
	return s.caseChange(w, r, agentID, protection.ChangeSIMSwap)
}

type portOutRequest struct {
	TransferPIN string `json:"transfer_pin"`
}

// handleCasePortOut requests a port-out on the caller's behalf:
// POST /agent/v1/cases/{case}/port-out {"transfer_pin": "..."}.
func (s *Server) handleCasePortOut(w http.ResponseWriter, r *http.Request, agentID string) error {
	return s.caseChange(w, r, agentID, protection.ChangePortOut)
}

// partner wraps the partner API: Authorization: Bearer <partner token>.
func (s *Server) partner(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			tok, ok := bearer(r)
			if !ok || !tokenEqual(tok, s.opts.PartnerToken) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="carrierguard-partner"`)
				return errorf(http.StatusUnauthorized, codeUnauthenticated, "send Authorization: Bearer <partner token>")
			}
			return h(w, r)
		}()
		if err != nil {
			writeError(w, r, err)
		}
	}
}

type partnerPortOutRequest struct {
	Number      string `json:"number"`
	TransferPIN string `json:"transfer_pin"`
}

// partnerID names the partner the configured token authenticates: the library keys its
// per-partner limit and its audit records by it. One token, one partner; a carrier with
// several partners gives each its own token and ID.
const partnerID = "partner-api"

// partnerRejected is the one answer to every port-out that is not accepted: no customer
// has the number, no PIN, a wrong, used or locked PIN, a protection flag, the risk.
// Written as fixed bytes (no request ID in the body), so that a partner cannot tell any
// of them apart, nor customers' numbers from others.
var partnerRejected = []byte(`{"code":"denied","message":"The port-out is not authorised."}` + "\n")

// handlePartnerPortOut is another carrier asking to port a number away:
// POST /partner/v1/port-out {"number": "+1415555...", "transfer_pin": "..."}.
//
// protection.PartnerPortOut decides it together with the PIN in one call: a partner
// learns accepted (200 with a reference) or not (403 with partnerRejected), never
// whether the number is a customer's, its flags or its risk; a request without a PIN
// is audited but notifies no one; the PIN is spent only by a port-out that passes; and
// each partner may send PartnerLimit rejected requests an hour (429 after that).
func (s *Server) handlePartnerPortOut(w http.ResponseWriter, r *http.Request) error {
	var req partnerPortOutRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("number", req.Number); err != nil {
		return err
	}
	num, err := protection.NormalizeE164(req.Number)
	if err != nil {
		return errorf(http.StatusBadRequest, codeInvalidField, "field \"number\" must be an E.164 number")
	}
	ctx := r.Context()
	pr := protection.PartnerRequest{Partner: partnerID, Number: num, PIN: req.TransferPIN, Risk: protection.RiskLow}
	// Only a proved line (package line: an SMS proof or the carrier's provisioning) can
	// be ported; any other number is answered as no customer's.
	if a, ok := s.dir.lineHolder(num); ok && s.partnerLine(ctx, a.ID, num) {
		pr.Subscriber = a.ID
		pr.Risk, _, _ = s.assess(ctx, a.ID, protection.ActionPortOut, protection.ChannelPartner, riskInput{IP: clientIP(r), UserAgent: r.UserAgent()})
		if err := s.status.Allow(ctx, a.ID, status.CapabilityOf(protection.ActionPortOut)); err != nil {
			// An account whose email was never verified cannot port out, nor one whose
			// status cannot be read (fail closed): the library audits the request as
			// one without a PIN, and the partner learns nothing, a 500 only customers'
			// numbers could get included.
			if !errors.Is(err, status.ErrUnverified) {
				s.log.WarnContext(ctx, "partner port-out: trust gate", "error", err.Error())
			}
			pr.PIN = ""
		}
	}
	ans, err := s.protect.PartnerPortOut(ctx, pr)
	switch {
	case errors.Is(err, protection.ErrPartnerLimited):
		return tooManyRequests(codeRateLimited, time.Minute, "too many port-out requests that were not accepted; try again later")
	case err != nil:
		// Logged, never shown: a fault must not answer differently from a rejection.
		s.log.WarnContext(ctx, "partner port-out", "error", err.Error())
	}
	if !ans.Accepted {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write(partnerRejected)
		return nil
	}
	err = s.carryOut(ctx, ans.Reference, pr.Subscriber, num, protection.ChangePortOut, notify.Actor{Kind: notify.ActorSystem, ID: "partner:" + partnerID})
	if err != nil && !errors.Is(err, protection.ErrHeld) { // held: the hold job carries it out when it ends
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"accepted": true, "reference": ans.Reference})
	return nil
}

// partnerLine reports whether number is a proved line of subscriber. A fault is logged
// and answers no: the partner must not tell a fault from a rejection.
func (s *Server) partnerLine(ctx context.Context, subscriber, number string) bool {
	_, err := s.lines.Check(ctx, subscriber, number)
	if err != nil && !errors.Is(err, line.ErrUnproved) {
		s.log.WarnContext(ctx, "partner port-out: line check", "error", err.Error())
	}
	return err == nil
}

type idCheckRequest struct {
	Document string `json:"document"`
}

var idDocuments = map[string]bool{"passport": true, "driving_licence": true, "national_id": true}

// handleCaseVerifyID records that a store employee checked the caller's government ID
// in person: POST /agent/v1/cases/{case}/verify/id. Only a case opened with a store
// token can: the library refuses an ID check on any other channel, whatever the agent
// says. The document number is not taken: it is not needed to decide, and not keeping it
// is the safest way to protect it.
func (s *Server) handleCaseVerifyID(w http.ResponseWriter, r *http.Request, agentID string) error {
	c, err := s.getCase(r, agentID)
	if err != nil {
		return err
	}
	var req idCheckRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if !idDocuments[req.Document] {
		return errorf(http.StatusBadRequest, codeInvalidField, "field \"document\" must be passport, driving_licence or national_id")
	}
	if err := s.addCaseEvidence(r, c, protection.Evidence{Kind: protection.EvidenceGovernmentID, ObtainedAt: s.now()}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"verified": true, "document": req.Document})
	return nil
}
