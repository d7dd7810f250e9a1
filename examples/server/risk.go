package main

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/twofactor"
)

// riskInput is what risk scoring reads from an HTTP request: client IP, user agent and
// device fingerprint (the X-Device-Fingerprint header).
type riskInput struct {
	IP        netip.Addr
	UserAgent string
	Device    string
}

// riskJSON is the assessment as it comes back in responses: the level, the score and
// the signals that fired, each with its non-secret reason.
type riskJSON struct {
	Level   string       `json:"level"`
	Score   float64      `json:"score"`
	Signals []signalJSON `json:"signals"`
}

type signalJSON struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Reason string  `json:"reason"`
}

// riskRequest builds a risk.Request with the account facts the server knows.
func (s *Server) riskRequest(ctx context.Context, sub string, a risk.Action, ch risk.Channel, in riskInput) risk.Request {
	req := risk.Request{Subscriber: sub, Action: a, Time: s.now(), IP: in.IP, Device: in.Device,
		UserAgent: in.UserAgent, Channel: ch}
	if s.geo != nil && in.IP.IsValid() {
		g, err := s.geo.Lookup(in.IP)
		if err != nil {
			s.log.WarnContext(ctx, "geoip lookup failed", "error", err.Error())
		}
		req.Geo = g
	}
	if acct, ok := s.dir.get(sub); ok {
		req.Account.Created = acct.Created
		// The CRM's own record of the last SIM change. (protection.Service.LastSIMChange
		// has the same answer from the FCC history.)
		req.Account.SIMChanged = acct.SIMChanged
	}
	if r, err := s.status.Restrictions(ctx, sub); err == nil {
		req.Account.EmailVerified = len(r) == 0
	}
	return req
}

// assess scores a sensitive request with package risk. A scorer failure is High
// (risk.Service fails closed), which protection turns into more proof or a denial. The
// channel comes from the caller's credential (session, agent or partner token), and the
// library picks the signals that fit it: on agent channels and the partner API the
// client is not the subscriber's device, so only the account signals count there.
func (s *Server) assess(ctx context.Context, sub string, a protection.Action, ch protection.Channel, in riskInput) (protection.RiskLevel, riskJSON, risk.Request) {
	req := s.riskRequest(ctx, sub, protection.RiskAction(a), protection.RiskChannel(ch), in)
	as, err := s.risk.Assess(ctx, req)
	if err != nil {
		s.log.WarnContext(ctx, "risk assessment failed; treating as high", "error", err.Error())
	}
	lvl := toProtectionLevel(as.Level)
	if m, ok := ctx.Value(riskMemoKey{}).(*riskMemo); ok {
		m.put(sub, a, ch, lvl)
	}
	return lvl, riskView(as), req
}

// protectionRisk is protection's Config.Risk: every decision, the re-decision of an
// approval when it is completed included, is assessed with the facts that are current
// then (issue 15: "flags, risk and holds are current at that moment").
//
//   - A decision in an HTTP request whose handler assessed the same subscriber, action
//     and channel (assess, with the request's client) takes that level, so a request is
//     scored once, with its own facts: the handler's level is also the request's floor.
//   - The hold job (holdJobContext) has no client: it is scored on the account facts
//     only (credential changes, velocity, a recent SIM change, account age), as risk
//     scores an agent's or partner's request. A thief who added a contact or changed
//     the password during a hold is seen when the hold comes due.
//   - Anything else is scored with the client of the session on the context
//     (factorRisk), or with none, which risk reads as more risk, never less.
func (s *Server) protectionRisk() protection.RiskAssessor {
	score := protection.RiskFromScorer(s.risk, s.decisionRisk)
	return protection.RiskAssessorFunc(func(ctx context.Context, sub string, req protection.Request) (protection.RiskLevel, error) {
		if m, ok := ctx.Value(riskMemoKey{}).(*riskMemo); ok {
			if lvl, ok := m.get(sub, req.Action, req.Channel); ok {
				return lvl, nil
			}
		}
		return score.Assess(ctx, sub, req)
	})
}

// accountOnlyChannel is the risk channel of what the carrier's own systems carry out
// (the hold job): no client of the subscriber's is involved, so, as for a partner's
// server (risk.Channel.SubscriberClient), only the account signals are scored.
const accountOnlyChannel = risk.ChannelAPI

// decisionRisk builds the risk request of a decision protectionRisk scores itself.
func (s *Server) decisionRisk(ctx context.Context, sub string, req protection.Request) (risk.Request, error) {
	if ctx.Value(holdJobKey{}) != nil {
		return s.riskRequest(ctx, sub, protection.RiskAction(req.Action), accountOnlyChannel, riskInput{}), nil
	}
	return s.factorRisk(ctx, sub, req)
}

