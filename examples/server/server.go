package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/line"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/password"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/questions"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/status"
	"github.com/carrierguard/carrierguard/stepup"
	"github.com/carrierguard/carrierguard/twofactor"
)

// Options configures the server. Zero values are the documented defaults.
type Options struct {
	// BaseURL is the server's public address, for links in messages. Empty means
	// http://127.0.0.1:8080.
	BaseURL string
	// Demo turns on the dev mailbox (GET /dev/mailbox).
	Demo bool
	// Store names the storage adapter; only "memory" exists today.
	Store string
	// Agents authenticates the support-agent console (Authorization: Bearer <token>):
	// each token names one agent and the one channel it is for (agent.ParseStatic reads
	// the -agent-tokens file). Nil disables the console.
	Agents agent.Authenticator
	// AgentAudit keeps the audit trail of agent actions. Nil logs them to Logger.
	AgentAudit agent.Auditor
	// PartnerToken authenticates the partner port-out API. Empty disables it.
	PartnerToken string
	// PINKey is the transfer-PIN HMAC key (32+ bytes). Nil generates one per process.
	PINKey []byte
	// CoolingOff is the protection-flag cooling-off. Zero means the package default (24 h).
	CoolingOff time.Duration
	// IPRate and IPBurst limit requests per client IP (default 20/s, burst 40);
	// SubscriberRate and SubscriberBurst limit requests per signed-in subscriber
	// (default 10/s, burst 20). A negative rate disables that limit.
	IPRate, SubscriberRate   float64
	IPBurst, SubscriberBurst int
	// Keys seal security-question answers (and, with 2FA, authenticator seeds). Nil
	// generates one key per process, which suits the memory store.
	Keys []keyring.Key
	// TwoFactorKey keys recovery-code hashes and second-factor proof tags (32+ bytes).
	// Nil generates one per process, which suits the memory store.
	TwoFactorKey []byte
	// CodeKey keys the hashes of one-time codes (32+ bytes). Nil generates one per
	// process; replicas that share Stores must share it too.
	CodeKey []byte
	// Stores are the stores to use. Nil means new, empty in-memory stores; two Servers
	// given the same Stores (and keys) act as one service (see Stores).
	Stores *Stores
	// Geo locates client addresses for risk scoring and for the sessions' impossible-
	// travel check (a *geoip.Locator over MaxMind databases). Nil means no geolocation:
	// location signals stay quiet and sessions are bound to their device only.
	Geo session.GeoLookup
	// Password overrides the password policy (zero: the package default).
	Password password.Policy
	// Lockout overrides the failed sign-in limits (zero fields: the package defaults).
	Lockout password.LockoutPolicy
	// DeliveryPoll is how often the notification dispatcher looks for new messages.
	// Zero means notify's default (1 s).
	DeliveryPoll time.Duration
	// HoldPoll is how often Run carries out held SIM changes and port-outs whose hold
	// has ended (jobs.go). Zero means one minute.
	HoldPoll time.Duration
	// Policy decides protection requests. Nil means protection's default policy.
	Policy *protection.Policy
	// SMSBudgets caps the SMS codes the server sends (otp.SMSBudgets: a country
	// allow-list, global, per-client and per-country budgets), for two-factor and line
	// proofs alike. Without HomeRegions or AllowedRegions the home region is US.
	SMSBudgets otp.SMSBudgets
	// Logger receives structured logs. Nil discards.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Server is the example carrier account service.
type Server struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	dir     *directory
	mail    *mailbox // nil unless Demo
	courier courier
	pub     notify.Publisher
	// dispatcher delivers the outbox; Run runs it.
	dispatcher *notify.Dispatcher

	passwords *password.Service
	sessions  *session.Service
	status    *status.Service
	protect   *protection.Service
	risk      *risk.Service
	questions *questions.Service
	tf        *twofactor.Service
	auths     *otp.Authenticators
	// steps keeps the step-up proofs given in each session (package stepup).
	steps *stepup.Service
	geo   session.GeoLookup

	ipLimits  *limiters
	subLimits *limiters
	// noticeLimits paces the "someone tried to sign up with your address" notices per
	// address, so repeated sign-ups cannot bomb a subscriber or pump SMS to their number.
	noticeLimits *limiters
	// cancelLimits paces cancel-link attempts per client (cancel.go).
	cancelLimits *limiters
	// unlockLimits paces account-recovery code requests per client (lift.go).
	unlockLimits *limiters
	cases        *agent.Cases
	lines        *line.Service
	stores       *Stores
	handler      http.Handler
}

