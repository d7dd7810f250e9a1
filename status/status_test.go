package status_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/status"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const year = 365 * 24 * time.Hour

// fakeSources is what twofactor, questions and password would report.
type fakeSources struct {
	twoFactor, questions bool
	rotation             status.Rotation
	err                  error // returned by every source when set
	failing              string
}

func (f *fakeSources) TwoFactorEnabled(context.Context, string) (bool, error) {
	if f.failing == "twofactor" {
		return false, f.err
	}
	return f.twoFactor, nil
}

func (f *fakeSources) QuestionsSet(context.Context, string) (bool, error) {
	if f.failing == "questions" {
		return false, f.err
	}
	return f.questions, nil
}

func (f *fakeSources) PasswordRotation(context.Context, string) (status.Rotation, error) {
	if f.failing == "password" {
		return status.Rotation{}, f.err
	}
	return f.rotation, nil
}

type fixture struct {
	clock *fakeclock.Clock
	store *memory.Status
	src   *fakeSources
	rec   *notify.Recorder
	svc   *status.Service
}

func newFixture(t testing.TB, cfg status.Config) *fixture {
	t.Helper()
	f := &fixture{clock: fakeclock.New(epoch), src: &fakeSources{}, rec: &notify.Recorder{}}
	f.store = memory.NewStatus(memory.Options{Now: f.clock.Now})
	cfg.Now = f.clock.Now
	svc, err := status.New(cfg, f.store, status.Sources{TwoFactor: f.src, Questions: f.src, Password: f.src}, f.rec)
	require.NoError(t, err)
	f.svc = svc
	return f
}

// verify runs the whole link flow for subscriber and email.
func (f *fixture) verify(t testing.TB, sub, email string) {
	t.Helper()
	link, err := f.svc.SendLink(context.Background(), sub, email)
	require.NoError(t, err)
	_, err = f.svc.Verify(context.Background(), link.Token)
	require.NoError(t, err)
}

