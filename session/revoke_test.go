package session_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/session"
)

// credentialEvent is an account event as another package would publish it.
func credentialEvent(t notify.Type, sub string, actor notify.Actor, attrs map[string]string) notify.Event {
	return notify.Event{ID: notify.NewID(), Type: t, Subscriber: sub, Time: epoch, Actor: actor, Channel: "app", Attributes: attrs}
}

var subscriber = notify.Actor{Kind: notify.ActorSubscriber}

func TestRevokeOthers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, session.Config{})
	owner, cur := f.create(t, "alice", phone, session.ProofPassword, session.ProofSecondFactor)
	thief, _ := f.create(t, "alice", laptop, session.ProofPassword, session.ProofSecondFactor)
	bob, _ := f.create(t, "bob", laptop, session.ProofSecondFactor)
	f.clock.Advance(time.Minute)

	n, err := f.svc.RevokeOthers(ctx, "alice", cur.ID, "password.changed")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = f.svc.Validate(ctx, thief, laptop)
	assert.ErrorIs(t, err, session.ErrNotAuthenticated, "the other session ends")
	kept, err := f.svc.Validate(ctx, owner, phone)
	require.NoError(t, err, "the acting session is kept")
	assert.True(t, kept.SecondFactorAt.IsZero(), "the kept session's second-factor proof is cleared")
	assert.True(t, kept.PasswordAt.IsZero(), "the kept session's password proof is cleared")
	assert.False(t, kept.Fresh(session.ProofSecondFactor, time.Hour, f.clock.Now()))
	b, err := f.svc.Validate(ctx, bob, laptop)
	require.NoError(t, err)
	assert.False(t, b.SecondFactorAt.IsZero(), "another subscriber keeps his proofs")

	ev, ok := f.rec.Last(notify.SessionsRevoked)
	require.True(t, ok)
	assert.Equal(t, notify.Actor{Kind: notify.ActorSystem, ID: "session"}, ev.Actor)
	assert.Equal(t, map[string]string{"scope": "credential_change", "reason": "password.changed", "kept": cur.ID, "count": "1"}, ev.Attributes)

	// A proof given after the change counts again.
	f.clock.Advance(time.Minute)
	s, err := f.svc.StepUp(ctx, owner, phone, session.ProofSecondFactor)
	require.NoError(t, err)
	assert.True(t, s.Fresh(session.ProofSecondFactor, time.Minute, f.clock.Now()))

	t.Run("bad input", func(t *testing.T) {
		_, err := f.svc.RevokeOthers(ctx, "", cur.ID, "x")
		assert.Error(t, err)
		_, err = f.svc.RevokeOthers(ctx, "alice", cur.ID, "")
		assert.Error(t, err)
	})
	t.Run("keep nothing", func(t *testing.T) {
		n, err := f.svc.RevokeOthers(ctx, "alice", "", "twofactor.disabled")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		_, err = f.svc.Validate(ctx, owner, phone)
		assert.ErrorIs(t, err, session.ErrNotAuthenticated)
	})
}

func TestRevokeOthersProofRevoker(t *testing.T) {
	ctx := context.Background()
	var (
		mu    sync.Mutex
		calls []string
		fail  error
	)
	f := newFixture(t, session.Config{Proofs: session.ProofRevokerFunc(func(_ context.Context, sub string, at time.Time) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, sub+"@"+at.Format(time.RFC3339))
		return fail
	})})
	_, cur := f.create(t, "alice", phone)
	// Even with no other session to end, the proofs kept elsewhere go.
	n, err := f.svc.RevokeOthers(ctx, "alice", cur.ID, "twofactor.disabled")
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, []string{"alice@" + epoch.Format(time.RFC3339)}, calls)
	assert.Empty(t, f.rec.Events(), "nothing ended, nothing to tell")

	fail = errors.New("proof store down")
	_, err = f.svc.RevokeOthers(ctx, "alice", cur.ID, "twofactor.disabled")
	assert.ErrorIs(t, err, fail, "a proof store failure fails the revocation")
}

