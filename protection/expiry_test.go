package protection_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
)

const approvalNumber = "+15550104477"

// approve makes alice's request of kind approved at the fixture's clock (held for a day
// with risk high, if f's policy holds high-risk swaps) and returns its request ID.
func approve(t *testing.T, f *fixture, kind protection.ChangeKind, risk protection.RiskLevel) string {
	t.Helper()
	ctx := context.Background()
	now := f.clock.Now()
	cr := protection.ChangeRequest{Subscriber: "alice", Number: approvalNumber, Kind: kind, Channel: protection.ChannelApp,
		Risk: risk, Evidence: []protection.Evidence{session(now), emailCode(now), {Kind: protection.EvidencePassword, ObtainedAt: now}}}
	if kind == protection.ChangePortOut {
		pin, _, err := f.svc.IssueTransferPIN(ctx, "alice", f.strongApp(), notify.Actor{})
		require.NoError(t, err)
		ev, err := f.svc.VerifyTransferPIN(ctx, "alice", pin)
		require.NoError(t, err)
		cr.Channel, cr.Evidence = protection.ChannelPartner, []protection.Evidence{ev}
	}
	res, err := f.svc.RequestSIMChange(ctx, cr)
	require.NoError(t, err)
	require.True(t, res.Decision.Outcome.Permits(), "%s: %v", kind, res.Decision)
	return res.RequestID
}

func latestStatus(t *testing.T, f *fixture, id string) protection.SIMChange {
	t.Helper()
	rec, err := f.store.LatestForRequest(context.Background(), id)
	require.NoError(t, err)
	return rec
}

// An approval can be completed only within Config.ApprovalTTL (1 hour by default) of its
// decision; after that it is recorded as expired and never completes.
func TestApprovalExpires(t *testing.T) {
	tests := []struct {
		name    string
		ttl     time.Duration
		after   time.Duration
		wantErr error
	}{
		{"just before the default hour", 0, time.Hour - time.Second, nil},
		{"at the default hour", 0, time.Hour, protection.ErrApprovalExpired},
		{"attack: a 30-day-old approval", 0, 30 * 24 * time.Hour, protection.ErrApprovalExpired},
		{"configured 10 minutes, within", 10 * time.Minute, 9 * time.Minute, nil},
		{"configured 10 minutes, after", 10 * time.Minute, 11 * time.Minute, protection.ErrApprovalExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, func(c *protection.Config) { c.ApprovalTTL = tt.ttl })
			id := approve(t, f, protection.ChangeSIMSwap, protection.RiskLow)
			e, ok := f.rec.Last(notify.SIMSwapApproved)
			require.True(t, ok)
			ttl := tt.ttl
			if ttl == 0 {
				ttl = time.Hour
			}
			assert.Equal(t, t0.Add(ttl).Format(time.RFC3339), e.Attributes["expires_at"])
			f.clock.Advance(tt.after)
			err := f.svc.CompleteSIMChange(ctx, id, notify.Actor{})
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, protection.StatusCompleted, latestStatus(t, f, id).Status)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, protection.StatusExpired, latestStatus(t, f, id).Status, "the expiry is recorded")
			assert.Zero(t, countType(f.rec, notify.SIMSwapCompleted))
			assert.ErrorIs(t, f.svc.CompleteSIMChange(ctx, id, notify.Actor{}), protection.ErrNotApproved, "and stays final")
		})
	}
}

