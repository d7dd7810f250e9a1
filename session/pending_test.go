package session_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/session"
)

func TestPendingSignin(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, session.Config{})
	p, err := f.svc.BeginSignin(ctx, "alice", phone)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(p.ID, "signin_"), p.ID)
	assert.Equal(t, epoch, p.PasswordAt)
	assert.Equal(t, epoch.Add(session.DefaultSigninTimeout), p.ExpiresAt)

	got, err := f.svc.PendingSignin(ctx, p.ID, phone)
	require.NoError(t, err)
	assert.Equal(t, p, got)
	// Another device cannot continue it, nor take it away from its own.
	_, err = f.svc.PendingSignin(ctx, p.ID, laptop)
	assert.ErrorIs(t, err, session.ErrNotAuthenticated)
	_, err = f.svc.TakeSignin(ctx, p.ID, laptop)
	assert.ErrorIs(t, err, session.ErrNotAuthenticated)
	for _, id := range []string{"", "signin_nope", strings.Repeat("x", 200)} {
		_, err = f.svc.PendingSignin(ctx, id, phone)
		assert.ErrorIs(t, err, session.ErrNotAuthenticated, "id %q", id)
	}

	got, err = f.svc.TakeSignin(ctx, p.ID, phone)
	require.NoError(t, err)
	assert.Equal(t, "alice", got.Subscriber)
	// Used once.
	_, err = f.svc.TakeSignin(ctx, p.ID, phone)
	assert.ErrorIs(t, err, session.ErrNotAuthenticated)
	_, err = f.svc.PendingSignin(ctx, p.ID, phone)
	assert.ErrorIs(t, err, session.ErrNotAuthenticated)
}

func TestPendingSigninExpires(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, session.Config{SigninTimeout: 2 * time.Minute})
	p, err := f.svc.BeginSignin(ctx, "alice", phone)
	require.NoError(t, err)
	f.clock.Advance(2 * time.Minute)
	_, err = f.svc.PendingSignin(ctx, p.ID, phone)
	assert.ErrorIs(t, err, session.ErrNotAuthenticated)
	_, err = f.svc.TakeSignin(ctx, p.ID, phone)
	assert.ErrorIs(t, err, session.ErrNotAuthenticated)
}

// 64 requests completing one sign-in at once: one session, never two.
func TestTakeSigninRace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, session.Config{})
	p, err := f.svc.BeginSignin(ctx, "alice", phone)
	require.NoError(t, err)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			if _, err := f.svc.TakeSignin(ctx, p.ID, phone); err == nil {
				wins.Add(1)
			} else if !errors.Is(err, session.ErrNotAuthenticated) {
				t.Errorf("TakeSignin: %v", err)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, wins.Load())
}

// The owner changes the password while a thief who had the old one waits for a phished
// code: the thief's pending sign-in is gone.
func TestCredentialChangeEndsPendingSignins(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, session.Config{})
	thief, err := f.svc.BeginSignin(ctx, "alice", laptop)
	require.NoError(t, err)
	bobs, err := f.svc.BeginSignin(ctx, "bob", laptop)
	require.NoError(t, err)
	_, owner := f.create(t, "alice", phone, session.ProofPassword)
	f.clock.Advance(time.Second)
	require.NoError(t, f.svc.Publisher().Publish(session.NewContext(ctx, owner), notify.Event{ID: "e1", Type: notify.PasswordChanged,
		Subscriber: "alice", Time: f.clock.Now(), Actor: notify.Actor{Kind: notify.ActorSubscriber}}))
	_, err = f.svc.TakeSignin(ctx, thief.ID, laptop)
	assert.ErrorIs(t, err, session.ErrNotAuthenticated, "a sign-in begun with the old password completed")
	_, err = f.svc.PendingSignin(ctx, bobs.ID, laptop)
	assert.NoError(t, err, "another subscriber's sign-in went with alice's change")
}

// A store without the capability says so instead of losing sign-ins.
func TestPendingSigninNeedsStore(t *testing.T) {
	svc, err := session.New(session.Config{}, plainStore{newFixture(t, session.Config{}).store}, &notify.Recorder{})
	require.NoError(t, err)
	_, err = svc.BeginSignin(context.Background(), "alice", phone)
	assert.ErrorIs(t, err, session.ErrNoPendingStore)
	_, err = svc.PendingSignin(context.Background(), "signin_x", phone)
	assert.ErrorIs(t, err, session.ErrNoPendingStore)
}

// plainStore hides the memory store's PendingStore methods.
type plainStore struct{ session.Store }
