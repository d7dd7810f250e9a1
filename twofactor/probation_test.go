package twofactor_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/twofactor"
)

// probationGate is a recordingGate whose policy holds factors new for probation.
type probationGate struct {
	recordingGate
	probation time.Duration
}

func (g *probationGate) FactorProbation() time.Duration { return g.probation }

var _ twofactor.ProbationGate = (*probationGate)(nil)

// Config.FactorProbation cannot disagree with the Gate's policy: zero takes the gate's,
// a shorter one is refused (a thief's factor would count here while the policy still
// holds it new), a longer one is only stricter and is kept.
func TestFactorProbationAgreesWithTheGate(t *testing.T) {
	const day = 24 * time.Hour
	h := newHarness(t, twofactor.Config{})
	for _, tt := range []struct {
		name       string
		configured time.Duration
		gate       time.Duration
		want       time.Duration // 0: refused
		wantErr    string
	}{
		{"zero takes the gate's", 0, 14 * day, 14 * day, ""},
		{"equal", 14 * day, 14 * day, 14 * day, ""},
		{"longer is stricter", 30 * day, 14 * day, 30 * day, ""},
		{"shorter is refused", 7 * day, 14 * day, 0, "Config.FactorProbation (168h0m0s) is shorter than the probation of new factors in the Gate's policy (336h0m0s)"},
		{"a gate without one", 0, 0, 7 * day, ""},
		{"a gate's out of range", 0, 200 * day, 0, "Config.FactorProbation must be 1h to 2400h"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := h.cfg
			cfg.FactorProbation = tt.configured
			d := h.deps()
			d.Gate = &probationGate{probation: tt.gate}
			svc, err := twofactor.New(cfg, d)
			if tt.want == 0 {
				require.ErrorIs(t, err, validate.ErrInvalidConfig)
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			now := h.clk.Now()
			assert.False(t, svc.Established(now.Add(-tt.want+time.Minute)), "new until its probation is over")
			assert.True(t, svc.Established(now.Add(-tt.want)), "established once it is")
		})
	}
	// A plain Gate says nothing of probation: the default stays 7 days.
	svc := h.serviceWith(h.deps())
	assert.False(t, svc.Established(h.clk.Now().Add(-7*day+time.Minute)))
	assert.True(t, svc.Established(h.clk.Now().Add(-7*day)))
}