// New wires every carrierguard package into one http.Handler.
func New(opts Options) (*Server, error) {
	if opts.BaseURL == "" {
		opts.BaseURL = "http://127.0.0.1:8080"
	}
	if opts.Store == "" {
		opts.Store = "memory"
	}
	if opts.Store != "memory" {
		return nil, fmt.Errorf("store %q is not available yet: use -store memory (SQLite and PostgreSQL adapters are planned)", opts.Store)
	}
	s := &Server{opts: opts, geo: opts.Geo, log: opts.Logger, now: opts.Now, stores: opts.Stores}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.stores == nil {
		s.stores = NewStores(s.now)
	}
	s.dir = s.stores.dir
	if opts.Demo {
		s.mail = newMailbox(1000)
		s.courier = s.mail
	} else {
		s.courier = logCourier{log: s.log}
	}
	s.ipLimits = newLimiters(defaultRate(opts.IPRate, 20), defaultBurst(opts.IPBurst, 40), s.now)
	s.subLimits = newLimiters(defaultRate(opts.SubscriberRate, 10), defaultBurst(opts.SubscriberBurst, 20), s.now)
	s.noticeLimits = newLimiters(1/signupNoticeEvery.Seconds(), 1, s.now)
	s.cancelLimits = newLimiters(cancelLinkPerMinute/60.0, cancelLinkBurst, s.now)
	s.unlockLimits = newLimiters(unlockPerMinute/60.0, unlockBurst, s.now)
	for _, wire := range []func() error{s.wireNotify, s.wireRisk, s.wireAccounts, s.wireFactors, s.wireStatus, s.wireAgents, s.wireLines} {
		if err := wire(); err != nil {
			return nil, err
		}
	}
	s.handler = s.frame(s.routes())
	return s, nil
}

// wireNotify builds the notification outbox, its publisher (every service publishes
// through it) and the dispatcher that delivers it.
func (s *Server) wireNotify() error {
	outbox := s.stores.Notify
	// Approved SIM-change notices link to the cancel page with their token (cancel.go).
	templates, err := notify.NewTemplates(notify.TemplatesConfig{CancelURL: s.opts.BaseURL + cancelPath})
	if err != nil {
		return err
	}
	// Publish stores each message with its masked event data; the dispatcher renders it
	// when it delivers, off the request path, with the same templates.
	pub, err := notify.New(notify.Config{Templates: templates, DeferRendering: true, Now: s.now, Logger: s.log},
		notify.DirectoryFunc(s.lookupProfile), outbox)
	if err != nil {
		return err
	}
	s.pub = pub
	senders := map[notify.Channel]notify.Sender{}
	for _, ch := range notify.Channels() {
		if s.opts.Demo {
			senders[ch] = courierSender(s.courier, s.now)
		} else {
			senders[ch] = notify.LogSender{Logger: s.log} // plug in SMTP and SMS senders here
		}
	}
	s.dispatcher, err = notify.NewDispatcher(notify.DispatcherConfig{Senders: senders, Templates: templates,
		Now: s.now, Logger: s.log, PollInterval: s.opts.DeliveryPoll}, outbox)
	return err
}

