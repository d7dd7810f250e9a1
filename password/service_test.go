package password_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/password"
	"github.com/carrierguard/carrierguard/store/memory"
)

var t0 = time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)

type fixture struct {
	svc      *password.Service
	creds    *memory.Password
	attempts *memory.PasswordAttempts
	events   *notify.Recorder
	clock    *fakeclock.Clock
}

func newFixture(t *testing.T, cfg password.Config) *fixture {
	t.Helper()
	f := &fixture{clock: fakeclock.New(t0), events: &notify.Recorder{}}
	opts := memory.Options{Now: f.clock.Now}
	f.creds, f.attempts = memory.NewPassword(opts), memory.NewPasswordAttempts(opts)
	cfg.Now = f.clock.Now
	if cfg.ContextWords == nil {
		cfg.ContextWords = []string{"acme"}
	}
	svc, err := password.New(cfg, f.creds, f.attempts, f.events)
	require.NoError(t, err)
	f.svc = svc
	return f
}

func (f *fixture) enroll(t *testing.T, sub, pw string) {
	t.Helper()
	res, err := f.svc.Enroll(context.Background(), sub, pw, password.Subject{})
	require.NoError(t, err, "reasons: %v", res.Reasons())
}

func TestNewValidates(t *testing.T) {
	opts := memory.Options{}
	creds, attempts := memory.NewPassword(opts), memory.NewPasswordAttempts(opts)
	for _, tt := range []struct {
		name string
		cfg  password.Config
		want string
	}{
		{"over 100 consecutive", password.Config{Lockout: password.LockoutPolicy{MaxConsecutive: 101}}, "MaxConsecutive"},
		{"max below base", password.Config{Lockout: password.LockoutPolicy{Base: time.Hour, Max: time.Minute}}, "Lockout.Max"},
		{"bad policy", password.Config{Policy: password.Policy{Name: "x"}}, "MinLength"},
		{"weak hasher", password.Config{Hasher: password.HasherConfig{Params: password.Params{Memory: 1024, Time: 1, Threads: 1}}}, "OWASP"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := password.New(tt.cfg, creds, attempts, &notify.Recorder{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := password.New(password.Config{}, nil, attempts, &notify.Recorder{})
	assert.ErrorContains(t, err, "CredentialStore")
	_, err = password.New(password.Config{}, creds, nil, &notify.Recorder{})
	assert.ErrorContains(t, err, "AttemptStore")
	_, err = password.New(password.Config{}, creds, attempts, nil)
	assert.ErrorContains(t, err, "Publisher")
}

func TestEnrollAndVerify(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{})
	res, err := f.svc.Enroll(ctx, "sub-1", "acme123", password.Subject{})
	assert.ErrorIs(t, err, password.ErrRejected)
	assert.True(t, res.Has(password.ReasonTooShort) && res.Has(password.ReasonContext), "%v", res.Reasons())
	_, err = f.creds.Get(ctx, "sub-1")
	assert.ErrorIs(t, err, password.ErrNotFound, "a rejected password leaves nothing behind")

	f.enroll(t, "sub-1", good)
	_, err = f.svc.Enroll(ctx, "sub-1", good+" again", password.Subject{})
	assert.ErrorIs(t, err, password.ErrExists)
	rec, err := f.creds.Get(ctx, "sub-1")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(rec.Hash, "$argon2id$v=19$m=19456,t=2,p=1$"))
	assert.NotContains(t, rec.Hash, good)

	out, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: good})
	require.NoError(t, err)
	assert.False(t, out.Rehashed)
	assert.Equal(t, password.RotationCurrent, out.Rotation.State)

	_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: "violet tractor"})
	assert.ErrorIs(t, err, password.ErrMismatch)
	_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "nobody", Password: good})
	assert.ErrorIs(t, err, password.ErrMismatch, "unknown subscribers look like wrong passwords")
	_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: ""})
	assert.ErrorIs(t, err, password.ErrEmpty)
	assert.Empty(t, f.events.Events(), "enrolment and ordinary sign-ins publish nothing")
}

func TestSignInUpgradesBcrypt(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{})
	legacy, err := bcrypt.GenerateFromPassword([]byte("Legacy pass 2015"), bcrypt.MinCost)
	require.NoError(t, err)
	require.NoError(t, f.creds.Set(ctx, "sub-1", "", string(legacy), t0, 0))

	_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: "legacy pass 2015"})
	require.ErrorIs(t, err, password.ErrMismatch)
	rec, _ := f.creds.Get(ctx, "sub-1")
	assert.Equal(t, string(legacy), rec.Hash, "a failed sign-in never rehashes")

	out, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: "Legacy pass 2015"})
	require.NoError(t, err)
	assert.True(t, out.Rehashed)
	rec, _ = f.creds.Get(ctx, "sub-1")
	assert.True(t, strings.HasPrefix(rec.Hash, "$argon2id$"), rec.Hash)
	assert.True(t, rec.ChangedAt.Equal(t0), "a rehash is not a password change")

	out, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: "Legacy pass 2015"})
	require.NoError(t, err)
	assert.False(t, out.Rehashed)
}

