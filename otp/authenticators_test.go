package otp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"testing"
	"time"

	potp "github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

type authEnv struct {
	clk   *fakeclock.Clock
	store *memory.OTP
	rec   *notify.Recorder
	auth  *otp.Authenticators
}

func newAuth(t *testing.T, cfg otp.AuthenticatorConfig) authEnv {
	t.Helper()
	clk := storetest.NewClock()
	store := memory.NewOTP(memory.Options{Now: clk.Now})
	kr, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 1, Secret: testkey.New("keyring")}}})
	require.NoError(t, err)
	rec := &notify.Recorder{}
	if cfg.Issuer == "" {
		cfg.Issuer = "Acme Mobile"
	}
	cfg.Now = clk.Now
	auth, err := otp.NewAuthenticators(cfg, store, kr, rec)
	require.NoError(t, err)
	return authEnv{clk, store, rec, auth}
}

// app plays the authenticator app: it reads only the enrollment URI.
type app struct {
	t   *testing.T
	key *otp.Key
	uri otp.KeyURI
}

func scan(t *testing.T, en otp.Enrollment) app {
	t.Helper()
	u, err := otp.ParseKeyURI(en.URI)
	require.NoError(t, err)
	k, err := otp.NewKey(u.Secret, u.Params)
	require.NoError(t, err)
	return app{t, k, u}
}

func (a app) totp(at time.Time) string { return a.key.TOTP(at) }

func (e authEnv) enroll(t *testing.T, sub string, kind otp.Kind) (otp.Enrollment, app) {
	t.Helper()
	en, err := e.auth.Enroll(context.Background(), otp.EnrollRequest{Subscriber: sub, Account: "•••• 1234", Kind: kind})
	require.NoError(t, err)
	return en, scan(t, en)
}

func TestEnrollmentArtifacts(t *testing.T) {
	e := newAuth(t, otp.AuthenticatorConfig{})
	en, a := e.enroll(t, "alice", otp.TOTP)
	assert.Equal(t, otp.KeyURI{Kind: otp.TOTP, Issuer: "Acme Mobile", Account: "•••• 1234", Secret: a.uri.Secret,
		Params: otp.Params{Algorithm: otp.SHA1, Digits: 6, Period: 30 * time.Second}}, a.uri)
	assert.Len(t, a.uri.Secret, 20, "160-bit secret")
	assert.Contains(t, en.URI, "otpauth://totp/Acme%20Mobile:")
	assert.Contains(t, en.URI, "&issuer=Acme%20Mobile")
	assert.NotContains(t, en.Secret, "=", "base32 without padding")
	assert.Equal(t, storetest.Epoch.Add(15*time.Minute), en.ConfirmBy)

	img, err := png.Decode(bytes.NewReader(en.QRCodePNG))
	require.NoError(t, err)
	assert.Equal(t, 256, img.Bounds().Dx())

	// pquerna/otp, standing in for the apps, computes the same codes from the URI.
	pk, err := potp.NewKeyFromURL(en.URI)
	require.NoError(t, err)
	want, err := totp.GenerateCode(pk.Secret(), e.clk.Now())
	require.NoError(t, err)
	assert.Equal(t, want, a.totp(e.clk.Now()))

	// At rest the secret is sealed, bound to subscriber and enrollment.
	rec, err := e.store.GetAuthenticator(context.Background(), "alice")
	require.NoError(t, err)
	assert.False(t, bytes.Contains(rec.SealedSecret, a.uri.Secret))
	assert.Equal(t, en.ID, rec.ID)
}

func TestTOTPLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newAuth(t, otp.AuthenticatorConfig{})
	_, a := e.enroll(t, "alice", otp.TOTP)

	_, err := e.auth.Verify(ctx, "alice", a.totp(e.clk.Now()))
	assert.ErrorIs(t, err, otp.ErrNotEnrolled, "pending enrollments do not verify")
	_, err = e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: wrong(a.totp(e.clk.Now()))})
	assert.ErrorIs(t, err, otp.ErrInvalidCode)
	assert.Empty(t, e.rec.Events())

	m, err := e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: a.totp(e.clk.Now()), Channel: "web"})
	require.NoError(t, err)
	assert.Equal(t, otp.TOTP, m.Kind)
	ev, ok := e.rec.Last(notify.AuthenticatorEnrolled)
	require.True(t, ok)
	assert.Equal(t, "alice", ev.Subscriber)
	assert.Equal(t, "web", ev.Channel)
	st, err := e.auth.Status(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, st.Confirmed)

	// The confirming code cannot be used again to sign in.
	_, err = e.auth.Verify(ctx, "alice", a.totp(e.clk.Now()))
	assert.ErrorIs(t, err, otp.ErrReplay)

	e.clk.Advance(30 * time.Second)
	code := a.totp(e.clk.Now())
	m2, err := e.auth.Verify(ctx, "alice", code)
	require.NoError(t, err)
	assert.Equal(t, m.Step+1, m2.Step)
	_, err = e.auth.Verify(ctx, "alice", code)
	assert.ErrorIs(t, err, otp.ErrReplay, "the same valid code twice")

	// A code from the next step (app clock ahead) is accepted; after it, the current
	// step's code, though within the window, is a replay.
	next := a.totp(e.clk.Now().Add(30 * time.Second))
	_, err = e.auth.Verify(ctx, "alice", next)
	require.NoError(t, err)
	_, err = e.auth.Verify(ctx, "alice", a.totp(e.clk.Now()))
	assert.ErrorIs(t, err, otp.ErrReplay, "an earlier step after a later one")

	// Skew: two steps old is outside the default ±1.
	e.clk.Advance(90 * time.Second)
	_, err = e.auth.Verify(ctx, "alice", a.totp(e.clk.Now().Add(-60*time.Second)))
	assert.ErrorIs(t, err, otp.ErrInvalidCode)

	// Re-enrolling over a confirmed authenticator is refused; removing publishes.
	_, err = e.auth.Enroll(ctx, otp.EnrollRequest{Subscriber: "alice", Account: "x"})
	assert.ErrorIs(t, err, otp.ErrAlreadyEnrolled)
	require.NoError(t, e.auth.Remove(ctx, otp.RemoveRequest{Subscriber: "alice", Actor: notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"}, Channel: "chat"}))
	ev, ok = e.rec.Last(notify.AuthenticatorRemoved)
	require.True(t, ok)
	assert.Equal(t, notify.ActorAgent, ev.Actor.Kind)
	_, err = e.auth.Verify(ctx, "alice", a.totp(e.clk.Now()))
	assert.ErrorIs(t, err, otp.ErrNotEnrolled)
	assert.ErrorIs(t, e.auth.Remove(ctx, otp.RemoveRequest{Subscriber: "alice"}), otp.ErrNotEnrolled)
}

func TestTOTPConcurrentReplay(t *testing.T) {
	ctx := context.Background()
	e := newAuth(t, otp.AuthenticatorConfig{})
	_, a := e.enroll(t, "alice", otp.TOTP)
	_, err := e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: a.totp(e.clk.Now())})
	require.NoError(t, err)
	e.clk.Advance(30 * time.Second)
	code := a.totp(e.clk.Now())
	for _, err := range storetest.ExactlyOnce(t, storetest.Contenders, func(int) error {
		_, err := e.auth.Verify(ctx, "alice", code)
		return err
	}) {
		assert.ErrorIs(t, err, otp.ErrReplay)
	}
}