// wireAccounts builds the password and protection services.
func (s *Server) wireAccounts() error {
	var err error
	if s.passwords, err = password.New(password.Config{Policy: s.opts.Password, Lockout: s.opts.Lockout, Now: s.now},
		s.stores.Password, s.stores.PasswordAttempts, s.pub); err != nil {
		return err
	}
	pinKey := s.opts.PINKey
	if pinKey == nil {
		if pinKey, err = keyring.GenerateKey(); err != nil {
			return err
		}
	}
	ps := s.stores.Protection
	// Every decision is assessed by protection itself (protectionRisk), the
	// re-decision of an approval when it is completed included, and rests only on
	// second factors still on the account; while 2FA is off, a self-service SIM change
	// or port-out is held (the owner hears of it and can cancel). twofactor is built
	// after protection (it needs this one's SIM-change history), so it is read when
	// asked.
	factors := protection.FactorCheckerFunc(func(ctx context.Context, sub string, ev protection.Evidence) (bool, error) {
		return protection.FactorsFromTwoFactor(s.tf).FactorPresent(ctx, sub, ev)
	})
	twoFactor := protection.TwoFactorStateFunc(func(ctx context.Context, sub string) (bool, error) {
		return s.tf.TwoFactorEnabled(ctx, sub)
	})
	s.protect, err = protection.New(protection.Config{PINKey: pinKey, Policy: s.opts.Policy, CoolingOff: s.opts.CoolingOff, Now: s.now, Logger: s.log,
		Risk: s.protectionRisk(), Factors: factors, TwoFactor: twoFactor},
		protection.Stores{Flags: ps, History: ps, PINs: ps, Probes: ps}, s.pub)
	return err
}

// wireRisk builds the risk scorer, the account facts it learns from events, and the
// session registry, which uses risk's impossible-travel judgement when addresses can be
// located. Agent and partner requests are scored by the same service: it picks the
// signals that fit the channel. It runs before the services that change credentials,
// which publish through the registry.
func (s *Server) wireRisk() error {
	var err error
	profiles, global := s.stores.RiskProfiles, s.stores.RiskGlobal
	if s.risk, err = risk.New(risk.Config{Now: s.now}, profiles, global); err != nil {
		return err
	}
	// Every event reaches risk's account facts (contact, factor, password, email and flag
	// changes), so a SIM swap or port-out soon after a credential change is scored as the
	// risk it is. Facts wraps the outbox and the session registry publishes through it:
	// the registry's own events and every event of the services wired after it pass both
	// decorators (registry, then facts, then the outbox).
	if s.pub, err = risk.NewFacts(s.pub, s.risk, s.log); err != nil {
		return err
	}
	// A credential change forgets the step-up proofs kept per session (s.steps, built
	// with the twofactor service that checks them, after this registry) and, in the
	// registry's own store, the pending sign-ins.
	cfg := session.Config{Now: s.now, Logger: s.log, Proofs: session.ProofRevokerFunc(func(ctx context.Context, sub string, at time.Time) error {
		return s.steps.RevokeProofs(ctx, sub, at)
	})}
	if s.geo != nil {
		// A session whose address jumps further than anyone could travel is revoked.
		cfg.Travel = session.RiskTravel(s.risk, s.geo)
	}
	if s.sessions, err = session.New(cfg, s.stores.Sessions, s.pub); err != nil {
		return err
	}
	// Every service wired after this publishes through the registry, which ends the
	// subscriber's other sessions after a password change, a factor removal or 2FA off.
	s.pub = s.sessions.Publisher()
	return nil
}

// wireFactors builds what proves identity beyond the password: the keyring, one-time
// codes, authenticators, two-factor authentication and security questions (which
// check the second-factor proofs for a change with the twofactor service).
func (s *Server) wireFactors() error {
	keys := s.opts.Keys
	if keys == nil {
		secret, err := keyring.GenerateKey()
		if err != nil {
			return err
		}
		keys = []keyring.Key{{ID: 1, Secret: secret}}
	}
	kr, err := keyring.NewLocal(keyring.Config{Keys: keys, Primary: keys[len(keys)-1].ID})
	if err != nil {
		return err
	}
	otpStore := s.stores.OTP
	codeKey, err := s.codeKey("twofactor")
	if err != nil {
		return err
	}
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: codeKey, Budgets: s.smsBudgets(), Now: s.now}, otpStore, otpStore, s.pub)
	if err != nil {
		return err
	}
	if s.auths, err = otp.NewAuthenticators(otp.AuthenticatorConfig{Issuer: "Carrierguard Demo", Now: s.now}, otpStore, kr, s.pub); err != nil {
		return err
	}
	tfKey := s.opts.TwoFactorKey
	if tfKey == nil {
		if tfKey, err = keyring.GenerateKey(); err != nil {
			return err
		}
	}
	tfStore := s.stores.TwoFactor
	s.tf, err = twofactor.New(twofactor.Config{HashKey: tfKey, Phone: contactPhones, Now: s.now, Logger: s.log}, twofactor.Deps{
		Codes: codes, Authenticators: s.auths, Contacts: tfStore, Recovery: tfStore, Failures: tfStore,
		Sender: twofactor.SenderFunc(s.sendCode), SIMChanges: s.protect, Publisher: s.pub,
		// Adding a factor or turning 2FA on is decided by protection, the one judge of it
		// (Lockdown, probation, and the risk of the caller's session: factorRisk).
		Gate: protection.FactorGate(s.protect),
	})
	if err != nil {
		return err
	}
	// Each session's step-up proofs, checked with the service that tags them.
	if s.steps, err = stepup.New(stepup.Config{Now: s.now}, s.stores.StepUp, s.tf); err != nil {
		return err
	}
	// Changing questions takes a second-factor proof, which only the twofactor service
	// that issued it can vouch for.
	s.questions, err = questions.New(questions.Config{Now: s.now}, s.stores.QuestionAnswers,
		s.stores.QuestionAttempts, kr, s.pub, s.tf)
	return err
}

