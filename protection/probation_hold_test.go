package protection_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
)

// A self-service SIM swap whose only second factor is in probation is held, and the
// hold is the remedy: when it comes due it is re-decided with the evidence judged as of
// the decision, so the factor's age then (in probation) holds it again until the same
// time, which has passed, and it completes, even while the factor is still new. A flag
// turned on meanwhile still stops it, whether or not anything cancelled the hold.
func TestProbationHoldCompletesWhenDueUnlessFlagged(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name       string
		factorAge  time.Duration // at the request
		flag       string        // "", "service" (EnableFlag) or "store" (behind the service's back)
		completes  bool
		wantStatus protection.ChangeStatus
	}{
		{"factor still new when due", time.Hour, "", true, protection.StatusCompleted},
		{"factor established by then", 6*24*time.Hour + 12*time.Hour, "", true, protection.StatusCompleted},
		{"Never SIM Swap turned on", time.Hour, "service", false, protection.StatusCancelled},
		{"Never SIM Swap set behind the service's back", time.Hour, "store", false, protection.StatusDenied},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			now := f.clock.Now()
			newCode := protection.Evidence{Kind: protection.EvidenceContactCode, ObtainedAt: now, Contact: protection.ContactEmail,
				Purpose: otp.PurposeSIMSwap, FactorAddedAt: now.Add(-tt.factorAge)}
			res, err := f.svc.RequestSIMChange(ctx, protection.ChangeRequest{Subscriber: "alice", Number: approvalNumber,
				Kind: protection.ChangeSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow,
				Evidence: []protection.Evidence{session(now), newCode}})
			require.NoError(t, err)
			d := res.Decision
			require.Equal(t, protection.Hold, d.Outcome, "%s", d.Reasons)
			require.True(t, d.Reasons.Has(protection.ReasonProbationHold), "%s", d.Reasons)
			assert.Equal(t, now.Add(24*time.Hour), d.HoldUntil)

			f.clock.Advance(12 * time.Hour)
			switch tt.flag {
			case "service":
				require.NoError(t, f.svc.EnableFlag(ctx, "alice", protection.NeverSIMSwap, protection.ChannelApp, notify.Actor{}))
			case "store":
				_, err := f.store.EnableFlag(ctx, "alice", protection.NeverSIMSwap, f.clock.Now())
				require.NoError(t, err)
			}
			f.clock.Advance(11 * time.Hour)
			ready, err := f.svc.ApplyDueHolds(ctx, 0)
			require.NoError(t, err)
			assert.Empty(t, ready, "not due an hour before the hold ends")
			early := f.svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{})
			if tt.flag == "service" {
				assert.ErrorIs(t, early, protection.ErrNotApproved, "EnableFlag cancelled the hold")
			} else {
				assert.ErrorIs(t, early, protection.ErrHeld)
			}

			f.clock.Advance(time.Hour)
			ready, err = f.svc.ApplyDueHolds(ctx, 0)
			require.NoError(t, err)
			err = f.svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{})
			rec := latestStatus(t, f, res.RequestID)
			assert.Equal(t, tt.wantStatus, rec.Status)
			if tt.completes {
				require.Len(t, ready, 1, "due and still permitted")
				assert.Equal(t, res.RequestID, ready[0].RequestID)
				require.NoError(t, err)
				assert.Equal(t, 1, countType(f.rec, notify.SIMSwapCompleted))
				return
			}
			assert.Empty(t, ready)
			assert.Error(t, err)
			assert.Zero(t, countType(f.rec, notify.SIMSwapCompleted), "never carried out")
			if tt.flag == "store" {
				assert.True(t, rec.Reasons.Has(protection.ReasonFlagNeverSIMSwap), "%s", rec.Reasons)
			}
		})
	}
}
