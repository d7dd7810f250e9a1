package protection_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

// barrierHistory makes every caller of LatestForRequest wait until n callers have read,
// which forces the worst interleaving of concurrent read-then-write service calls: all
// of them read the same state before any of them writes.
type barrierHistory struct {
	protection.HistoryStore
	mu      sync.Mutex
	arrived int
	n       int
	release chan struct{}
}

func (b *barrierHistory) arm(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.arrived, b.n, b.release = 0, n, make(chan struct{})
}

func (b *barrierHistory) LatestForRequest(ctx context.Context, id string) (protection.SIMChange, error) {
	rec, err := b.HistoryStore.LatestForRequest(ctx, id)
	b.mu.Lock()
	release := b.release
	if release != nil {
		b.arrived++
		if b.arrived == b.n {
			close(release)
			b.release = nil
		}
	}
	b.mu.Unlock()
	if release != nil {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
	}
	return rec, err
}

func newBarrierService(t *testing.T) (*protection.Service, *barrierHistory, *notify.Recorder, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(t0)
	st := memory.NewProtection(memory.Options{Now: clk.Now})
	hist := &barrierHistory{HistoryStore: st}
	rec := &notify.Recorder{}
	svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: clk.Now},
		protection.Stores{Flags: st, History: hist, PINs: st}, rec)
	require.NoError(t, err)
	return svc, hist, rec, clk
}

func TestCompleteSIMChangeExactlyOnce(t *testing.T) {
	ctx := context.Background()
	svc, hist, rec, clk := newBarrierService(t)
	const number = "+15550104477"
	res, err := svc.RequestSIMChange(ctx, protection.ChangeRequest{Subscriber: "alice", Number: number,
		Kind: protection.ChangeSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow,
		Evidence: []protection.Evidence{session(t0), emailCode(t0)}})
	require.NoError(t, err)
	require.Equal(t, protection.Allow, res.Decision.Outcome)
	clk.Advance(time.Minute)

	hist.arm(storetest.Contenders)
	for _, err := range storetest.ExactlyOnce(t, storetest.Contenders, func(int) error {
		return svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{Kind: notify.ActorSystem, ID: "provisioning"})
	}) {
		assert.ErrorIs(t, err, protection.ErrNotApproved)
	}
	assert.Equal(t, 1, countType(rec, notify.SIMSwapCompleted), "the completion is announced once")
	records, err := svc.SIMChangeHistory(ctx, number, time.Time{})
	require.NoError(t, err)
	completed := 0
	for _, r := range records {
		if r.Status == protection.StatusCompleted {
			completed++
		}
	}
	assert.Equal(t, 1, completed, "the completion is recorded once")
}

func TestContinueSIMChangeDecidedOnce(t *testing.T) {
	ctx := context.Background()
	svc, hist, rec, clk := newBarrierService(t)
	cr := protection.ChangeRequest{Subscriber: "alice", Number: "+15550104477", Kind: protection.ChangeSIMSwap,
		Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: []protection.Evidence{session(t0)}}
	res, err := svc.RequestSIMChange(ctx, cr)
	require.NoError(t, err)
	require.Equal(t, protection.StepUp, res.Decision.Outcome)
	clk.Advance(time.Minute)
	cr.RequestID = res.RequestID
	cr.Evidence = append(cr.Evidence, emailCode(clk.Now()))

	const n = 8
	hist.arm(n)
	var (
		wg      sync.WaitGroup
		allowed = make([]bool, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := svc.RequestSIMChange(ctx, cr)
			allowed[i], errs[i] = r.Decision.Outcome == protection.Allow, err
		}()
	}
	wg.Wait()
	ok := 0
	for i := range n {
		if allowed[i] {
			ok++
			assert.NoError(t, errs[i])
		} else {
			assert.ErrorIs(t, errs[i], protection.ErrInvalidRequest)
		}
	}
	assert.Equal(t, 1, ok, "one continuation decides the request; the others are refused")
	assert.Equal(t, 1, countType(rec, notify.SIMSwapApproved))
	// So the approval is completed once, too.
	require.NoError(t, svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{}))
	assert.ErrorIs(t, svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{}), protection.ErrNotApproved)
}

// interleavingFlags runs before() just before each EnableFlag reaches the store: the
// moment another request can slip in after the service has read the flags.
type interleavingFlags struct {
	protection.FlagStore
	before func()
}

func (s *interleavingFlags) EnableFlag(ctx context.Context, sub string, flag protection.Flags, at time.Time) (protection.FlagState, error) {
	if f := s.before; f != nil {
		s.before = nil
		f()
	}
	return s.FlagStore.EnableFlag(ctx, sub, flag, at)
}

func TestEnableFlagAnnouncesAConcurrentlyScheduledCancel(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	st := memory.NewProtection(memory.Options{Now: clk.Now})
	flags := &interleavingFlags{FlagStore: st}
	rec := &notify.Recorder{}
	svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: clk.Now},
		protection.Stores{Flags: flags, History: st, PINs: st}, rec)
	require.NoError(t, err)
	require.NoError(t, svc.EnableFlag(ctx, "alice", protection.NoPortOut, protection.ChannelApp, notify.Actor{}))

	// A disable is requested (and announced) while a second EnableFlag is under way.
	flags.before = func() {
		strong := protection.Request{Channel: protection.ChannelApp, Risk: protection.RiskLow, Evidence: []protection.Evidence{
			session(t0), emailCodeFor(otp.PurposePortOut, t0), {Kind: protection.EvidencePassword, ObtainedAt: t0}}}
		_, _, err := svc.RequestFlagDisable(ctx, "alice", protection.NoPortOut, strong, notify.Actor{})
		require.NoError(t, err)
	}
	require.NoError(t, svc.EnableFlag(ctx, "alice", protection.NoPortOut, protection.ChannelApp, notify.Actor{}))
	status, err := svc.Flags(ctx, "alice")
	require.NoError(t, err)
	_, pending := status.Pending(protection.NoPortOut)
	require.False(t, pending, "enabling cancels the pending disable")
	assert.Equal(t, []notify.Type{notify.ProtectionFlagEnabled, notify.ProtectionFlagDisableRequested, notify.ProtectionFlagDisableCancelled},
		rec.Types(), "the subscriber was told a disable was requested, so must be told it was cancelled")
}