// contactPhones is how trusted-contact phone numbers are parsed: international format
// only (no default region), like the number given at sign-up. twofactor is configured
// with it and handleAddContact's pre-check uses it, so the two never disagree.
var contactPhones = twofactor.PhoneOptions{}

// wireStatus builds the Account Security Status over the other services.
func (s *Server) wireStatus() error {
	var err error
	s.status, err = status.New(status.Config{Now: s.now, Logger: s.log}, s.stores.Status, status.Sources{
		TwoFactor: s.tf, Questions: status.FromQuestions(s.questions), Password: status.FromPassword(s.passwords),
	}, s.pub)
	return err
}

func defaultRate(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

func defaultBurst(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// ServeHTTP makes the Server an http.Handler.
//
// Each request carries a riskMemo, so that a decision's risk is scored once (see
// protectionRisk).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r.WithContext(withRiskMemo(r.Context())))
}

// handler is an HTTP handler that returns its error for writeError.
type handler func(w http.ResponseWriter, r *http.Request) error

// public wraps a handler that needs no authentication.
func (s *Server) public(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, err)
		}
	}
}

// caller is the signed-in subscriber making a request.
type caller struct {
	// ctx is the request's context (with the session on it), for the helpers that read
	// the session's library state (its step-up proofs) on the caller's behalf.
	ctx     context.Context
	sess    session.Session
	token   string
	client  session.Client
	account account
}

type authedHandler func(w http.ResponseWriter, r *http.Request, c *caller) error

// authed wraps a handler that needs a subscriber session: a bearer token in the
// Authorization header (no cookies, so there is no CSRF surface), presented from the
// device the session was created on. It also applies the per-subscriber rate limit.
func (s *Server) authed(h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.serveAuthed(w, r, h); err != nil {
			writeError(w, r, err)
		}
	}
}

func (s *Server) serveAuthed(w http.ResponseWriter, r *http.Request, h authedHandler) error {
	tok, ok := bearer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="carrierguard"`)
		return errorf(http.StatusUnauthorized, codeUnauthenticated, "send Authorization: Bearer <session token>")
	}
	client, err := s.client(r)
	if err != nil {
		return err
	}
	sess, err := s.sessions.Validate(r.Context(), tok, client)
	if errors.Is(err, session.ErrNotAuthenticated) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="carrierguard", error="invalid_token"`)
		return errorf(http.StatusUnauthorized, codeUnauthenticated, "the session token is not valid (expired, revoked or from another device); sign in again")
	}
	if err != nil {
		return err
	}
	if info := infoFrom(r.Context()); info != nil {
		info.subscriber = sess.Subscriber
	}
	if !s.subLimits.allow(sess.Subscriber) {
		return errorf(http.StatusTooManyRequests, codeRateLimited, "too many requests for this account; slow down")
	}
	a, ok := s.dir.get(sess.Subscriber)
	if !ok {
		return errorf(http.StatusUnauthorized, codeUnauthenticated, "the account no longer exists")
	}
	// The session travels with the request, so a credential change it makes keeps it.
	r = r.WithContext(session.NewContext(r.Context(), sess))
	return h(w, r, &caller{ctx: r.Context(), sess: sess, token: tok, client: client, account: a})
}

