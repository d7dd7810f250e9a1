package password_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/redacttest"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/password"
	"github.com/carrierguard/carrierguard/store/memory"
)

// small is a lockout policy with the default shape at a fifth of the size, so that
// tests spend few password hashes: a hard lock at 20, 5 per client, so 4 clients.
var small = password.LockoutPolicy{MaxConsecutive: 20, ClientMaxConsecutive: 5, ClientThreshold: 3}

func TestClientsToHardLock(t *testing.T) {
	for _, tt := range []struct {
		policy password.LockoutPolicy
		want   int
	}{
		{password.LockoutPolicy{}, 10},
		{small, 4},
		{password.LockoutPolicy{ClientMaxConsecutive: 30}, 4},
		{password.LockoutPolicy{ClientMaxConsecutive: 100}, 1},
		{password.LockoutPolicy{MaxConsecutive: 6}, 1},
		{password.LockoutPolicy{MaxConsecutive: 100, ClientMaxConsecutive: 1}, 100},
	} {
		assert.Equal(t, tt.want, tt.policy.ClientsToHardLock(), "%+v", tt.policy)
	}
}

func TestLockoutPolicyValidates(t *testing.T) {
	for _, tt := range []struct {
		name   string
		policy password.LockoutPolicy
		want   string
	}{
		{"client cap above the subscriber cap", password.LockoutPolicy{MaxConsecutive: 20, ClientMaxConsecutive: 21}, "ClientMaxConsecutive"},
		{"strangers kept longer than clients", password.LockoutPolicy{StrangerRetention: 48 * time.Hour, ClientRetention: 24 * time.Hour}, "StrangerRetention"},
		{"negative client cap", password.LockoutPolicy{ClientMaxConsecutive: -1}, "ClientMaxConsecutive"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := password.New(password.Config{Lockout: tt.policy}, memory.NewPassword(memory.Options{}),
				memory.NewPasswordAttempts(memory.Options{}), &notify.Recorder{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// A stranger guesses the owner's password from fewer addresses than ClientsToHardLock,
// a hundred times over eight days, waiting out every temporary lock. Each address is
// refused after its cap without being counted, so the owner can still sign in. Remove
// the per-client cap and the subscriber reaches its hard lock.
func TestStrangerCannotHardLockAlone(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{Lockout: small})
	f.enroll(t, "owner", good)
	addrs := []string{"198.51.100.7", "203.0.113.9", "2001:db8:aa:1::1"}
	require.Less(t, len(addrs), small.ClientsToHardLock())

	checked, refused := 0, 0
	for i := range 100 {
		f.clock.Advance(2 * time.Hour) // past any temporary lock
		_, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: fmt.Sprintf("guess number %d", i), ClientKey: addrs[i%len(addrs)]})
		var le *password.LockedError
		switch {
		case errors.Is(err, password.ErrMismatch):
			checked++
		case errors.As(err, &le):
			refused++
			assert.False(t, le.Until.IsZero(), "a client at its cap is refused until its count expires, not for ever")
		default:
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	assert.Equal(t, len(addrs)*small.ClientMaxConsecutive, checked, "each address gets its cap of guesses, no more")
	assert.Equal(t, 100-checked, refused)
	a, err := f.attempts.Failures(ctx, "s:owner")
	require.NoError(t, err)
	assert.Less(t, a.Failures, small.MaxConsecutive)
	for _, e := range f.events.Events() {
		assert.NotEqual(t, "until_recovery", e.Attributes["scope"], "no hard lock was announced")
	}

	f.clock.Advance(2 * time.Hour)
	_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: good, ClientKey: "192.0.2.50"})
	require.NoError(t, err, "the owner signs in from home")
	_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: "guess again", ClientKey: addrs[0]})
	assert.ErrorIs(t, err, password.ErrLocked, "the owner's success does not free the stranger's address")

	// Once its count expires, an address gets a fresh allowance, counted from the
	// owner's latest success: still far from the hard lock.
	f.clock.Advance(31 * 24 * time.Hour)
	_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: "guess again", ClientKey: addrs[0]})
	assert.ErrorIs(t, err, password.ErrMismatch)
}

