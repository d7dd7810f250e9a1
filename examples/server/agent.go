package main

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/status"
)

// caseTTL is how long an agent's case (a verified caller) lasts.
const caseTTL = 30 * time.Minute

// agentCase is one support interaction: an agent, a caller on a channel, the account
// the caller claims, and the evidence the agent has gathered. The account's details
// stay hidden until the evidence permits protection.ActionViewAccount.
type agentCase struct {
	ID         string
	Agent      string
	Subscriber string
	Channel    protection.Channel
	Opened     time.Time
	Evidence   []protection.Evidence
}

type caseBook struct {
	mu sync.Mutex
	m  map[string]*agentCase
}

func newCaseBook() *caseBook { return &caseBook{m: map[string]*agentCase{}} }

func (b *caseBook) put(c *agentCase) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[c.ID] = c
}

// get returns a copy of the agent's live case.
func (b *caseBook) get(id, agent string, now time.Time) (agentCase, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, c := range b.m {
		if now.Sub(c.Opened) > caseTTL {
			delete(b.m, k)
		}
	}
	c, ok := b.m[id]
	if !ok || c.Agent != agent {
		return agentCase{}, false
	}
	out := *c
	out.Evidence = append([]protection.Evidence(nil), c.Evidence...)
	return out, true
}

func (b *caseBook) addEvidence(id string, ev protection.Evidence) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.m[id]; ok {
		c.Evidence = append(c.Evidence, ev)
	}
}

type agentHandler func(w http.ResponseWriter, r *http.Request, agent string) error