func TestEnrollmentPendingRules(t *testing.T) {
	ctx := context.Background()
	e := newAuth(t, otp.AuthenticatorConfig{})
	_, first := e.enroll(t, "alice", otp.TOTP)
	_, second := e.enroll(t, "alice", otp.TOTP)
	_, err := e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: first.totp(e.clk.Now())})
	assert.ErrorIs(t, err, otp.ErrInvalidCode, "a replaced enrollment's code does not confirm the new one")

	e.clk.Advance(15 * time.Minute)
	_, err = e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: second.totp(e.clk.Now())})
	assert.ErrorIs(t, err, otp.ErrExpired)

	_, err = e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "bob", Code: "123456"})
	assert.ErrorIs(t, err, otp.ErrNotEnrolled)

	// Removing a pending enrollment publishes nothing.
	require.NoError(t, e.auth.Remove(ctx, otp.RemoveRequest{Subscriber: "alice"}))
	assert.Empty(t, e.rec.Events())
}

// A sealed secret copied onto another subscriber's record does not open.
func TestSealedSecretBoundToSubscriber(t *testing.T) {
	ctx := context.Background()
	e := newAuth(t, otp.AuthenticatorConfig{})
	_, a := e.enroll(t, "alice", otp.TOTP)
	e.enroll(t, "mallory", otp.TOTP)
	alice, err := e.store.GetAuthenticator(ctx, "alice")
	require.NoError(t, err)
	m, err := e.store.GetAuthenticator(ctx, "mallory")
	require.NoError(t, err)
	m.SealedSecret = alice.SealedSecret
	require.NoError(t, e.store.PutAuthenticator(ctx, m))
	_, err = e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "mallory", Code: a.totp(e.clk.Now())})
	assert.ErrorIs(t, err, keyring.ErrOpen)
}

func TestHOTPLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newAuth(t, otp.AuthenticatorConfig{LookAhead: 5, ResyncWindow: 100})
	en, a := e.enroll(t, "alice", otp.HOTP)
	assert.Contains(t, en.URI, "otpauth://hotp/")
	assert.Contains(t, en.URI, "counter=0")

	m, err := e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: a.key.HOTP(0)})
	require.NoError(t, err)
	assert.Equal(t, int64(0), m.Step)
	_, err = e.auth.Verify(ctx, "alice", a.key.HOTP(0))
	assert.ErrorIs(t, err, otp.ErrInvalidCode, "a used counter is behind the window")

	// The button was pressed a few times without use: within the look-ahead.
	m, err = e.auth.Verify(ctx, "alice", a.key.HOTP(4))
	require.NoError(t, err)
	assert.Equal(t, int64(4), m.Step)
	_, err = e.auth.Verify(ctx, "alice", a.key.HOTP(3))
	assert.ErrorIs(t, err, otp.ErrInvalidCode)

	// Far drift needs two consecutive codes.
	_, err = e.auth.Verify(ctx, "alice", a.key.HOTP(60))
	assert.ErrorIs(t, err, otp.ErrInvalidCode)
	m, err = e.auth.Resync(ctx, "alice", a.key.HOTP(60), a.key.HOTP(61))
	require.NoError(t, err)
	assert.Equal(t, int64(61), m.Step)
	_, err = e.auth.Resync(ctx, "alice", a.key.HOTP(60), a.key.HOTP(61))
	assert.ErrorIs(t, err, otp.ErrInvalidCode, "resync codes are used up")
	m, err = e.auth.Verify(ctx, "alice", a.key.HOTP(62))
	require.NoError(t, err)
	assert.Equal(t, int64(62), m.Step)
}

func TestAuthenticatorAlgorithms(t *testing.T) {
	ctx := context.Background()
	for _, alg := range []otp.Algorithm{otp.SHA1, otp.SHA256, otp.SHA512} {
		for _, digits := range []int{6, 8} {
			e := newAuth(t, otp.AuthenticatorConfig{Algorithm: alg, Digits: digits, SecretSize: 32})
			en, a := e.enroll(t, "alice", otp.TOTP)
			u, err := url.Parse(en.URI)
			require.NoError(t, err)
			assert.NotContains(t, u.Query().Get("secret"), "=", "a 32-byte secret, base32 without padding")
			assert.Equal(t, alg, a.uri.Params.Algorithm)
			assert.Equal(t, digits, a.uri.Params.Digits)
			code := a.totp(e.clk.Now())
			assert.Len(t, code, digits)
			_, err = e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: code})
			assert.NoError(t, err, "%s/%d", alg, digits)
		}
	}
}