// Credential stuffing from many addresses, one guess each, still reaches the NIST cap.
func TestDistributedGuessesStillHardLock(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{Lockout: small})
	f.enroll(t, "owner", good)
	for i := range small.MaxConsecutive {
		f.clock.Advance(2 * time.Hour)
		_, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: "stuffed credential", ClientKey: fmt.Sprintf("198.51.100.%d", i)})
		require.ErrorIs(t, err, password.ErrMismatch, "guess %d", i)
	}
	e, ok := f.events.Last(notify.Lockout)
	require.True(t, ok)
	assert.Equal(t, "until_recovery", e.Attributes["scope"])
	f.clock.Advance(1000 * time.Hour)
	_, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: good, ClientKey: "192.0.2.50"})
	var le *password.LockedError
	require.ErrorAs(t, err, &le)
	assert.True(t, le.Until.IsZero(), "hard-locked until lifted")
}

// IPv6 clients are one client per /64: rotating addresses within it does not buy more
// guesses. IPv4-mapped addresses are their IPv4 address.
func TestClientKeyIPv6By64(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name          string
		first, second string
		same          bool
	}{
		{"same /64", "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", true},
		{"same /64, zone", "fe80::1%eth0", "fe80::2", true},
		{"next /64", "2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"IPv4-mapped", "::ffff:198.51.100.7", "198.51.100.7", true},
		{"IPv4 neighbours", "198.51.100.7", "198.51.100.8", false},
		{"not an address", "device-1", "device-2", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, password.Config{Lockout: password.LockoutPolicy{ClientThreshold: 2}})
			f.enroll(t, "owner", good)
			for range 2 {
				_, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: "wrong wrong wrong", ClientKey: tt.first})
				require.ErrorIs(t, err, password.ErrMismatch)
			}
			_, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: good, ClientKey: tt.second})
			assert.Equal(t, tt.same, errors.Is(err, password.ErrLocked), "second client locked: %v", err)
		})
	}
}

// expiryRecorder remembers the expiry each key was last given.
type expiryRecorder struct {
	*memory.PasswordAttempts
	expires map[string]time.Time
}

func (r *expiryRecorder) AddFailure(ctx context.Context, key string, limit int, at, expires time.Time) (password.Attempts, error) {
	r.expires[key] = expires
	return r.PasswordAttempts.AddFailure(ctx, key, limit, at, expires)
}

// Failures for subscriber IDs without a password (invented emails) and every client
// count expire; a real subscriber's own count never does.
func TestStrangerStateExpires(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{Lockout: password.LockoutPolicy{Threshold: 3}})
	rec := &expiryRecorder{PasswordAttempts: f.attempts, expires: map[string]time.Time{}}
	svc, err := password.New(password.Config{Now: f.clock.Now, Lockout: password.LockoutPolicy{Threshold: 3}}, f.creds, rec, f.events)
	require.NoError(t, err)
	f.enroll(t, "owner", good)

	for _, sub := range []string{"owner", "nobody@example.com"} {
		_, err := svc.Verify(ctx, password.SignIn{Subscriber: sub, Password: "wrong wrong wrong", ClientKey: "198.51.100.7"})
		require.ErrorIs(t, err, password.ErrMismatch)
	}
	assert.True(t, rec.expires["s:owner"].IsZero(), "the owner's count never expires")
	assert.Equal(t, t0.Add(30*24*time.Hour), rec.expires["c:5:owner:198.51.100.7"], "a client count expires after ClientRetention")
	assert.Equal(t, t0.Add(24*time.Hour), rec.expires["s:nobody@example.com"], "a stranger expires after StrangerRetention")
	assert.Equal(t, t0.Add(24*time.Hour), rec.expires["c:18:nobody@example.com:198.51.100.7"])

	// The stranger ID locks like a real one (no enumeration), and is forgotten a day later.
	for range 2 {
		_, err := svc.Verify(ctx, password.SignIn{Subscriber: "nobody@example.com", Password: "wrong wrong wrong"})
		require.ErrorIs(t, err, password.ErrMismatch)
	}
	_, err = svc.Verify(ctx, password.SignIn{Subscriber: "nobody@example.com", Password: "wrong wrong wrong"})
	require.ErrorIs(t, err, password.ErrLocked)
	f.clock.Advance(24 * time.Hour)
	_, err = svc.Verify(ctx, password.SignIn{Subscriber: "nobody@example.com", Password: "wrong wrong wrong"})
	require.ErrorIs(t, err, password.ErrMismatch, "a day later the stranger's count is gone")
	a, _ := f.attempts.Failures(ctx, "s:nobody@example.com")
	assert.Equal(t, 1, a.Failures, "and counts again from one")
}

