package protection_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/twofactor"
)

// Attack: a thief's SIM swap is held for a day because the only second factor it rests
// on is his own contact, added days ago and still in probation. The owner sees the
// notice and removes that contact, but does not cancel the swap (or cannot: the link
// went to the thief). When the hold comes due the re-decision must not count a code
// from a contact that is no longer on the account, so the swap is denied, not carried
// out. A factor still there completes; a checker that fails keeps it from completing.
func TestAttackEvidenceFromRemovedFactorCompletesHold(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name      string
		present   bool
		fault     bool
		completes bool
	}{
		{"the contact is still on the account", true, false, true},
		{"attack: the owner removed the contact during the hold", false, false, false},
		{"the factor cannot be checked", true, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var asked []protection.Evidence
			removed := false
			f := newFixture(t, func(c *protection.Config) {
				c.Factors = protection.FactorCheckerFunc(func(_ context.Context, sub string, ev protection.Evidence) (bool, error) {
					require.Equal(t, "alice", sub)
					asked = append(asked, ev)
					if tt.fault {
						return false, errors.New("store down")
					}
					return !removed, nil
				})
			})
			now := f.clock.Now()
			thiefs := protection.Evidence{Kind: protection.EvidenceContactCode, ObtainedAt: now, Contact: protection.ContactEmail,
				Purpose: otp.PurposeSIMSwap, FactorAddedAt: now.Add(-4 * 24 * time.Hour)}
			res, err := f.svc.RequestSIMChange(ctx, protection.ChangeRequest{Subscriber: "alice", Number: approvalNumber,
				Kind: protection.ChangeSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow,
				Evidence: []protection.Evidence{session(now), thiefs}})
			require.NoError(t, err)
			require.Equal(t, protection.Hold, res.Decision.Outcome, "%s", res.Decision.Reasons)
			assert.Empty(t, asked, "the first decision takes the evidence as the caller vouches for it")

			f.clock.Advance(time.Hour)
			removed = !tt.present
			f.clock.Advance(23*time.Hour + time.Minute)
			ready, _ := f.svc.ApplyDueHolds(ctx, 0)
			err = f.svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{})
			require.NotEmpty(t, asked, "the re-decision asks about the contact code's factor")
			assert.Equal(t, protection.EvidenceContactCode, asked[0].Kind)
			assert.Equal(t, thiefs.FactorAddedAt, asked[0].FactorAddedAt)
			if tt.completes {
				require.NoError(t, err)
				assert.Len(t, ready, 1)
				assert.Equal(t, 1, countType(f.rec, notify.SIMSwapCompleted))
				return
			}
			assert.Error(t, err)
			assert.Empty(t, ready)
			assert.Zero(t, countType(f.rec, notify.SIMSwapCompleted), "a swap resting on a removed factor was carried out")
			assert.NotEqual(t, protection.StatusCompleted, latestStatus(t, f, res.RequestID).Status)
		})
	}
}

// Evidence that comes from no factor (the session, the password) is never asked about.
func TestFactorCheckerAskedOnlyAboutSecondFactors(t *testing.T) {
	ctx := context.Background()
	var kinds []protection.EvidenceKind
	f := newFixture(t, func(c *protection.Config) {
		c.Factors = protection.FactorCheckerFunc(func(_ context.Context, _ string, ev protection.Evidence) (bool, error) {
			kinds = append(kinds, ev.Kind)
			return true, nil
		})
	})
	now := f.clock.Now()
	res, err := f.svc.RequestSIMChange(ctx, protection.ChangeRequest{Subscriber: "alice", Number: approvalNumber,
		Kind: protection.ChangeSIMSwap, Channel: protection.ChannelApp, Risk: protection.RiskLow,
		Evidence: []protection.Evidence{session(now), {Kind: protection.EvidencePassword, ObtainedAt: now}, emailCode(now)}})
	require.NoError(t, err)
	require.Equal(t, protection.Allow, res.Decision.Outcome, "%s", res.Decision.Reasons)
	require.NoError(t, f.svc.CompleteSIMChange(ctx, res.RequestID, notify.Actor{}))
	assert.Equal(t, []protection.EvidenceKind{protection.EvidenceContactCode}, kinds)
}

