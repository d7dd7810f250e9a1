package protection_test

import (
	"testing"

	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A step-up caused by a factor in probation says so and names what does count: the same
// kind of proof from a factor on the account longer. A UI that only re-offered "a code"
// would send the subscriber (or the thief) back to the new contact in a loop.
func TestProbationStepUpNamesEvidenceThatCounts(t *testing.T) {
	p := defaultPolicy(t)
	pw := protection.Evidence{Kind: protection.EvidencePassword, ObtainedAt: t0}
	for a, purpose := range map[protection.Action]otp.Purpose{
		protection.ActionDisableFlag:          otp.PurposePortOut,
		protection.ActionDisableTwoFactor:     otp.PurposeDisableTwoFactor,
		protection.ActionRemoveTrustedContact: otp.PurposeDisableTwoFactor,
		protection.ActionIssueTransferPIN:     otp.PurposePortOut,
	} {
		fresh := emailCodeFor(purpose, t0)
		fresh.FactorAddedAt = t0.AddDate(0, 0, -2)
		d, err := p.Evaluate(&protection.Request{Action: a, Channel: protection.ChannelApp, Risk: protection.RiskLow, At: t0,
			Flag: protection.NoPortOut, Evidence: []protection.Evidence{session(t0), pw, fresh}})
		require.NoError(t, err)
		require.Equal(t, protection.StepUp, d.Outcome, a)
		assert.True(t, d.Reasons.Has(protection.ReasonFactorInProbation), "%s: %s", a, d.Reasons)
		assert.Zero(t, d.Counted&kC, "%s: the new contact's code counted", a)
		offered := false
		for _, m := range d.Missing() {
			offered = offered || m.Has(protection.EvidenceContactCode)
		}
		assert.True(t, offered, "%s: the step-up does not offer a code at all: %v", a, d.Missing())
		assert.Contains(t, d.Message(), "use one that has been on the account longer", a)

		// The same code from an established factor is what it asked for.
		fresh.FactorAddedAt = t0.AddDate(0, -1, 0)
		d, err = p.Evaluate(&protection.Request{Action: a, Channel: protection.ChannelApp, Risk: protection.RiskLow, At: t0,
			Flag: protection.NoPortOut, Evidence: []protection.Evidence{session(t0), pw, fresh}})
		require.NoError(t, err)
		assert.Equal(t, protection.Allow, d.Outcome, a)
	}
}