func TestLockout(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{Lockout: password.LockoutPolicy{Threshold: 3, Base: time.Minute, Max: 3 * time.Minute, MaxConsecutive: 6}})
	f.enroll(t, "sub-1", good)
	wrong := password.SignIn{Subscriber: "sub-1", Password: "not my password at all", Channel: "app"}
	right := password.SignIn{Subscriber: "sub-1", Password: good, Channel: "app"}

	for range 3 {
		_, err := f.svc.Verify(ctx, wrong)
		require.ErrorIs(t, err, password.ErrMismatch)
	}
	e, ok := f.events.Last(notify.Lockout)
	require.True(t, ok, "the lock must be announced")
	assert.Equal(t, "temporary", e.Attributes["scope"])
	assert.Equal(t, "3", e.Attributes["failures"])

	_, err := f.svc.Verify(ctx, right)
	var locked *password.LockedError
	require.ErrorAs(t, err, &locked, "even the right password is refused while locked")
	assert.True(t, locked.Until.Equal(t0.Add(time.Minute)), "until %v", locked.Until)

	// Locks double with every further failure, up to Max, and expire; the count does not.
	steps := []time.Duration{2 * time.Minute, 3 * time.Minute}
	for _, d := range steps {
		f.clock.Set(locked.Until)
		_, err = f.svc.Verify(ctx, wrong)
		require.ErrorIs(t, err, password.ErrMismatch)
		_, err = f.svc.Verify(ctx, right)
		require.ErrorAs(t, err, &locked)
		assert.True(t, locked.Until.Equal(f.clock.Now().Add(d)), "lock %v, want %v", locked.Until.Sub(f.clock.Now()), d)
	}
	f.clock.Set(locked.Until)
	_, err = f.svc.Verify(ctx, wrong) // the 6th consecutive failure: the hard cap
	require.ErrorIs(t, err, password.ErrMismatch)
	e, _ = f.events.Last(notify.Lockout)
	assert.Equal(t, "until_recovery", e.Attributes["scope"])

	f.clock.Advance(1000 * time.Hour)
	_, err = f.svc.Verify(ctx, right)
	require.ErrorAs(t, err, &locked)
	assert.True(t, locked.Until.IsZero(), "the hard cap does not expire")
	a, _ := f.attempts.Failures(ctx, "s:sub-1")
	assert.Equal(t, 6, a.Failures, "refused attempts are not counted past the cap")

	require.NoError(t, f.svc.ResetFailures(ctx, "sub-1", notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"}, "phone"))
	_, ok = f.events.Last(notify.LockoutLifted)
	assert.True(t, ok)
	_, err = f.svc.Verify(ctx, right)
	require.NoError(t, err)
}

func TestSuccessResetsCount(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{Lockout: password.LockoutPolicy{Threshold: 3}})
	f.enroll(t, "sub-1", good)
	for range 5 {
		for range 2 {
			_, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: "wrong wrong wrong"})
			require.ErrorIs(t, err, password.ErrMismatch)
		}
		_, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: good})
		require.NoError(t, err, "failures are consecutive: a success clears them")
	}
}

func TestClientKeyLockout(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{Lockout: password.LockoutPolicy{ClientThreshold: 2}})
	f.enroll(t, "sub-1", good)
	for range 2 {
		_, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: "wrong wrong wrong", ClientKey: "198.51.100.7"})
		require.ErrorIs(t, err, password.ErrMismatch)
	}
	_, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: good, ClientKey: "198.51.100.7"})
	assert.ErrorIs(t, err, password.ErrLocked, "the noisy client is locked out")
	_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: good, ClientKey: "203.0.113.9"})
	assert.NoError(t, err, "the subscriber on another client is not")
	assert.Empty(t, f.events.Types(), "a per-client lock is not an account event")
}