func TestNewAuthenticatorsConfig(t *testing.T) {
	store := memory.NewOTP(memory.Options{})
	kr, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 1, Secret: testkey.New("keyring")}}})
	require.NoError(t, err)
	tests := []struct {
		name  string
		cfg   otp.AuthenticatorConfig
		field string
	}{
		{"no issuer", otp.AuthenticatorConfig{}, "Issuer"},
		{"colon in issuer", otp.AuthenticatorConfig{Issuer: "a:b"}, "Issuer"},
		{"MD5", otp.AuthenticatorConfig{Issuer: "x", Algorithm: "MD5"}, "Algorithm"},
		{"7 digits", otp.AuthenticatorConfig{Issuer: "x", Digits: 7}, "Digits"},
		{"short secret", otp.AuthenticatorConfig{Issuer: "x", SecretSize: 16}, "SecretSize"},
		{"big skew", otp.AuthenticatorConfig{Issuer: "x", Skew: 6}, "Skew"},
		{"fractional period", otp.AuthenticatorConfig{Issuer: "x", Period: 30500 * time.Millisecond}, "Period"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := otp.NewAuthenticators(tt.cfg, store, kr, &notify.Recorder{})
			require.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
	_, err = otp.NewAuthenticators(otp.AuthenticatorConfig{Issuer: "x"}, store, nil, &notify.Recorder{})
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
}

// brokenKeyring fails every call, to show keyring errors fail closed.
type brokenKeyring struct{}

func (brokenKeyring) Seal(context.Context, []byte, []byte) ([]byte, error) {
	return nil, errors.New("kms down")
}
func (brokenKeyring) Open(context.Context, []byte, []byte) ([]byte, error) {
	return nil, errors.New("kms down")
}

func TestAuthenticatorsFailClosed(t *testing.T) {
	store := memory.NewOTP(memory.Options{})
	a, err := otp.NewAuthenticators(otp.AuthenticatorConfig{Issuer: "x"}, store, brokenKeyring{}, &notify.Recorder{})
	require.NoError(t, err)
	_, err = a.Enroll(context.Background(), otp.EnrollRequest{Subscriber: "alice", Account: "a"})
	assert.ErrorContains(t, err, "kms down")
	_, err = store.GetAuthenticator(context.Background(), "alice")
	assert.ErrorIs(t, err, otp.ErrNotFound, "nothing half-written")

	require.NoError(t, store.PutAuthenticator(context.Background(), otp.Authenticator{ID: "e", Subscriber: "alice", Kind: otp.TOTP, SealedSecret: []byte("x"), LastStep: otp.NoStep, ConfirmedAt: time.Unix(1, 0)}))
	_, err = a.Verify(context.Background(), "alice", "123456")
	assert.ErrorContains(t, err, "kms down")
}

func TestEnrollBadRequests(t *testing.T) {
	e := newAuth(t, otp.AuthenticatorConfig{})
	tests := map[string]otp.EnrollRequest{
		"no subscriber":      {Account: "a"},
		"no account":         {Subscriber: "alice"},
		"control in account": {Subscriber: "alice", Account: "a\nb"},
		"unknown kind":       {Subscriber: "alice", Account: "a", Kind: "motp"},
	}
	for name, req := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := e.auth.Enroll(context.Background(), req)
			assert.Error(t, err)
		})
	}
	_, err := e.auth.Status(context.Background(), "alice")
	assert.ErrorIs(t, err, otp.ErrNotEnrolled, "nothing stored by refused requests")
}

