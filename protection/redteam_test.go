package protection_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/risk"
)

// Attack: a thief with a low-risk approval (or one held for a day) changes the
// credentials after the decision (his own password, his own contact) and completes
// anyway. Re-deciding judges the evidence's freshness as of the decision, but the risk
// must be current: a password changed after the decision fires credential_change at
// completion as it would have before it.
func TestAttackCredentialChangeAfterApprovalSeenAtCompletion(t *testing.T) {
	for _, tt := range []struct {
		name    string
		change  bool
		wantErr error
	}{
		{"no change since the decision completes", false, nil},
		{"attack: the password changed after the decision", true, protection.ErrNoLongerPermitted},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New(joinEpoch)
			scorer, alice := learnedAlice(t, clock)
			svc := newJoinProtection(t, clock, protection.RiskFromScorer(scorer, fromContext))
			ctx := context.WithValue(context.Background(), clientKey{}, alice)
			now := clock.Now()
			res, err := svc.RequestSIMChange(ctx, protection.ChangeRequest{
				Subscriber: "alice", Number: approvalNumber, Kind: protection.ChangeSIMSwap, Channel: protection.ChannelApp,
				Evidence: []protection.Evidence{
					{Kind: protection.EvidenceSession, ObtainedAt: now.Add(-time.Hour)},
					{Kind: protection.EvidencePassword, ObtainedAt: now},
					{Kind: protection.EvidenceContactCode, Contact: protection.ContactEmail, ObtainedAt: now,
						Purpose: otp.PurposeSIMSwap, FactorAddedAt: now.AddDate(-1, 0, 0)},
				},
			})
			require.NoError(t, err)
			require.Equal(t, protection.Allow, res.Decision.Outcome, "%s", res.Decision.Reasons)

			clock.Advance(10 * time.Minute)
			if tt.change {
				require.NoError(t, scorer.NoteChange(ctx, "alice", risk.ChangePassword, clock.Now()))
			}
			clock.Advance(time.Minute)
			err = svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{})
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr, "a credential change after the approval went unseen")
		})
	}
}

// Attack: a cancel token spliced onto another request. Each token's keyed hash binds
// its request ID, so the secret of one approval's link, with another request's ID,
// cancels nothing: the other approval still completes.
func TestAttackCancelTokenSplicedOntoAnotherRequest(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	first := approve(t, f, protection.ChangeSIMSwap, protection.RiskLow)
	e, ok := f.rec.Last(notify.SIMSwapApproved)
	require.True(t, ok)
	_, secret, ok := strings.Cut(e.Attributes["cancel"], ".")
	require.True(t, ok)
	second := approve(t, f, protection.ChangeESIMTransfer, protection.RiskLow)

	require.ErrorIs(t, f.svc.CancelSIMChangeByToken(ctx, second+"."+secret), protection.ErrNotFound)
	require.NoError(t, f.svc.CompleteSIMChange(ctx, second, notify.Actor{}), "the spliced token cancelled the other request")
	require.NoError(t, f.svc.CancelSIMChangeByToken(ctx, first+"."+secret), "the token still works for its own request")
}
