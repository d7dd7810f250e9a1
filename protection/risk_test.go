package protection_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/store/memory"
)

// Any risk.Scorer plugs in: the built-in service and the Freeman model alone.
var (
	_ protection.RiskAssessor = protection.RiskFromScorer((*risk.Service)(nil), nil)
	_ protection.RiskAssessor = protection.RiskFromScorer((*risk.Model)(nil), nil)
)

var joinEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newJoinProtection(t *testing.T, clock *fakeclock.Clock, ra protection.RiskAssessor) *protection.Service {
	t.Helper()
	st := memory.NewProtection(memory.Options{Now: clock.Now})
	svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven,
		PINKey: pinKey, Risk: ra, Now: clock.Now,
	}, protection.Stores{Flags: st, History: st, PINs: st}, &notify.Recorder{})
	require.NoError(t, err)
	return svc
}

func TestRiskLevelOf(t *testing.T) {
	for in, want := range map[risk.Level]protection.RiskLevel{
		risk.Low: protection.RiskLow, risk.Medium: protection.RiskMedium, risk.High: protection.RiskHigh,
		0: 0, risk.High + 1: 0, 255: 0,
	} {
		assert.Equal(t, want, protection.RiskLevelOf(in), "%d", in)
		if want.Valid() {
			assert.Equal(t, in.String(), want.String(), "same names for %d", in)
		}
	}
}

func TestRiskActionAndChannel(t *testing.T) {
	for _, a := range protection.Actions() {
		ra := protection.RiskAction(a)
		assert.NotEmpty(t, ra)
		assert.True(t, ra.Sensitive(), "%s must count as sensitive", a)
	}
	assert.Equal(t, risk.ActionSIMSwap, protection.RiskAction(protection.ActionESIMTransfer))
	assert.Equal(t, risk.ActionPortOut, protection.RiskAction(protection.ActionPortOut))
	assert.Equal(t, risk.ActionAccountChange, protection.RiskAction(protection.ActionChangeEmail))
	want := map[protection.Channel]risk.Channel{
		protection.ChannelApp: risk.ChannelApp, protection.ChannelWeb: risk.ChannelWeb,
		protection.ChannelChat: risk.ChannelChat, protection.ChannelPhone: risk.ChannelPhone,
		protection.ChannelStore: risk.ChannelRetail, protection.ChannelPartner: risk.ChannelAPI,
	}
	for _, c := range protection.Channels() {
		assert.Equal(t, want[c], protection.RiskChannel(c), "%s", c)
	}
}

// clientKey carries what the HTTP handler knows about the client to the RiskRequestFunc.
type clientKey struct{}

func fromContext(ctx context.Context, _ string, _ protection.Request) (risk.Request, error) {
	rr, ok := ctx.Value(clientKey{}).(risk.Request)
	if !ok {
		return risk.Request{}, errors.New("no client facts in the context")
	}
	return rr, nil
}

// A real *risk.Service decides the level Decide uses: a SIM swap from the subscriber's
// usual phone in Miami is low risk and allowed with a session and a code; the same swap
// an hour after the password changed (the takeover chain) is high risk and cannot be
// done in the app.
func TestRiskFromScorerEndToEnd(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(joinEpoch)
	scorer, alice := learnedAlice(t, clock)
	svc := newJoinProtection(t, clock, protection.RiskFromScorer(scorer, fromContext))

	req := protection.Request{
		Action: protection.ActionSIMSwap, Channel: protection.ChannelApp,
		Evidence: []protection.Evidence{
			{Kind: protection.EvidenceSession, ObtainedAt: joinEpoch.Add(-time.Hour)},
			{Kind: protection.EvidenceContactCode, Contact: protection.ContactEmail, ObtainedAt: joinEpoch,
				Purpose: otp.PurposeSIMSwap, FactorAddedAt: joinEpoch.AddDate(-1, 0, 0)},
		},
	}
	d, err := svc.Decide(context.WithValue(ctx, clientKey{}, alice), "alice", req)
	require.NoError(t, err)
	assert.Equal(t, protection.Allow, d.Outcome, "%s", d.Reasons)

	chain := alice
	chain.Account.PasswordChanged = joinEpoch.Add(-time.Hour)
	d, err = svc.Decide(context.WithValue(ctx, clientKey{}, chain), "alice", req)
	require.NoError(t, err)
	assert.False(t, d.Outcome.Permits(), "%s %s", d.Outcome, d.Reasons)
	assert.True(t, d.Reasons.Has(protection.ReasonRiskHigh), "%s", d.Reasons)

	// The request's own Risk stays a floor under the scorer's level.
	floor := req
	floor.Risk = protection.RiskHigh
	d, err = svc.Decide(context.WithValue(ctx, clientKey{}, alice), "alice", floor)
	require.NoError(t, err)
	assert.True(t, d.Reasons.Has(protection.ReasonRiskHigh), "%s", d.Reasons)
}

type scorerFunc func(context.Context, risk.Request) (risk.Assessment, error)

func (f scorerFunc) Score(ctx context.Context, r risk.Request) (risk.Assessment, error) {
	return f(ctx, r)
}