func TestNew(t *testing.T) {
	st, pub := memory.NewStatus(memory.Options{}), &notify.Recorder{}
	src := &fakeSources{}
	all := status.Sources{TwoFactor: src, Questions: src, Password: src}
	for _, tt := range []struct {
		name  string
		cfg   status.Config
		store status.VerificationStore
		src   status.Sources
		pub   notify.Publisher
		want  string
	}{
		{"negative TTL", status.Config{LinkTTL: -time.Second}, st, all, pub, "LinkTTL"},
		{"TTL over a week", status.Config{LinkTTL: 8 * 24 * time.Hour}, st, all, pub, "LinkTTL"},
		{"negative resend interval", status.Config{MinResendInterval: -time.Second}, st, all, pub, "MinResendInterval"},
		{"resend interval over an hour", status.Config{MinResendInterval: 2 * time.Hour}, st, all, pub, "MinResendInterval"},
		{"negative hourly limit", status.Config{HourlyLimit: -1}, st, all, pub, "HourlyLimit"},
		{"hourly limit over 60", status.Config{HourlyLimit: 61}, st, all, pub, "HourlyLimit"},
		{"empty capability", status.Config{Restricted: []status.Capability{"sim_swap", ""}}, st, all, pub, "Restricted[1]"},
		{"no store", status.Config{}, nil, all, pub, "store"},
		{"no twofactor", status.Config{}, st, status.Sources{Questions: src, Password: src}, pub, "Sources.TwoFactor"},
		{"no questions", status.Config{}, st, status.Sources{TwoFactor: src, Password: src}, pub, "Sources.Questions"},
		{"no password", status.Config{}, st, status.Sources{TwoFactor: src, Questions: src}, pub, "Sources.Password"},
		{"no publisher", status.Config{}, st, all, nil, "publisher"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := status.New(tt.cfg, tt.store, tt.src, tt.pub)
			require.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := status.New(status.Config{LinkTTL: 7 * 24 * time.Hour}, st, all, pub)
	assert.NoError(t, err)
}

// TestStatusCombinations checks all 16 combinations of the four steps.
func TestStatusCombinations(t *testing.T) {
	ctx := context.Background()
	for mask := range 16 {
		verified, twoFactor, questions, password := mask&1 != 0, mask&2 != 0, mask&4 != 0, mask&8 != 0
		t.Run(fmt.Sprintf("verified=%v,2fa=%v,questions=%v,password=%v", verified, twoFactor, questions, password), func(t *testing.T) {
			f := newFixture(t, status.Config{})
			if verified {
				f.verify(t, "alice", "alice@example.com")
			}
			f.src.twoFactor, f.src.questions = twoFactor, questions
			if password {
				f.src.rotation = status.Rotation{ChangedAt: epoch.Add(-30 * 24 * time.Hour), Period: year}
			}

			st, err := f.svc.Status(ctx, "alice")
			require.NoError(t, err)

			done := []bool{verified, twoFactor, questions, password}
			var (
				want      []status.Component
				remaining []status.Step
				percent   int
				next      status.Step
			)
			for i, step := range status.Steps() {
				want = append(want, status.Component{Step: step, Done: done[i]})
				if done[i] {
					percent += 25
				} else {
					remaining = append(remaining, step)
					if next == "" {
						next = step
					}
				}
			}
			assert.Equal(t, "alice", st.Subscriber)
			assert.Equal(t, want, st.Components)
			assert.Equal(t, percent, st.Percent)
			assert.Equal(t, next, st.Next)
			assert.Equal(t, remaining, st.Remaining())
			assert.Equal(t, mask == 15, st.Complete())
			for i, step := range status.Steps() {
				assert.Equal(t, done[i], st.Done(step), step)
			}
			assert.Equal(t, verified, !st.EmailVerifiedAt.IsZero())
		})
	}
}

func TestPasswordRotation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	f.src.twoFactor, f.src.questions = true, true
	f.verify(t, "alice", "alice@example.com")
	f.src.rotation = status.Rotation{ChangedAt: epoch, Period: year}

	st, err := f.svc.Status(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 100, st.Percent)
	assert.Equal(t, epoch.Add(year), st.PasswordDueAt)

	f.clock.Set(epoch.Add(year - time.Second))
	st, err = f.svc.Status(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, st.Done(status.StepPasswordUpdate), "one second before the rotation is due")

	f.clock.Set(epoch.Add(year))
	st, err = f.svc.Status(ctx, "alice")
	require.NoError(t, err)
	assert.False(t, st.Done(status.StepPasswordUpdate), "rotation due: the step flips")
	assert.Equal(t, 75, st.Percent)
	assert.Equal(t, status.StepPasswordUpdate, st.Next)

	f.src.rotation.ChangedAt = f.clock.Now() // the subscriber updates the password
	st, err = f.svc.Status(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 100, st.Percent)
}

func TestRotation(t *testing.T) {
	now := epoch
	for _, tt := range []struct {
		name string
		r    status.Rotation
		want bool
		due  time.Time
	}{
		{"no password", status.Rotation{Period: year}, false, time.Time{}},
		{"no password, no rotation", status.Rotation{}, false, time.Time{}},
		{"NIST profile: no rotation", status.Rotation{ChangedAt: now.Add(-10 * year)}, true, time.Time{}},
		{"within period", status.Rotation{ChangedAt: now.Add(-time.Hour), Period: year}, true, now.Add(year - time.Hour)},
		{"due exactly now", status.Rotation{ChangedAt: now.Add(-year), Period: year}, false, now},
		{"overdue", status.Rotation{ChangedAt: now.Add(-2 * year), Period: year}, false, now.Add(-year)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.r.Current(now))
			assert.Equal(t, tt.due, tt.r.DueAt())
		})
	}
}

