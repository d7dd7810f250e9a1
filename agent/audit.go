package agent

import (
	"context"
	"log/slog"
	"time"

	"github.com/carrierguard/carrierguard/protection"
)

// AuditAction names what an agent did. Values are stable strings suitable for storage.
type AuditAction string

// Audited actions. Cases records the first four itself; the console records the others
// with Cases.Record when it does them.
const (
	AuditCaseOpened    AuditAction = "case.opened"
	AuditEvidenceAdded AuditAction = "case.evidence_added"
	AuditCaseClosed    AuditAction = "case.closed"
	// AuditRefused is an action the library refused (evidence a channel cannot give, a
	// case of another agent); Detail says what was tried.
	AuditRefused AuditAction = "case.refused"
	// AuditAccountViewed is account details (CPNI) shown to the agent.
	AuditAccountViewed AuditAction = "account.viewed"
	// AuditCodeSent is a one-time code sent to the caller; Detail is its purpose.
	AuditCodeSent AuditAction = "code.sent"
	// AuditCodeFailed is a code the caller read out that did not verify.
	AuditCodeFailed AuditAction = "code.failed"
	// AuditChangeRequested is a SIM swap, eSIM transfer or port-out asked for in the
	// case; Detail is the change and the decision's outcome.
	AuditChangeRequested AuditAction = "change.requested"
)

// Record is one audit-trail entry. It names the agent (their ID from the credential,
// never from the request), the channel, the case and subscriber, and what was done. It
// never holds a secret: no token, code, answer or document number.
type Record struct {
	At         time.Time
	Agent      string
	Channel    protection.Channel
	Case       string
	Subscriber string
	Action     AuditAction
	// Detail is a short non-secret description: an evidence kind, a code purpose, a
	// decision outcome.
	Detail string
}

// Auditor keeps the audit trail of agent actions (FCC 47 CFR 64.2010(h) wants records
// of SIM-change requests and the authentication used). An error means the record was
// not kept; the action is then refused (fail closed), so an Auditor should fail only
// when it could not write. Implementations are safe for concurrent use.
type Auditor interface {
	Audit(ctx context.Context, r Record) error
}

// AuditorFunc adapts a function to the Auditor interface.
type AuditorFunc func(ctx context.Context, r Record) error

// Audit calls f(ctx, r).
func (f AuditorFunc) Audit(ctx context.Context, r Record) error { return f(ctx, r) }

// LogAuditor writes each record to a structured logger at Info, message "agent audit".
// It suits development and deployments that ship logs to an append-only store; it never
// fails.
type LogAuditor struct {
	Logger *slog.Logger
}

// Audit implements Auditor.
func (l LogAuditor) Audit(ctx context.Context, r Record) error {
	l.Logger.LogAttrs(ctx, slog.LevelInfo, "agent audit",
		slog.Time("at", r.At), slog.String("agent", r.Agent), slog.String("channel", r.Channel.String()),
		slog.String("case", r.Case), slog.String("subscriber", r.Subscriber),
		slog.String("action", string(r.Action)), slog.String("detail", r.Detail))
	return nil
}
