package status_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/password"
	"github.com/carrierguard/carrierguard/status"
	"github.com/carrierguard/carrierguard/store/memory"
)

// *password.Service plugs into Sources through FromPassword.
var _ status.PasswordState = status.FromPassword((*password.Service)(nil))

// TestFromPassword wires a real password service into the status: no password, a fresh
// one, an expired one, a changed one and a reported compromise.
func TestFromPassword(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(epoch)
	opts := memory.Options{Now: clock.Now}
	pw, err := password.New(password.Config{Now: clock.Now}, memory.NewPassword(opts), memory.NewPasswordAttempts(opts), &notify.Recorder{})
	require.NoError(t, err)
	yes := func(context.Context, string) (bool, error) { return true, nil }
	svc, err := status.New(status.Config{Now: clock.Now}, memory.NewStatus(opts), status.Sources{
		TwoFactor: status.TwoFactorFunc(yes), Questions: status.QuestionsFunc(yes), Password: status.FromPassword(pw),
	}, &notify.Recorder{})
	require.NoError(t, err)
	passwordDone := func() bool {
		t.Helper()
		st, err := svc.Status(ctx, "alice")
		require.NoError(t, err)
		return st.Done(status.StepPasswordUpdate)
	}

	assert.False(t, passwordDone(), "no password on record")
	const first, second = "violet tractor humming 42 lanterns", "copper meadow whistles 17 kites"
	_, err = pw.Enroll(ctx, "alice", first, password.Subject{})
	require.NoError(t, err)
	assert.True(t, passwordDone(), "fresh password")

	clock.Advance(365 * 24 * time.Hour)
	assert.False(t, passwordDone(), "a year old under the default policy")

	_, err = pw.Change(ctx, password.ChangeRequest{Subscriber: "alice", Current: first, New: second})
	require.NoError(t, err)
	assert.True(t, passwordDone(), "just changed")

	require.NoError(t, pw.ReportCompromise(ctx, "alice", notify.Actor{Kind: notify.ActorSystem, ID: "breach-feed"}, ""))
	assert.False(t, passwordDone(), "reported compromised: must change, so the step is not done")
}

func TestFromPasswordFailsClosed(t *testing.T) {
	boom := errors.New("store down")
	src := status.FromPassword(rotationFunc(func(context.Context, string) (password.Rotation, error) {
		return password.Rotation{}, boom
	}))
	_, err := src.PasswordRotation(context.Background(), "alice")
	assert.ErrorIs(t, err, boom)
}

type rotationFunc func(context.Context, string) (password.Rotation, error)

func (f rotationFunc) RotationStatus(ctx context.Context, sub string) (password.Rotation, error) {
	return f(ctx, sub)
}