// A held approval expires ApprovalTTL after its hold ends, not after the decision: and
// the re-decision at completion, a day after the codes were entered, judges their
// freshness as of the decision, or no hold could ever complete.
func TestHeldApprovalCompletesWhenDueAndThenExpires(t *testing.T) {
	for _, tt := range []struct {
		after   time.Duration
		wantErr error
	}{
		{24*time.Hour - time.Minute, protection.ErrHeld},
		{24 * time.Hour, nil},
		{25*time.Hour - time.Second, nil},
		{25 * time.Hour, protection.ErrApprovalExpired},
	} {
		t.Run(tt.after.String(), func(t *testing.T) {
			f := newFixture(t, func(c *protection.Config) { c.Policy = holdHighRiskSwaps(t, func() time.Time { return t0 }) })
			id := approve(t, f, protection.ChangeSIMSwap, protection.RiskHigh)
			rec := latestStatus(t, f, id)
			assert.Equal(t, t0.Add(24*time.Hour), rec.HoldUntil)
			assert.Equal(t, t0.Add(25*time.Hour), rec.ExpiresAt)
			assert.Equal(t, t0, rec.DecidedAt)
			assert.Len(t, rec.Given, 3, "the evidence as given is kept for re-deciding")
			f.clock.Advance(tt.after)
			err := f.svc.CompleteSIMChange(context.Background(), id, notify.Actor{})
			if tt.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.wantErr)
			}
		})
	}
}

// Turning a flag on cancels the open approvals it forbids, and only those: Never SIM
// Swap the SIM swaps and eSIM transfers, No Port Out the port-outs, Account Lockdown all.
func TestEnableFlagCancelsForbiddenApprovals(t *testing.T) {
	kinds := []protection.ChangeKind{protection.ChangeSIMSwap, protection.ChangeESIMTransfer, protection.ChangePortOut}
	tests := []struct {
		flag      protection.Flags
		cancelled []protection.ChangeKind
		reason    protection.Reason
	}{
		{protection.NeverSIMSwap, []protection.ChangeKind{protection.ChangeSIMSwap, protection.ChangeESIMTransfer}, protection.ReasonFlagNeverSIMSwap},
		{protection.NoPortOut, []protection.ChangeKind{protection.ChangePortOut}, protection.ReasonFlagNoPortOut},
		{protection.AccountLockdown, kinds, protection.ReasonFlagAccountLockdown},
	}
	for _, tt := range tests {
		t.Run(tt.flag.String(), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			ids := map[protection.ChangeKind]string{}
			for _, k := range kinds {
				ids[k] = approve(t, f, k, protection.RiskLow)
			}
			f.rec.Reset()
			require.NoError(t, f.svc.EnableFlag(ctx, "alice", tt.flag, protection.ChannelApp, notify.Actor{}))
			for _, k := range kinds {
				rec := latestStatus(t, f, ids[k])
				if !contains(tt.cancelled, k) {
					assert.Equal(t, protection.StatusApproved, rec.Status, "%s is not forbidden by %s", k, tt.flag)
					continue
				}
				assert.Equal(t, protection.StatusCancelled, rec.Status, k.String())
				assert.True(t, rec.Reasons.Has(tt.reason), "%s: reasons %s", k, rec.Reasons)
				assert.Equal(t, "system:protection", rec.Actor)
				assert.ErrorIs(t, f.svc.CompleteSIMChange(ctx, ids[k], notify.Actor{}), protection.ErrNotApproved, k.String())
			}
			denials := 0
			for _, e := range f.rec.Events() {
				if e.Type == notify.SIMSwapDenied || e.Type == notify.PortOutDenied {
					denials++
					assert.Equal(t, "cancelled", e.Attributes["reason"])
				}
			}
			assert.Equal(t, len(tt.cancelled), denials, "each cancellation is announced")

			// Turning it on again cancels nothing more: an approval made while it is on met it.
			require.NoError(t, f.svc.EnableFlag(ctx, "alice", tt.flag, protection.ChannelApp, notify.Actor{}))
		})
	}
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Attack: an approval completed after Never SIM Swap was turned on. Two rules stop it,
// each tested alone: EnableFlag cancels it; and, where a flag is set behind the
// service's back (so nothing cancelled the approval), the re-decision at completion
// sees the flag and denies, recording and announcing it.
func TestAttackApprovalCompletedAfterFlagOn(t *testing.T) {
	ctx := context.Background()
	for _, held := range []bool{false, true} {
		name := map[bool]string{false: "approval", true: "hold"}[held]
		t.Run(name+"/cancelled by EnableFlag", func(t *testing.T) {
			f, id := approvedOrHeld(t, held)
			f.clock.Advance(time.Minute)
			require.NoError(t, f.svc.EnableFlag(ctx, "alice", protection.NeverSIMSwap, protection.ChannelWeb, notify.Actor{}))
			if held {
				f.clock.Advance(24 * time.Hour)
			}
			assert.ErrorIs(t, f.svc.CompleteSIMChange(ctx, id, notify.Actor{}), protection.ErrNotApproved)
			assert.Zero(t, countType(f.rec, notify.SIMSwapCompleted))
		})
		t.Run(name+"/re-decided at completion", func(t *testing.T) {
			f, id := approvedOrHeld(t, held)
			f.clock.Advance(time.Minute)
			_, err := f.store.EnableFlag(ctx, "alice", protection.NeverSIMSwap, f.clock.Now())
			require.NoError(t, err)
			if held {
				f.clock.Advance(24 * time.Hour)
			}
			f.rec.Reset()
			err = f.svc.CompleteSIMChange(ctx, id, notify.Actor{})
			require.ErrorIs(t, err, protection.ErrNoLongerPermitted)
			rec := latestStatus(t, f, id)
			assert.Equal(t, protection.StatusDenied, rec.Status)
			assert.True(t, rec.Reasons.Has(protection.ReasonFlagNeverSIMSwap), rec.Reasons.String())
			assert.Equal(t, []notify.Type{notify.SIMSwapDenied}, f.rec.Types(), "the denial is announced, nothing completes")
			e, _ := f.rec.Last(notify.SIMSwapDenied)
			assert.Contains(t, e.Attributes["reasons"], "flag_never_sim_swap")
		})
	}
}

