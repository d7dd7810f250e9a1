package protection_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
)

// The approval and partner settings are validated like the others: negative values
// are refused with the field named; zero means the documented default.
func TestNewValidatesApprovalAndPartnerSettings(t *testing.T) {
	st := memory.NewProtection(memory.Options{})
	stores := protection.Stores{Flags: st, History: st, PINs: st, Probes: st}
	for _, tt := range []struct {
		name  string
		cfg   protection.Config
		field string
	}{
		{"negative approval TTL", protection.Config{ApprovalTTL: -time.Hour}, "ApprovalTTL"},
		{"negative partner limit", protection.Config{PartnerLimit: -1}, "PartnerLimit"},
		{"negative partner window", protection.Config{PartnerWindow: -time.Minute}, "PartnerWindow"},
		{"zero is default", protection.Config{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.PINKey, tt.cfg.TwoFactor, tt.cfg.Factors = pinKey, protection.TwoFactorFromRequest, protection.FactorsAsGiven
			_, err := protection.New(tt.cfg, stores, &notify.Recorder{})
			if tt.field == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.ErrorContains(t, err, tt.field)
		})
	}
}

// Config.TwoFactor is required: left out, New says what to pass, rather than letting a
// self-service SIM change go ahead at once while 2FA is off.
func TestNewRequiresTheTwoFactorState(t *testing.T) {
	st := memory.NewProtection(memory.Options{})
	_, err := protection.New(protection.Config{PINKey: pinKey}, protection.Stores{Flags: st, History: st, PINs: st}, &notify.Recorder{})
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
	assert.ErrorContains(t, err, "Config.TwoFactor is required")
}

// Config.Factors is required too: left out, a held SIM change could complete on a
// factor the owner removed during the hold.
func TestNewRequiresTheFactorChecker(t *testing.T) {
	st := memory.NewProtection(memory.Options{})
	_, err := protection.New(protection.Config{PINKey: pinKey, TwoFactor: protection.TwoFactorFromRequest},
		protection.Stores{Flags: st, History: st, PINs: st}, &notify.Recorder{})
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
	assert.ErrorContains(t, err, "Config.Factors is required")
}
