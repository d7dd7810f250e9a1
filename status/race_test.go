package status_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/status"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

// pausingStore runs beforePut once, just before the first PutLink for a link to
// address: the moment a racing request lands between another's read and its write.
type pausingStore struct {
	status.VerificationStore
	address   string
	beforePut func()
	once      sync.Once
}

func (p *pausingStore) PutLink(ctx context.Context, l status.Link) error {
	if l.Email == p.address && p.beforePut != nil {
		p.once.Do(p.beforePut)
	}
	return p.VerificationStore.PutLink(ctx, l)
}

// TestAttackStaleAddressLinkAfterEmailChange: a resend reads the old address, then an
// email change lands before the resend stores its link. The link to the old address
// must not be stored, and must not verify: otherwise clicking it opens the trust gate
// for an account whose address of record (the new one) was never proved.
func TestAttackStaleAddressLinkAfterEmailChange(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(epoch)
	src := &fakeSources{}
	rec := &notify.Recorder{}
	var svc *status.Service
	var changeLink status.LinkToken
	var changeErr error
	st := &pausingStore{VerificationStore: memory.NewStatus(memory.Options{Now: clock.Now}), address: "alice@old.example"}
	svc, err := status.New(status.Config{Now: clock.Now, MinResendInterval: time.Second}, st,
		status.Sources{TwoFactor: src, Questions: src, Password: src}, rec)
	require.NoError(t, err)

	first, err := svc.SendLink(ctx, "alice", "alice@old.example") // at sign-up; the hook is not armed
	require.NoError(t, err)
	st.beforePut = func() {
		clock.Advance(time.Second)
		changeLink, changeErr = svc.ChangeEmail(ctx, "alice", "alice@new.example", status.By{Channel: "app"})
	}
	clock.Advance(time.Minute)

	stale, err := svc.SendLink(ctx, "alice", "alice@old.example") // the resend that read the old address
	require.NoError(t, changeErr)
	require.ErrorIs(t, err, status.ErrAddressChanged, "the resend lost the race and must say so")
	assert.Empty(t, stale.Token)
	assert.NotContains(t, err.Error(), "alice@", "the error names no address")

	for _, tok := range []string{stale.Token, first.Token} {
		_, err := svc.Verify(ctx, tok)
		assert.ErrorIs(t, err, status.ErrInvalidLink)
	}
	assert.ErrorIs(t, svc.Allow(ctx, "alice", status.CapabilitySIMSwap), status.ErrUnverified, "the trust gate stays shut")

	// The new address verifies through the link ChangeEmail sent it.
	res, err := svc.Verify(ctx, changeLink.Token)
	require.NoError(t, err)
	assert.Equal(t, "alice@new.example", res.Email)
	assert.NoError(t, svc.Allow(ctx, "alice", status.CapabilitySIMSwap))
}

// TestSendLinkGoesToTheAddressOfRecord: after the first link, links go to the
// address of record only; ChangeEmail moves it (and tells the subscriber).
func TestSendLinkGoesToTheAddressOfRecord(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	_, err := f.svc.SendLink(ctx, "alice", "alice@example.com")
	require.NoError(t, err)
	f.clock.Advance(time.Minute)
	_, err = f.svc.SendLink(ctx, "alice", "mallory@attacker.example")
	require.ErrorIs(t, err, status.ErrAddressChanged)
	f.clock.Advance(time.Minute)
	_, err = f.svc.ChangeEmail(ctx, "alice", "alice@example.net", status.By{})
	require.NoError(t, err)
	f.clock.Advance(time.Minute)
	_, err = f.svc.SendLink(ctx, "alice", "alice@example.com")
	require.ErrorIs(t, err, status.ErrAddressChanged, "the old address is stale now")
	link, err := f.svc.SendLink(ctx, "alice", "alice@example.net")
	require.ErrorIs(t, err, status.ErrThrottled, "the stale attempt counted towards the limits")
	f.clock.Advance(time.Minute)
	link, err = f.svc.SendLink(ctx, "alice", "alice@example.net")
	require.NoError(t, err)
	_, err = f.svc.Verify(ctx, link.Token)
	require.NoError(t, err)
}

// TestEmailChangeRace races resends to the old address against an email change, 64
// goroutines at once, through the service: whatever the interleaving, no link to the
// old address verifies afterwards.
func TestEmailChangeRace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{HourlyLimit: 60, MinResendInterval: time.Second})
	_, err := f.svc.SendLink(ctx, "alice", "alice@old.example")
	require.NoError(t, err)
	f.clock.Advance(time.Minute)
	tokens := make([]string, storetest.Contenders)
	storetest.Race(storetest.Contenders, func(i int) error {
		f.clock.Advance(time.Second) // so that most requests pass the resend interval
		if i == 0 {
			_, err := f.svc.ChangeEmail(ctx, "alice", "alice@new.example", status.By{})
			return err
		}
		lt, err := f.svc.SendLink(ctx, "alice", "alice@old.example")
		tokens[i] = lt.Token
		return err
	})
	sent := 0
	for _, tok := range tokens[1:] {
		if tok == "" {
			continue
		}
		sent++
		_, err := f.svc.Verify(ctx, tok)
		assert.ErrorIs(t, err, status.ErrInvalidLink, "a link to the old address verified after the change")
	}
	assert.ErrorIs(t, f.svc.Allow(ctx, "alice", status.CapabilityPortOut), status.ErrUnverified)
	t.Logf("%d of %d resends stored a link (each before the change, or it would not verify)", sent, storetest.Contenders-1)
}

// Two email changes race: the one that records its address last wins. The other's
// link is refused (its change was overtaken), but the subscriber hears of both, and
// only the final address can be verified.
func TestEmailChangeOvertaken(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(epoch)
	src := &fakeSources{}
	rec := &notify.Recorder{}
	st := &pausingStore{VerificationStore: memory.NewStatus(memory.Options{Now: clock.Now}), address: "alice@a.example"}
	svc, err := status.New(status.Config{Now: clock.Now, MinResendInterval: time.Second}, st,
		status.Sources{TwoFactor: src, Questions: src, Password: src}, rec)
	require.NoError(t, err)
	var later status.LinkToken
	var laterErr error
	st.beforePut = func() {
		clock.Advance(time.Second)
		later, laterErr = svc.ChangeEmail(ctx, "alice", "alice@b.example", status.By{})
	}
	first, err := svc.ChangeEmail(ctx, "alice", "alice@a.example", status.By{})
	require.ErrorIs(t, err, status.ErrAddressChanged, "overtaken by the later change")
	assert.Empty(t, first.Token)
	require.NoError(t, laterErr)
	assert.Equal(t, []notify.Type{notify.EmailChanged, notify.EmailChanged}, rec.Types(), "both changes are told")
	res, err := svc.Verify(ctx, later.Token)
	require.NoError(t, err)
	assert.Equal(t, "alice@b.example", res.Email)
}