// A confirmation racing a re-enrollment lands on neither: the code was checked against
// the old secret, and the store refuses to advance a record with another ID.
func TestConfirmRacingReEnrollment(t *testing.T) {
	ctx := context.Background()
	e := newAuth(t, otp.AuthenticatorConfig{})
	_, a := e.enroll(t, "alice", otp.TOTP)
	old, err := e.store.GetAuthenticator(ctx, "alice")
	require.NoError(t, err)
	e.enroll(t, "alice", otp.TOTP)
	// What Confirm would do after reading the old record: advance it by ID.
	err = e.store.AdvanceAuthenticator(ctx, "alice", old.ID, a.key.Step(e.clk.Now()), e.clk.Now())
	assert.ErrorIs(t, err, otp.ErrNotFound)
	st, err := e.auth.Status(ctx, "alice")
	require.NoError(t, err)
	assert.False(t, st.Confirmed)
}

// failingAuthStore fails one AuthenticatorStore operation once fail is set, to show
// every store error fails closed.
type failingAuthStore struct {
	*memory.OTP
	fail string // "get" or "advance"
}

func (f *failingAuthStore) GetAuthenticator(ctx context.Context, subscriber string) (otp.Authenticator, error) {
	if f.fail == "get" {
		return otp.Authenticator{}, errStore
	}
	return f.OTP.GetAuthenticator(ctx, subscriber)
}

func (f *failingAuthStore) AdvanceAuthenticator(ctx context.Context, subscriber, id string, step int64, confirmedAt time.Time) error {
	if f.fail == "advance" {
		return errStore
	}
	return f.OTP.AdvanceAuthenticator(ctx, subscriber, id, step, confirmedAt)
}

// A store error in Confirm, Verify or Resync is an error of its own, never success and
// never a code error, and nothing is accepted: the code still works once the store does.
func TestAuthenticatorsStoreFailClosed(t *testing.T) {
	ctx := context.Background()
	newFailing := func(t *testing.T, kind otp.Kind, confirm bool) (*failingAuthStore, authEnv, app) {
		t.Helper()
		e := newAuth(t, otp.AuthenticatorConfig{})
		fs := &failingAuthStore{OTP: e.store}
		kr, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 1, Secret: testkey.New("keyring")}}})
		require.NoError(t, err)
		e.auth, err = otp.NewAuthenticators(otp.AuthenticatorConfig{Issuer: "Acme Mobile", Now: e.clk.Now}, fs, kr, e.rec)
		require.NoError(t, err)
		_, a := e.enroll(t, "alice", kind)
		if confirm {
			code := a.totp(e.clk.Now())
			if kind == otp.HOTP {
				code = a.key.HOTP(0)
			}
			_, err := e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: code})
			require.NoError(t, err)
			e.clk.Advance(30 * time.Second)
		}
		return fs, e, a
	}
	unchanged := func(t *testing.T, e authEnv, want otp.Authenticator, events int) {
		t.Helper()
		got, err := e.store.GetAuthenticator(ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, want, got, "nothing accepted")
		assert.Len(t, e.rec.Events(), events, "nothing published")
	}
	for _, op := range []string{"get", "advance"} {
		t.Run("confirm/"+op, func(t *testing.T) {
			fs, e, a := newFailing(t, otp.TOTP, false)
			before, _ := e.store.GetAuthenticator(ctx, "alice")
			fs.fail = op
			code := a.totp(e.clk.Now())
			_, err := e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: code})
			assert.ErrorIs(t, err, errStore)
			announced := 0
			if op == "advance" {
				announced = 1 // told first; the announcement stands
			}
			unchanged(t, e, before, announced)
			fs.fail = ""
			_, err = e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: code})
			assert.NoError(t, err, "the code was not used up")
			assert.Len(t, eventIDs(e.rec.Events()), 1, "the retry announces the same event, kept once by an outbox")
		})
		t.Run("verify/"+op, func(t *testing.T) {
			fs, e, a := newFailing(t, otp.TOTP, true)
			before, _ := e.store.GetAuthenticator(ctx, "alice")
			fs.fail = op
			code := a.totp(e.clk.Now())
			_, err := e.auth.Verify(ctx, "alice", code)
			assert.ErrorIs(t, err, errStore)
			unchanged(t, e, before, 1)
			fs.fail = ""
			_, err = e.auth.Verify(ctx, "alice", code)
			assert.NoError(t, err, "the code was not used up")
		})
		t.Run("resync/"+op, func(t *testing.T) {
			fs, e, a := newFailing(t, otp.HOTP, true)
			before, _ := e.store.GetAuthenticator(ctx, "alice")
			fs.fail = op
			_, err := e.auth.Resync(ctx, "alice", a.key.HOTP(60), a.key.HOTP(61))
			assert.ErrorIs(t, err, errStore)
			unchanged(t, e, before, 1)
			fs.fail = ""
			_, err = e.auth.Resync(ctx, "alice", a.key.HOTP(60), a.key.HOTP(61))
			assert.NoError(t, err, "the codes were not used up")
		})
	}
}