// learnedAlice returns a risk service that has learned a month of alice's daily
// sign-ins from home, each past her second factor, and the facts of her usual client.
func learnedAlice(t *testing.T, clock *fakeclock.Clock) (*risk.Service, risk.Request) {
	t.Helper()
	opts := memory.Options{Now: clock.Now}
	scorer, err := risk.New(risk.Config{Now: clock.Now}, memory.NewRiskProfiles(opts), memory.NewRiskGlobal(opts))
	require.NoError(t, err)
	alice := risk.Request{
		IP: netip.MustParseAddr("203.0.113.7"), Device: "alice-phone", UserAgent: "CarrierApp/5.2 (iPhone; iOS 17.4)",
		Geo:     risk.Geo{Country: "US", Region: "FL", City: "Miami", ASN: 7922, Coordinates: &risk.Coordinates{Lat: 25.76, Lon: -80.19}},
		Account: risk.Account{EmailVerified: true, Created: joinEpoch.AddDate(-2, 0, 0)},
	}
	for d := 30; d >= 1; d-- { // a month of daily sign-ins from home
		r := alice
		r.Subscriber, r.Action, r.Time = "alice", risk.ActionSignIn, joinEpoch.AddDate(0, 0, -d)
		require.NoError(t, scorer.Record(context.Background(), r, risk.Verified)) // sign-ins that passed her second factor
	}
	return scorer, alice
}

// The adapter fills what build leaves empty from the request being decided.
func TestRiskFromScorerFillsTheRequest(t *testing.T) {
	clock := fakeclock.New(joinEpoch)
	var got risk.Request
	spy := scorerFunc(func(_ context.Context, r risk.Request) (risk.Assessment, error) {
		got = r
		return risk.Assessment{Level: risk.Low}, nil
	})
	svc := newJoinProtection(t, clock, protection.RiskFromScorer(spy, nil))
	_, err := svc.Decide(context.Background(), "sub-42", protection.Request{Action: protection.ActionPortOut, Channel: protection.ChannelStore})
	require.NoError(t, err)
	assert.Equal(t, risk.Request{Subscriber: "sub-42", Action: risk.ActionPortOut, Channel: risk.ChannelRetail, Time: joinEpoch}, got)

	// What build sets is kept.
	build := func(context.Context, string, protection.Request) (risk.Request, error) {
		return risk.Request{Action: "custom", Channel: "kiosk", Time: joinEpoch.Add(-time.Minute)}, nil
	}
	svc = newJoinProtection(t, clock, protection.RiskFromScorer(spy, build))
	_, err = svc.Decide(context.Background(), "sub-42", protection.Request{Action: protection.ActionPortOut, Channel: protection.ChannelStore})
	require.NoError(t, err)
	assert.Equal(t, risk.Request{Subscriber: "sub-42", Action: "custom", Channel: "kiosk", Time: joinEpoch.Add(-time.Minute)}, got)
}

// Every failure on the risk side denies with the fault reasons, never allows.
func TestRiskFromScorerFailsClosed(t *testing.T) {
	boom := errors.New("scorer down")
	level := func(l risk.Level) risk.Scorer {
		return scorerFunc(func(context.Context, risk.Request) (risk.Assessment, error) { return risk.Assessment{Level: l}, nil })
	}
	// A real *risk.Service whose stores fail.
	clock := fakeclock.New(joinEpoch)
	brokenRisk, err := risk.New(risk.Config{Now: clock.Now}, failingProfiles{}, memory.NewRiskGlobal(memory.Options{}))
	require.NoError(t, err)

	for _, tc := range []struct {
		name   string
		scorer risk.Scorer
		build  protection.RiskRequestFunc
		is     error
	}{
		{"scorer error", scorerFunc(func(context.Context, risk.Request) (risk.Assessment, error) {
			return risk.Assessment{Level: risk.High}, boom
		}), nil, boom},
		{"risk.Service store error", brokenRisk, nil, errProfiles},
		{"unassessed level", level(0), nil, protection.ErrRiskUnassessed},
		{"unknown level", level(7), nil, protection.ErrRiskUnassessed},
		{"scorer panics", scorerFunc(func(context.Context, risk.Request) (risk.Assessment, error) { panic("bug") }), nil, nil},
		{"build error", level(risk.Low), func(context.Context, string, protection.Request) (risk.Request, error) {
			return risk.Request{}, boom
		}, boom},
		{"build names another subscriber", level(risk.Low), func(context.Context, string, protection.Request) (risk.Request, error) {
			return risk.Request{Subscriber: "mallory"}, nil
		}, nil},
		{"no scorer", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := newJoinProtection(t, clock, protection.RiskFromScorer(tc.scorer, tc.build))
			d, err := svc.Decide(context.Background(), "sub-42", protection.Request{
				Action: protection.ActionViewAccount, Channel: protection.ChannelApp, Risk: protection.RiskLow,
				Evidence: []protection.Evidence{{Kind: protection.EvidenceSession, ObtainedAt: joinEpoch}},
			})
			require.Error(t, err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Equal(t, protection.Deny, d.Outcome)
			assert.True(t, d.Reasons.Has(protection.ReasonFault), "%s", d.Reasons)
			assert.True(t, d.Reasons.Has(protection.ReasonRiskFault), "%s", d.Reasons)
		})
	}
}

var errProfiles = errors.New("profile store down")

type failingProfiles struct{}

func (failingProfiles) LoadProfile(context.Context, string, *risk.Profile) error { return errProfiles }
func (failingProfiles) UpdateProfile(context.Context, string, func(*risk.Profile) error) error {
	return errProfiles
}
func (failingProfiles) PruneProfiles(context.Context, time.Time, int) (int, error) {
	return 0, errProfiles
}
