// Package crm is a test-only MVNO CRM written from carrierguard's docs; its glue decides nothing.
package crm

import (
	"cmp"
	"context"
	"crypto/rand"
	"net/netip"
	"time"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/twofactor"
)

// CRM keeps lines, session proofs and pending sign-ins; the rest is in the library's stores.
type CRM struct {
	Now    time.Time
	Last   string // the newest code the SMS/email gateway sent
	TF     *twofactor.Service
	Prot   *protection.Service
	Sess   *session.Service
	Cases  *agent.Cases
	Agents agent.Authenticator
	lines  map[string]string            // the carrier's directory: subscriber ↔ number
	proofs map[string][]twofactor.Proof // session ID → proofs given in it
	signin map[string]string            // pending sign-in ID → subscriber
	client session.Client
}

// New wires the services on memory stores, with the agent credentials and the lines.
func New(agents []agent.Credential, lines map[string]string) (*CRM, error) {
	c := &CRM{Now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), lines: lines, proofs: map[string][]twofactor.Proof{}, signin: map[string]string{}, client: session.Client{Device: "app-1", IP: netip.MustParseAddr("192.0.2.7")}}
	opts, key := memory.Options{Now: func() time.Time { return c.Now }}, func() []byte { k := make([]byte, 32); _, _ = rand.Read(k); return k }
	codes, errs := (*otp.Codes)(nil), [6]error{}
	c.Sess, errs[0] = session.New(session.Config{Now: opts.Now}, memory.NewSession(opts), &notify.Recorder{})
	ps, ot, ts, pub := memory.NewProtection(opts), memory.NewOTP(opts), memory.NewTwoFactor(opts), c.Sess.Publisher() // it ends other sessions on credential changes
	tfState, tfFactors := protection.TwoFactorLater(&c.TF)
	c.Prot, errs[1] = protection.New(protection.Config{PINKey: key(), Now: opts.Now, TwoFactor: tfState, Factors: tfFactors}, protection.Stores{Flags: ps, History: ps, PINs: ps, Probes: ps}, pub) // 2FA off: SIM changes held
	codes, errs[2] = otp.NewCodes(otp.CodeConfig{HashKey: key(), Now: opts.Now, Budgets: otp.SMSBudgets{HomeRegions: []string{"US"}}}, ot, ot, pub)
	c.TF, errs[3] = twofactor.New(twofactor.Config{HashKey: key(), Now: opts.Now}, twofactor.Deps{
		Codes: codes, Contacts: ts, Recovery: ts, Failures: ts, Publisher: pub, SIMChanges: c.Prot, Gate: protection.FactorGate(c.Prot),
		Sender: twofactor.SenderFunc(func(_ context.Context, m twofactor.Message) error { c.Last = m.Code; return nil })})
	c.Agents, errs[4] = agent.NewStatic(agents)
	c.Cases, errs[5] = agent.New(agent.Config{Now: opts.Now}, memory.NewAgentCases(opts), agent.AuditorFunc(func(context.Context, agent.Record) error { return nil }))
	return c, cmp.Or(errs[:]...)
}

// SignIn (after the CRM's password check) starts a session, or with 2FA on a pending sign-in.
func (c *CRM) SignIn(ctx context.Context, sub, contactID string) (token, pending, challenge string, err error) {
	if on, err := c.TF.TwoFactorEnabled(ctx, sub); err != nil || !on {
		token, _, err2 := c.Sess.Create(ctx, sub, c.client, session.ProofPassword)
		return token, "", "", cmp.Or(err, err2)
	}
	pending = rand.Text()
	c.signin[pending] = sub
	ch, err := c.TF.Begin(ctx, twofactor.BeginRequest{Subscriber: sub, ContactID: contactID, Purpose: otp.PurposeSignIn, Flow: "signin:" + pending})
	return "", pending, ch.ID, err
}

// CompleteSignIn checks the second factor of a pending sign-in and starts the session.
func (c *CRM) CompleteSignIn(ctx context.Context, pending string, m twofactor.Method, challengeID, code string) (string, error) {
	sub := c.signin[pending]
	p, err := c.TF.Complete(ctx, twofactor.CompleteRequest{Subscriber: sub, Method: m, ChallengeID: challengeID, Code: code, Purpose: otp.PurposeSignIn, Flow: "signin:" + pending})
	if err != nil {
		return "", err
	}
	delete(c.signin, pending)
	token, s, err := c.Sess.Create(ctx, sub, c.client, session.ProofPassword, session.ProofSecondFactor)
	c.proofs[s.ID] = append(c.proofs[s.ID], p)
	return token, err
}

// StepUp proves a code for purpose sent to a contact in the session's flow, and keeps it.
func (c *CRM) StepUp(ctx context.Context, token, contactID string, purpose otp.Purpose) error {
	s, err := c.Sess.Validate(ctx, token, c.client)
	p := twofactor.Proof{}
	if err == nil {
		p, err = c.prove(ctx, s.Subscriber, contactID, purpose, "session:"+s.ID)
	}
	if err == nil {
		c.proofs[s.ID] = append(c.proofs[s.ID], p)
		_, err = c.Sess.StepUp(ctx, token, c.client, session.ProofSecondFactor)
	}
	return err
}

