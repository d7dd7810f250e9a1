package password_test

import (
	"context"
	"crypto/sha1"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/password"
)

var maria = password.Subject{Name: "Maria Gonzalez", Email: "mgonzalez.99@example.com", Phone: "+1 305 555 0142"}

const good = "violet tractor humming 42 lanterns"

func newChecker(t testing.TB, cfg password.CheckerConfig) *password.Checker {
	t.Helper()
	if cfg.ContextWords == nil {
		cfg.ContextWords = []string{"Acme", "AcmeMobile"}
	}
	c, err := password.NewChecker(cfg)
	require.NoError(t, err)
	return c
}

func TestCheckReasons(t *testing.T) {
	composition := password.DefaultPolicy()
	composition.RequireUpper, composition.RequireLower, composition.RequireDigit, composition.RequireSymbol = true, true, true, true
	tooLong := strings.Repeat("violet tractor ", 9) + "!" // 136 code points, not periodic
	tests := []struct {
		name   string
		policy password.Policy
		pw     string
		sub    password.Subject
		want   []password.Reason
	}{
		{"good passphrase", password.Policy{}, good, maria, nil},
		{"too short", password.Policy{}, "Tr0ub4dor&3", maria, []password.Reason{password.ReasonTooShort}},
		{"too long", password.Policy{}, tooLong, maria, []password.Reason{password.ReasonTooLong}},
		{"control character", password.Policy{}, "violet tractor\thumming lanterns", maria, []password.Reason{password.ReasonControlCharacter}},
		{"common with suffix", password.Policy{}, "Password2024!", maria, []password.Reason{password.ReasonCommon, password.ReasonWeak}},
		{"common in leet", password.Policy{}, "P@ssw0rd2024!", maria, []password.Reason{password.ReasonCommon, password.ReasonWeak}},
		{"common, suffix only", password.Policy{}, "summer2024!!", maria, []password.Reason{password.ReasonCommon}},
		{"name", password.Policy{}, "gonzalez-rides-bikes-far", maria, []password.Reason{password.ReasonContext}},
		{"short name words are not context", password.Policy{}, "banner lantern quietly", password.Subject{Name: "Ann Lee"}, nil},
		{"email local part", password.Policy{}, "MGonzalez.99 likes tea", maria, []password.Reason{password.ReasonContext}},
		{"phone digits", password.Policy{}, "my number 3055550142 ok", maria, []password.Reason{password.ReasonContext}},
		{"carrier name", password.Policy{}, "acme-rocks-the-house", maria, []password.Reason{password.ReasonContext}},
		{"carrier name in leet", password.Policy{}, "@cm3-rocks-the-house", maria, []password.Reason{password.ReasonContext}},
		{"repeated run", password.Policy{}, "aaaaaa-zebra-lantern-quiet", maria, []password.Reason{password.ReasonRepeated}},
		{"repeated unit", password.Policy{}, "xkcdxkcdxkcd", maria, []password.Reason{password.ReasonRepeated, password.ReasonWeak}},
		{"alphabet run", password.Policy{}, "abcdef-zebra-lantern", maria, []password.Reason{password.ReasonSequential}},
		{"descending digits", password.Policy{}, "zebra-lantern-987654", maria, []password.Reason{password.ReasonSequential}},
		{"keyboard run", password.Policy{}, "qwerty-zebra-lantern", maria, []password.Reason{password.ReasonSequential}},
		{"run of exactly MaxRun is fine", password.Policy{}, "abcd-zebra-lantern-quiet", maria, nil},
		{"weak", password.Policy{}, "januaryfebruary", maria, []password.Reason{password.ReasonWeak}},
		{"several at once", password.Policy{}, "iloveyou12345", maria, []password.Reason{password.ReasonCommon, password.ReasonSequential, password.ReasonWeak}},
		{"composition off by default", password.Policy{}, "correct horse battery staple", maria, nil},
		{"composition on", composition, "correct horse battery staple", maria, []password.Reason{password.ReasonNoUpper, password.ReasonNoDigit}},
		{"composition needs symbol", composition, "CorrectHorseBattery7", maria, []password.Reason{password.ReasonNoSymbol}},
		{"composition needs lower", composition, "CORRECT HORSE BATTERY 7", maria, []password.Reason{password.ReasonNoLower}},
		{"NIST too short at 14", password.NISTPolicy(), "violet tractor", maria, []password.Reason{password.ReasonTooShort}},
		{"NIST 8 with MFA", password.NISTPolicy(), "violet tractor", password.Subject{HasMFA: true}, nil},
		{"NIST 7 with MFA", password.NISTPolicy(), "vi0let!", password.Subject{HasMFA: true}, []password.Reason{password.ReasonTooShort, password.ReasonWeak}},
		{"default ignores MFA", password.Policy{}, "zebra!7q", password.Subject{HasMFA: true}, []password.Reason{password.ReasonTooShort, password.ReasonWeak}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChecker(t, password.CheckerConfig{Policy: tt.policy})
			res, err := c.Check(context.Background(), tt.pw, tt.sub)
			require.NoError(t, err)
			assert.ElementsMatch(t, tt.want, res.Reasons(), "reasons for %q", tt.pw)
			assert.Equal(t, len(tt.want) == 0, res.OK())
			for _, p := range res.Problems {
				assert.NotEmpty(t, p.Message)
				assert.NotContains(t, p.Message, tt.pw, "a message repeats the password")
			}
			assert.Equal(t, password.BreachNotChecked, res.Breach)
		})
	}
}