// agent wraps a console handler: Authorization: Bearer <agent token> (the configured
// token, compared in constant time) and X-Agent-ID naming the agent for the audit
// trail. A real deployment puts its SSO in front instead.
func (s *Server) agent(h agentHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			tok, ok := bearer(r)
			if !ok || !tokenEqual(tok, s.opts.AgentToken) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="carrierguard-agent"`)
				return errorf(http.StatusUnauthorized, codeUnauthenticated, "send Authorization: Bearer <agent token>")
			}
			id := r.Header.Get("X-Agent-ID")
			if !validRequestID(id) || len(id) > 32 {
				return errorf(http.StatusBadRequest, codeMissingField, "header X-Agent-ID must name the agent (1 to 32 of A-Z a-z 0-9 . _ -)")
			}
			if info := infoFrom(r.Context()); info != nil {
				info.agent = id
			}
			if !s.subLimits.allow("agent:" + id) {
				return errorf(http.StatusTooManyRequests, codeRateLimited, "too many requests for this agent; slow down")
			}
			return h(w, r, id)
		}()
		if err != nil {
			writeError(w, r, err)
		}
	}
}

type openCaseRequest struct {
	Phone   string `json:"phone"`
	Channel string `json:"channel"`
}

var agentChannels = map[string]protection.Channel{"phone": protection.ChannelPhone, "chat": protection.ChannelChat, "store": protection.ChannelStore}

// handleCaseOpen looks a subscriber up by phone number: POST /agent/v1/cases. The
// answer says an account exists and how the caller can be verified, and nothing about
// the account itself.
func (s *Server) handleCaseOpen(w http.ResponseWriter, r *http.Request, agent string) error {
	var req openCaseRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := required("phone", req.Phone); err != nil {
		return err
	}
	ch, ok := agentChannels[req.Channel]
	if !ok {
		return errorf(http.StatusBadRequest, codeInvalidField, "field \"channel\" must be phone, chat or store")
	}
	num, err := protection.NormalizeE164(req.Phone)
	if err != nil {
		return errorf(http.StatusBadRequest, codeInvalidField, "field \"phone\" must be an E.164 number")
	}
	a, ok := s.dir.byNumber(num)
	if !ok {
		return errorf(http.StatusNotFound, codeNotFound, "no account has this number")
	}
	c := &agentCase{ID: "case_" + newID(), Agent: agent, Subscriber: a.ID, Channel: ch, Opened: s.now()}
	s.cases.put(c)
	writeJSON(w, http.StatusCreated, s.caseView(r, *c))
	return nil
}

// caseView shows a case; account details only once the evidence permits viewing them.
func (s *Server) caseView(r *http.Request, c agentCase) map[string]any {
	out := map[string]any{"case_id": c.ID, "channel": c.Channel.String(), "opened_at": c.Opened,
		"expires_at": c.Opened.Add(caseTTL), "verified_with": kindsOf(c.Evidence)}
	lvl, rj, _ := s.assess(r.Context(), c.Subscriber, protection.ActionViewAccount, c.Channel, riskInput{})
	d, err := s.protect.Decide(r.Context(), c.Subscriber, protection.Request{Action: protection.ActionViewAccount,
		Channel: c.Channel, Risk: lvl, Evidence: c.Evidence, At: s.now()})
	out["view_decision"] = decisionView(d, rj)
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
	acct := map[string]any{"name": a.Name, "email": status.MaskEmail(a.Email), "phone": a.Phone}
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

func (s *Server) getCase(r *http.Request, agent string) (agentCase, error) {
	c, ok := s.cases.get(r.PathValue("case"), agent, s.now())
	if !ok {
		return agentCase{}, errorf(http.StatusNotFound, codeNotFound, "no such case (cases last 30 minutes)")
	}
	return c, nil
}

// handleCaseGet shows a case: GET /agent/v1/cases/{case}.
func (s *Server) handleCaseGet(w http.ResponseWriter, r *http.Request, agent string) error {
	c, err := s.getCase(r, agent)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.caseView(r, c))
	return nil
}

// handleCaseSIMSwap requests a SIM swap on the caller's behalf:
// POST /agent/v1/cases/{case}/sim-swap. On the phone or in chat the policy denies it:
// SIM swaps are never carried out on a call.
func (s *Server) handleCaseSIMSwap(w http.ResponseWriter, r *http.Request, agent string) error {
	c, err := s.getCase(r, agent)
	if err != nil {
		return err
	}
	var req struct{}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	a, _ := s.dir.get(c.Subscriber)
	cr := protection.ChangeRequest{Subscriber: c.Subscriber, Number: a.Phone, Kind: protection.ChangeSIMSwap,
		Channel: c.Channel, Actor: notify.Actor{Kind: notify.ActorAgent, ID: agent}, Evidence: c.Evidence}
	return s.simChange(w, r, cr, "", riskInput{})
}

type portOutRequest struct {
	TransferPIN string `json:"transfer_pin"`
}

// handleCasePortOut requests a port-out on the caller's behalf:
// POST /agent/v1/cases/{case}/port-out {"transfer_pin": "..."}.
func (s *Server) handleCasePortOut(w http.ResponseWriter, r *http.Request, agent string) error {
	c, err := s.getCase(r, agent)
	if err != nil {
		return err
	}
	var req portOutRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	a, _ := s.dir.get(c.Subscriber)
	cr := protection.ChangeRequest{Subscriber: c.Subscriber, Number: a.Phone, Kind: protection.ChangePortOut,
		Channel: c.Channel, Actor: notify.Actor{Kind: notify.ActorAgent, ID: agent}, Evidence: c.Evidence}
	return s.simChange(w, r, cr, req.TransferPIN, riskInput{})
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
// POST /partner/v1/port-out {"number": "+1555...", "transfer_pin": "..."}.
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
	if a, ok := s.dir.byNumber(num); ok {
		pr.Subscriber = a.ID
		pr.Risk, _, _ = s.assess(ctx, a.ID, protection.ActionPortOut, protection.ChannelPartner, riskInput{IP: clientIP(r), UserAgent: r.UserAgent()})
		if err := s.status.Allow(ctx, a.ID, status.CapabilityOf(protection.ActionPortOut)); err != nil {
			if !errors.Is(err, status.ErrUnverified) {
				return err
			}
			// An account whose email was never verified cannot port out; the library
			// audits the request as one without a PIN, and the partner learns nothing.
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
	switch err := s.protect.CompleteSIMChange(ctx, ans.Reference, notify.Actor{Kind: notify.ActorSystem, ID: "partner:" + partnerID}); {
	case errors.Is(err, protection.ErrHeld):
		// Held: the port is carried out when the hold ends (by the carrier's port job).
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"accepted": true, "reference": ans.Reference})
	return nil
}

type idCheckRequest struct {
	Document string `json:"document"`
}

var idDocuments = map[string]bool{"passport": true, "driving_licence": true, "national_id": true}

// handleCaseVerifyID records that a store employee checked the caller's government ID
// in person: POST /agent/v1/cases/{case}/verify/id. Only store cases can: the policy
// would ignore an ID check claimed on the phone anyway. The document number is not
// taken: it is not needed to decide, and not keeping it is the safest way to protect it.
func (s *Server) handleCaseVerifyID(w http.ResponseWriter, r *http.Request, agent string) error {
	c, err := s.getCase(r, agent)
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
	if c.Channel != protection.ChannelStore {
		return errorf(http.StatusForbidden, codeForbidden, "an ID can only be checked in person, in a store case")
	}
	s.cases.addEvidence(c.ID, protection.Evidence{Kind: protection.EvidenceGovernmentID, ObtainedAt: s.now()})
	writeJSON(w, http.StatusOK, map[string]any{"verified": true, "document": req.Document})
	return nil
}