// TestNeverMoreThan100 brings a subscriber to 99 consecutive failures and races 30
// more guesses with the default cap: exactly one is checked, the rest are refused as
// locked, and the count stops at 100.
func TestNeverMoreThan100(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{Lockout: password.LockoutPolicy{Threshold: 1000}})
	f.enroll(t, "sub-1", good)
	for range 99 {
		_, err := f.attempts.AddFailure(ctx, "s:sub-1", 1000, t0, time.Time{})
		require.NoError(t, err)
	}
	counts := concurrentGuesses(30, func() error {
		_, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: "guess guess guess"})
		return err
	})
	assert.Equal(t, map[string]int{"mismatch": 1, "locked": 29}, counts)
	a, err := f.attempts.Failures(ctx, "s:sub-1")
	require.NoError(t, err)
	assert.Equal(t, 100, a.Failures)
	e, ok := f.events.Last(notify.Lockout)
	require.True(t, ok)
	assert.Equal(t, "until_recovery", e.Attributes["scope"])
	_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: good})
	assert.ErrorIs(t, err, password.ErrLocked, "the right password too, until ResetFailures")
}

func TestChange(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{})
	pwA, pwB, pwC := good, "amber kettle whistles at dawn", "seven quiet herons over lake"
	f.enroll(t, "sub-1", pwA)
	change := func(cur, next string) (password.Result, error) {
		return f.svc.Change(ctx, password.ChangeRequest{Subscriber: "sub-1", Current: cur, New: next, Channel: "app"})
	}

	_, err := change("wrong current password", pwB)
	assert.ErrorIs(t, err, password.ErrMismatch)

	res, err := change(pwA, "acme2024")
	assert.ErrorIs(t, err, password.ErrRejected)
	assert.True(t, res.Has(password.ReasonTooShort) && res.Has(password.ReasonContext), "%v", res.Reasons())

	res, err = change(pwA, pwA)
	assert.ErrorIs(t, err, password.ErrRejected)
	assert.Equal(t, []password.Reason{password.ReasonReused}, res.Reasons())

	_, err = change(pwA, pwB)
	require.NoError(t, err)
	e, ok := f.events.Last(notify.PasswordChanged)
	require.True(t, ok)
	assert.Equal(t, "offer_sign_out_other_sessions", e.Attributes["next_step"])
	assert.Equal(t, "voluntary", e.Attributes["reason"])
	assert.Equal(t, "app", e.Channel)
	for _, v := range e.Attributes {
		assert.NotContains(t, v, "tractor")
	}

	_, err = change(pwB, pwC)
	require.NoError(t, err)
	res, err = change(pwC, pwA)
	assert.ErrorIs(t, err, password.ErrRejected, "A is within the last 5")
	assert.True(t, res.Has(password.ReasonReused))

	rec, _ := f.creds.Get(ctx, "sub-1")
	assert.Len(t, rec.History, 2)
	for _, h := range append([]string{rec.Hash}, rec.History...) {
		assert.True(t, strings.HasPrefix(h, "$argon2id$"), "history holds hashes only")
	}

	_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: pwC})
	assert.NoError(t, err)
}

func TestChangeHistoryWindow(t *testing.T) {
	ctx := context.Background()
	p := password.DefaultPolicy()
	p.History = 2
	f := newFixture(t, password.Config{Policy: p})
	pws := []string{good, "amber kettle whistles at dawn", "seven quiet herons over lake"}
	f.enroll(t, "sub-1", pws[0])
	for i := 1; i < len(pws); i++ {
		_, err := f.svc.Change(ctx, password.ChangeRequest{Subscriber: "sub-1", Current: pws[i-1], New: pws[i]})
		require.NoError(t, err)
	}
	rec, _ := f.creds.Get(ctx, "sub-1")
	assert.Len(t, rec.History, 1, "History 2 keeps the current and one previous hash")
	res, err := f.svc.Change(ctx, password.ChangeRequest{Subscriber: "sub-1", Current: pws[2], New: pws[1]})
	assert.ErrorIs(t, err, password.ErrRejected)
	assert.True(t, res.Has(password.ReasonReused))
	_, err = f.svc.Change(ctx, password.ChangeRequest{Subscriber: "sub-1", Current: pws[2], New: pws[0]})
	assert.NoError(t, err, "three passwords ago is outside a history of 2")
}