func TestCheckLengthIsCodePointsAfterNFC(t *testing.T) {
	c := newChecker(t, password.CheckerConfig{Policy: password.Policy{}})
	decomposed := strings.Repeat("e\u0301", 11) // 22 code points, 11 after NFC
	res, err := c.Check(context.Background(), decomposed, password.Subject{})
	require.NoError(t, err)
	assert.Equal(t, 11, res.Length)
	assert.True(t, res.Has(password.ReasonTooShort))

	res, err = c.Check(context.Background(), "żółć gęślą jaźń 💡", password.Subject{})
	require.NoError(t, err)
	assert.Equal(t, 17, res.Length)
	assert.False(t, res.Has(password.ReasonTooShort))
}

func TestCheckInputErrors(t *testing.T) {
	c := newChecker(t, password.CheckerConfig{})
	for _, tt := range []struct {
		name string
		pw   string
		want error
	}{
		{"empty", "", password.ErrEmpty},
		{"oversize", strings.Repeat("a", password.MaxBytes+1), password.ErrTooLong},
		{"invalid UTF-8", "violet tractor \xff humming", password.ErrInvalidUTF8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Check(context.Background(), tt.pw, maria)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	_, err := c.Check(context.Background(), strings.Repeat("ab cd ", password.MaxBytes/6), maria)
	assert.NoError(t, err, "MaxBytes itself is accepted")
}

func TestCheckBreach(t *testing.T) {
	unavailable := password.BreachCheckerFunc(func(context.Context, [20]byte) (int, error) {
		return 0, password.ErrBreachUnavailable
	})
	var seen [20]byte
	found := password.BreachCheckerFunc(func(_ context.Context, sum [20]byte) (int, error) {
		seen = sum
		return 42, nil
	})
	clean := password.BreachCheckerFunc(func(context.Context, [20]byte) (int, error) { return 0, nil })
	tests := []struct {
		name       string
		breach     password.BreachChecker
		failOpen   bool
		wantStatus password.BreachStatus
		want       []password.Reason
	}{
		{"clean", clean, false, password.BreachClean, nil},
		{"found", found, false, password.BreachFound, []password.Reason{password.ReasonBreached}},
		{"unavailable fails closed by default", unavailable, false, password.BreachUnavailable, []password.Reason{password.ReasonBreachUnverified}},
		{"unavailable fail-open", unavailable, true, password.BreachUnavailable, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChecker(t, password.CheckerConfig{Breach: tt.breach, BreachFailOpen: tt.failOpen})
			res, err := c.Check(context.Background(), good, maria)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, res.Breach)
			assert.ElementsMatch(t, tt.want, res.Reasons())
		})
	}
	// The checker is handed SHA-1 of the NFC form, never the password.
	assert.Equal(t, sha1.Sum([]byte(good)), seen)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	ctxAware := password.BreachCheckerFunc(func(ctx context.Context, _ [20]byte) (int, error) { return 0, ctx.Err() })
	_, err := newChecker(t, password.CheckerConfig{Breach: ctxAware}).Check(cancelled, good, maria)
	assert.True(t, errors.Is(err, context.Canceled))
}

