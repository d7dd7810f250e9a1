package protection_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/protection"
)

// failOn is a Publisher that refuses events of the listed types and records the rest.
// With hangUp set, a refusal also cancels the caller's context first, as when a client
// disconnects while the outbox is slow: clean-up must not depend on that context.
type failOn struct {
	notify.Recorder
	types  []notify.Type
	hangUp context.CancelFunc
}

var errOutbox = errors.New("outbox unavailable")

func (p *failOn) Publish(ctx context.Context, e notify.Event) error {
	for _, t := range p.types {
		if e.Type == t {
			if p.hangUp != nil {
				p.hangUp()
				return errors.Join(errOutbox, ctx.Err())
			}
			return errOutbox
		}
	}
	return p.Recorder.Publish(ctx, e)
}

// failures are the two ways publishing fails in these tests: the outbox refuses, or
// the caller hangs up and the outbox gives up on the cancelled context.
var failures = []struct {
	name   string
	hangUp bool
}{{"outbox refuses", false}, {"caller hangs up", true}}

// publisher returns a failOn for types and the context to make the request with.
func publisher(t *testing.T, hangUp bool, types ...notify.Type) (*failOn, context.Context) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p := &failOn{types: types}
	if hangUp {
		p.hangUp = cancel
	}
	return p, ctx
}

// holdHighRiskSwaps is a policy in which a high-risk SIM swap in the app or on the web
// is held for a day instead of being sent to a store (the default), so that tests can
// reach the Hold outcome for a SIM change.
func holdHighRiskSwaps(t *testing.T, now func() time.Time) *protection.Policy {
	t.Helper()
	rules := protection.DefaultRules()
	swap := rules[protection.ActionSIMSwap]
	extra := protection.Kinds(protection.EvidencePassword, protection.EvidenceAuthenticator)
	swap.Risk = map[protection.RiskLevel]protection.RiskOverlay{
		protection.RiskMedium: {AddOneOf: extra},
		protection.RiskHigh: {AddOneOf: extra, Hold: []protection.Channel{protection.ChannelApp, protection.ChannelWeb},
			HoldFor: 24 * time.Hour},
	}
	rules[protection.ActionSIMSwap] = swap
	p, err := protection.NewPolicy(protection.PolicyConfig{Rules: rules, Now: now})
	require.NoError(t, err)
	return p
}