func approvedOrHeld(t *testing.T, held bool) (*fixture, string) {
	if !held {
		f := newFixture(t)
		return f, approve(t, f, protection.ChangeSIMSwap, protection.RiskLow)
	}
	f := newFixture(t, func(c *protection.Config) { c.Policy = holdHighRiskSwaps(t, func() time.Time { return t0 }) })
	return f, approve(t, f, protection.ChangeSIMSwap, protection.RiskHigh)
}

// Risk is current at completion: an approval whose subscriber's risk rose to high since
// is denied (by default a high-risk SIM swap is only done in a store).
func TestCompletionReassessesRisk(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	level := protection.RiskLow
	f := newFixture(t, func(c *protection.Config) {
		c.Risk = protection.RiskAssessorFunc(func(context.Context, string, protection.Request) (protection.RiskLevel, error) {
			mu.Lock()
			defer mu.Unlock()
			return level, nil
		})
	})
	id := approve(t, f, protection.ChangeSIMSwap, protection.RiskLow)
	mu.Lock()
	level = protection.RiskHigh
	mu.Unlock()
	err := f.svc.CompleteSIMChange(ctx, id, notify.Actor{})
	require.ErrorIs(t, err, protection.ErrNoLongerPermitted)
	assert.True(t, latestStatus(t, f, id).Reasons.Has(protection.ReasonRiskHigh))
}

