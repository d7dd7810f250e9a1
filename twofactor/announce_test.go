package twofactor_test

import (
	"errors"
	"testing"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/twofactor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every existing contact hears of a new factor, or of 2FA going on, before the change
// takes effect: the event is published first, and if it cannot be, nothing changes. A
// thief who enrols his own contact, codes or 2FA while notifications are down must not
// get a factor the owner was never told of. (Adding a contact: TestAddContactIsAnnouncedFirst;
// an app: otp TestConfirmAnnouncesFirst.)
func TestFactorChangesAreAnnouncedFirst(t *testing.T) {
	errBus := errors.New("event bus down")
	tests := []struct {
		name  string
		event notify.Type
		// setUp prepares alice and returns the change, made through svc.
		setUp func(h *harness) func(svc *twofactor.Service) error
		// changed reports whether the change took effect.
		changed func(h *harness) bool
	}{
		{
			name:  "turning 2FA on",
			event: notify.TwoFactorEnabled,
			setUp: func(h *harness) func(*twofactor.Service) error {
				h.addVerified("alice", twofactor.KindEmail, "alice@example.com", twofactor.Proof{})
				re := h.enableReauth("alice")
				return func(svc *twofactor.Service) error { return svc.Enable(h.ctx, "alice", re, twofactor.Origin{}) }
			},
			changed: func(h *harness) bool {
				on, err := h.svc.TwoFactorEnabled(h.ctx, "alice")
				require.NoError(h.t, err)
				return on
			},
		},
		{
			name:  "verifying a new contact",
			event: notify.TrustedContactVerified,
			setUp: func(h *harness) func(*twofactor.Service) error {
				h.addVerified("alice", twofactor.KindEmail, "alice@example.com", twofactor.Proof{})
				h.establish()
				re := h.reauthFor("alice")
				h.tick()
				pc, err := h.svc.AddContact(h.ctx, twofactor.AddContactRequest{Subscriber: "alice", Kind: twofactor.KindEmail,
					Value: "mallory@example.net", Reauth: re})
				require.NoError(h.t, err)
				code := h.sender.last(h.t).Code
				return func(svc *twofactor.Service) error {
					_, err := svc.VerifyContact(h.ctx, twofactor.VerifyContactRequest{Subscriber: "alice", ChallengeID: pc.ChallengeID,
						Code: code, Reauth: re})
					return err
				}
			},
			changed: func(h *harness) bool {
				cs, err := h.svc.Contacts(h.ctx, "alice")
				require.NoError(h.t, err)
				n := 0
				for _, c := range cs {
					if c.Verified() {
						n++
					}
				}
				return n > 1
			},
		},
		{
			name:  "making recovery codes",
			event: notify.RecoveryCodesGenerated,
			setUp: func(h *harness) func(*twofactor.Service) error {
				h.addVerified("alice", twofactor.KindEmail, "alice@example.com", twofactor.Proof{})
				h.establish()
				re := h.reauthFor("alice")
				return func(svc *twofactor.Service) error {
					_, err := svc.GenerateRecoveryCodes(h.ctx, "alice", re, twofactor.Origin{})
					return err
				}
			},
			changed: func(h *harness) bool {
				st, err := h.svc.Status(h.ctx, "alice")
				require.NoError(h.t, err)
				return st.RecoveryCodesLeft > 0
			},
		},
	}
	for _, tt := range tests {
		for _, fail := range []bool{true, false} {
			name := tt.name + map[bool]string{true: ", publish fails", false: ", publish works"}[fail]
			t.Run(name, func(t *testing.T) {
				h := newHarness(t, twofactor.Config{})
				change := tt.setUp(h)
				require.False(t, tt.changed(h))
				announced := false
				deps := h.deps()
				deps.Publisher = hookPublisher{Recorder: h.events, before: func(e notify.Event) error {
					if e.Type != tt.event {
						return nil
					}
					announced = true
					assert.False(t, tt.changed(h), "the change took effect before it was announced")
					if fail {
						return errBus
					}
					return nil
				}}
				err := change(h.serviceWith(deps))
				require.True(t, announced, "%s was never published", tt.event)
				if fail {
					require.ErrorIs(t, err, errBus)
					assert.False(t, tt.changed(h), "a change nobody was told of took effect")
					return
				}
				require.NoError(t, err)
				assert.True(t, tt.changed(h))
			})
		}
	}
}

// A contact added today does not take the owner's authenticator app away: removing a
// factor needs a proof from one past its probation, whatever is removed. (Turning 2FA
// off and removing a contact: TestChainAppEnrolledTodayTakesNothingAway.)
func TestNewContactCannotRemoveTheApp(t *testing.T) {
	h := newHarness(t, twofactor.Config{})
	email, _ := h.setUp("alice")
	app := h.enrollApp("alice")
	require.NoError(t, h.svc.ConfirmAuthenticator(h.ctx, twofactor.ConfirmAuthenticatorRequest{Subscriber: "alice",
		Code: app.TOTP(h.clk.Now()), Reauth: h.reauth(h.proveFor("alice", email.ID, otp.PurposeAddFactor))}))
	h.establish()
	require.NoError(t, h.svc.RemoveContact(h.ctx, twofactor.RemoveContactRequest{Subscriber: "alice", ContactID: email.ID,
		Proof: h.appProve("alice", otp.PurposeDisableTwoFactor)}))
	fresh := h.addVerified("alice", twofactor.KindEmail, "new@example.net", twofactor.Proof{})

	p := h.proveFor("alice", fresh.ID, otp.PurposeDisableTwoFactor)
	assert.ErrorIs(t, h.svc.RemoveAuthenticator(h.ctx, "alice", p, twofactor.Origin{}), twofactor.ErrFactorInProbation)
	st, err := h.svc.Status(h.ctx, "alice")
	require.NoError(t, err)
	assert.True(t, st.Authenticator, "a week-old app was removed with a proof from a contact added today")

	h.establish()
	require.NoError(t, h.svc.RemoveAuthenticator(h.ctx, "alice", h.proveFor("alice", fresh.ID, otp.PurposeDisableTwoFactor), twofactor.Origin{}))
}