func TestStatusFailsClosed(t *testing.T) {
	boom := errors.New("backend down")
	for _, source := range []string{"twofactor", "questions", "password"} {
		t.Run(source, func(t *testing.T) {
			f := newFixture(t, status.Config{})
			f.src.err, f.src.failing = boom, source
			_, err := f.svc.Status(context.Background(), "alice")
			assert.ErrorIs(t, err, boom)
		})
	}
	t.Run("store", func(t *testing.T) {
		f := newFixture(t, status.Config{})
		svc, err := status.New(status.Config{}, failingStore{f.store}, status.Sources{TwoFactor: f.src, Questions: f.src, Password: f.src}, f.rec)
		require.NoError(t, err)
		_, err = svc.Status(context.Background(), "alice")
		assert.ErrorIs(t, err, errStore)
		_, err = svc.Restrictions(context.Background(), "alice")
		assert.ErrorIs(t, err, errStore)
		err = svc.Allow(context.Background(), "alice", status.CapabilitySIMSwap)
		assert.ErrorIs(t, err, errStore)
	})
}

var errStore = errors.New("store down")

type failingStore struct{ status.VerificationStore }

func (failingStore) Verification(context.Context, string) (status.Verification, error) {
	return status.Verification{}, errStore
}

func TestFuncAdapters(t *testing.T) {
	src := status.Sources{
		TwoFactor: status.TwoFactorFunc(func(context.Context, string) (bool, error) { return true, nil }),
		Questions: status.QuestionsFunc(func(context.Context, string) (bool, error) { return false, nil }),
		Password: status.PasswordFunc(func(context.Context, string) (status.Rotation, error) {
			return status.Rotation{ChangedAt: epoch}, nil
		}),
	}
	clock := fakeclock.New(epoch)
	svc, err := status.New(status.Config{Now: clock.Now}, memory.NewStatus(memory.Options{}), src, &notify.Recorder{})
	require.NoError(t, err)
	st, err := svc.Status(context.Background(), "alice")
	require.NoError(t, err)
	assert.Equal(t, 50, st.Percent)
	assert.Equal(t, status.StepAccountVerification, st.Next)
	assert.Equal(t, []status.Step{status.StepAccountVerification, status.StepSecurityQuestions}, st.Remaining())
}

func TestLinkLifecycle(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})

	link, err := f.svc.SendLink(ctx, "alice", "Alice@Example.COM")
	require.NoError(t, err)
	assert.Equal(t, "Alice@example.com", link.Email, "bound to the normalised address")
	assert.Equal(t, epoch.Add(status.DefaultLinkTTL), link.ExpiresAt)
	assert.Len(t, link.Token, 43)

	f.clock.Advance(time.Hour)
	res, err := f.svc.Verify(ctx, link.Token)
	require.NoError(t, err)
	assert.Equal(t, status.Verified{Subscriber: "alice", Email: "Alice@example.com", VerifiedAt: epoch.Add(time.Hour)}, res)

	require.Equal(t, []notify.Type{notify.EmailVerified}, f.rec.Types())
	ev, _ := f.rec.Last(notify.EmailVerified)
	assert.Equal(t, "alice", ev.Subscriber)
	assert.Equal(t, map[string]string{"email": "A•••@example.com"}, ev.Attributes)
	assert.Equal(t, epoch.Add(time.Hour), ev.Time)

	_, err = f.svc.Verify(ctx, link.Token)
	assert.Equal(t, status.ErrInvalidLink, err, "a link verifies once")
	assert.Len(t, f.rec.Events(), 1)

	st, err := f.svc.Status(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, st.Done(status.StepAccountVerification))
	assert.Equal(t, epoch.Add(time.Hour), st.EmailVerifiedAt)

	_, err = f.svc.SendLink(ctx, "alice", "Alice@EXAMPLE.com")
	assert.ErrorIs(t, err, status.ErrAlreadyVerified, "same address after normalisation")
}

