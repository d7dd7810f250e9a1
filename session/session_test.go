package session_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/store/memory"
)

var (
	epoch  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	phone  = session.Client{Device: "fp-phone", UserAgent: "CarrierApp/5.2 (iOS 19)", IP: netip.MustParseAddr("203.0.113.10")}
	laptop = session.Client{Device: "fp-laptop", UserAgent: "Firefox/140", IP: netip.MustParseAddr("198.51.100.20")}
)

type fixture struct {
	clock *fakeclock.Clock
	store *memory.Session
	rec   *notify.Recorder
	svc   *session.Service
}

func newFixture(t testing.TB, cfg session.Config) *fixture {
	t.Helper()
	f := &fixture{clock: fakeclock.New(epoch), rec: &notify.Recorder{}}
	f.store = memory.NewSession(memory.Options{Now: f.clock.Now})
	cfg.Now = f.clock.Now
	svc, err := session.New(cfg, f.store, f.rec)
	require.NoError(t, err)
	f.svc = svc
	return f
}

func (f *fixture) create(t testing.TB, sub string, c session.Client, proofs ...session.Proof) (string, session.Session) {
	t.Helper()
	tok, s, err := f.svc.Create(context.Background(), sub, c, proofs...)
	require.NoError(t, err)
	return tok, s
}

func TestNewConfig(t *testing.T) {
	st, pub := memory.NewSession(memory.Options{}), &notify.Recorder{}
	tests := []struct {
		name string
		cfg  session.Config
		want string
	}{
		{"negative idle", session.Config{IdleTimeout: -time.Minute}, "IdleTimeout"},
		{"negative lifetime", session.Config{MaxLifetime: -time.Minute}, "MaxLifetime"},
		{"idle above lifetime", session.Config{IdleTimeout: 2 * time.Hour, MaxLifetime: time.Hour}, "IdleTimeout"},
		{"idle above default lifetime", session.Config{IdleTimeout: 25 * time.Hour}, "MaxLifetime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := session.New(tt.cfg, st, pub)
			require.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := session.New(session.Config{}, nil, pub)
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
	_, err = session.New(session.Config{}, st, nil)
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
	_, err = session.New(session.Config{}, st, pub)
	assert.NoError(t, err)
}

func TestCreateAndValidate(t *testing.T) {
	f := newFixture(t, session.Config{})
	ctx := context.Background()
	tok, s := f.create(t, "alice", phone, session.ProofPassword)

	assert.Len(t, tok, session.TokenLen)
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	require.NoError(t, err)
	assert.Len(t, raw, 32, "tokens carry 256 bits")
	assert.Equal(t, epoch.Add(time.Hour), s.IdleExpiresAt)
	assert.Equal(t, epoch.Add(24*time.Hour), s.ExpiresAt)
	assert.Equal(t, epoch, s.PasswordAt)
	assert.True(t, s.SecondFactorAt.IsZero())

	// Only the hash is stored.
	rec, err := f.store.Get(ctx, sha256.Sum256(raw))
	require.NoError(t, err)
	assert.Equal(t, s.ID, rec.ID)
	assert.NotContains(t, string(rec.Hash[:]), tok)

	f.clock.Advance(10 * time.Minute)
	got, err := f.svc.Validate(ctx, tok, phone)
	require.NoError(t, err)
	assert.Equal(t, "alice", got.Subscriber)
	assert.Equal(t, epoch.Add(10*time.Minute), got.LastSeenAt)
	assert.Equal(t, epoch.Add(70*time.Minute), got.IdleExpiresAt)

	tok2, _ := f.create(t, "alice", phone)
	assert.NotEqual(t, tok, tok2, "tokens are random")
	assert.Empty(t, f.rec.Events(), "creating and validating sessions publishes nothing")
}

func TestCreateRejectsBadInput(t *testing.T) {
	f := newFixture(t, session.Config{})
	ctx := context.Background()
	_, _, err := f.svc.Create(ctx, "", phone)
	assert.Error(t, err)
	_, _, err = f.svc.Create(ctx, "alice", session.Client{IP: phone.IP})
	assert.ErrorIs(t, err, session.ErrInvalidClient)
	_, _, err = f.svc.Create(ctx, "alice", session.Client{Device: "fp"})
	assert.ErrorIs(t, err, session.ErrInvalidClient)
	_, _, err = f.svc.Create(ctx, "alice", phone, session.Proof("magic"))
	assert.Error(t, err)
	list, err := f.svc.List(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list, "nothing half-written")
}

func TestCreateFailsClosedOnRandomness(t *testing.T) {
	clock := fakeclock.New(epoch)
	svc, err := session.New(session.Config{Now: clock.Now, Rand: strings.NewReader("short")},
		memory.NewSession(memory.Options{Now: clock.Now}), &notify.Recorder{})
	require.NoError(t, err)
	_, _, err = svc.Create(context.Background(), "alice", phone)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	// A request that will be refused is refused before any randomness is drawn.
	_, _, err = svc.Create(context.Background(), "alice", phone, session.Proof("magic"))
	require.Error(t, err)
	assert.NotErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), "unknown proof")
}