// TestPublisherRevokes drives the revoking publisher the way the password and twofactor
// services do: the change is published with the acting session on the context.
func TestPublisherRevokes(t *testing.T) {
	ctx := context.Background()
	agent := notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"}
	tests := []struct {
		name    string
		event   notify.Event
		acting  bool // the context carries the owner's session
		revoked bool // the thief's session ends
		kept    bool // the owner's session survives
	}{
		{"password changed in the owner's session", credentialEvent(notify.PasswordChanged, "alice", subscriber, nil), true, true, true},
		{"2FA turned off", credentialEvent(notify.TwoFactorDisabled, "alice", subscriber, nil), true, true, true},
		{"authenticator removed", credentialEvent(notify.AuthenticatorRemoved, "alice", subscriber, nil), true, true, true},
		{"verified contact removed", credentialEvent(notify.TrustedContactRemoved, "alice", subscriber, map[string]string{"verified": "true"}), true, true, true},
		{"email changed", credentialEvent(notify.EmailChanged, "alice", subscriber, nil), true, true, true},
		{"password compromised", credentialEvent(notify.PasswordCompromised, "alice", subscriber, nil), true, true, true},
		{"attack: recovery codes replaced after one leaked", credentialEvent(notify.RecoveryCodesGenerated, "alice", subscriber, map[string]string{"count": "10"}), true, true, true},
		{"no acting session: everything ends", credentialEvent(notify.PasswordChanged, "alice", subscriber, nil), false, true, false},
		{"an agent's change: everything ends", credentialEvent(notify.TwoFactorDisabled, "alice", agent, nil), true, true, false},
		{"pending contact dropped: nothing ends", credentialEvent(notify.TrustedContactRemoved, "alice", subscriber, map[string]string{"verified": "false"}), true, false, true},
		{"routine event: nothing ends", credentialEvent(notify.TrustedContactAdded, "alice", subscriber, nil), true, false, true},
		{"another subscriber's change: nothing ends", credentialEvent(notify.PasswordChanged, "bob", subscriber, nil), true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, session.Config{})
			owner, cur := f.create(t, "alice", phone, session.ProofSecondFactor)
			thief, _ := f.create(t, "alice", laptop, session.ProofSecondFactor)
			pctx := ctx
			if tt.acting {
				pctx = session.NewContext(ctx, cur)
			}
			require.NoError(t, f.svc.Publisher().Publish(pctx, tt.event))
			last, _ := f.rec.Last(tt.event.Type)
			assert.Equal(t, tt.event.ID, last.ID, "the event itself is published")

			_, err := f.svc.Validate(ctx, thief, laptop)
			assert.Equal(t, tt.revoked, errors.Is(err, session.ErrNotAuthenticated), "thief's session ended: %v", err)
			s, err := f.svc.Validate(ctx, owner, phone)
			assert.Equal(t, tt.kept, err == nil, "owner's session kept: %v", err)
			switch {
			case tt.kept && tt.revoked && tt.event.Type == notify.RecoveryCodesGenerated:
				assert.False(t, s.SecondFactorAt.IsZero(), "new recovery codes remove no factor: the kept session's proofs stay")
			case tt.kept && tt.revoked:
				assert.True(t, s.SecondFactorAt.IsZero(), "the kept session must prove a factor again")
			}
		})
	}
}

func TestPublisherRevocationFailure(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, session.Config{Proofs: session.ProofRevokerFunc(func(context.Context, string, time.Time) error {
		return errors.New("proof store down")
	})})
	_, cur := f.create(t, "alice", phone)
	ev := credentialEvent(notify.PasswordChanged, "alice", subscriber, nil)
	err := f.svc.Publisher().Publish(session.NewContext(ctx, cur), ev)
	require.Error(t, err, "the change is reported as not fully done")
	_, ok := f.rec.Last(notify.PasswordChanged)
	assert.True(t, ok, "the subscriber still hears of the change")
}

func TestPublisherCustomRule(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, session.Config{RevokeOn: func(notify.Event) bool { return false }})
	tok, _ := f.create(t, "alice", laptop)
	require.NoError(t, f.svc.Publisher().Publish(ctx, credentialEvent(notify.PasswordChanged, "alice", subscriber, nil)))
	_, err := f.svc.Validate(ctx, tok, laptop)
	assert.NoError(t, err, "a rule that keeps sessions is honoured")
}

func TestContext(t *testing.T) {
	_, ok := session.FromContext(context.Background())
	assert.False(t, ok)
	_, ok = session.FromContext(session.NewContext(context.Background(), session.Session{}))
	assert.False(t, ok, "a session without an ID is no acting session")
	s, ok := session.FromContext(session.NewContext(context.Background(), session.Session{ID: "s1", Subscriber: "alice"}))
	assert.True(t, ok)
	assert.Equal(t, "s1", s.ID)
}

// A session on the context keeps nothing for another subscriber's change: an agent
// console or a shared handler that acts on Alice while Bob's session is on the context
// ends all of Alice's sessions.
func TestPublisherIgnoresAnotherSubscribersSession(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, session.Config{})
	alice, aliceSess := f.create(t, "alice", phone)
	_, bobSess := f.create(t, "bob", laptop)
	// Bob's session ID given as the one to keep must not spare any of Alice's.
	require.NoError(t, f.svc.Publisher().Publish(session.NewContext(ctx, bobSess),
		credentialEvent(notify.PasswordChanged, "alice", subscriber, nil)))
	_, err := f.svc.Validate(ctx, alice, phone)
	assert.ErrorIs(t, err, session.ErrNotAuthenticated)
	ev, _ := f.rec.Last(notify.SessionsRevoked)
	assert.NotContains(t, ev.Attributes, "kept")
	assert.NotEqual(t, aliceSess.ID, ev.Attributes["kept"])
}