func TestRotationBoundaries(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{})
	f.enroll(t, "sub-1", good)
	const day = 24 * time.Hour
	for _, tt := range []struct {
		at       time.Duration
		state    password.RotationState
		daysLeft int
		events   int // PasswordRotationDue events so far
	}{
		{0, password.RotationCurrent, 365, 0},
		{335*day - time.Second, password.RotationCurrent, 31, 0},
		{335 * day, password.RotationDueSoon, 30, 1},
		{340 * day, password.RotationDueSoon, 25, 1},
		{365*day - time.Second, password.RotationDueSoon, 1, 1},
		{365 * day, password.RotationExpired, 0, 2},
		{400 * day, password.RotationExpired, 0, 2},
	} {
		f.clock.Set(t0.Add(tt.at))
		r, err := f.svc.RotationStatus(ctx, "sub-1")
		require.NoError(t, err)
		assert.Equal(t, tt.state, r.State, "at %v", tt.at)
		assert.Equal(t, tt.daysLeft, r.DaysLeft, "at %v", tt.at)
		assert.True(t, r.DueAt.Equal(t0.Add(365*day)))
		assert.Equal(t, tt.state == password.RotationExpired, r.MustChange())
		n := 0
		for _, typ := range f.events.Types() {
			if typ == notify.PasswordRotationDue {
				n++
			}
		}
		assert.Equal(t, tt.events, n, "at %v", tt.at)
	}
	e, _ := f.events.Last(notify.PasswordRotationDue)
	assert.Equal(t, "expired", e.Attributes["state"])

	out, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: good})
	require.NoError(t, err)
	assert.True(t, out.Rotation.MustChange())

	_, err = f.svc.Change(ctx, password.ChangeRequest{Subscriber: "sub-1", Current: good, New: "amber kettle whistles at dawn"})
	require.NoError(t, err)
	e, _ = f.events.Last(notify.PasswordChanged)
	assert.Equal(t, "rotation", e.Attributes["reason"])
	r, err := f.svc.RotationStatus(ctx, "sub-1")
	require.NoError(t, err)
	assert.Equal(t, password.RotationCurrent, r.State)
	assert.Equal(t, 365, r.DaysLeft)

	_, err = f.svc.RotationStatus(ctx, "nobody")
	assert.ErrorIs(t, err, password.ErrNotFound)
}

func TestNISTHasNoRotation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{Policy: password.NISTPolicy()})
	f.enroll(t, "sub-1", good)
	f.clock.Advance(10 * 365 * 24 * time.Hour)
	r, err := f.svc.RotationStatus(ctx, "sub-1")
	require.NoError(t, err)
	assert.Equal(t, password.RotationCurrent, r.State)
	assert.True(t, r.DueAt.IsZero())
	assert.Empty(t, f.events.Types())

	res, err := f.svc.Change(ctx, password.ChangeRequest{Subscriber: "sub-1", Current: good, New: good})
	assert.ErrorIs(t, err, password.ErrRejected, "NIST still refuses the current password")
	assert.True(t, res.Has(password.ReasonReused))
}

func TestReportCompromise(t *testing.T) {
	ctx := context.Background()
	for _, p := range []password.Policy{password.DefaultPolicy(), password.NISTPolicy()} {
		t.Run(p.Name, func(t *testing.T) {
			f := newFixture(t, password.Config{Policy: p})
			f.enroll(t, "sub-1", good)
			agent := notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"}
			require.NoError(t, f.svc.ReportCompromise(ctx, "sub-1", agent, "chat"))
			e, ok := f.events.Last(notify.PasswordCompromised)
			require.True(t, ok)
			assert.Equal(t, agent, e.Actor)

			out, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: good})
			require.NoError(t, err)
			assert.Equal(t, password.RotationCompromised, out.Rotation.State)
			assert.True(t, out.Rotation.MustChange())

			_, err = f.svc.Change(ctx, password.ChangeRequest{Subscriber: "sub-1", Current: good, New: "amber kettle whistles at dawn"})
			require.NoError(t, err)
			e, _ = f.events.Last(notify.PasswordChanged)
			assert.Equal(t, "compromise", e.Attributes["reason"])
			r, _ := f.svc.RotationStatus(ctx, "sub-1")
			assert.Equal(t, password.RotationCurrent, r.State)
		})
	}
	f := newFixture(t, password.Config{})
	assert.ErrorIs(t, f.svc.ReportCompromise(ctx, "nobody", notify.Actor{Kind: notify.ActorSystem}, ""), password.ErrNotFound)
}

func TestPublishFailuresFailClosed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{})
	f.enroll(t, "sub-1", good)
	f.events.Err = errors.New("outbox down")
	assert.ErrorContains(t, f.svc.ReportCompromise(ctx, "sub-1", notify.Actor{Kind: notify.ActorSubscriber}, "app"), "outbox down")
	_, err := f.svc.Change(ctx, password.ChangeRequest{Subscriber: "sub-1", Current: good, New: "amber kettle whistles at dawn"})
	assert.ErrorContains(t, err, "not accepted")
}