// AuthenticatorConfig.Skew is how many steps either side of now are accepted: zero
// means 1, negative means the current step only.
func TestAuthenticatorSkew(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		skew     int
		accepted int // steps back (and ahead) that are accepted; one more is not
	}{
		{-1, 0},
		{0, 1},
		{2, 2},
	}
	for _, tt := range tests {
		for _, dir := range []int{-1, 1} {
			t.Run(fmt.Sprintf("skew %d, direction %d", tt.skew, dir), func(t *testing.T) {
				e := newAuth(t, otp.AuthenticatorConfig{Skew: tt.skew})
				_, a := e.enroll(t, "alice", otp.TOTP)
				_, err := e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: a.totp(e.clk.Now())})
				require.NoError(t, err)
				e.clk.Advance(10 * 30 * time.Second)
				at := func(steps int) string { return a.totp(e.clk.Now().Add(time.Duration(dir*steps) * 30 * time.Second)) }

				_, err = e.auth.Verify(ctx, "alice", at(tt.accepted+1))
				assert.ErrorIs(t, err, otp.ErrInvalidCode, "%d steps off", tt.accepted+1)
				m, err := e.auth.Verify(ctx, "alice", at(tt.accepted))
				require.NoError(t, err, "%d steps off", tt.accepted)
				assert.Equal(t, a.key.Step(e.clk.Now())+int64(dir*tt.accepted), m.Step)
			})
		}
	}
}

// staleStore answers GetAuthenticator with the record as it was when it was captured,
// as a Confirm sees it when another Confirm wins between its read and its write.
type staleStore struct {
	*memory.OTP
	stale otp.Authenticator
}

func (s staleStore) GetAuthenticator(context.Context, string) (otp.Authenticator, error) {
	return s.stale, nil
}

// Only the Confirm that confirmed the enrollment succeeds and publishes
// notify.AuthenticatorEnrolled, even when two read it pending with codes from
// different steps.
func TestConfirmOnlyOnce(t *testing.T) {
	ctx := context.Background()
	t.Run("interleaved", func(t *testing.T) {
		e := newAuth(t, otp.AuthenticatorConfig{})
		_, a := e.enroll(t, "alice", otp.TOTP)
		pending, err := e.store.GetAuthenticator(ctx, "alice")
		require.NoError(t, err)
		_, err = e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: a.totp(e.clk.Now().Add(-30 * time.Second))})
		require.NoError(t, err)

		kr, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 1, Secret: testkey.New("keyring")}}})
		require.NoError(t, err)
		late, err := otp.NewAuthenticators(otp.AuthenticatorConfig{Issuer: "Acme Mobile", Now: e.clk.Now}, staleStore{e.store, pending}, kr, e.rec)
		require.NoError(t, err)
		_, err = late.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: a.totp(e.clk.Now())})
		assert.ErrorIs(t, err, otp.ErrNotEnrolled, "the enrollment was confirmed meanwhile")
		assert.Len(t, eventIDs(e.rec.Events()), 1, "one AuthenticatorEnrolled event, announced by each")
		rec, err := e.store.GetAuthenticator(ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, a.key.Step(e.clk.Now())-1, rec.LastStep, "the losing confirmation changed nothing")
	})
	t.Run("concurrent", func(t *testing.T) {
		e := newAuth(t, otp.AuthenticatorConfig{Skew: 5})
		_, a := e.enroll(t, "alice", otp.TOTP)
		var codes []string // eleven distinct valid codes, steps -5 to +5
		for d := -5; d <= 5; d++ {
			codes = append(codes, a.totp(e.clk.Now().Add(time.Duration(d)*30*time.Second)))
		}
		for _, err := range storetest.ExactlyOnce(t, storetest.Contenders, func(i int) error {
			_, err := e.auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: codes[i%len(codes)]})
			return err
		}) {
			if !errors.Is(err, otp.ErrNotEnrolled) && !errors.Is(err, otp.ErrReplay) {
				t.Errorf("losing Confirm: %v", err)
			}
		}
		assert.Len(t, eventIDs(e.rec.Events()), 1, "one AuthenticatorEnrolled event, however many announced it")
	})
}

