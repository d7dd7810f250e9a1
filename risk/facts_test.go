package risk_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// factsWorld is a risk service on the in-memory stores with a Facts recorder in front of
// a notify.Recorder (standing in for the outbox).
type factsWorld struct {
	clock    *fakeclock.Clock
	profiles *memory.RiskProfiles
	svc      *risk.Service
	outbox   *notify.Recorder
	pub      notify.Publisher
	logs     *bytes.Buffer
}

func newFactsWorld(t *testing.T, profiles risk.ProfileStore) *factsWorld {
	t.Helper()
	w := &factsWorld{clock: fakeclock.New(epoch), outbox: &notify.Recorder{}, logs: &bytes.Buffer{}}
	if profiles == nil {
		w.profiles = memory.NewRiskProfiles(memory.Options{})
		profiles = w.profiles
	}
	var err error
	w.svc, err = risk.New(risk.Config{Now: w.clock.Now}, profiles, memory.NewRiskGlobal(memory.Options{}))
	require.NoError(t, err)
	w.pub, err = risk.NewFacts(w.outbox, w.svc, slog.New(slog.NewTextHandler(w.logs, nil)))
	require.NoError(t, err)
	return w
}

func (w *factsWorld) publish(t *testing.T, typ notify.Type, sub string) notify.Event {
	t.Helper()
	e := notify.Event{ID: notify.NewID(), Type: typ, Subscriber: sub, Time: w.clock.Now(),
		Actor: notify.Actor{Kind: notify.ActorSubscriber}, Channel: "app"}
	require.NoError(t, w.pub.Publish(context.Background(), e))
	return e
}

// The thief has Alice's password (2FA off, the default). He signs in from his own phone,
// adds his own email as a trusted contact, and asks for a SIM swap from the same phone.
// Nobody fills Account.ContactChanged: the library's own contact.added event reaches risk
// through Facts, the password-only sign-in taught the profile nothing, and the SIM swap
// scores at least Medium with the credential-change reason.
func TestAttackStolenPasswordRiskSeesCredentialChange(t *testing.T) {
	for _, tt := range []struct {
		name    string
		history bool // Alice proved a second factor on her phone for a month
	}{
		{"account with a month of 2FA sign-ins", true},
		{"account that never passed a second factor", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newFactsWorld(t, nil)
			ctx := context.Background()
			if tt.history {
				history(t, w.svc, w.clock)
			}
			thief := risk.Request{Subscriber: "alice", Action: risk.ActionSignIn, Channel: risk.ChannelApp,
				IP: netip.MustParseAddr("203.0.113.99"), Geo: miami, Device: "thief-phone", UserAgent: iPhone, Account: oldAcc}
			// The password-only sign-in succeeds, and is recorded as what it was.
			require.NoError(t, w.svc.Record(ctx, thief, risk.Succeeded))

			w.clock.Advance(2 * time.Minute)
			w.publish(t, notify.TrustedContactAdded, "alice")
			assert.Equal(t, []notify.Type{notify.TrustedContactAdded}, w.outbox.Types(), "the event still reaches the outbox")

			w.clock.Advance(3 * time.Minute)
			swap := thief
			swap.Action = risk.ActionSIMSwap
			a, err := w.svc.Assess(ctx, swap)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, a.Level, risk.Medium, "%+v", a)
			sig, ok := signal(a, risk.SignalCredentialChange)
			require.True(t, ok, "credential_change did not fire: %+v", a.Signals)
			assert.Contains(t, sig.Reason, "trusted contact changed 3m0s before this sim_swap")

			var p risk.Profile
			require.NoError(t, w.profiles.LoadProfile(ctx, "alice", &p))
			assert.Zero(t, p.Count(risk.FeatureDevice, thief.Keys()[risk.FeatureDevice]), "the password-only sign-in taught the thief's phone")
			if tt.history {
				assert.Contains(t, names(a), risk.SignalNewDevice, "the thief's phone must still be new")
			}
		})
	}
}

