package protection_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

// lateHistory counts completions recorded after a point the test marks (EnableFlag has
// returned): with the mark set before the append even started, the completion cannot
// have been ordered before the flag.
type lateHistory struct {
	protection.HistoryStore
	marked atomic.Bool
	late   atomic.Int32
}

func (h *lateHistory) AppendSIMChange(ctx context.Context, rec protection.SIMChange, prev protection.ChangeStatus) error {
	before := h.marked.Load()
	err := h.HistoryStore.AppendSIMChange(ctx, rec, prev)
	if err == nil && before && rec.Status == protection.StatusCompleted {
		h.late.Add(1)
	}
	return err
}

// Attack: racing EnableFlag against CompleteSIMChange. A completion whose re-decision
// read the flags just before Never SIM Swap went on must not be recorded after
// EnableFlag returned. Here the completion is held inside its re-decision (in the risk
// assessor, after the flags were read) while EnableFlag runs to the end; released, its
// compare-and-set finds the approval cancelled. Without the cancel it would complete.
func TestAttackCompletionRacingEnableFlag(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	st := memory.NewProtection(memory.Options{})
	hist := &lateHistory{HistoryStore: st}
	rec := &notify.Recorder{}
	var block atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: clk.Now,
		Risk: protection.RiskAssessorFunc(func(context.Context, string, protection.Request) (protection.RiskLevel, error) {
			if block.Load() {
				close(entered)
				<-release
			}
			return protection.RiskLow, nil
		})}, protection.Stores{Flags: st, History: hist, PINs: st}, rec)
	require.NoError(t, err)
	f := &fixture{svc: svc, clock: clk, rec: rec, store: st}
	id := approve(t, f, protection.ChangeSIMSwap, protection.RiskLow)

	block.Store(true)
	done := make(chan error)
	go func() { done <- svc.CompleteSIMChange(ctx, id, notify.Actor{}) }()
	<-entered // the completion has read the flags (off) and is re-deciding
	block.Store(false)
	require.NoError(t, svc.EnableFlag(ctx, "alice", protection.NeverSIMSwap, protection.ChannelApp, notify.Actor{}))
	hist.marked.Store(true)
	close(release)
	assert.ErrorIs(t, <-done, protection.ErrNotApproved)
	assert.Zero(t, hist.late.Load(), "a completion was recorded after EnableFlag returned")
	assert.Zero(t, countType(rec, notify.SIMSwapCompleted))
	latest, err := st.LatestForRequest(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, protection.StatusCancelled, latest.Status)
}

// The same race, unforced, with storetest.Contenders completions of as many approvals
// against one EnableFlag: every approval ends exactly one way (completed, or cancelled
// or denied), every completion is announced once, and none is recorded after
// EnableFlag returned.
func TestEnableFlagRacesCompletions(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	st := memory.NewProtection(memory.Options{})
	hist := &lateHistory{HistoryStore: st}
	rec := &notify.Recorder{}
	svc, err := protection.New(protection.Config{TwoFactor: protection.TwoFactorFromRequest, Factors: protection.FactorsAsGiven, PINKey: pinKey, Now: clk.Now},
		protection.Stores{Flags: st, History: hist, PINs: st}, rec)
	require.NoError(t, err)
	f := &fixture{svc: svc, clock: clk, rec: rec, store: st}
	n := storetest.Contenders
	ids := make([]string, n)
	for i := range ids {
		ids[i] = approve(t, f, protection.ChangeSIMSwap, protection.RiskLow)
	}
	clk.Advance(time.Minute)

	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = svc.CompleteSIMChange(ctx, ids[i], notify.Actor{})
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		assert.NoError(t, svc.EnableFlag(ctx, "alice", protection.NeverSIMSwap, protection.ChannelApp, notify.Actor{}))
		hist.marked.Store(true)
	}()
	close(start)
	wg.Wait()

	completed := 0
	for i, id := range ids {
		latest, err := st.LatestForRequest(ctx, id)
		require.NoError(t, err)
		switch latest.Status {
		case protection.StatusCompleted:
			completed++
			assert.NoError(t, errs[i])
		case protection.StatusCancelled, protection.StatusDenied:
			assert.Error(t, errs[i])
		default:
			t.Errorf("request %d ended %s", i, latest.Status)
		}
		assert.ErrorIs(t, svc.CompleteSIMChange(ctx, id, notify.Actor{}), protection.ErrNotApproved, "nothing completes after")
	}
	assert.Equal(t, completed, countType(rec, notify.SIMSwapCompleted))
	assert.Zero(t, hist.late.Load(), "a completion was recorded after EnableFlag returned")
}
