package password

import (
	"context"
	"crypto/sha1"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"

	"github.com/carrierguard/carrierguard/internal/validate"
)

// strengthRunes is how many leading code points the strength estimate looks at. zxcvbn's
// cost grows quickly with length; a password this long that is still weak in its first
// 100 characters is weak, and one that is strong there is strong.
const strengthRunes = 100

// Subject is what the checker knows about the account whose password is checked. Every
// field is optional; the more it holds, the more guessable passwords are caught.
type Subject struct {
	// Name is the subscriber's name; each word of four or more letters is a context
	// word (shorter ones, like "Ann", would ban too many unrelated words).
	Name string
	// Email is the subscriber's email address; its local part and the pieces of it
	// split at . _ - + (of four or more characters) are context words.
	Email string
	// Phone is the subscriber's phone number in any format; any six consecutive digits
	// of it inside the password count as context.
	Phone string
	// HasMFA says the account has two-factor authentication, which lets a policy
	// relax the minimum length (Policy.MinLengthWithMFA).
	HasMFA bool
}

// CheckerConfig configures a Checker. The zero value checks with DefaultPolicy, the
// built-in blocklist and no breach check.
type CheckerConfig struct {
	// Policy to apply. The zero Policy means DefaultPolicy().
	Policy Policy
	// ContextWords are words no subscriber's password may be built from, such as the
	// carrier's and its brands' names. Matched case-insensitively; words under three
	// characters are ignored.
	ContextWords []string
	// Blocklists are extra lists checked along with CommonPasswords.
	Blocklists []*Blocklist
	// Breach, if set, is consulted for every password checked, after the local
	// checks, so that its verdict joins theirs. Nil means no breach check
	// (BreachNotChecked).
	Breach BreachChecker
	// BreachFailOpen accepts a password when the breach checker fails. The default,
	// false, fails closed: ReasonBreachUnverified is reported and the password is
	// rejected until the check succeeds.
	BreachFailOpen bool
}

// Checker checks new passwords against a policy. It is safe for concurrent use.
type Checker struct {
	policy       Policy
	contextWords []string
	blocklists   []*Blocklist
	breach       BreachChecker
	failOpen     bool
}

// NewChecker validates cfg and returns a Checker.
func NewChecker(cfg CheckerConfig) (*Checker, error) {
	if cfg.Policy.isZero() {
		cfg.Policy = DefaultPolicy()
	}
	if err := cfg.Policy.validate("CheckerConfig.Policy"); err != nil {
		return nil, err
	}
	c := &Checker{policy: cfg.Policy, breach: cfg.Breach, failOpen: cfg.BreachFailOpen}
	for _, w := range cfg.ContextWords {
		if w = strings.ToLower(strings.TrimSpace(w)); utf8.RuneCountInString(w) >= 3 {
			c.contextWords = append(c.contextWords, w)
		}
	}
	for i, b := range cfg.Blocklists {
		if b == nil {
			return nil, validate.Errorf("password", "CheckerConfig.Blocklists[%d] is nil; build lists with NewBlocklist", i)
		}
	}
	if cfg.Policy.Blocklist {
		c.blocklists = append([]*Blocklist{CommonPasswords()}, cfg.Blocklists...)
	}
	return c, nil
}

// Policy returns the policy the checker applies.
func (c *Checker) Policy() Policy { return c.policy }

// Check examines a new password and returns every problem at once. The error is
// non-nil only for input that cannot be a password (ErrEmpty, ErrTooLong,
// ErrInvalidUTF8) or a cancelled ctx; a password that fails the policy is reported in
// the Result, whose OK method says whether it may be used.
//
// The breach check runs last, and only when one is configured; see
// CheckerConfig.BreachFailOpen for what happens when it fails.
func (c *Checker) Check(ctx context.Context, password string, sub Subject) (Result, error) {
	pw, err := Normalize(password)
	if err != nil {
		return Result{Policy: c.policy.Name, Strength: -1}, err
	}
	res := c.local(pw, sub)
	if c.breach == nil {
		return res, nil
	}
	n, err := c.breach.BreachCount(ctx, sha1.Sum([]byte(pw)))
	switch {
	case err != nil && ctx.Err() != nil:
		return res, ctx.Err()
	case err != nil:
		res.Breach = BreachUnavailable
		if !c.failOpen {
			res.add(ReasonBreachUnverified, "We could not check this password against known data breaches right now; please try again shortly.")
		}
	case n > 0:
		res.Breach = BreachFound
		res.add(ReasonBreached, "This password has appeared in a data breach of another service; choose one you have not used anywhere else.")
	default:
		res.Breach = BreachClean
	}
	return res, nil
}