func (c *CRM) prove(ctx context.Context, sub, contactID string, purpose otp.Purpose, flow string) (twofactor.Proof, error) {
	ch, err := c.TF.Begin(ctx, twofactor.BeginRequest{Subscriber: sub, ContactID: contactID, Purpose: purpose, Flow: flow})
	if err != nil {
		return twofactor.Proof{}, err
	}
	return c.TF.Complete(ctx, twofactor.CompleteRequest{Subscriber: sub, ChallengeID: ch.ID, Code: c.Last, Purpose: purpose, Flow: flow})
}

func (c *CRM) session(ctx context.Context, token string) (string, twofactor.Reauth, []protection.Evidence, error) {
	s, err := c.Sess.Validate(ctx, token, c.client)
	re, second := twofactor.Reauth{SignedInAt: s.CreatedAt, PasswordAt: s.PasswordAt}, protection.Evidence{}
	if ps := c.proofs[s.ID]; len(ps) > 0 && err == nil {
		re.Proof = ps[len(ps)-1]
		second, err = protection.EvidenceFromProof(c.TF, s.Subscriber, re.Proof)
	}
	ev, err2 := protection.SessionEvidence(s.Subscriber, s, second) // refuses a zero session
	return s.Subscriber, re, ev, cmp.Or(err, err2)
}

// AddContact adds a trusted contact and enters the code its holder received there.
func (c *CRM) AddContact(ctx context.Context, token string, kind twofactor.Kind, value string) (twofactor.Contact, error) {
	sub, re, _, err := c.session(ctx, token)
	var pc twofactor.PendingContact
	if err == nil {
		pc, err = c.TF.AddContact(ctx, twofactor.AddContactRequest{Subscriber: sub, Kind: kind, Value: value, Reauth: re})
	}
	if err != nil {
		return twofactor.Contact{}, err
	}
	return c.TF.VerifyContact(ctx, twofactor.VerifyContactRequest{Subscriber: sub, ChallengeID: pc.ChallengeID, Code: c.Last, Reauth: re})
}

// TwoFactor turns 2FA on or off.
func (c *CRM) TwoFactor(ctx context.Context, token string, on bool) error {
	switch sub, re, _, err := c.session(ctx, token); {
	case err != nil:
		return err
	case on:
		return c.TF.Enable(ctx, sub, re, twofactor.Origin{})
	default:
		return c.TF.Disable(ctx, sub, re.Proof, twofactor.Origin{})
	}
}

// SIMSwap asks for a SIM swap on the subscriber's line and carries out an allowed one.
func (c *CRM) SIMSwap(ctx context.Context, token string) (protection.Outcome, error) {
	sub, _, ev, err := c.session(ctx, token)
	return c.change(ctx, err, protection.ChangeRequest{Subscriber: sub, Number: c.lines[sub], Kind: protection.ChangeSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: ev})
}

func (c *CRM) change(ctx context.Context, err error, cr protection.ChangeRequest) (protection.Outcome, error) {
	if err != nil {
		return protection.Deny, err
	}
	res, err := c.Prot.RequestSIMChange(ctx, cr)
	if err == nil && res.Decision.Outcome == protection.Allow {
		err = c.Prot.CompleteSIMChange(ctx, res.RequestID, cr.Actor) // then provision the SIM
	}
	return res.Decision.Outcome, err
}

// TransferPIN issues a transfer PIN for a port-out, or returns "" if not permitted.
func (c *CRM) TransferPIN(ctx context.Context, token string) (string, error) {
	sub, _, ev, err := c.session(ctx, token)
	if err != nil {
		return "", err
	}
	pin, _, err := c.Prot.IssueTransferPIN(ctx, sub, protection.Request{Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: ev, At: c.Now}, notify.Actor{Kind: notify.ActorSubscriber})
	return pin, err
}

// PartnerPortOut is another carrier's port-out request; an accepted one is carried out.
func (c *CRM) PartnerPortOut(ctx context.Context, number, pin string) (bool, error) {
	a, err := c.Prot.PartnerPortOut(ctx, protection.PartnerRequest{Partner: "acme", Subscriber: c.lines[number], Number: number, PIN: pin, Risk: protection.RiskLow})
	if err == nil && a.Accepted {
		err = c.Prot.CompleteSIMChange(ctx, a.Reference, notify.Actor{Kind: notify.ActorSystem, ID: "partner:acme"})
	}
	return a.Accepted, err
}

// AgentSIMSwap opens a case; the caller reads out a code sent for codeFor; it asks a swap.
func (c *CRM) AgentSIMSwap(ctx context.Context, cred, sub, contactID string, codeFor protection.Action) (protection.Outcome, error) {
	who, err := c.Agents.Authenticate(ctx, cred)
	cs, p, ev := agent.Case{}, twofactor.Proof{}, protection.Evidence{}
	if err == nil {
		cs, err = c.Cases.Open(ctx, who, sub)
	}
	if err == nil {
		p, err = c.prove(ctx, sub, contactID, agent.CodePurpose(codeFor), "case:"+cs.ID)
	}
	if err == nil {
		ev, err = protection.EvidenceFromProof(c.TF, sub, p)
	}
	if err == nil {
		cs, err = c.Cases.AddEvidence(ctx, who, cs.ID, ev)
	}
	return c.change(ctx, err, protection.ChangeRequest{Subscriber: sub, Number: c.lines[sub], Kind: protection.ChangeSIMSwap, Channel: cs.Channel, Actor: notify.Actor{Kind: notify.ActorAgent, ID: who.Agent}, Risk: protection.RiskLow, Evidence: cs.EvidenceFor(protection.ActionSIMSwap)})
}