// Every event that reports a change is recorded with its time; every other event is
// only passed on.
func TestFactsRecordsEveryChangeEvent(t *testing.T) {
	want := map[notify.Type]risk.Change{
		notify.PasswordChanged: risk.ChangePassword, notify.EmailChanged: risk.ChangeEmail,
		notify.TrustedContactAdded: risk.ChangeContact, notify.TrustedContactVerified: risk.ChangeContact,
		notify.TrustedContactRemoved: risk.ChangeContact, notify.AuthenticatorEnrolled: risk.ChangeFactor,
		notify.AuthenticatorRemoved: risk.ChangeFactor, notify.RecoveryCodesGenerated: risk.ChangeFactor,
		notify.RecoveryCodeUsed: risk.ChangeFactor, notify.TwoFactorEnabled: risk.ChangeFactor,
		notify.TwoFactorDisabled: risk.ChangeFactor, notify.SecurityQuestionsSet: risk.ChangeFactor,
		notify.SecurityQuestionsChanged: risk.ChangeFactor, notify.ProtectionFlagDisabled: risk.ChangeFlagLifted,
		notify.SIMSwapCompleted: risk.ChangeSIM,
	}
	ctx := context.Background()
	for _, typ := range notify.Types() {
		if typ.Operator() {
			continue
		}
		t.Run(string(typ), func(t *testing.T) {
			w := newFactsWorld(t, nil)
			w.clock.Advance(time.Hour)
			e := w.publish(t, typ, "alice")
			c, ok := risk.ChangeOf(typ)
			wc, wok := want[typ]
			require.Equal(t, wok, ok)
			assert.Equal(t, wc, c)
			var p risk.Profile
			err := w.profiles.LoadProfile(ctx, "alice", &p)
			if !wok {
				assert.ErrorIs(t, err, risk.ErrNotFound, "an event that changes nothing wrote a profile")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, e.Time, p.Changed(wc))
			assert.True(t, p.Established())
		})
	}
}

// Each recorded change feeds its signal on a SIM swap or port-out, and only within the
// window: credential_change for credentials, factors and flag lifts, recent_sim_change
// for a SIM change.
func TestRecordedChangesFeedTheSignals(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		typ    notify.Type
		signal string
		reason string
	}{
		{notify.PasswordChanged, risk.SignalCredentialChange, "password changed"},
		{notify.EmailChanged, risk.SignalCredentialChange, "email changed"},
		{notify.TrustedContactRemoved, risk.SignalCredentialChange, "trusted contact changed"},
		{notify.AuthenticatorEnrolled, risk.SignalCredentialChange, "second factor changed"},
		{notify.TwoFactorDisabled, risk.SignalCredentialChange, "second factor changed"},
		{notify.ProtectionFlagDisabled, risk.SignalCredentialChange, "protection flag was lifted"},
		{notify.SIMSwapCompleted, risk.SignalRecentSIMChange, "SIM changed"},
	} {
		t.Run(string(tt.typ), func(t *testing.T) {
			w := newFactsWorld(t, nil)
			w.publish(t, tt.typ, "alice")
			w.clock.Advance(time.Hour)
			for _, action := range []risk.Action{risk.ActionSIMSwap, risk.ActionPortOut} {
				a, err := w.svc.Assess(ctx, homeReq(action))
				require.NoError(t, err)
				sig, ok := signal(a, tt.signal)
				require.True(t, ok, "%s: %+v", action, a.Signals)
				assert.Contains(t, sig.Reason, tt.reason)
			}
			w.clock.Advance(8 * 24 * time.Hour) // past both windows
			a, err := w.svc.Assess(ctx, homeReq(risk.ActionSIMSwap))
			require.NoError(t, err)
			assert.NotContains(t, names(a), tt.signal)
		})
	}
}

// The request's own account facts still count: the later of the two times is used.
func TestRecordedChangeAndRequestFactsMerge(t *testing.T) {
	ctx := context.Background()
	w := newFactsWorld(t, nil)
	require.NoError(t, w.svc.NoteChange(ctx, "alice", risk.ChangePassword, epoch.AddDate(0, -1, 0)))
	r := homeReq(risk.ActionSIMSwap)
	r.Account.PasswordChanged = epoch.Add(-time.Hour)
	a, err := w.svc.Assess(ctx, r)
	require.NoError(t, err)
	sig, ok := signal(a, risk.SignalCredentialChange)
	require.True(t, ok)
	assert.Contains(t, sig.Reason, "password changed 1h0m0s before")

	// A recorded change stamped after the request (a clock ahead) fires as "just now".
	require.NoError(t, w.svc.NoteChange(ctx, "bob", risk.ChangeContact, epoch))
	late := homeReq(risk.ActionSIMSwap)
	late.Subscriber, late.Time = "bob", epoch.Add(-time.Minute)
	a, err = w.svc.Assess(ctx, late)
	require.NoError(t, err)
	assert.Contains(t, names(a), risk.SignalCredentialChange)
}