func bearer(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	const p = "Bearer "
	if len(v) <= len(p) || !strings.EqualFold(v[:len(p)], p) {
		return "", false
	}
	return strings.TrimSpace(v[len(p):]), true
}

// deviceHeader carries the client's device fingerprint (an app install ID or a browser
// fingerprint). Sessions are bound to it and risk scoring reads it.
const deviceHeader = "X-Device-Fingerprint"

// client builds the session.Client of a request. Without a fingerprint header the
// device is derived from the User-Agent, which is weaker; real apps send the header.
func (s *Server) client(r *http.Request) (session.Client, error) {
	dev := r.Header.Get(deviceHeader)
	if dev == "" {
		sum := sha256.Sum256([]byte("ua:" + r.UserAgent()))
		dev = "ua-" + hex.EncodeToString(sum[:12])
	} else if len(dev) > 128 || strings.ContainsFunc(dev, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
		return session.Client{}, errorf(http.StatusBadRequest, codeInvalidField, "header %s must be 1 to 128 printable ASCII characters", deviceHeader)
	}
	ua := r.UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return session.Client{Device: dev, UserAgent: ua, IP: clientIP(r)}, nil
}

// tokenEqual compares a presented token with a configured one in constant time.
func tokenEqual(presented, configured string) bool {
	if configured == "" {
		return false
	}
	a := sha256.Sum256([]byte(presented))
	b := sha256.Sum256([]byte(configured))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// randomToken returns a 256-bit random token for configuration defaults.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// routes registers every endpoint.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.public(func(w http.ResponseWriter, _ *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	}))
	// Subscriber: sign-up, email verification, sign-in.
	mux.HandleFunc("POST /v1/signup", s.public(s.handleSignup))
	mux.HandleFunc("POST /v1/email/verify", s.public(s.handleVerifyEmail))
	mux.HandleFunc("POST /v1/signin", s.public(s.handleSignin))
	mux.HandleFunc("POST /v1/signin/challenge", s.public(s.handleSigninChallenge))
	mux.HandleFunc("POST /v1/signin/complete", s.public(s.handleSigninComplete))
	mux.HandleFunc("POST /v1/signin/unlock/send", s.public(s.handleUnlockSend))
	mux.HandleFunc("POST /v1/signin/unlock", s.public(s.handleUnlock))
	// Signed in.
	mux.HandleFunc("GET /v1/me", s.authed(s.handleMe))
	mux.HandleFunc("POST /v1/email/resend", s.authed(s.handleResendEmail))
	mux.HandleFunc("POST /v1/line/verify/send", s.authed(s.handleLineSend))
	mux.HandleFunc("POST /v1/line/verify", s.authed(s.handleLineVerify))
	mux.HandleFunc("POST /v1/reauth", s.authed(s.handleReauth))
	mux.HandleFunc("GET /v1/sessions", s.authed(s.handleSessions))
	mux.HandleFunc("DELETE /v1/sessions/{id}", s.authed(s.handleRevokeSession))
	mux.HandleFunc("POST /v1/sessions/revoke-all", s.authed(s.handleRevokeAll))
	mux.HandleFunc("POST /v1/signout", s.authed(s.handleSignout))
	mux.HandleFunc("GET /v1/status", s.authed(s.handleStatus))
	mux.HandleFunc("POST /v1/password/change", s.authed(s.handlePasswordChange))
	mux.HandleFunc("GET /v1/password/rotation", s.authed(s.handleRotation))
	// Protection.
	mux.HandleFunc("GET /v1/protection/flags", s.authed(s.handleFlags))
	mux.HandleFunc("PUT /v1/protection/flags/{flag}", s.authed(s.handleFlagEnable))
	mux.HandleFunc("DELETE /v1/protection/flags/{flag}", s.authed(s.handleFlagDisable))
	mux.HandleFunc("POST /v1/protection/flags/{flag}/cancel-disable", s.authed(s.handleFlagCancel))
	mux.HandleFunc("POST /v1/sim-swap", s.authed(s.handleSIMChange(protection.ChangeSIMSwap)))
	mux.HandleFunc("POST /v1/esim-transfer", s.authed(s.handleSIMChange(protection.ChangeESIMTransfer)))
	mux.HandleFunc("POST /v1/port-out", s.authed(s.handleSIMChange(protection.ChangePortOut)))
	mux.HandleFunc("POST /v1/transfer-pin", s.authed(s.handleTransferPIN))
	mux.HandleFunc("POST /v1/sim-changes/{request}/cancel", s.authed(s.handleCancelSIMChange))
	mux.HandleFunc("POST /v1/sim-changes/cancel", s.public(s.handleCancelLink))
	mux.HandleFunc("GET /cancel", s.public(s.handleCancelPage))
	// Partner port-out API (another carrier asking to port a number away).
	mux.HandleFunc("POST /partner/v1/port-out", s.partner(s.handlePartnerPortOut))
	// Two-factor authentication.
	mux.HandleFunc("GET /v1/2fa", s.authed(s.handleTwoFactor))
	mux.HandleFunc("POST /v1/2fa/contacts", s.authed(s.handleAddContact))
	mux.HandleFunc("POST /v1/2fa/contacts/{id}/verify", s.authed(s.handleVerifyContact))
	mux.HandleFunc("DELETE /v1/2fa/contacts/{id}", s.authed(s.handleRemoveContact))
	mux.HandleFunc("POST /v1/2fa/enable", s.authed(s.handleEnable))
	mux.HandleFunc("POST /v1/2fa/disable", s.authed(s.handleDisable))
	mux.HandleFunc("POST /v1/2fa/recovery-codes", s.authed(s.handleRecoveryCodes))
	mux.HandleFunc("POST /v1/2fa/challenge", s.authed(s.handleChallenge))
	mux.HandleFunc("POST /v1/2fa/verify", s.authed(s.handleVerify))
	mux.HandleFunc("POST /v1/2fa/authenticator", s.authed(s.handleAuthenticatorEnroll(false)))
	mux.HandleFunc("POST /v1/2fa/authenticator/qr.png", s.authed(s.handleAuthenticatorEnroll(true)))
	mux.HandleFunc("POST /v1/2fa/authenticator/confirm", s.authed(s.handleAuthenticatorConfirm))
	mux.HandleFunc("DELETE /v1/2fa/authenticator", s.authed(s.handleAuthenticatorRemove))
	// Security questions.
	mux.HandleFunc("GET /v1/questions/catalog", s.public(s.handleCatalog))
	mux.HandleFunc("GET /v1/questions", s.authed(s.handleMyQuestions))
	mux.HandleFunc("PUT /v1/questions", s.authed(s.handleSetQuestions))
	// Support-agent console.
	mux.HandleFunc("POST /agent/v1/cases", s.agent(s.handleCaseOpen))
	mux.HandleFunc("GET /agent/v1/cases/{case}", s.agent(s.handleCaseGet))
	mux.HandleFunc("DELETE /agent/v1/cases/{case}", s.agent(s.handleCaseClose))
	mux.HandleFunc("POST /agent/v1/cases/{case}/verify/code/send", s.agent(s.handleCaseSendCode))
	mux.HandleFunc("POST /agent/v1/cases/{case}/verify/code", s.agent(s.handleCaseVerifyCode))
	mux.HandleFunc("POST /agent/v1/cases/{case}/verify/id", s.agent(s.handleCaseVerifyID))
	mux.HandleFunc("POST /agent/v1/cases/{case}/verify/questions", s.agent(s.handleCaseVerifyQuestion))
	mux.HandleFunc("POST /agent/v1/cases/{case}/sim-swap", s.agent(s.handleCaseSIMSwap))
	mux.HandleFunc("POST /agent/v1/cases/{case}/port-out", s.agent(s.handleCasePortOut))
	mux.HandleFunc("POST /agent/v1/cases/{case}/sim-changes/{request}/cancel", s.agent(s.handleCaseCancel))
	mux.HandleFunc("POST /agent/v1/cases/{case}/lift-sign-in-lock", s.agent(s.handleCaseLiftLock))
	if s.mail != nil {
		mux.HandleFunc("GET /dev/mailbox", s.public(s.handleMailbox))
		mux.HandleFunc("DELETE /dev/mailbox", s.public(s.handleMailboxClear))
	}
	return mux
}