func TestLinkResendInvalidatesOld(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	first, err := f.svc.SendLink(ctx, "alice", "alice@example.com")
	require.NoError(t, err)
	f.clock.Advance(status.DefaultMinResendInterval)
	second, err := f.svc.SendLink(ctx, "alice", "alice@example.com")
	require.NoError(t, err)
	assert.NotEqual(t, first.Token, second.Token)

	_, err = f.svc.Verify(ctx, first.Token)
	assert.Equal(t, status.ErrInvalidLink, err)
	_, err = f.svc.Verify(ctx, second.Token)
	assert.NoError(t, err)
}

func TestLinkExpired(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{LinkTTL: 30 * time.Minute})
	link, err := f.svc.SendLink(ctx, "alice", "alice@example.com")
	require.NoError(t, err)
	f.clock.Advance(30 * time.Minute)

	res, err := f.svc.Verify(ctx, link.Token)
	require.ErrorIs(t, err, status.ErrLinkExpired)
	assert.Contains(t, err.Error(), "send a new one")
	assert.Equal(t, status.Verified{Subscriber: "alice", Email: "alice@example.com"}, res, "enough to resend")
	_, err = f.svc.Verify(ctx, link.Token)
	assert.ErrorIs(t, err, status.ErrLinkExpired, "still expired on a second click")
	assert.Empty(t, f.rec.Events())

	again, err := f.svc.SendLink(ctx, res.Subscriber, res.Email)
	require.NoError(t, err)
	_, err = f.svc.Verify(ctx, link.Token)
	assert.Equal(t, status.ErrInvalidLink, err, "the expired link is replaced")
	_, err = f.svc.Verify(ctx, again.Token)
	assert.NoError(t, err)
}

func TestLinkRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	link, err := f.svc.SendLink(ctx, "alice", "alice@example.com")
	require.NoError(t, err)
	for _, tok := range []string{"", "x", link.Token[:42], link.Token + "A", strings.Repeat("!", 43), strings.Repeat("A", 43)} {
		_, err := f.svc.Verify(ctx, tok)
		assert.Equal(t, status.ErrInvalidLink, err, "%q", tok)
	}
	_, err = f.svc.SendLink(ctx, "alice", "not an address")
	assert.ErrorIs(t, err, status.ErrInvalidEmail)
	_, err = f.svc.SendLink(ctx, "", "alice@example.com")
	assert.Error(t, err)
	_, err = f.svc.Verify(ctx, link.Token)
	assert.NoError(t, err, "bad input left the pending link alone")
}

func TestChangeEmailStartsOver(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	f.verify(t, "alice", "alice@example.com")
	f.rec.Reset()
	f.clock.Advance(status.DefaultMinResendInterval)

	link, err := f.svc.ChangeEmail(ctx, "alice", "alice@new.example", status.By{Channel: "app"})
	require.NoError(t, err)
	assert.Equal(t, "alice@new.example", link.Email)

	ev, ok := f.rec.Last(notify.EmailChanged)
	require.True(t, ok)
	assert.Equal(t, map[string]string{"email": "a•••@new.example", "previous_email": "a•••@example.com"}, ev.Attributes)
	assert.Equal(t, notify.Actor{Kind: notify.ActorSubscriber}, ev.Actor)
	assert.Equal(t, "app", ev.Channel)

	st, err := f.svc.Status(ctx, "alice")
	require.NoError(t, err)
	assert.False(t, st.Done(status.StepAccountVerification), "a changed address is unverified")
	assert.ErrorIs(t, f.svc.Allow(ctx, "alice", status.CapabilitySIMSwap), status.ErrUnverified, "the trust gate closes")

	res, err := f.svc.Verify(ctx, link.Token)
	require.NoError(t, err)
	assert.Equal(t, "alice@new.example", res.Email)
	st, err = f.svc.Status(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, st.Done(status.StepAccountVerification))

	_, err = f.svc.ChangeEmail(ctx, "alice", "bad", status.By{})
	assert.ErrorIs(t, err, status.ErrInvalidEmail)
	_, err = f.svc.ChangeEmail(ctx, "alice", "alice@x.example", status.By{Actor: notify.Actor{Kind: notify.ActorAgent}})
	assert.Error(t, err, "agent without ID")
	st, err = f.svc.Status(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, st.Done(status.StepAccountVerification), "rejected changes changed nothing")
}

