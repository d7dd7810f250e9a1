package status_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/status"
)

var _ func(protection.Action) status.Capability = status.CapabilityOf

// The default trust gate refuses an unverified account exactly the protection actions of
// a number takeover, and passes them all once the email is verified.
func TestCapabilityOfGatesProtectionActions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	gated := []protection.Action{
		protection.ActionSIMSwap, protection.ActionESIMTransfer, protection.ActionPortOut,
		protection.ActionIssueTransferPIN, protection.ActionChangeEmail,
		protection.ActionChangePhoneContact, protection.ActionRemoveTrustedContact,
		protection.ActionAddFactor, protection.ActionAddFirstFactor, protection.ActionEnableTwoFactor,
	}
	covered := map[status.Capability]bool{}
	for _, a := range protection.Actions() {
		c := status.CapabilityOf(a)
		assert.NotEmpty(t, c, "%s", a)
		err := f.svc.Allow(ctx, "alice", c)
		if slices.Contains(gated, a) {
			assert.ErrorIs(t, err, status.ErrUnverified, "%s -> %s", a, c)
			covered[c] = true
		} else {
			assert.NoError(t, err, "%s -> %s", a, c)
			assert.Equal(t, status.Capability(a.String()), c, "other actions keep their own name")
		}
	}
	for _, c := range status.DefaultRestricted() {
		assert.True(t, covered[c], "default capability %s is reached by some protection action", c)
	}

	f.verify(t, "alice", "alice@example.com")
	for _, a := range protection.Actions() {
		assert.NoError(t, f.svc.Allow(ctx, "alice", status.CapabilityOf(a)), "%s", a)
	}

	// A custom list can name any other action by its protection name.
	g := newFixture(t, status.Config{Restricted: []status.Capability{status.CapabilityOf(protection.ActionChangePaymentMethod)}})
	assert.ErrorIs(t, g.svc.Allow(ctx, "bob", "change_payment_method"), status.ErrUnverified)
}

// Every protection action has a deliberate capability: a new action must be added here
// (and to CapabilityOf, if it belongs to a restricted capability) or this test fails,
// so no action falls through the trust gate by being forgotten.
func TestCapabilityOfMapsEveryAction(t *testing.T) {
	want := map[protection.Action]status.Capability{
		protection.ActionSIMSwap:                 status.CapabilitySIMSwap,
		protection.ActionESIMTransfer:            status.CapabilityESIM,
		protection.ActionPortOut:                 status.CapabilityPortOut,
		protection.ActionIssueTransferPIN:        status.CapabilityPortOut,
		protection.ActionChangeEmail:             status.CapabilityContactChange,
		protection.ActionChangePhoneContact:      status.CapabilityContactChange,
		protection.ActionRemoveTrustedContact:    status.CapabilityContactChange,
		protection.ActionAddFactor:               status.CapabilityContactChange,
		protection.ActionAddFirstFactor:          status.CapabilityContactChange,
		protection.ActionEnableTwoFactor:         status.CapabilityContactChange,
		protection.ActionChangePassword:          "change_password",
		protection.ActionChangeShippingAddress:   "change_shipping_address",
		protection.ActionChangePaymentMethod:     "change_payment_method",
		protection.ActionChangeLines:             "change_lines",
		protection.ActionDisableTwoFactor:        "disable_two_factor",
		protection.ActionChangeSecurityQuestions: "change_security_questions",
		protection.ActionDisableFlag:             "disable_flag",
		protection.ActionViewAccount:             "view_account",
	}
	for _, a := range protection.Actions() {
		c, ok := want[a]
		if !assert.True(t, ok, "protection action %s has no decided capability: add it here and, if it is a takeover move, to CapabilityOf", a) {
			continue
		}
		assert.Equal(t, c, status.CapabilityOf(a), "%s", a)
	}
	assert.Len(t, want, len(protection.Actions()), "the table names only protection actions")
}
