package twofactor_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/twofactor"
)

// Every SMS code twofactor sends, the sign-in and step-up codes of Begin and the
// verification codes of AddContact and ResendVerification, spends the SMS budget of
// the client that asked for it: a client that spreads its requests over accounts and
// contacts (SMS pumping) is stopped, and another client is not held up.
func TestCodesSpendTheClientsSMSBudget(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	var err error
	h.codes, err = otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("otp"), Now: h.clk.Now,
		MinResendInterval: time.Second, HourlyLimit: 60,
		Budgets: otp.SMSBudgets{HomeRegions: []string{"GB"}, PerClient: 2}}, h.otp, h.otp, h.events)
	require.NoError(t, err)
	h.svc = h.serviceWith(h.deps())
	const pump, other = "198.51.100.7", "2001:db8:1:2::9"
	wantClientBudget := func(t *testing.T, err error, what string) {
		t.Helper()
		var be *otp.BudgetError
		require.ErrorAs(t, err, &be, what)
		assert.Equal(t, otp.BudgetClient, be.Limit, what)
	}

	_, phone := h.setUp("alice")
	for _, p := range []otp.Purpose{otp.PurposeSignIn, otp.PurposeAccountChange} {
		h.tick()
		_, err := h.svc.Begin(h.ctx, twofactor.BeginRequest{Subscriber: "alice", ContactID: phone.ID, Purpose: p, Flow: flow, ClientIP: pump})
		require.NoError(t, err, p)
	}
	h.tick()
	sent := h.sender.count()
	_, err = h.svc.Begin(h.ctx, twofactor.BeginRequest{Subscriber: "alice", ContactID: phone.ID, Purpose: otp.PurposeSIMSwap, Flow: flow, ClientIP: pump + ":443"})
	wantClientBudget(t, err, "Begin")
	assert.Equal(t, sent, h.sender.count(), "no SMS")
	_, err = h.svc.Begin(h.ctx, twofactor.BeginRequest{Subscriber: "alice", ContactID: phone.ID, Purpose: otp.PurposeSIMSwap, Flow: flow, ClientIP: "pump"})
	assert.Error(t, err, "an address that does not parse is not \"no limit\"")

	// Another account, the same client: adding a phone contact sends an SMS too.
	h.addVerified("bob", twofactor.KindEmail, "bob@example.com", twofactor.Proof{})
	h.tick()
	_, err = h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "bob", Kind: twofactor.KindPhone, Value: "07400 654321",
		ClientIP: pump, Reauth: h.reauthFor("bob")})
	wantClientBudget(t, err, "AddContact")
	cs, err := h.svc.Contacts(h.ctx, "bob")
	require.NoError(t, err)
	assert.Len(t, cs, 1, "the refused contact is not left behind")

	h.tick()
	pc, err := h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "bob", Kind: twofactor.KindPhone, Value: "07400 654321",
		ClientIP: other, Reauth: h.reauthFor("bob")})
	require.NoError(t, err, "another client is not held up")
	h.tick()
	_, err = h.svc.ResendVerification(h.ctx, twofactor.ResendVerificationRequest{Subscriber: "bob", ContactID: pc.Contact.ID, ClientIP: pump})
	wantClientBudget(t, err, "ResendVerification")
	_, err = h.svc.ResendVerification(h.ctx, twofactor.ResendVerificationRequest{Subscriber: "bob", ContactID: pc.Contact.ID, ClientIP: other})
	assert.NoError(t, err)
}