// Attack: a cancelled hold completed anyway. The subscriber cancels from any signed-in
// session, or an agent does; nobody else can, and nobody can cancel another
// subscriber's request.
func TestAttackCancelledHoldCompleted(t *testing.T) {
	ctx := context.Background()
	agent := notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"}
	tests := []struct {
		name    string
		sub     string
		ch      protection.Channel
		actor   notify.Actor
		wantErr error
	}{
		{"subscriber in the app", "alice", protection.ChannelApp, notify.Actor{}, nil},
		{"subscriber on the web", "alice", protection.ChannelWeb, notify.Actor{Kind: notify.ActorSubscriber}, nil},
		{"agent on the phone", "alice", protection.ChannelPhone, agent, nil},
		{"agent in a store", "alice", protection.ChannelStore, agent, nil},
		{"another subscriber", "mallory", protection.ChannelApp, notify.Actor{}, protection.ErrNotFound},
		{"a partner", "alice", protection.ChannelPartner, notify.Actor{Kind: notify.ActorSystem}, protection.ErrInvalidRequest},
		{"an agent without an ID", "alice", protection.ChannelChat, notify.Actor{Kind: notify.ActorAgent}, protection.ErrInvalidRequest},
		{"the subscriber on a phone call", "alice", protection.ChannelPhone, notify.Actor{}, protection.ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, id := approvedOrHeld(t, true)
			err := f.svc.CancelSIMChange(ctx, tt.sub, id, tt.ch, tt.actor)
			f.clock.Advance(24 * time.Hour)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.NoError(t, f.svc.CompleteSIMChange(ctx, id, notify.Actor{}), "a refused cancel changes nothing")
				return
			}
			require.NoError(t, err)
			assert.ErrorIs(t, f.svc.CompleteSIMChange(ctx, id, notify.Actor{}), protection.ErrNotApproved)
			assert.Zero(t, countType(f.rec, notify.SIMSwapCompleted))
			e, ok := f.rec.Last(notify.SIMSwapDenied)
			require.True(t, ok, "the cancellation is announced")
			assert.Equal(t, "cancelled", e.Attributes["reason"])
			assert.Equal(t, tt.ch.String(), e.Channel)
			rec := latestStatus(t, f, id)
			assert.Equal(t, protection.StatusCancelled, rec.Status)
			assert.ErrorIs(t, f.svc.CancelSIMChange(ctx, tt.sub, id, tt.ch, tt.actor), protection.ErrNotApproved, "once")
		})
	}
}

var cancelTokenForm = regexp.MustCompile(`^[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$`)

// The approved notice carries a single-use, URL-safe cancel token; only its keyed hash
// is stored; a wrong token does nothing; it expires with the approval.
func TestCancelLink(t *testing.T) {
	ctx := context.Background()
	f, id := approvedOrHeld(t, true)
	e, ok := f.rec.Last(notify.SIMSwapApproved)
	require.True(t, ok)
	token := e.Attributes["cancel"]
	require.Regexp(t, cancelTokenForm, token)
	require.NoError(t, e.Validate(), "the attribute passes the event's secret-name check")

	recs, err := f.svc.SIMChangeHistory(ctx, approvalNumber, time.Time{})
	require.NoError(t, err)
	secret := strings.SplitN(token, ".", 2)[1]
	for _, r := range recs {
		assert.NotContains(t, string(r.CancelHash), secret, "the token is not stored in plaintext")
		assert.NotContains(t, r.Actor+r.Number+r.Subscriber, secret)
	}
	assert.Len(t, latestStatus(t, f, id).CancelHash, 32)

	// Wrong tokens: another secret, another request, malformed: all alike.
	wrong := []string{
		id + "." + strings.Repeat("A", 43),
		strings.Repeat("0", 32) + "." + secret,
		"", ".", token + "x", token[:len(token)-1], strings.Repeat("x", 10000),
	}
	for _, w := range wrong {
		assert.ErrorIs(t, f.svc.CancelSIMChangeByToken(ctx, w), protection.ErrNotFound, "%.40q", w)
	}
	assert.Equal(t, protection.StatusApproved, latestStatus(t, f, id).Status)

	require.NoError(t, f.svc.CancelSIMChangeByToken(ctx, token))
	assert.Equal(t, protection.StatusCancelled, latestStatus(t, f, id).Status)
	assert.ErrorIs(t, f.svc.CancelSIMChangeByToken(ctx, token), protection.ErrNotApproved, "single use")
	f.clock.Advance(24 * time.Hour)
	assert.ErrorIs(t, f.svc.CompleteSIMChange(ctx, id, notify.Actor{}), protection.ErrNotApproved)

	// Expiring: once the approval has expired, its token does nothing.
	f2, id2 := approvedOrHeld(t, false)
	e2, _ := f2.rec.Last(notify.SIMSwapApproved)
	f2.clock.Advance(time.Hour)
	assert.ErrorIs(t, f2.svc.CancelSIMChangeByToken(ctx, e2.Attributes["cancel"]), protection.ErrApprovalExpired)
	assert.Equal(t, protection.StatusApproved, latestStatus(t, f2, id2).Status)
}

