package password

import "fmt"

// Reason is a stable code for why a new password was rejected, for programs and
// translations; Problem.Message is the English sentence for people.
type Reason string

// Reasons a new password can be rejected for.
const (
	ReasonTooShort         Reason = "too_short"
	ReasonTooLong          Reason = "too_long"
	ReasonControlCharacter Reason = "control_character"
	ReasonCommon           Reason = "common"
	ReasonContext          Reason = "context"
	ReasonRepeated         Reason = "repeated"
	ReasonSequential       Reason = "sequential"
	ReasonWeak             Reason = "weak"
	ReasonBreached         Reason = "breached"
	ReasonBreachUnverified Reason = "breach_unverified"
	ReasonReused           Reason = "reused"
	ReasonNoUpper          Reason = "no_upper"
	ReasonNoLower          Reason = "no_lower"
	ReasonNoDigit          Reason = "no_digit"
	ReasonNoSymbol         Reason = "no_symbol"
)

// Problem is one reason a password was rejected, with a message that can be shown to
// the subscriber. Messages never repeat the password.
type Problem struct {
	Reason  Reason
	Message string
}

// BreachStatus says what the breached-password check found.
type BreachStatus int

// Breach statuses.
const (
	// BreachNotChecked: no BreachChecker is configured, or an earlier input error
	// stopped the check.
	BreachNotChecked BreachStatus = iota
	// BreachClean: the password is not in the breach corpus.
	BreachClean
	// BreachFound: the password appears in known breaches (ReasonBreached).
	BreachFound
	// BreachUnavailable: the checker failed. Fail-closed (the default) adds
	// ReasonBreachUnverified; fail-open accepts the password and only says so here.
	BreachUnavailable
)

func (s BreachStatus) String() string {
	switch s {
	case BreachNotChecked:
		return "not_checked"
	case BreachClean:
		return "clean"
	case BreachFound:
		return "found"
	case BreachUnavailable:
		return "unavailable"
	}
	return fmt.Sprintf("BreachStatus(%d)", int(s))
}

// Result is the outcome of a policy check: every problem found, not just the first, so
// a form can show them all at once.
type Result struct {
	// Policy is the name of the policy that was applied.
	Policy string
	// Problems lists every reason the password was rejected, in a stable order.
	Problems []Problem
	// Length is the password's length in code points after NFC normalisation.
	Length int
	// Strength is the zxcvbn score 0–4, or -1 when the estimate was not run.
	Strength int
	// Breach is what the breached-password check found.
	Breach BreachStatus
}

// OK reports whether the password passed every check.
func (r Result) OK() bool { return len(r.Problems) == 0 }

// Has reports whether the result contains a problem with the given reason.
func (r Result) Has(reason Reason) bool {
	for _, p := range r.Problems {
		if p.Reason == reason {
			return true
		}
	}
	return false
}

// Reasons returns the reason codes of every problem, in order.
func (r Result) Reasons() []Reason {
	out := make([]Reason, len(r.Problems))
	for i, p := range r.Problems {
		out[i] = p.Reason
	}
	return out
}

func (r *Result) add(reason Reason, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Reason: reason, Message: fmt.Sprintf(format, args...)})
}
