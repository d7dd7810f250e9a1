package crm

import (
	"context"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/twofactor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ctx, line = context.Background(), "+14155550177"

// owner makes ada's account (agent tokens "tok-<channel>"); secure: month-old contact, 2FA.
func owner(t *testing.T, secure bool) (*CRM, string) {
	var creds []agent.Credential
	for _, ch := range agent.Channels {
		creds = append(creds, agent.Credential{Agent: "alice", Name: "Alice", Channel: ch, Hash: agent.HashToken("tok-" + ch.String())})
	}
	c, err := New(creds, map[string]string{"ada": line, line: "ada"})
	if require.NoError(t, err); !secure {
		return c, ""
	}
	tok, _, _, _ := c.SignIn(ctx, "ada", "") // 2FA off: a session or an error AddContact fails on
	email, err := c.AddContact(ctx, tok, twofactor.KindEmail, "ada@example.com")
	require.NoError(t, err)
	c.Now = c.Now.Add(30 * 24 * time.Hour)
	tok, _, _, _ = c.SignIn(ctx, "ada", "")
	require.NoError(t, c.StepUp(ctx, tok, email.ID, otp.PurposeAddFactor))
	require.NoError(t, c.TwoFactor(ctx, tok, true))
	c.Now = c.Now.Add(time.Hour)
	return c, email.ID
}

// signIn signs in with the password and the sign-in code, read out by whoever has it.
func signIn(t *testing.T, c *CRM, contact string) string {
	_, pending, ch, err := c.SignIn(ctx, "ada", contact)
	require.NoError(t, err)
	tok, err := c.CompleteSignIn(ctx, pending, twofactor.MethodContactCode, ch, c.Last)
	require.NoError(t, err)
	return tok
}

// A thief with the password: the owner's SIM-swap code does not finish his sign-in; the
// sign-in code and an "account change" code she reads out give no swap, PIN, contact, 2FA off.
func TestAttackPhishedCodesGiveNoSIMSwapNorPIN(t *testing.T) {
	c, email := owner(t, true)
	_, pending, _, err := c.SignIn(ctx, "ada", email)
	require.NoError(t, err)
	ch, err := c.TF.Begin(ctx, twofactor.BeginRequest{Subscriber: "ada", ContactID: email, Purpose: otp.PurposeSIMSwap, Flow: "session:owner"})
	require.NoError(t, err)
	_, err = c.CompleteSignIn(ctx, pending, twofactor.MethodContactCode, ch.ID, c.Last)
	assert.ErrorIs(t, err, twofactor.ErrInvalidCode)
	c.Now = c.Now.Add(time.Minute)
	tok := signIn(t, c, email)
	for _, also := range []otp.Purpose{"", otp.PurposeAccountChange} {
		if c.Now = c.Now.Add(time.Minute); also != "" {
			require.NoError(t, c.StepUp(ctx, tok, email, also))
		}
		out, err := c.SIMSwap(ctx, tok)
		assert.Equal(t, protection.StepUp, out, err)
		pin, err := c.TransferPIN(ctx, tok)
		assert.True(t, pin == "" && err == nil, "%v", err)
		_, err = c.AddContact(ctx, tok, twofactor.KindEmail, "thief@example.net")
		assert.ErrorIs(t, err, twofactor.ErrProofRequired)
		assert.ErrorIs(t, c.TwoFactor(ctx, tok, false), twofactor.ErrProofRequired)
	}
	tok = signIn(t, c, email) // the owner, with codes sent for what she asks, swaps and ports
	require.NoError(t, c.StepUp(ctx, tok, email, otp.PurposeSIMSwap))
	out, err := c.SIMSwap(ctx, tok)
	assert.Equal(t, protection.Allow, out, err)
	c.Now = c.Now.Add(time.Minute)
	require.NoError(t, c.StepUp(ctx, tok, email, otp.PurposePortOut))
	pin, err := c.TransferPIN(ctx, tok)
	require.NoError(t, err)
	for _, try := range []string{"", "000000", pin} { // a partner learns nothing without the PIN
		ok, err := c.PartnerPortOut(ctx, line, try)
		assert.True(t, ok == (try == pin && pin != "") && err == nil, "PIN %q: %v", try, err)
	}
}

// With 2FA off, the thief adds his contact and cannot turn 2FA on with it (locking her out).
func TestAttackThiefCannotEnableTwoFactorOnHisContact(t *testing.T) {
	c, _ := owner(t, false)
	tok, _, _, _ := c.SignIn(ctx, "ada", "")
	his, err := c.AddContact(ctx, tok, twofactor.KindEmail, "thief@example.net")
	require.NoError(t, err)
	c.Now = c.Now.Add(time.Minute)
	require.NoError(t, c.StepUp(ctx, tok, his.ID, otp.PurposeAddFactor))
	assert.ErrorIs(t, c.TwoFactor(ctx, tok, true), twofactor.ErrFactorInProbation)
	require.NoError(t, c.StepUp(ctx, tok, his.ID, otp.PurposeSIMSwap))
	out, err := c.SIMSwap(ctx, tok) // held a day, every contact told
	assert.Equal(t, protection.Hold, out, err)
}

// An agent talked round: the victim's identity code gives no SIM swap; forged tokens nothing.
func TestAttackAgentIdentityCodeCannotSwapSIM(t *testing.T) {
	c, email := owner(t, true)
	for ch, want := range map[string]protection.Outcome{"phone": protection.Deny, "chat": protection.Deny, "store": protection.StepUp} {
		c.Now = c.Now.Add(time.Minute)
		out, err := c.AgentSIMSwap(ctx, "tok-"+ch, "ada", email, protection.ActionViewAccount)
		assert.Equal(t, want, out, "%s: %v", ch, err)
	}
	_, err := c.AgentSIMSwap(ctx, "tok-forged", "ada", email, protection.ActionSIMSwap)
	assert.ErrorIs(t, err, agent.ErrUnauthenticated)
}