func TestProfiles(t *testing.T) {
	d, n := password.DefaultPolicy(), password.NISTPolicy()
	assert.Equal(t, 12, d.MinLength)
	assert.GreaterOrEqual(t, d.MaxLength, 128)
	assert.Equal(t, 365*24*60*60, int(d.RotationPeriod.Seconds()))
	assert.Equal(t, 30*24*60*60, int(d.RotationWarning.Seconds()))
	assert.Equal(t, 5, d.History)
	assert.Equal(t, 3, d.MinStrength)
	assert.False(t, d.RequireUpper || d.RequireLower || d.RequireDigit || d.RequireSymbol)

	assert.Equal(t, 15, n.MinLength)
	assert.Equal(t, 8, n.MinLengthWithMFA)
	assert.GreaterOrEqual(t, n.MaxLength, 64)
	assert.Zero(t, n.RotationPeriod)
	assert.Equal(t, d.Blocklist, n.Blocklist)
	assert.False(t, n.RequireUpper || n.RequireLower || n.RequireDigit || n.RequireSymbol)

	// Profiles are values: changing a copy never changes the next caller's.
	d.MinLength = 99
	assert.Equal(t, 12, password.DefaultPolicy().MinLength)
}

func TestNewCheckerValidates(t *testing.T) {
	bad := func(mut func(*password.Policy)) password.Policy {
		p := password.DefaultPolicy()
		mut(&p)
		return p
	}
	for _, tt := range []struct {
		name  string
		cfg   password.CheckerConfig
		field string
	}{
		{"min below 8", password.CheckerConfig{Policy: bad(func(p *password.Policy) { p.MinLength = 6 })}, "MinLength"},
		{"max below 64", password.CheckerConfig{Policy: bad(func(p *password.Policy) { p.MaxLength = 32 })}, "MaxLength"},
		{"strength above 4", password.CheckerConfig{Policy: bad(func(p *password.Policy) { p.MinStrength = 5 })}, "MinStrength"},
		{"history zero", password.CheckerConfig{Policy: bad(func(p *password.Policy) { p.History = 0 })}, "History"},
		{"no name", password.CheckerConfig{Policy: bad(func(p *password.Policy) { p.Name = "" })}, "Name"},
		{"MFA minimum above minimum", password.CheckerConfig{Policy: bad(func(p *password.Policy) { p.MinLengthWithMFA = 20 })}, "MinLengthWithMFA"},
		{"warning longer than period", password.CheckerConfig{Policy: bad(func(p *password.Policy) { p.RotationWarning = p.RotationPeriod })}, "RotationWarning"},
		{"nil blocklist", password.CheckerConfig{Blocklists: []*password.Blocklist{nil}}, "Blocklists[0]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := password.NewChecker(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func TestBlocklist(t *testing.T) {
	common := password.CommonPasswords()
	assert.GreaterOrEqual(t, common.Len(), 10000)
	assert.Same(t, common, password.CommonPasswords())
	for _, pw := range []string{"password", "PASSWORD", "qwerty123", "p@ssw0rd", "iloveyou!!", "2024dragon", "trustno1"} {
		assert.True(t, common.Contains(pw), pw)
	}
	for _, pw := range []string{good, "abc1", "ab12", "zebra-lantern"} {
		assert.False(t, common.Contains(pw), pw)
	}
	own := password.NewBlocklist([]string{"Caracas2026", ""})
	assert.Equal(t, 1, own.Len())
	c := newChecker(t, password.CheckerConfig{Blocklists: []*password.Blocklist{own}})
	res, err := c.Check(context.Background(), "caracas2026", password.Subject{})
	require.NoError(t, err)
	assert.True(t, res.Has(password.ReasonCommon))
}