// The wrapped publisher refuses the event: Publish reports it, and the change, which
// the publishing service made before publishing, is recorded all the same.
func TestFactsRecordsWhenPublishingFails(t *testing.T) {
	w := newFactsWorld(t, nil)
	outage := errors.New("outbox down")
	w.outbox.Err = outage
	e := notify.Event{ID: notify.NewID(), Type: notify.PasswordChanged, Subscriber: "alice", Time: epoch, Actor: notify.Actor{Kind: notify.ActorSubscriber}}
	assert.ErrorIs(t, w.pub.Publish(context.Background(), e), outage)
	var p risk.Profile
	require.NoError(t, w.profiles.LoadProfile(context.Background(), "alice", &p))
	assert.Equal(t, epoch, p.Changed(risk.ChangePassword))
}

// The profile store is down: the event is still published and Publish succeeds (the
// event is never lost because of risk), and the failure is logged without the
// subscriber's identity.
func TestFactsNeverLosesTheEvent(t *testing.T) {
	w := newFactsWorld(t, downProfiles{})
	e := w.publish(t, notify.TrustedContactAdded, "alice")
	assert.Equal(t, []notify.Type{notify.TrustedContactAdded}, w.outbox.Types())
	assert.Contains(t, w.logs.String(), "account change not recorded")
	assert.Contains(t, w.logs.String(), e.ID)
	assert.NotContains(t, w.logs.String(), "alice")
	// And while the store is down, a SIM swap is High: risk fails closed.
	a, err := w.svc.Assess(context.Background(), homeReq(risk.ActionSIMSwap))
	require.Error(t, err)
	assert.Equal(t, risk.High, a.Level)
}

// A client that hangs up right after its change cannot skip the record: the change is
// recorded without the request's cancellation.
func TestFactsRecordsAfterTheClientHangsUp(t *testing.T) {
	w := newFactsWorld(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pub, err := risk.NewFacts(notify.PublisherFunc(func(context.Context, notify.Event) error { return nil }), w.svc, nil)
	require.NoError(t, err)
	require.NoError(t, pub.Publish(ctx, notify.Event{ID: notify.NewID(), Type: notify.TrustedContactAdded, Subscriber: "alice", Time: epoch}))
	var p risk.Profile
	require.NoError(t, w.profiles.LoadProfile(context.Background(), "alice", &p))
	assert.Equal(t, epoch, p.Changed(risk.ChangeContact))
}

func TestNoteChangeValidates(t *testing.T) {
	w := newFactsWorld(t, nil)
	ctx := context.Background()
	assert.ErrorIs(t, w.svc.NoteChange(ctx, "", risk.ChangePassword, epoch), risk.ErrInvalidChange)
	assert.ErrorIs(t, w.svc.NoteChange(ctx, "alice", risk.Change(0), epoch), risk.ErrInvalidChange)
	assert.ErrorIs(t, w.svc.NoteChange(ctx, "alice", risk.Change(99), epoch), risk.ErrInvalidChange)
	// A future time is read as now; a zero time as now.
	require.NoError(t, w.svc.NoteChange(ctx, "alice", risk.ChangeEmail, epoch.Add(time.Hour)))
	require.NoError(t, w.svc.NoteChange(ctx, "bob", risk.ChangeEmail, time.Time{}))
	for _, sub := range []string{"alice", "bob"} {
		var p risk.Profile
		require.NoError(t, w.profiles.LoadProfile(ctx, sub, &p))
		assert.Equal(t, epoch, p.Changed(risk.ChangeEmail), sub)
	}
	require.NoError(t, w.svc.Observe(ctx, notify.Event{Type: notify.SIMSwapRequested, Subscriber: "carol", Time: epoch}))
	var p risk.Profile
	assert.ErrorIs(t, w.profiles.LoadProfile(ctx, "carol", &p), risk.ErrNotFound)

	_, err := risk.NewFacts(nil, w.svc, nil)
	assert.Error(t, err)
	_, err = risk.NewFacts(w.outbox, nil, nil)
	assert.Error(t, err)
	assert.Equal(t, "trusted contact", risk.ChangeContact.String())
	assert.Equal(t, "change(0)", risk.Change(0).String())
}

type downProfiles struct{}

var errDown = errors.New("profile store down")

func (downProfiles) LoadProfile(context.Context, string, *risk.Profile) error { return errDown }
func (downProfiles) UpdateProfile(context.Context, string, func(*risk.Profile) error) error {
	return errDown
}
func (downProfiles) PruneProfiles(context.Context, time.Time, int) (int, error) { return 0, errDown }