// An approval the subscriber could not be told about is no approval: the caller, the
// history and CompleteSIMChange must all agree that the request was denied, for an
// immediate approval (Allow) and for a held one (Hold), also once the hold would have
// ended.
func TestUnpublishedApprovalIsDenied(t *testing.T) {
	ctx := context.Background()
	const number = "+15550104477"
	tests := []struct {
		name     string
		kind     protection.ChangeKind
		risk     protection.RiskLevel
		hold     bool // decided Hold (with holdHighRiskSwaps) rather than Allow
		approved notify.Type
		denied   notify.Type
		request  func(f *fixture) protection.ChangeRequest
	}{
		{"SIM swap", protection.ChangeSIMSwap, protection.RiskLow, false, notify.SIMSwapApproved, notify.SIMSwapDenied, func(f *fixture) protection.ChangeRequest {
			return protection.ChangeRequest{Channel: protection.ChannelApp, Evidence: []protection.Evidence{session(t0), emailCode(t0)}}
		}},
		{"held SIM swap", protection.ChangeSIMSwap, protection.RiskHigh, true, notify.SIMSwapApproved, notify.SIMSwapDenied, func(f *fixture) protection.ChangeRequest {
			return protection.ChangeRequest{Channel: protection.ChannelApp, Evidence: []protection.Evidence{
				session(t0), emailCode(t0), {Kind: protection.EvidencePassword, ObtainedAt: t0}}}
		}},
		{"port-out", protection.ChangePortOut, protection.RiskLow, false, notify.PortOutApproved, notify.PortOutDenied, func(f *fixture) protection.ChangeRequest {
			pin, _, err := f.svc.IssueTransferPIN(ctx, "alice", f.strongApp(), notify.Actor{})
			require.NoError(t, err)
			ev, err := f.svc.VerifyTransferPIN(ctx, "alice", pin)
			require.NoError(t, err)
			return protection.ChangeRequest{Channel: protection.ChannelPartner, Evidence: []protection.Evidence{ev}}
		}},
	}
	for _, tt := range tests {
		for _, fail := range failures {
			t.Run(tt.name+"/"+fail.name, func(t *testing.T) {
				f := newFixture(t)
				pub, rctx := publisher(t, fail.hangUp, tt.approved)
				cfg := protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: f.clock.Now}
				if tt.hold {
					cfg.Policy = holdHighRiskSwaps(t, f.clock.Now)
				}
				svc, err := protection.New(cfg, protection.Stores{Flags: f.store, History: f.store, PINs: f.store}, pub)
				require.NoError(t, err)
				f.svc = svc
				cr := tt.request(f)
				cr.Subscriber, cr.Number, cr.Kind, cr.Risk = "alice", number, tt.kind, tt.risk
				if tt.hold {
					// The case is meaningful: the policy does hold this request.
					d, err := f.svc.Decide(ctx, cr.Subscriber, protection.Request{Action: protection.ActionSIMSwap,
						Channel: cr.Channel, Risk: cr.Risk, Evidence: cr.Evidence, At: t0})
					require.NoError(t, err)
					require.Equal(t, protection.Hold, d.Outcome)
				}

				res, err := f.svc.RequestSIMChange(rctx, cr)
				require.ErrorIs(t, err, errOutbox)
				assert.Equal(t, protection.Deny, res.Decision.Outcome)
				assert.True(t, res.Decision.Reasons.Has(protection.ReasonFault), "reasons %s", res.Decision.Reasons)
				require.NotEmpty(t, res.RequestID)

				hist, err := f.svc.SIMChangeHistory(ctx, number, time.Time{})
				require.NoError(t, err)
				require.NotEmpty(t, hist)
				last := hist[len(hist)-1]
				assert.Equal(t, protection.StatusDenied, last.Status, "the FCC record must say what the caller was told")
				assert.Equal(t, protection.Deny, last.Outcome)
				assert.True(t, last.Reasons.Has(protection.ReasonFault))
				for _, h := range hist {
					assert.NotEqual(t, protection.StatusApproved, h.Status, "no record may call the request approved")
				}

				assert.ErrorIs(t, f.svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{}), protection.ErrNotApproved)
				// Nor later: a held approval must not become completable when its hold ends.
				f.clock.Advance(25 * time.Hour)
				assert.ErrorIs(t, f.svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{}), protection.ErrNotApproved)
				latest, err := f.store.LatestForRequest(ctx, res.RequestID)
				require.NoError(t, err)
				assert.Equal(t, protection.StatusDenied, latest.Status)
				_, ok := pub.Last(tt.denied)
				assert.True(t, ok, "the subscriber, told of the request, hears that it was denied")
				assert.Zero(t, countType(&pub.Recorder, notify.SIMSwapCompleted)+countType(&pub.Recorder, notify.PortOutCompleted))
			})
		}
	}
}

// atPublish is a Publisher that calls look with each event before recording it, so a
// test can see what the store held at the moment the event went out.
type atPublish struct {
	notify.Recorder
	look func(notify.Event)
}

func (p *atPublish) Publish(ctx context.Context, e notify.Event) error {
	p.look(e)
	return p.Recorder.Publish(ctx, e)
}