func TestNotAuthenticated(t *testing.T) {
	f := newFixture(t, session.Config{})
	ctx := context.Background()
	tok, s := f.create(t, "alice", phone)
	revoked, rs := f.create(t, "alice", phone)
	require.NoError(t, f.svc.Revoke(ctx, "alice", rs.ID, session.By{}))
	expired, _ := f.create(t, "bob", phone)
	_ = s

	unknown := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	tests := map[string]string{
		"empty":             "",
		"short":             tok[:42],
		"long":              tok + "A",
		"not base64url":     strings.Repeat("!", 43),
		"std alphabet":      "+" + tok[1:],
		"non-canonical end": tok[:42] + "B", // same bytes, unused bits set: must not authenticate
		"unknown":           unknown,
		"revoked":           revoked,
		"padded":            tok[:40] + "===",
	}
	// bob's session idles out; alice's are kept alive.
	f.clock.Advance(59 * time.Minute)
	_, err := f.svc.Validate(ctx, tok, phone)
	require.NoError(t, err)
	f.clock.Advance(2 * time.Minute)
	tests["expired"] = expired

	for name, token := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.Validate(ctx, token, phone)
			assert.Equal(t, session.ErrNotAuthenticated, err, "every failure is the same error value")
		})
	}
	_, err = f.svc.Validate(ctx, tok, phone)
	assert.NoError(t, err, "the live session still works")
}