// eventIDs returns the distinct IDs of events: what a notify.Outbox, which keeps an ID
// once, would deliver.
func eventIDs(events []notify.Event) map[string]bool {
	ids := map[string]bool{}
	for _, e := range events {
		ids[e.ID] = true
	}
	return ids
}

// pendingAtPublish is a publisher that, when an event comes, records whether the
// subscriber's authenticator already counts; it fails if fail is set.
type pendingAtPublish struct {
	store     *memory.OTP
	fail      bool
	confirmed []bool
}

func (p *pendingAtPublish) Publish(ctx context.Context, e notify.Event) error {
	rec, err := p.store.GetAuthenticator(ctx, e.Subscriber)
	if err != nil {
		return err
	}
	p.confirmed = append(p.confirmed, rec.Confirmed())
	if p.fail {
		return errors.New("publisher down")
	}
	return nil
}

// Confirm announces the new app before it counts, as every factor change does: a
// subscriber (risk's facts, the outbox) hears of it while it is still pending, and if
// the announcement fails the app never counts and its code is not used up.
func TestConfirmAnnouncesFirst(t *testing.T) {
	ctx := context.Background()
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("publish fails %v", fail), func(t *testing.T) {
			e := newAuth(t, otp.AuthenticatorConfig{})
			_, a := e.enroll(t, "alice", otp.TOTP)
			pub := &pendingAtPublish{store: e.store, fail: fail}
			kr, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 1, Secret: testkey.New("keyring")}}})
			require.NoError(t, err)
			auth, err := otp.NewAuthenticators(otp.AuthenticatorConfig{Issuer: "Acme Mobile", Now: e.clk.Now}, e.store, kr, pub)
			require.NoError(t, err)

			_, err = auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: wrong(a.totp(e.clk.Now()))})
			assert.ErrorIs(t, err, otp.ErrInvalidCode)
			assert.Empty(t, pub.confirmed, "a wrong code announces nothing")

			code := a.totp(e.clk.Now())
			_, err = auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: code})
			assert.Equal(t, []bool{false}, pub.confirmed, "announced while still pending")
			st, serr := auth.Status(ctx, "alice")
			require.NoError(t, serr)
			if !fail {
				require.NoError(t, err)
				assert.True(t, st.Confirmed)
				return
			}
			assert.ErrorContains(t, err, "publisher down")
			assert.False(t, st.Confirmed, "an unannounced app does not count")
			_, err = auth.Verify(ctx, "alice", code)
			assert.ErrorIs(t, err, otp.ErrNotEnrolled)
			pub.fail = false
			_, err = auth.Confirm(ctx, otp.ConfirmRequest{Subscriber: "alice", Code: code})
			assert.NoError(t, err, "the code was not used up")
		})
	}
}