// hardLock brings the subscriber's count to the hard lock.
func hardLock(t *testing.T, f *fixture, sub string, max int) {
	t.Helper()
	for {
		_, err := f.attempts.AddFailure(context.Background(), "s:"+sub, max, t0, time.Time{})
		if errors.Is(err, password.ErrFailureLimit) {
			break
		}
		require.NoError(t, err)
	}
	_, err := f.svc.Verify(context.Background(), password.SignIn{Subscriber: sub, Password: good})
	var le *password.LockedError
	require.ErrorAs(t, err, &le)
	require.True(t, le.Until.IsZero(), "hard-locked")
}

func TestLiftHardLockByAgent(t *testing.T) {
	ctx := context.Background()
	agent := notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"}
	for _, tt := range []struct {
		name  string
		proof password.LiftProof
	}{
		{"agent without ID", password.LiftProof{Agent: notify.Actor{Kind: notify.ActorAgent}, IdentityCheck: "government_id_in_store"}},
		{"subscriber claiming to be an agent", password.LiftProof{Agent: notify.Actor{Kind: notify.ActorSubscriber}, IdentityCheck: "x"}},
		{"system", password.LiftProof{Agent: notify.Actor{Kind: notify.ActorSystem, ID: "batch"}, IdentityCheck: "x"}},
		{"no identity check", password.LiftProof{Agent: agent}},
		{"agent setting a password", password.LiftProof{Agent: agent, IdentityCheck: "government_id_in_store", NewPassword: "violet kettle under nine moons"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, password.Config{Lockout: small})
			f.enroll(t, "owner", good)
			hardLock(t, f, "owner", small.MaxConsecutive)
			_, err := f.svc.LiftHardLock(ctx, "owner", tt.proof)
			require.ErrorIs(t, err, password.ErrLiftProof)
			_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: good})
			assert.ErrorIs(t, err, password.ErrLocked, "still locked")
		})
	}

	f := newFixture(t, password.Config{Lockout: small})
	f.enroll(t, "owner", good)
	_, err := f.svc.LiftHardLock(ctx, "owner", password.LiftProof{Agent: agent, IdentityCheck: "government_id_in_store", Channel: "store"})
	require.ErrorIs(t, err, password.ErrNotHardLocked)

	hardLock(t, f, "owner", small.MaxConsecutive)
	f.events.Reset()
	_, err = f.svc.LiftHardLock(ctx, "owner", password.LiftProof{Agent: agent, IdentityCheck: "government_id_in_store", Channel: "store"})
	require.NoError(t, err)
	e, ok := f.events.Last(notify.LockoutLifted)
	require.True(t, ok, "the lift is audited")
	assert.Equal(t, agent, e.Actor)
	assert.Equal(t, "store", e.Channel)
	assert.Equal(t, "agent_identity_check", e.Attributes["method"])
	assert.Equal(t, "government_id_in_store", e.Attributes["identity_check"])
	assert.Equal(t, "20", e.Attributes["failures"])
	_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: good})
	assert.NoError(t, err, "the owner signs in with the password they had")
}