// holdJobKey marks the context of the hold job (holdJobContext).
type holdJobKey struct{}

// holdJobContext is ctx for the hold job's decisions: scored on the account facts only.
func holdJobContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, holdJobKey{}, true)
}

// riskMemoKey carries the *riskMemo of one HTTP request (withRiskMemo).
type riskMemoKey struct{}

// riskMemo is the risk levels assess gave while serving one HTTP request, so that
// protection's own assessment of the same decision (protectionRisk) does not score it
// again. It lives only as long as the request.
type riskMemo struct {
	mu      sync.Mutex
	entries []riskMemoEntry
}

type riskMemoEntry struct {
	sub     string
	action  protection.Action
	channel protection.Channel
	level   protection.RiskLevel
}

// withRiskMemo returns ctx with an empty riskMemo.
func withRiskMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, riskMemoKey{}, &riskMemo{})
}

func (m *riskMemo) put(sub string, a protection.Action, ch protection.Channel, lvl protection.RiskLevel) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, e := range m.entries {
		if e.sub == sub && e.action == a && e.channel == ch {
			m.entries[i].level = lvl
			return
		}
	}
	m.entries = append(m.entries, riskMemoEntry{sub: sub, action: a, channel: ch, level: lvl})
}

func (m *riskMemo) get(sub string, a protection.Action, ch protection.Channel) (protection.RiskLevel, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.entries {
		if e.sub == sub && e.action == a && e.channel == ch {
			return e.level, true
		}
	}
	return 0, false
}

// recordRisk tells the scorer how a request ended, so velocity counts. A failure to
// record is logged, not fatal. Nothing is learned from it: only recordSignin teaches the
// profile a device, after a second factor.
func (s *Server) recordRisk(ctx context.Context, req risk.Request, o risk.Outcome) {
	if err := s.risk.Record(ctx, req, o); err != nil {
		s.log.WarnContext(ctx, "risk record failed", "error", err.Error())
	}
}

// recordSignin records a successful sign-in. Only one that passed an established
// second factor (see learnsDevice) teaches the risk profile this device and place; a
// password-only sign-in counts for velocity and teaches nothing, so a thief with the
// password cannot make his phone look like the subscriber's.
func (s *Server) recordSignin(ctx context.Context, req risk.Request, proof *twofactor.Proof) {
	o := risk.Succeeded
	if learnsDevice(proof) {
		o = risk.Verified
	}
	s.recordRisk(ctx, req, o)
}

// deviceProbation is how long a factor must have been on the account before a sign-in
// it passed may teach the risk profile a device: the default probation for new
// factors. A thief who enrolled his own authenticator cannot use it to make his phone
// known.
const deviceProbation = 7 * 24 * time.Hour

// learnsDevice reports whether a sign-in's second-factor proof may teach the risk
// profile its device: a code to a trusted contact or from an authenticator whose factor
// was added at least deviceProbation before the proof. A recovery code never does (it is
// what a thief phishes, and the owner who lost the phone is on a new device anyway), nor
// a proof whose factor age is unknown.
func learnsDevice(p *twofactor.Proof) bool {
	if p == nil || p.FactorAddedAt.IsZero() {
		return false
	}
	switch p.Method {
	case twofactor.MethodContactCode, twofactor.MethodAuthenticator:
		return p.At.Sub(p.FactorAddedAt) >= deviceProbation
	}
	return false
}

// recordDecision records a decided request: permitted ones as Succeeded, denied ones as
// Failed. Neither teaches the profile: a decision's evidence may be a factor the
// requester added himself. A step-up is not recorded: the request comes back with more
// proof and is recorded then.
func (s *Server) recordDecision(ctx context.Context, req risk.Request, d protection.Decision) {
	switch d.Outcome {
	case protection.Allow, protection.Hold:
		s.recordRisk(ctx, req, risk.Succeeded)
	case protection.Deny:
		s.recordRisk(ctx, req, risk.Failed)
	}
}

// toProtectionLevel is protection.RiskLevelOf, with an unassessed level (a scorer
// fault) read as High: the request then needs the most proof, or is denied.
func toProtectionLevel(l risk.Level) protection.RiskLevel {
	if lvl := protection.RiskLevelOf(l); lvl.Valid() {
		return lvl
	}
	return protection.RiskHigh
}

func riskView(a risk.Assessment) riskJSON {
	v := riskJSON{Level: toProtectionLevel(a.Level).String(), Score: a.Score, Signals: make([]signalJSON, 0, len(a.Signals))}
	for _, sg := range a.Signals {
		v.Signals = append(v.Signals, signalJSON{Name: sg.Name, Value: sg.Value, Reason: sg.Reason})
	}
	return v
}
