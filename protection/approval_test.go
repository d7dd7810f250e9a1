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

// An approval the subscriber could not be told about is no approval: the caller, the
// history and CompleteSIMChange must all agree that the request was denied.
func TestUnpublishedApprovalIsDenied(t *testing.T) {
	ctx := context.Background()
	const number = "+15550104477"
	tests := []struct {
		name     string
		kind     protection.ChangeKind
		approved notify.Type
		denied   notify.Type
		request  func(f *fixture) protection.ChangeRequest
	}{
		{"SIM swap", protection.ChangeSIMSwap, notify.SIMSwapApproved, notify.SIMSwapDenied, func(f *fixture) protection.ChangeRequest {
			return protection.ChangeRequest{Channel: protection.ChannelApp, Evidence: []protection.Evidence{session(t0), emailCode(t0)}}
		}},
		{"port-out", protection.ChangePortOut, notify.PortOutApproved, notify.PortOutDenied, func(f *fixture) protection.ChangeRequest {
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
				svc, err := protection.New(protection.Config{PINKey: pinKey, Now: f.clock.Now},
					protection.Stores{Flags: f.store, History: f.store, PINs: f.store}, pub)
				require.NoError(t, err)
				f.svc = svc
				cr := tt.request(f)
				cr.Subscriber, cr.Number, cr.Kind, cr.Risk = "alice", number, tt.kind, protection.RiskLow

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
				_, ok := pub.Last(tt.denied)
				assert.True(t, ok, "the subscriber, told of the request, hears that it was denied")
				assert.Zero(t, countType(&pub.Recorder, notify.SIMSwapCompleted)+countType(&pub.Recorder, notify.PortOutCompleted))
			})
		}
	}
}

// A held approval is recorded as approved only once announced, and the hold still
// keeps it from being completed early.
func TestHeldApprovalAnnouncedThenRecorded(t *testing.T) {
	ctx := context.Background()
	rules := protection.DefaultRules()
	swap := rules[protection.ActionSIMSwap]
	extra := protection.Kinds(protection.EvidencePassword, protection.EvidenceAuthenticator)
	swap.Risk = map[protection.RiskLevel]protection.RiskOverlay{
		protection.RiskMedium: {AddOneOf: extra},
		protection.RiskHigh: {AddOneOf: extra, Hold: []protection.Channel{protection.ChannelApp, protection.ChannelWeb},
			HoldFor: 24 * time.Hour},
	}
	rules[protection.ActionSIMSwap] = swap
	f := newFixture(t, func(c *protection.Config) {
		p, err := protection.NewPolicy(protection.PolicyConfig{Rules: rules, Now: c.Now})
		require.NoError(t, err)
		c.Policy = p
	})
	const number = "+15550104477"
	res, err := f.svc.RequestSIMChange(ctx, protection.ChangeRequest{Subscriber: "alice", Number: number,
		Kind: protection.ChangeSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskHigh,
		Evidence: []protection.Evidence{session(t0), emailCode(t0), {Kind: protection.EvidencePassword, ObtainedAt: t0}}})
	require.NoError(t, err)
	require.Equal(t, protection.Hold, res.Decision.Outcome)
	e, ok := f.rec.Last(notify.SIMSwapApproved)
	require.True(t, ok)
	assert.Equal(t, t0.Add(24*time.Hour).Format(time.RFC3339), e.Attributes["hold_until"])
	latest, err := f.store.LatestForRequest(ctx, res.RequestID)
	require.NoError(t, err)
	assert.Equal(t, protection.StatusApproved, latest.Status)
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
	svc, err := protection.New(protection.Config{PINKey: pinKey, Now: f.clock.Now, Rand: random()},
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
	ok, err := protection.New(protection.Config{PINKey: pinKey, Now: f.clock.Now, Rand: random()},
		protection.Stores{Flags: f.store, History: f.store, PINs: f.store}, &notify.Recorder{})
	require.NoError(t, err)
	pin, _, err = ok.IssueTransferPIN(ctx, "alice", f.strongApp(), notify.Actor{})
	require.NoError(t, err)
	require.Equal(t, "065793", pin)
	_, err = ok.VerifyTransferPIN(ctx, "alice", pin)
	require.NoError(t, err)
}
