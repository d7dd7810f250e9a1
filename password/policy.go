package password

import (
	"time"

	"github.com/carrierguard/carrierguard/internal/validate"
)

// Policy is a complete password policy: what a new password must satisfy, how long a
// password lasts and how many old passwords may not come back. Policies are plain
// values; start from DefaultPolicy or NISTPolicy and change fields on your copy.
//
// A Policy is used exactly as given, field by field; only the zero Policy as a whole
// stands for DefaultPolicy (in Config and CheckerConfig).
type Policy struct {
	// Name identifies the policy in results and events, such as "default" or "nist".
	Name string `validate:"required"`
	// MinLength is the minimum length, in Unicode code points after NFC normalisation.
	MinLength int `validate:"gte=8"`
	// MinLengthWithMFA, if not zero, is the minimum length for an account that has
	// two-factor authentication (Subject.HasMFA). NIST allows 8 in that case.
	MinLengthWithMFA int `validate:"omitempty,gte=8"`
	// MaxLength is the maximum length in code points. NIST requires at least 64 to be
	// allowed. Independently of it, input over MaxBytes bytes is refused.
	MaxLength int `validate:"gte=64,lte=1024"`
	// MaxRun is the longest run of identical, sequential (abcd, 4321) or
	// keyboard-adjacent (qwerty) characters allowed; a longer run is a reason to
	// reject. Zero disables the run checks.
	MaxRun int `validate:"gte=0"`
	// MinStrength is the minimum zxcvbn score (0–4) a new password must reach. Zero
	// disables the strength estimate (the slowest check).
	MinStrength int `validate:"gte=0,lte=4"`
	// Blocklist rejects the most common passwords (see Blocklist).
	Blocklist bool
	// ContextWords rejects passwords built from the subscriber's name, email, phone
	// number or the carrier's own words (Subject, CheckerConfig.ContextWords).
	ContextWords bool
	// Composition rules: each requires at least one character of its class. NIST and
	// OWASP advise against them; both profiles leave them off.
	RequireUpper, RequireLower, RequireDigit, RequireSymbol bool
	// RotationPeriod is how long a password stays current; zero means passwords never
	// expire by age (they still must change after a reported compromise).
	RotationPeriod time.Duration `validate:"gte=0"`
	// RotationWarning is how long before expiry the rotation status turns DueSoon.
	RotationWarning time.Duration `validate:"gte=0"`
	// History is how many recent passwords, counting the current one, a new password
	// may not repeat. It is at least 1: the current password never "changes" to itself.
	History int `validate:"gte=1,lte=24"`
}

// DefaultPolicy returns the carriers' policy (the mission; see the package doc):
// at least 12 characters, at most 128, a yearly change warned 30 days ahead, no reuse
// of the last 5 passwords, the blocklist, context words, runs over 4 characters
// rejected and a zxcvbn score of at least 3. Composition rules are off.
func DefaultPolicy() Policy {
	return Policy{
		Name:            "default",
		MinLength:       12,
		MaxLength:       128,
		MaxRun:          4,
		MinStrength:     3,
		Blocklist:       true,
		ContextWords:    true,
		RotationPeriod:  365 * 24 * time.Hour,
		RotationWarning: 30 * 24 * time.Hour,
		History:         5,
	}
}

// NISTPolicy returns the NIST SP 800-63B rev 4 profile: at least 15 characters (8 when
// the account has two-factor authentication), at most 128, no composition rules, the
// same blocklist, context, run and strength checks as DefaultPolicy, and no periodic
// rotation. Only the current password is barred from being reused.
func NISTPolicy() Policy {
	return Policy{
		Name:             "nist",
		MinLength:        15,
		MinLengthWithMFA: 8,
		MaxLength:        128,
		MaxRun:           4,
		MinStrength:      3,
		Blocklist:        true,
		ContextWords:     true,
		History:          1,
	}
}

func (p Policy) isZero() bool { return p == Policy{} }

func (p Policy) validate(pkgField string) error {
	if err := validate.Struct("password", p); err != nil {
		return err
	}
	if p.MaxLength < p.MinLength {
		return validate.Errorf("password", "%s.MaxLength %d is below MinLength %d", pkgField, p.MaxLength, p.MinLength)
	}
	if p.MinLengthWithMFA > p.MinLength {
		return validate.Errorf("password", "%s.MinLengthWithMFA %d exceeds MinLength %d; it may only relax the minimum", pkgField, p.MinLengthWithMFA, p.MinLength)
	}
	if p.RotationPeriod > 0 && p.RotationWarning >= p.RotationPeriod {
		return validate.Errorf("password", "%s.RotationWarning %s must be shorter than RotationPeriod %s", pkgField, p.RotationWarning, p.RotationPeriod)
	}
	if p.RotationPeriod > 0 && p.RotationPeriod < 24*time.Hour {
		return validate.Errorf("password", "%s.RotationPeriod %s is under a day; use zero for no rotation", pkgField, p.RotationPeriod)
	}
	return nil
}

func (p Policy) minLength(hasMFA bool) int {
	if hasMFA && p.MinLengthWithMFA > 0 {
		return p.MinLengthWithMFA
	}
	return p.MinLength
}
