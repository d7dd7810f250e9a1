package protection_test

import (
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/protection"
)

// BenchmarkEvaluate decides a mix of actions, channels, flags, risk levels and evidence
// with the default policy.
func BenchmarkEvaluate(b *testing.B) {
	p, err := protection.NewPolicy(protection.PolicyConfig{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	evidence := [][]protection.Evidence{
		nil,
		{{Kind: protection.EvidenceSession, ObtainedAt: now.Add(-time.Hour)}},
		{{Kind: protection.EvidenceSession, ObtainedAt: now.Add(-time.Hour)},
			{Kind: protection.EvidenceContactCode, ObtainedAt: now.Add(-time.Minute), Contact: protection.ContactSMS, SIM: protection.SIMStatusStable},
			{Kind: protection.EvidencePassword, ObtainedAt: now.Add(-2 * time.Minute)}},
		{{Kind: protection.EvidenceGovernmentID, ObtainedAt: now}, {Kind: protection.EvidenceContactCode, ObtainedAt: now, Contact: protection.ContactEmail},
			{Kind: protection.EvidenceSecurityQuestions, ObtainedAt: now}, {Kind: protection.EvidenceTransferPIN, ObtainedAt: now}},
		{{Kind: protection.EvidenceContactCode, ObtainedAt: now.Add(-time.Hour), Contact: protection.ContactEmail}},
	}
	var reqs []protection.Request
	i := 0
	for _, a := range protection.Actions() {
		for _, c := range protection.Channels() {
			for _, f := range []protection.Flags{0, protection.NeverSIMSwap, protection.NoPortOut | protection.AccountLockdown} {
				reqs = append(reqs, protection.Request{Action: a, Channel: c, Flags: f,
					Risk: protection.RiskLevel(1 + i%3), Evidence: evidence[i%len(evidence)], At: now})
				i++
			}
		}
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := p.Evaluate(&reqs[n%len(reqs)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
}