// local runs every check that needs no network on an already normalised password.
func (c *Checker) local(pw string, sub Subject) Result {
	p := c.policy
	res := Result{Policy: p.Name, Strength: -1}
	lower := strings.ToLower(pw)
	rs := []rune(lower)
	res.Length = utf8.RuneCountInString(pw)

	if minLen := p.minLength(sub.HasMFA); res.Length < minLen {
		res.add(ReasonTooShort, "Use at least %d characters (this has %d).", minLen, res.Length)
	}
	if res.Length > p.MaxLength {
		res.add(ReasonTooLong, "Use at most %d characters (this has %d).", p.MaxLength, res.Length)
	}
	var upper, lowerC, digit, symbol, control bool
	for _, r := range pw {
		switch {
		case unicode.IsControl(r):
			control = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lowerC = true
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || r == ' ':
			symbol = true
		}
	}
	if control {
		res.add(ReasonControlCharacter, "Remove control characters such as tabs or line breaks; letters, digits, symbols and spaces are all fine.")
	}
	for _, b := range c.blocklists {
		if b.Contains(lower) {
			res.add(ReasonCommon, "This is one of the most commonly used passwords; choose something less predictable.")
			break
		}
	}
	var words subjectWords
	if p.ContextWords || p.MinStrength > 0 {
		words = subjectContext(sub)
	}
	if p.ContextWords {
		if kinds := c.contextKinds(lower, words, sub.Phone); kinds != "" {
			res.add(ReasonContext, "Do not build your password from %s.", kinds)
		}
	}
	if p.MaxRun > 0 {
		repeat, sequential, periodic := runs(rs)
		if repeat > p.MaxRun || periodic {
			res.add(ReasonRepeated, "Avoid repeated characters or patterns such as aaaaa or abcabcabc.")
		}
		if sequential > p.MaxRun {
			res.add(ReasonSequential, "Avoid runs of %d or more sequential characters such as abcde, 12345 or qwerty.", p.MaxRun+1)
		}
	}
	if p.MinStrength > 0 {
		est := pw
		if len(rs) > strengthRunes {
			est = string([]rune(pw)[:strengthRunes])
		}
		res.Strength = strength(est, words.inputs(c.contextWords))
		if res.Strength < p.MinStrength {
			res.add(ReasonWeak, "This password is too easy to guess (strength %d of 4, at least %d needed); a longer phrase of unrelated words works well.", res.Strength, p.MinStrength)
		}
	}
	if p.RequireUpper && !upper {
		res.add(ReasonNoUpper, "Include an upper-case letter.")
	}
	if p.RequireLower && !lowerC {
		res.add(ReasonNoLower, "Include a lower-case letter.")
	}
	if p.RequireDigit && !digit {
		res.add(ReasonNoDigit, "Include a digit.")
	}
	if p.RequireSymbol && !symbol {
		res.add(ReasonNoSymbol, "Include a symbol or punctuation mark.")
	}
	return res
}

// minSubjectWord is the shortest name or email piece treated as a context word.
const minSubjectWord = 4

// subjectWords are the subscriber's context words, lower-cased.
type subjectWords struct {
	name  []string // words of the name
	email []string // the email local part and its pieces
}

func (w subjectWords) inputs(extra []string) []string {
	out := make([]string, 0, len(w.name)+len(w.email)+len(extra))
	return append(append(append(out, w.name...), w.email...), extra...)
}

func subjectContext(sub Subject) subjectWords {
	var w subjectWords
	words := func(dst []string, s string, sep func(rune) bool) []string {
		for _, f := range strings.FieldsFunc(strings.ToLower(s), sep) {
			if utf8.RuneCountInString(f) >= minSubjectWord {
				dst = append(dst, f)
			}
		}
		return dst
	}
	w.name = words(w.name, sub.Name, func(r rune) bool { return !unicode.IsLetter(r) })
	if local, _, _ := strings.Cut(sub.Email, "@"); local != "" {
		w.email = words(w.email, local, func(rune) bool { return false })
		w.email = words(w.email, local, func(r rune) bool { return strings.ContainsRune("._-+", r) })
	}
	return w
}

// contextKinds names the kinds of context the password is built from, or "".
func (c *Checker) contextKinds(lower string, w subjectWords, phone string) string {
	var kinds []string
	// The look-alike spellings of the password are worked out once for all three lists.
	variants := [3]string{lower, unleet(lower, leetTables[0]), unleet(lower, leetTables[1])}
	if containsAny(variants, w.name) {
		kinds = append(kinds, "your name")
	}
	if containsAny(variants, w.email) {
		kinds = append(kinds, "your email address")
	}
	if containsPhone(lower, phone) {
		kinds = append(kinds, "your phone number")
	}
	if containsAny(variants, c.contextWords) {
		kinds = append(kinds, "our company or brand names")
	}
	switch len(kinds) {
	case 0:
		return ""
	case 1:
		return kinds[0]
	}
	return strings.Join(kinds[:len(kinds)-1], ", ") + " or " + kinds[len(kinds)-1]
}

// containsAny reports whether any of words occurs in the password as typed (variants[0])
// or in one of its look-alike spellings (variants[1:]).
func containsAny(variants [3]string, words []string) bool {
	for _, w := range words {
		for i, v := range variants {
			if (i == 0 || v != variants[0]) && strings.Contains(v, w) {
				return true
			}
		}
	}
	return false
}

// phoneWindow is how many consecutive digits of the phone number count as context.
const phoneWindow = 6

func containsPhone(s, phone string) bool {
	var digits []byte
	for i := 0; i < len(phone); i++ {
		if phone[i] >= '0' && phone[i] <= '9' {
			digits = append(digits, phone[i])
		}
	}
	if len(digits) < phoneWindow || !strings.ContainsAny(s, "0123456789") {
		return false
	}
	for i := 0; i+phoneWindow <= len(digits); i++ {
		if strings.Contains(s, string(digits[i:i+phoneWindow])) {
			return true
		}
	}
	return false
}

// strength returns the zxcvbn score. The estimator is third-party code run on caller
// input; should it ever panic, the password scores 0 (rejected as weak: fail closed)
// instead of taking the caller down.
func strength(pw string, inputs []string) (score int) {
	defer func() {
		if recover() != nil {
			score = 0
		}
	}()
	return zxcvbn.PasswordStrength(pw, inputs).Score
}