// Attack: the thief who swapped the SIM of a trusted contact number completes an
// approval that counted an SMS code sent to it. The re-decision looks the number up
// again, even where the caller had marked the code's SIM stable.
func TestCompletionRechecksSMSCodeDestination(t *testing.T) {
	ctx := context.Background()
	const contact = "+447700900123"
	f := newFixture(t)
	sms := protection.Evidence{Kind: protection.EvidenceContactCode, ObtainedAt: t0, Contact: protection.ContactSMS,
		Destination: contact, SIM: protection.SIMStatusStable, Purpose: otp.PurposeSIMSwap, FactorAddedAt: t0.AddDate(0, -1, 0)}
	res, err := f.svc.RequestSIMChange(ctx, protection.ChangeRequest{Subscriber: "alice", Number: approvalNumber,
		Kind: protection.ChangeSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow,
		Evidence: []protection.Evidence{session(t0), sms}})
	require.NoError(t, err)
	require.Equal(t, protection.Allow, res.Decision.Outcome)

	f.clock.Advance(5 * time.Minute)
	require.NoError(t, f.svc.RecordPortIn(ctx, "someone", contact, protection.ChannelPartner))
	err = f.svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{})
	require.ErrorIs(t, err, protection.ErrNoLongerPermitted)
	assert.True(t, latestStatus(t, f, res.RequestID).Reasons.Has(protection.ReasonContactSIMChanged))
}

// ApplyDueHolds re-decides holds that have come due: the one a flag now forbids is
// denied and announced at once; the one still permitted is returned, to be completed;
// one not due is left alone.
func TestApplyDueHolds(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *protection.Config) { c.Policy = holdHighRiskSwaps(t, func() time.Time { return t0 }) })
	ready := approve(t, f, protection.ChangeSIMSwap, protection.RiskHigh)
	forbidden := approve(t, f, protection.ChangeSIMSwap, protection.RiskHigh)
	f.clock.Advance(time.Hour)
	notDue := approve(t, f, protection.ChangeSIMSwap, protection.RiskHigh)

	got, err := f.svc.ApplyDueHolds(ctx, 0)
	require.NoError(t, err)
	assert.Empty(t, got, "nothing due yet")

	// The flag is set behind the service's back, so nothing cancelled the holds.
	f.clock.Advance(23 * time.Hour)
	_, err = f.store.EnableFlag(ctx, "alice", protection.NeverSIMSwap, f.clock.Now())
	require.NoError(t, err)
	got, err = f.svc.ApplyDueHolds(ctx, 0)
	require.NoError(t, err)
	assert.Empty(t, got, "both due holds are forbidden now")
	for _, id := range []string{ready, forbidden} {
		rec := latestStatus(t, f, id)
		assert.Equal(t, protection.StatusDenied, rec.Status)
		assert.True(t, rec.Reasons.Has(protection.ReasonFlagNeverSIMSwap))
	}
	assert.Equal(t, 2, countType(f.rec, notify.SIMSwapDenied))
	assert.Equal(t, protection.StatusApproved, latestStatus(t, f, notDue).Status)

	// Without the flag, a due hold is returned for the carrier to complete.
	g := newFixture(t, func(c *protection.Config) { c.Policy = holdHighRiskSwaps(t, func() time.Time { return t0 }) })
	id := approve(t, g, protection.ChangeSIMSwap, protection.RiskHigh)
	g.clock.Advance(24 * time.Hour)
	got, err = g.svc.ApplyDueHolds(ctx, 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, id, got[0].RequestID)
	require.NoError(t, g.svc.CompleteSIMChange(ctx, id, notify.Actor{}))
	got, err = g.svc.ApplyDueHolds(ctx, 0)
	require.NoError(t, err)
	assert.Empty(t, got)

	// Past its expiry, a due hold is recorded as expired.
	e := newFixture(t, func(c *protection.Config) { c.Policy = holdHighRiskSwaps(t, func() time.Time { return t0 }) })
	id = approve(t, e, protection.ChangeSIMSwap, protection.RiskHigh)
	e.clock.Advance(26 * time.Hour)
	got, err = e.svc.ApplyDueHolds(ctx, 0)
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Equal(t, protection.StatusExpired, latestStatus(t, e, id).Status)
}