// A held approval is announced first and recorded as approved only after: when the
// approved event goes out the request is still approving (which CompleteSIMChange
// refuses), and the hold still keeps it from being completed early.
func TestHeldApprovalAnnouncedThenRecorded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var (
		announced   bool
		statusAtPub protection.ChangeStatus
	)
	pub := &atPublish{look: func(e notify.Event) {
		if e.Type != notify.SIMSwapApproved {
			return
		}
		announced = true
		latest, err := f.store.LatestForRequest(ctx, e.Attributes["request"])
		if assert.NoError(t, err) {
			statusAtPub = latest.Status
		}
	}}
	svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: f.clock.Now, Policy: holdHighRiskSwaps(t, f.clock.Now)},
		protection.Stores{Flags: f.store, History: f.store, PINs: f.store}, pub)
	require.NoError(t, err)
	f.svc = svc
	const number = "+15550104477"
	res, err := f.svc.RequestSIMChange(ctx, protection.ChangeRequest{Subscriber: "alice", Number: number,
		Kind: protection.ChangeSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskHigh,
		Evidence: []protection.Evidence{session(t0), emailCode(t0), {Kind: protection.EvidencePassword, ObtainedAt: t0}}})
	require.NoError(t, err)
	require.Equal(t, protection.Hold, res.Decision.Outcome)
	require.True(t, announced, "the approval is announced")
	assert.Equal(t, protection.StatusApproving, statusAtPub, "announced before it is recorded as approved")
	e, ok := pub.Last(notify.SIMSwapApproved)
	require.True(t, ok)
	assert.Equal(t, t0.Add(24*time.Hour).Format(time.RFC3339), e.Attributes["hold_until"])
	latest, err := f.store.LatestForRequest(ctx, res.RequestID)
	require.NoError(t, err)
	assert.Equal(t, protection.StatusApproved, latest.Status, "recorded as approved once announced")
	assert.Equal(t, t0.Add(24*time.Hour), latest.HoldUntil)

	assert.ErrorIs(t, f.svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{}), protection.ErrHeld)
	f.clock.Advance(24 * time.Hour)
	require.NoError(t, f.svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{}))
}

// A transfer PIN whose issue could not be announced is never shown, and must not stay
// live either: the subscriber does not know it exists.
func TestUnannouncedTransferPINIsRevoked(t *testing.T) {
	for _, fail := range failures {
		t.Run(fail.name, func(t *testing.T) { testUnannouncedTransferPIN(t, fail.hangUp) })
	}
}

func testUnannouncedTransferPIN(t *testing.T, hangUp bool) {
	ctx := context.Background()
	f := newFixture(t)
	pub, rctx := publisher(t, hangUp, notify.TransferPINIssued)
	// The same fixed random source twice: both services draw the same PIN.
	random := func() *bytes.Reader { return bytes.NewReader(bytes.Repeat([]byte{0x01}, 64)) }
	svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: f.clock.Now, Rand: random()},
		protection.Stores{Flags: f.store, History: f.store, PINs: f.store}, pub)
	require.NoError(t, err)
	pin, d, err := svc.IssueTransferPIN(rctx, "alice", f.strongApp(), notify.Actor{})
	require.ErrorIs(t, err, errOutbox)
	assert.Empty(t, pin)
	assert.Equal(t, protection.Deny, d.Outcome)
	assert.True(t, d.Reasons.Has(protection.ReasonFault))

	_, err = svc.VerifyTransferPIN(ctx, "alice", "065793") // what random() draws
	assert.ErrorIs(t, err, protection.ErrNotFound, "the unannounced PIN must not work")
	// The check above is meaningful: the same draw, announced, does work.
	ok, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: f.clock.Now, Rand: random()},
		protection.Stores{Flags: f.store, History: f.store, PINs: f.store}, &notify.Recorder{})
	require.NoError(t, err)
	pin, _, err = ok.IssueTransferPIN(ctx, "alice", f.strongApp(), notify.Actor{})
	require.NoError(t, err)
	require.Equal(t, "065793", pin)
	_, err = ok.VerifyTransferPIN(ctx, "alice", pin)
	require.NoError(t, err)
}
