package main

import (
	"context"
	"net/netip"
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
	return toProtectionLevel(as.Level), riskView(as), req
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
