package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"time"

	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/store/memory"
)

// Stores are everything the server keeps: the library's stores and the account
// directory (the carrier's own records). The security state lives here and nowhere else
// (which challenge belongs to which flow, which step-up proof counts for which purpose,
// pending sign-ins, agent cases), so two Servers given the same Stores and the same keys
// (Options.Keys, TwoFactorKey, CodeKey, PINKey) behave as one service, as two replicas
// behind a load balancer on one database would. Only traffic limits stay per replica.
type Stores struct {
	Notify           *memory.Notify
	Password         *memory.Password
	PasswordAttempts *memory.PasswordAttempts
	Protection       *memory.Protection
	RiskProfiles     *memory.RiskProfiles
	RiskGlobal       *memory.RiskGlobal
	// Sessions keeps the sessions and the pending sign-ins (session.PendingStore).
	Sessions *memory.Session
	// StepUp keeps each session's step-up proofs (package stepup).
	StepUp *memory.StepUp
	// OTP keeps one-time codes and authenticators; TwoFactor the contacts, recovery
	// codes, failures and challenge bindings.
	OTP              *memory.OTP
	TwoFactor        *memory.TwoFactor
	QuestionAnswers  *memory.QuestionAnswers
	QuestionAttempts *memory.QuestionAttempts
	Status           *memory.Status
	AgentCases       *memory.AgentCases
	Lines            *memory.Lines
	// LineCodes keeps the line-proof codes, apart from the 2FA codes.
	LineCodes *memory.OTP

	dir *directory
}

// NewStores returns empty in-memory stores whose expiry is measured with now (nil:
// time.Now).
func NewStores(now func() time.Time) *Stores {
	mo := memory.Options{Now: now}
	return &Stores{
		Notify: memory.NewNotify(mo), Password: memory.NewPassword(mo), PasswordAttempts: memory.NewPasswordAttempts(mo),
		Protection: memory.NewProtection(mo), RiskProfiles: memory.NewRiskProfiles(mo), RiskGlobal: memory.NewRiskGlobal(mo),
		Sessions: memory.NewSession(mo), StepUp: memory.NewStepUp(mo), OTP: memory.NewOTP(mo), TwoFactor: memory.NewTwoFactor(mo),
		QuestionAnswers: memory.NewQuestionAnswers(mo), QuestionAttempts: memory.NewQuestionAttempts(mo),
		Status: memory.NewStatus(mo), AgentCases: memory.NewAgentCases(mo), Lines: memory.NewLines(mo),
		LineCodes: memory.NewOTP(mo), dir: newDirectory(),
	}
}

// codeKey is the hash key of the one-time codes for use ("twofactor", "line"): derived
// from Options.CodeKey, so replicas sharing it check each other's codes, and each use
// has a key of its own; without a CodeKey, a key per process (codes live minutes).
func (s *Server) codeKey(use string) ([]byte, error) {
	if s.opts.CodeKey == nil {
		return keyring.GenerateKey()
	}
	m := hmac.New(sha256.New, s.opts.CodeKey)
	m.Write([]byte("carrierguard example server code key: " + use))
	return m.Sum(nil), nil
}