func TestChangeEmailByAgentWhileUnverified(t *testing.T) {
	f := newFixture(t, status.Config{})
	agent := status.By{Actor: notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"}, Channel: "chat"}
	_, err := f.svc.ChangeEmail(context.Background(), "alice", "alice@example.com", agent)
	require.NoError(t, err)
	ev, _ := f.rec.Last(notify.EmailChanged)
	assert.Equal(t, agent.Actor, ev.Actor)
	assert.Equal(t, map[string]string{"email": "a•••@example.com"}, ev.Attributes, "no previous verified address")
}

func TestPublisherFailure(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	link, err := f.svc.SendLink(ctx, "alice", "alice@example.com")
	require.NoError(t, err)
	f.rec.Err = errors.New("outbox down")
	res, err := f.svc.Verify(ctx, link.Token)
	assert.ErrorIs(t, err, f.rec.Err)
	assert.Equal(t, "alice", res.Subscriber, "the verification happened and is reported")
	st, err := f.svc.Status(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, st.Done(status.StepAccountVerification))

	f.clock.Advance(status.DefaultMinResendInterval)
	_, err = f.svc.ChangeEmail(ctx, "alice", "alice@new.example", status.By{})
	assert.ErrorIs(t, err, f.rec.Err)
	st, err = f.svc.Status(ctx, "alice")
	require.NoError(t, err)
	assert.False(t, st.Done(status.StepAccountVerification), "the reset stands (fail closed)")
}

func TestRandomFailure(t *testing.T) {
	f := newFixture(t, status.Config{})
	src := status.Sources{TwoFactor: f.src, Questions: f.src, Password: f.src}
	svc, err := status.New(status.Config{Rand: strings.NewReader("short")}, f.store, src, f.rec)
	require.NoError(t, err)
	_, err = svc.SendLink(context.Background(), "alice", "alice@example.com")
	assert.Error(t, err)
}

func TestVerifyRace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	link, err := f.svc.SendLink(ctx, "alice", "alice@example.com")
	require.NoError(t, err)
	errs := storetest.ExactlyOnce(t, storetest.Contenders, func(int) error {
		_, err := f.svc.Verify(ctx, link.Token)
		return err
	})
	for _, err := range errs {
		assert.Equal(t, status.ErrInvalidLink, err)
	}
	assert.Equal(t, []notify.Type{notify.EmailVerified}, f.rec.Types(), "one event for one verification")
}

// TestSendLinkCannotReplaceAVerifiedAddress: once an address is verified, a link for
// another one would, when clicked, swap the verified address with no EmailChanged
// event for the old one. SendLink refuses it; ChangeEmail is the way.
func TestSendLinkCannotReplaceAVerifiedAddress(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, status.Config{})
	f.verify(t, "alice", "alice@example.com")
	f.rec.Reset()

	_, err := f.svc.SendLink(ctx, "alice", "mallory@attacker.example")
	require.ErrorIs(t, err, status.ErrOtherAddressVerified)
	st, err := f.svc.Status(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, st.Done(status.StepAccountVerification), "the verified address stands")
	assert.Empty(t, f.rec.Events())

	f.clock.Advance(status.DefaultMinResendInterval)
	link, err := f.svc.ChangeEmail(ctx, "alice", "alice@new.example", status.By{})
	require.NoError(t, err, "ChangeEmail is the way to a new address")
	f.clock.Advance(status.DefaultMinResendInterval)
	_, err = f.svc.SendLink(ctx, "alice", "alice@new.example")
	require.NoError(t, err, "and the new, unverified address can be resent to")
	_, err = f.svc.Verify(ctx, link.Token)
	assert.Equal(t, status.ErrInvalidLink, err, "the resend replaced the ChangeEmail link")
}