// FactorsFromTwoFactor matches a contact code to the contact it came from by kind, number
// and verification time: a contact removed since, or another contact of the same kind,
// is not it; an authenticator code counts while an authenticator is confirmed.
func TestFactorsFromTwoFactor(t *testing.T) {
	w := newTFWorld(t)
	owner := w.contact(t, "alice", twofactor.KindEmail, "alice@example.com")
	w.establish()
	phone := w.contact(t, "alice", twofactor.KindPhone, "+447400123456")
	check := protection.FactorsFromTwoFactor(w.tf)
	code := func(c twofactor.Contact) protection.Evidence {
		p := w.prove(t, "alice", c.ID, otp.PurposeSIMSwap)
		ev, err := protection.EvidenceFromProof(w.tf, "alice", p)
		require.NoError(t, err)
		return ev
	}
	emailEv, phoneEv := code(owner), code(phone)
	for _, tt := range []struct {
		name string
		ev   protection.Evidence
		want bool
	}{
		{"the email contact", emailEv, true},
		{"the phone contact", phoneEv, true},
		{"another number", func() protection.Evidence { e := phoneEv; e.Destination = "+447400999999"; return e }(), false},
		{"an email added at another time", func() protection.Evidence { e := emailEv; e.FactorAddedAt = phone.VerifiedAt; return e }(), false},
		{"no factor time", func() protection.Evidence { e := emailEv; e.FactorAddedAt = time.Time{}; return e }(), false},
		{"the phone's time on an email code", func() protection.Evidence {
			e := phoneEv
			e.Contact, e.Destination = protection.ContactEmail, ""
			return e
		}(), false},
		{"no authenticator on the account", protection.Evidence{Kind: protection.EvidenceAuthenticator, FactorAddedAt: owner.VerifiedAt}, false},
		{"a recovery code counts as given", protection.Evidence{Kind: protection.EvidenceRecoveryCode}, true},
	} {
		ok, err := check.FactorPresent(w.ctx, "alice", tt.ev)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, ok, tt.name)
	}

	// The phone is removed (with a proof from the established email, for 2FA-off level
	// changes): its codes are gone, the email's stay.
	proof := w.prove(t, "alice", owner.ID, otp.PurposeDisableTwoFactor)
	require.NoError(t, w.tf.RemoveContact(w.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: phone.ID, Proof: proof}))
	ok, err := check.FactorPresent(w.ctx, "alice", phoneEv)
	require.NoError(t, err)
	assert.False(t, ok, "a code from a removed contact")
	ok, err = check.FactorPresent(w.ctx, "alice", emailEv)
	require.NoError(t, err)
	assert.True(t, ok)

	_, err = protection.FactorsFromTwoFactor(nil).FactorPresent(w.ctx, "alice", emailEv)
	assert.Error(t, err, "no service fails closed")
}

// Attack: the thief's own authenticator earns a held SIM swap; the owner, told of it,
// removes that app and enrols her own. When the hold comes due, the evidence of the
// thief's app must not count as if it were hers: an app counts only while the app that
// gave the proof (its confirmation time) is still the one on the account.
func TestAttackReplacedAuthenticatorEvidenceDoesNotCount(t *testing.T) {
	w := newTFWorld(t)
	enrol := func() time.Time {
		en, err := w.auths.Enroll(w.ctx, otp.EnrollRequest{Subscriber: "alice", Account: "•••• 3456"})
		require.NoError(t, err)
		u, err := otp.ParseKeyURI(en.URI)
		require.NoError(t, err)
		app, err := otp.NewKey(u.Secret, u.Params)
		require.NoError(t, err)
		m, err := w.auths.Confirm(w.ctx, otp.ConfirmRequest{Subscriber: "alice", Code: app.TOTP(w.clk.Now())})
		require.NoError(t, err)
		return m.ConfirmedAt
	}
	thiefApp := enrol()
	ev := protection.Evidence{Kind: protection.EvidenceAuthenticator, ObtainedAt: w.clk.Now(), FactorAddedAt: thiefApp}
	factors := protection.FactorsFromTwoFactor(w.tf)
	ok, err := factors.FactorPresent(w.ctx, "alice", ev)
	require.NoError(t, err)
	require.True(t, ok, "the app that gave the proof is on the account")

	require.NoError(t, w.auths.Remove(w.ctx, otp.RemoveRequest{Subscriber: "alice"}))
	w.clk.Advance(time.Minute)
	enrol() // the owner's own app
	ok, err = factors.FactorPresent(w.ctx, "alice", ev)
	require.NoError(t, err)
	assert.False(t, ok, "the thief's app was replaced; its proof counted as the owner's")
	ev.FactorAddedAt = time.Time{}
	ok, err = factors.FactorPresent(w.ctx, "alice", ev)
	require.NoError(t, err)
	assert.False(t, ok, "an app proof of unknown age counts for nothing")
}