func TestLiftHardLockBySubscriber(t *testing.T) {
	ctx := context.Background()
	const next = "violet kettle under nine moons"
	lift := func(f *fixture, at time.Time, pw string) (password.Result, error) {
		return f.svc.LiftHardLock(ctx, "owner", password.LiftProof{ContactCodeAt: at, NewPassword: pw, ClientKey: "192.0.2.50", Channel: "app"})
	}
	t.Run("refused", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			age  time.Duration // of the contact code, before now
			pw   string
			want error
		}{
			{"no contact code", -1, next, password.ErrLiftProof},
			{"stale contact code", password.LiftProofMaxAge + time.Second, next, password.ErrLiftProof},
			{"contact code from the future", -time.Minute, next, password.ErrLiftProof},
			{"no new password", time.Minute, "", password.ErrEmpty},
			{"the old password again", time.Minute, good, password.ErrRejected},
			{"a weak password", time.Minute, "password123", password.ErrRejected},
		} {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, password.Config{Lockout: small})
				f.enroll(t, "owner", good)
				hardLock(t, f, "owner", small.MaxConsecutive)
				at := f.clock.Now().Add(-tt.age)
				if tt.age == -1 {
					at = time.Time{}
				}
				_, err := lift(f, at, tt.pw)
				require.ErrorIs(t, err, tt.want)
				_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: good})
				assert.ErrorIs(t, err, password.ErrLocked, "still locked")
				rec, _ := f.creds.Get(ctx, "owner")
				assert.Empty(t, rec.History, "the password did not change")
			})
		}
	})
	t.Run("not locked", func(t *testing.T) {
		f := newFixture(t, password.Config{Lockout: small})
		f.enroll(t, "owner", good)
		_, err := lift(f, f.clock.Now(), next)
		require.ErrorIs(t, err, password.ErrNotHardLocked, "a lift is no general password reset")
		_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: good})
		require.NoError(t, err)
	})
	t.Run("lifted", func(t *testing.T) {
		f := newFixture(t, password.Config{Lockout: small})
		f.enroll(t, "owner", good)
		for range 3 { // the owner's own client had failures too
			_, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: "wrong wrong wrong", ClientKey: "192.0.2.50"})
			require.ErrorIs(t, err, password.ErrMismatch)
		}
		hardLock(t, f, "owner", small.MaxConsecutive)
		f.events.Reset()
		f.clock.Advance(time.Hour)
		_, err := lift(f, f.clock.Now().Add(-5*time.Minute), next)
		require.NoError(t, err)
		assert.Equal(t, []notify.Type{notify.PasswordChanged, notify.LockoutLifted}, f.events.Types())
		e, _ := f.events.Last(notify.PasswordChanged)
		assert.Equal(t, "lock_reset", e.Attributes["reason"])
		e, _ = f.events.Last(notify.LockoutLifted)
		assert.Equal(t, "contact_code_and_reset", e.Attributes["method"])
		assert.Equal(t, notify.Actor{Kind: notify.ActorSubscriber}, e.Actor)

		_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: good, ClientKey: "192.0.2.50"})
		assert.ErrorIs(t, err, password.ErrMismatch, "the guessed password is gone")
		_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: next, ClientKey: "192.0.2.50"})
		assert.NoError(t, err, "the new one works, from the client that asked")
	})
}

// A LiftProof carries a new password: it never prints, logs or encodes it.
func TestLiftProofNeverShowsThePassword(t *testing.T) {
	p := password.LiftProof{NewPassword: "Quixotic Marmalade Vortex", ClientKey: "203.0.113.9", Channel: "app",
		Subject: password.Subject{Name: "Ada Lovelace"}}
	for _, v := range []any{p, &p, []password.LiftProof{p}} {
		out := redacttest.Renderings(t, v)
		for _, s := range out {
			assert.NotContains(t, s, "Marmalade")
			assert.NotContains(t, s, "Lovelace")
		}
		assert.Contains(t, strings.Join(out, "\n"), "203.0.113.9", "other fields still show")
	}
}

// Attack: a stranger on one IPv6 site (a home line gets a /56 or a /48) moves to a new
// /64 each time his address is capped, and so collects ClientsToHardLock clients alone.
// An IPv6 client's /48 counts as one client toward ClientMaxConsecutive as well, so the
// owner can still sign in.
func TestAttackIPv6SiteHardLocksAlone(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, password.Config{Lockout: small})
	f.enroll(t, "owner", good)
	checked := 0
	for i := range 3 * small.MaxConsecutive {
		// Past any temporary lock, from a new /64 once the last one was capped.
		f.clock.Advance(2 * time.Hour)
		addr := fmt.Sprintf("2001:db8:aa:%x::1", i/small.ClientMaxConsecutive)
		_, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: fmt.Sprintf("guess number %d", i), ClientKey: addr})
		if errors.Is(err, password.ErrMismatch) {
			checked++
		}
	}
	assert.Equal(t, small.ClientMaxConsecutive, checked, "one /48 gets one client's cap of guesses")
	f.clock.Advance(2 * time.Hour)
	_, err := f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: good, ClientKey: "192.0.2.50"})
	require.NoError(t, err, "a stranger on one IPv6 site hard-locked the owner")
	// Another site is another client.
	_, err = f.svc.Verify(ctx, password.SignIn{Subscriber: "owner", Password: "guess again", ClientKey: "2001:db8:bb:1::1"})
	assert.ErrorIs(t, err, password.ErrMismatch)
}