func TestRotationNoticeRetriedAfterPublishFailure(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{})
	f.enroll(t, "sub-1", good)
	f.clock.Advance(350 * 24 * time.Hour)
	f.events.Err = errors.New("outbox down")
	_, err := f.svc.RotationStatus(ctx, "sub-1")
	require.ErrorContains(t, err, "outbox down")
	f.events.Err = nil
	r, err := f.svc.RotationStatus(ctx, "sub-1")
	require.NoError(t, err)
	assert.Equal(t, password.RotationDueSoon, r.State)
	assert.Equal(t, []notify.Type{notify.PasswordRotationDue}, f.events.Types(), "the lost notice is sent on the next call")
}

func TestEmptySubscriber(t *testing.T) {
	f := newFixture(t, password.Config{})
	_, err := f.svc.Enroll(context.Background(), "", good, password.Subject{})
	assert.ErrorIs(t, err, password.ErrNoSubscriber)
	_, err = f.svc.Verify(context.Background(), password.SignIn{Password: good})
	assert.ErrorIs(t, err, password.ErrNoSubscriber)
}

func TestEnrollBreachFailsClosed(t *testing.T) {
	ctx := context.Background()
	down := password.BreachCheckerFunc(func(context.Context, [20]byte) (int, error) {
		return 0, password.ErrBreachUnavailable
	})
	f := newFixture(t, password.Config{Breach: down})
	res, err := f.svc.Enroll(ctx, "sub-1", good, password.Subject{})
	assert.ErrorIs(t, err, password.ErrRejected)
	assert.Equal(t, []password.Reason{password.ReasonBreachUnverified}, res.Reasons())
	_, err = f.creds.Get(ctx, "sub-1")
	assert.ErrorIs(t, err, password.ErrNotFound)
}

// barrierAttempts holds every Failures read of key until n callers have read it, so
// that n concurrent sign-ins all see the same count before any of them adds a failure:
// the worst interleaving, made deterministic.
type barrierAttempts struct {
	*memory.PasswordAttempts
	key     string
	arrived sync.WaitGroup
	n       int
	mu      sync.Mutex
}

func (b *barrierAttempts) Failures(ctx context.Context, key string) (password.Attempts, error) {
	a, err := b.PasswordAttempts.Failures(ctx, key)
	if key != b.key {
		return a, err
	}
	b.mu.Lock()
	wait := b.n > 0
	if wait {
		b.n--
		b.arrived.Done()
	}
	b.mu.Unlock()
	if wait {
		b.arrived.Wait()
	}
	return a, err
}

// TestConcurrentGuessesCannotPassTheThreshold: with one failure left before the
// temporary lock, a burst of concurrent guesses that all read the count before any of
// them records a failure gets exactly one password check, like a sequential burst.
func TestConcurrentGuessesCannotPassTheThreshold(t *testing.T) {
	for _, tt := range []struct {
		name   string
		key    string
		client string
		policy password.LockoutPolicy
	}{
		{"per subscriber", "s:sub-1", "", password.LockoutPolicy{Threshold: 3}},
		{"per client", "c:5:sub-1:198.51.100.7", "198.51.100.7", password.LockoutPolicy{Threshold: 50, ClientThreshold: 3}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			const burst = 8
			clock := fakeclock.New(t0)
			opts := memory.Options{Now: clock.Now}
			creds := memory.NewPassword(opts)
			attempts := &barrierAttempts{PasswordAttempts: memory.NewPasswordAttempts(opts), key: tt.key}
			svc, err := password.New(password.Config{Now: clock.Now, Lockout: tt.policy}, creds, attempts, &notify.Recorder{})
			require.NoError(t, err)
			_, err = svc.Enroll(ctx, "sub-1", good, password.Subject{})
			require.NoError(t, err)
			for range 2 {
				_, err := attempts.AddFailure(ctx, tt.key, 100, t0, time.Time{})
				require.NoError(t, err)
			}

			attempts.n = burst
			attempts.arrived.Add(burst)
			counts := concurrentGuesses(burst, func() error {
				_, err := svc.Verify(ctx, password.SignIn{Subscriber: "sub-1", Password: "guess guess guess", ClientKey: tt.client})
				return err
			})
			assert.Equal(t, map[string]int{"mismatch": 1, "locked": burst - 1}, counts)
		})
	}
}

// concurrentGuesses runs guess n times at once and tallies the outcomes: "mismatch",
// "locked", or the text of any other error (nil included).
func concurrentGuesses(n int, guess func() error) map[string]int {
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := guess()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, password.ErrMismatch):
				counts["mismatch"]++
			case errors.Is(err, password.ErrLocked):
				counts["locked"]++
			default:
				counts[fmt.Sprint(err)]++
			}
		})
	}
	wg.Wait()
	return counts
}
