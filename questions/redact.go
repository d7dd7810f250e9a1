package questions

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// redacted stands in for an answer wherever a value carrying one is printed, logged or
// encoded.
const redacted = "[redacted]"

// The request types below carry an answer in plaintext (Choice.Answer, and
// Verification.Spoken, which is the subscriber's answer whenever it matches). An
// integrator who logs a request — fmt with any verb, log/slog, encoding/json — gets
// every other field and "[redacted]" in place of the answer, so no answer reaches a log
// by accident.

// Format implements fmt.Formatter: every verb prints the choice with its answer
// redacted.
func (c Choice) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{QuestionID:%q Custom:%q Answer:%s}", c.QuestionID, c.Custom, redacted)
}

// LogValue implements slog.LogValuer with the answer redacted.
func (c Choice) LogValue() slog.Value {
	return slog.GroupValue(slog.String("question_id", c.QuestionID), slog.String("custom", c.Custom),
		slog.String("answer", redacted))
}

// MarshalJSON encodes the choice with its answer redacted.
func (c Choice) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ QuestionID, Custom, Answer string }{c.QuestionID, c.Custom, redacted})
}

// Format implements fmt.Formatter: every verb prints the enrollment with its answers
// redacted (the choices format themselves) and without the personal facts.
func (e Enrollment) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{Subscriber:%q Channel:%q Choices:%v}", e.Subscriber, e.Channel, e.Choices)
}

// LogValue implements slog.LogValuer with the answers redacted. The personal facts are
// left out too: they are CPNI, not something a log needs.
func (e Enrollment) LogValue() slog.Value {
	ids := make([]string, len(e.Choices))
	for i, c := range e.Choices {
		ids[i] = c.QuestionID
		if ids[i] == "" {
			ids[i] = "custom"
		}
	}
	return slog.GroupValue(slog.String("subscriber", e.Subscriber), slog.String("channel", e.Channel),
		slog.Any("question_ids", ids))
}

// MarshalJSON encodes the enrollment with its answers redacted and without the
// personal facts.
func (e Enrollment) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Subscriber, Channel string
		Choices             []Choice
	}{e.Subscriber, e.Channel, e.Choices})
}

// Format implements fmt.Formatter: every verb prints the verification with the spoken
// answer redacted.
func (v Verification) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{Subscriber:%q QuestionID:%q Spoken:%s AgentID:%q Channel:%q}",
		v.Subscriber, v.QuestionID, redacted, v.AgentID, v.Channel)
}

// LogValue implements slog.LogValuer with the spoken answer redacted.
func (v Verification) LogValue() slog.Value {
	return slog.GroupValue(slog.String("subscriber", v.Subscriber), slog.String("question_id", v.QuestionID),
		slog.String("spoken", redacted), slog.String("agent_id", v.AgentID), slog.String("channel", v.Channel))
}

// MarshalJSON encodes the verification with the spoken answer redacted.
func (v Verification) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ Subscriber, QuestionID, Spoken, AgentID, Channel string }{
		v.Subscriber, v.QuestionID, redacted, v.AgentID, v.Channel})
}