func TestIdleExpiry(t *testing.T) {
	f := newFixture(t, session.Config{})
	ctx := context.Background()
	tok, _ := f.create(t, "alice", phone)

	f.clock.Advance(59 * time.Minute)
	_, err := f.svc.Validate(ctx, tok, phone)
	require.NoError(t, err, "used just before the idle deadline")
	f.clock.Advance(59 * time.Minute)
	_, err = f.svc.Validate(ctx, tok, phone)
	require.NoError(t, err, "each use moves the idle deadline")
	f.clock.Advance(time.Hour)
	_, err = f.svc.Validate(ctx, tok, phone)
	assert.Equal(t, session.ErrNotAuthenticated, err, "an hour without use ends the session")
	list, err := f.svc.List(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestAbsoluteExpiry(t *testing.T) {
	f := newFixture(t, session.Config{IdleTimeout: 30 * time.Minute, MaxLifetime: 4 * time.Hour})
	ctx := context.Background()
	tok, _ := f.create(t, "alice", phone)
	var last session.Session
	for elapsed := 20 * time.Minute; elapsed < 4*time.Hour; elapsed += 20 * time.Minute {
		f.clock.Set(epoch.Add(elapsed))
		s, err := f.svc.Validate(ctx, tok, phone)
		require.NoError(t, err, "active session at %v", elapsed)
		assert.False(t, s.IdleExpiresAt.After(s.ExpiresAt), "idle deadline never passes the absolute one")
		last = s
	}
	assert.Equal(t, epoch.Add(4*time.Hour), last.IdleExpiresAt)
	f.clock.Set(epoch.Add(4 * time.Hour))
	_, err := f.svc.Validate(ctx, tok, phone)
	assert.Equal(t, session.ErrNotAuthenticated, err, "activity never extends a session past MaxLifetime")
}

func TestListAndRevoke(t *testing.T) {
	f := newFixture(t, session.Config{})
	ctx := context.Background()
	tokPhone, sPhone := f.create(t, "alice", phone)
	f.clock.Advance(time.Minute)
	tokLaptop, sLaptop := f.create(t, "alice", laptop)
	_, sBob := f.create(t, "bob", phone)

	list, err := f.svc.List(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []string{sLaptop.ID, sPhone.ID}, []string{list[0].ID, list[1].ID}, "most recently used first")

	assert.ErrorIs(t, f.svc.Revoke(ctx, "alice", sBob.ID, session.By{}), session.ErrNotFound, "cannot revoke another subscriber's session")
	require.NoError(t, f.svc.Revoke(ctx, "alice", sLaptop.ID, session.By{Channel: "app"}))
	assert.ErrorIs(t, f.svc.Revoke(ctx, "alice", sLaptop.ID, session.By{}), session.ErrNotFound)

	_, err = f.svc.Validate(ctx, tokLaptop, laptop)
	assert.Equal(t, session.ErrNotAuthenticated, err)
	_, err = f.svc.Validate(ctx, tokPhone, phone)
	assert.NoError(t, err)

	require.Equal(t, []notify.Type{notify.SessionsRevoked}, f.rec.Types())
	ev, _ := f.rec.Last(notify.SessionsRevoked)
	assert.Equal(t, "alice", ev.Subscriber)
	assert.Equal(t, notify.Actor{Kind: notify.ActorSubscriber}, ev.Actor)
	assert.Equal(t, "app", ev.Channel)
	assert.Equal(t, map[string]string{"session": sLaptop.ID, "scope": "one", "count": "1"}, ev.Attributes)
}

func TestRevokeAll(t *testing.T) {
	ctx := context.Background()
	t.Run("except current", func(t *testing.T) {
		f := newFixture(t, session.Config{})
		current, cur := f.create(t, "alice", phone)
		var others []string
		for range 3 {
			tok, _ := f.create(t, "alice", laptop)
			others = append(others, tok)
		}
		bob, _ := f.create(t, "bob", laptop)

		n, err := f.svc.RevokeAll(ctx, "alice", cur.ID, session.By{Channel: "app"})
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		for _, tok := range others {
			_, err := f.svc.Validate(ctx, tok, laptop)
			assert.Equal(t, session.ErrNotAuthenticated, err)
		}
		_, err = f.svc.Validate(ctx, current, phone)
		assert.NoError(t, err, "the current session is kept")
		_, err = f.svc.Validate(ctx, bob, laptop)
		assert.NoError(t, err, "other subscribers are untouched")

		ev, ok := f.rec.Last(notify.SessionsRevoked)
		require.True(t, ok)
		assert.Equal(t, map[string]string{"scope": "all_but_current", "kept": cur.ID, "count": "3"}, ev.Attributes)
	})
	t.Run("everything, by an agent", func(t *testing.T) {
		f := newFixture(t, session.Config{})
		a, _ := f.create(t, "alice", phone)
		b, _ := f.create(t, "alice", laptop)
		agent := session.By{Actor: notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"}, Channel: "phone"}
		n, err := f.svc.RevokeAll(ctx, "alice", "", agent)
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		for _, tok := range []string{a, b} {
			_, err := f.svc.Validate(ctx, tok, phone)
			assert.ErrorIs(t, err, session.ErrNotAuthenticated)
		}
		ev, _ := f.rec.Last(notify.SessionsRevoked)
		assert.Equal(t, agent.Actor, ev.Actor)
		assert.Equal(t, "2", ev.Attributes["count"])

		f.rec.Reset()
		n, err = f.svc.RevokeAll(ctx, "alice", "", session.By{})
		require.NoError(t, err)
		assert.Zero(t, n)
		assert.Empty(t, f.rec.Events(), "nothing revoked, nothing to tell")
	})
	t.Run("agent without ID changes nothing", func(t *testing.T) {
		f := newFixture(t, session.Config{})
		tok, _ := f.create(t, "alice", phone)
		_, err := f.svc.RevokeAll(ctx, "alice", "", session.By{Actor: notify.Actor{Kind: notify.ActorAgent}})
		require.Error(t, err)
		_, err = f.svc.Validate(ctx, tok, phone)
		assert.NoError(t, err)
	})
	t.Run("publisher failure is reported", func(t *testing.T) {
		f := newFixture(t, session.Config{})
		tok, _ := f.create(t, "alice", phone)
		f.rec.Err = errors.New("outbox down")
		n, err := f.svc.RevokeAll(ctx, "alice", "", session.By{})
		assert.ErrorIs(t, err, f.rec.Err)
		assert.Equal(t, 1, n)
		_, err = f.svc.Validate(ctx, tok, phone)
		assert.Equal(t, session.ErrNotAuthenticated, err, "the revocation stands (fail closed)")
	})
}

func TestBindingDeviceMismatch(t *testing.T) {
	f := newFixture(t, session.Config{})
	ctx := context.Background()
	tok, s := f.create(t, "alice", phone)
	other, _ := f.create(t, "alice", laptop)

	thief := phone
	thief.Device = "fp-attacker"
	thief.IP = netip.MustParseAddr("192.0.2.66")
	_, err := f.svc.Validate(ctx, tok, thief)
	require.ErrorIs(t, err, session.ErrBindingViolation)
	assert.ErrorIs(t, err, session.ErrNotAuthenticated)

	_, err = f.svc.Validate(ctx, tok, phone)
	assert.Equal(t, session.ErrNotAuthenticated, err, "the hijacked session is revoked for its owner too")
	_, err = f.svc.Validate(ctx, other, laptop)
	assert.NoError(t, err, "only the violated session is revoked")

	require.Equal(t, []notify.Type{notify.SuspiciousActivity}, f.rec.Types())
	ev, _ := f.rec.Last(notify.SuspiciousActivity)
	assert.Equal(t, "alice", ev.Subscriber)
	assert.Equal(t, notify.ActorSystem, ev.Actor.Kind)
	assert.Equal(t, map[string]string{"reason": "device_mismatch", "session": s.ID, "ip": "192.0.2.66", "revoked": "1"}, ev.Attributes)
}

func TestBindingImpossibleTravel(t *testing.T) {
	miami := netip.MustParseAddr("203.0.113.10")
	california := netip.MustParseAddr("198.51.100.77")
	nextDoor := netip.MustParseAddr("203.0.113.11")
	var moves []session.Move
	var travelErr error
	travel := session.TravelFunc(func(_ context.Context, m session.Move) (bool, error) {
		moves = append(moves, m)
		if travelErr != nil {
			return false, travelErr
		}
		return m.To == california && m.ToAt.Sub(m.FromAt) < 4*time.Hour, nil
	})
	f := newFixture(t, session.Config{Travel: travel})
	ctx := context.Background()
	c := session.Client{Device: "fp-phone", IP: miami}
	tok, _ := f.create(t, "alice", c)

	f.clock.Advance(time.Minute)
	_, err := f.svc.Validate(ctx, tok, c)
	require.NoError(t, err)
	assert.Empty(t, moves, "no travel check while the address is unchanged")

	c.IP = nextDoor
	f.clock.Advance(time.Minute)
	s, err := f.svc.Validate(ctx, tok, c)
	require.NoError(t, err)
	assert.Equal(t, nextDoor, s.LastIP)
	require.Len(t, moves, 1)
	assert.Equal(t, session.Move{Subscriber: "alice", From: miami, FromAt: epoch.Add(time.Minute), To: nextDoor, ToAt: epoch.Add(2 * time.Minute)}, moves[0])

	// The travel check failing refuses the request without revoking, and the next request
	// from the new address is checked again.
	travelErr = errors.New("risk: geoip unavailable")
	c.IP = california
	_, err = f.svc.Validate(ctx, tok, c)
	require.ErrorIs(t, err, travelErr)
	assert.NotErrorIs(t, err, session.ErrNotAuthenticated)
	travelErr = nil

	f.clock.Advance(time.Minute)
	_, err = f.svc.Validate(ctx, tok, c)
	require.ErrorIs(t, err, session.ErrBindingViolation)
	assert.Len(t, moves, 3)
	ev, ok := f.rec.Last(notify.SuspiciousActivity)
	require.True(t, ok)
	assert.Equal(t, "impossible_travel", ev.Attributes["reason"])
	assert.Equal(t, california.String(), ev.Attributes["ip"])

	c.IP = nextDoor
	_, err = f.svc.Validate(ctx, tok, c)
	assert.Equal(t, session.ErrNotAuthenticated, err, "revoked")
}

func TestBindingPublisherFailure(t *testing.T) {
	f := newFixture(t, session.Config{})
	ctx := context.Background()
	tok, _ := f.create(t, "alice", phone)
	f.rec.Err = errors.New("outbox down")
	_, err := f.svc.Validate(ctx, tok, laptop)
	assert.ErrorIs(t, err, session.ErrBindingViolation)
	assert.ErrorIs(t, err, f.rec.Err)
	f.rec.Err = nil
	_, err = f.svc.Validate(ctx, tok, phone)
	assert.Equal(t, session.ErrNotAuthenticated, err, "revoked even though the event failed")
}

func TestCustomDeviceMatch(t *testing.T) {
	// An integrator whose fingerprints carry a volatile suffix compares the stable part.
	match := func(bound, presented string) bool {
		stable := func(s string) string { return strings.SplitN(s, "|", 2)[0] }
		return session.SameDevice(stable(bound), stable(presented))
	}
	f := newFixture(t, session.Config{DeviceMatch: match})
	ctx := context.Background()
	c := session.Client{Device: "install-123|battery=80", IP: phone.IP}
	tok, _ := f.create(t, "alice", c)
	c.Device = "install-123|battery=79"
	_, err := f.svc.Validate(ctx, tok, c)
	require.NoError(t, err)
	c.Device = "install-999|battery=79"
	_, err = f.svc.Validate(ctx, tok, c)
	assert.ErrorIs(t, err, session.ErrBindingViolation)
}

func TestValidateRejectsBadClient(t *testing.T) {
	f := newFixture(t, session.Config{})
	tok, _ := f.create(t, "alice", phone)
	_, err := f.svc.Validate(context.Background(), tok, session.Client{Device: phone.Device})
	assert.ErrorIs(t, err, session.ErrInvalidClient)
	_, err = f.svc.Validate(context.Background(), tok, phone)
	assert.NoError(t, err)
}

func TestStepUpFreshness(t *testing.T) {
	f := newFixture(t, session.Config{})
	ctx := context.Background()
	tok, s := f.create(t, "alice", phone, session.ProofPassword, session.ProofSecondFactor)
	assert.True(t, s.Fresh(session.ProofSecondFactor, 5*time.Minute, f.clock.Now()))

	f.clock.Advance(10 * time.Minute)
	s, err := f.svc.Validate(ctx, tok, phone)
	require.NoError(t, err)
	assert.False(t, s.Fresh(session.ProofSecondFactor, 5*time.Minute, f.clock.Now()), "10 minutes old")
	assert.True(t, s.Fresh(session.ProofPassword, 15*time.Minute, f.clock.Now()))

	s, err = f.svc.StepUp(ctx, tok, phone, session.ProofSecondFactor)
	require.NoError(t, err)
	assert.Equal(t, f.clock.Now(), s.SecondFactorAt)
	assert.Equal(t, epoch, s.PasswordAt, "other proofs keep their time")
	assert.True(t, s.Fresh(session.ProofSecondFactor, 5*time.Minute, f.clock.Now()))

	// The proof time is stored, not just returned.
	f.clock.Advance(time.Minute)
	s, err = f.svc.Validate(ctx, tok, phone)
	require.NoError(t, err)
	assert.Equal(t, epoch.Add(10*time.Minute), s.SecondFactorAt)

	f.clock.Advance(time.Minute)
	s, err = f.svc.StepUp(ctx, tok, phone, session.ProofPassword)
	require.NoError(t, err)
	assert.Equal(t, f.clock.Now(), s.PasswordAt)

	_, err = f.svc.StepUp(ctx, tok, phone, session.Proof("pin"))
	assert.Error(t, err)
	_, err = f.svc.StepUp(ctx, tok, laptop, session.ProofSecondFactor)
	assert.ErrorIs(t, err, session.ErrBindingViolation, "step-up enforces binding")
}

func TestFresh(t *testing.T) {
	now := epoch
	s := session.Session{SecondFactorAt: now.Add(-5 * time.Minute)}
	tests := []struct {
		p      session.Proof
		maxAge time.Duration
		want   bool
	}{
		{session.ProofSecondFactor, 5 * time.Minute, true},
		{session.ProofSecondFactor, 5*time.Minute - time.Nanosecond, false},
		{session.ProofPassword, 24 * time.Hour, false}, // never proved
		{session.Proof("other"), 24 * time.Hour, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, s.Fresh(tt.p, tt.maxAge, now), "%s within %v", tt.p, tt.maxAge)
	}
	future := session.Session{PasswordAt: now.Add(time.Minute)}
	assert.False(t, future.Fresh(session.ProofPassword, time.Hour, now), "a proof from the future is not fresh")
}

// failingStore fails every call, to check the service fails closed.
type failingStore struct{ session.Store }

var errStore = errors.New("store down")

func (failingStore) Get(context.Context, session.TokenHash) (session.Record, error) {
	return session.Record{}, errStore
}

func TestStoreFailureFailsClosed(t *testing.T) {
	f := newFixture(t, session.Config{})
	tok, _ := f.create(t, "alice", phone)
	svc, err := session.New(session.Config{Now: f.clock.Now}, failingStore{f.store}, f.rec)
	require.NoError(t, err)
	_, err = svc.Validate(context.Background(), tok, phone)
	assert.ErrorIs(t, err, errStore)
	assert.NotErrorIs(t, err, session.ErrNotAuthenticated)
}
