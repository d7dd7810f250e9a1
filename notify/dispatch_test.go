package notify_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/store/memory"
)

func allChannels(s notify.Sender) map[notify.Channel]notify.Sender {
	return map[notify.Channel]notify.Sender{notify.ChannelEmail: s, notify.ChannelSMS: s, notify.ChannelPush: s}
}

type world struct {
	clk    *fakeclock.Clock
	outbox *memory.Notify
	svc    *notify.Service
	ops    *notify.Recorder
}

func newWorld(t testing.TB) *world { return newWorldWith(t, notify.Config{}) }

// newWorldWith is newWorld with a Service configured by cfg (its clock is the world's).
func newWorldWith(t testing.TB, cfg notify.Config) *world {
	clk := newClock()
	w := &world{clk: clk, outbox: memory.NewNotify(memory.Options{Now: clk.Now}), ops: &notify.Recorder{}}
	cfg.Now = clk.Now
	svc, err := notify.New(cfg, directory(map[string]notify.Profile{"sub-1": profile()}), w.outbox)
	require.NoError(t, err)
	w.svc = svc
	return w
}

func (w *world) dispatcher(t testing.TB, cfg notify.DispatcherConfig) *notify.Dispatcher {
	t.Helper()
	cfg.Now, cfg.Operators = w.clk.Now, w.ops
	if cfg.Rand == nil {
		cfg.Rand = zeroRand{}
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Millisecond
	}
	d, err := notify.NewDispatcher(cfg, w.outbox)
	require.NoError(t, err)
	return d
}

func (w *world) publish(t testing.TB, n int) []string {
	t.Helper()
	var all []string
	for i := range n {
		e := sampleEvent(notify.SIMSwapRequested, map[string]string{"line": "•••• 1234"})
		e.ID = fmt.Sprintf("evt-%03d", i)
		require.NoError(t, w.svc.Publish(context.Background(), e))
		all = append(all, ids(e.ID, email, phone, backup, device)...)
	}
	return all
}

func TestDispatchDelivers(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	want := w.publish(t, 1)
	rec := newRecorder()
	d := w.dispatcher(t, notify.DispatcherConfig{Senders: allChannels(rec)})
	n, err := d.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	got := rec.Delivered()
	require.Len(t, got, 4)
	for _, id := range want {
		dl, ok := got[id]
		require.True(t, ok, "idempotency key is the message ID")
		assert.Equal(t, 1, dl.Attempt)
		assert.Equal(t, notify.SIMSwapRequested, dl.Type)
		m, err := w.outbox.Lookup(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, notify.StateSent, m.State)
		assert.Equal(t, dl.Recipient, m.Recipient)
		assert.Equal(t, dl.Content, m.Content)
	}
	n, err = d.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "sent messages are never sent again")
	assert.Equal(t, 4, rec.TotalCalls())
}

func TestBackoffAndAbandonment(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := sampleEvent(notify.PortOutRequested, nil)
	require.NoError(t, w.svc.Publish(ctx, e))
	smsID := notify.MessageID(e.ID, phone)

	gatewayDown := errors.New("503 from gateway for +15551230001")
	rec := newRecorder()
	rec.fail = func(d notify.Delivery) error {
		if d.Recipient.Channel == notify.ChannelSMS {
			return gatewayDown
		}
		return nil
	}
	d := w.dispatcher(t, notify.DispatcherConfig{
		Senders: allChannels(rec), MaxAttempts: 4,
		Backoff: notify.ExponentialBackoff(10*time.Second, time.Hour),
	})
	// zeroRand → jitter 0 → each wait is half the exponential step: 5s, 10s, 20s.
	for attempt, wait := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second} {
		_, err := d.RunOnce(ctx)
		require.NoError(t, err)
		m, err := w.outbox.Lookup(ctx, smsID)
		require.NoError(t, err)
		require.Equal(t, notify.StatePending, m.State, "attempt %d", attempt+1)
		assert.Equal(t, attempt+1, m.Attempts)
		assert.True(t, m.NextAttempt.Equal(w.clk.Now().Add(wait)), "attempt %d: next at %v, want +%v", attempt+1, m.NextAttempt, wait)
		assert.NotContains(t, m.LastError, "15551230001", "stored errors are masked")
		assert.Contains(t, m.LastError, "503 from gateway")

		w.clk.Advance(wait - time.Millisecond)
		n, err := d.RunOnce(ctx)
		require.NoError(t, err)
		assert.Zero(t, n, "not retried before the backoff ends")
		w.clk.Advance(time.Millisecond)
	}
	assert.Empty(t, w.ops.Events())
	_, err := d.RunOnce(ctx)
	require.NoError(t, err)
	m, err := w.outbox.Lookup(ctx, smsID)
	require.NoError(t, err)
	assert.Equal(t, notify.StateAbandoned, m.State, "abandoned after MaxAttempts")
	assert.Equal(t, 4, m.Attempts)
	assert.Equal(t, 4, rec.Calls(smsID), "never retried forever")

	sig, ok := w.ops.Last(notify.DeliveryFailed)
	require.True(t, ok, "operators are told")
	assert.Equal(t, "sub-1", sig.Subscriber)
	assert.Equal(t, map[string]string{
		"message_id": smsID, "event_id": e.ID, "event_type": string(notify.PortOutRequested),
		"channel": "sms", "recipient": "•••• 0001", "attempts": "4", "error": m.LastError,
	}, sig.Attributes)

	w.clk.Advance(24 * time.Hour)
	n, err := d.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	// The other channels were delivered on the first run.
	for _, id := range ids(e.ID, email, backup, device) {
		m, _ := w.outbox.Lookup(ctx, id)
		assert.Equal(t, notify.StateSent, m.State)
	}
}

func TestPermanentFailureAndMissingSender(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := sampleEvent(notify.Lockout, nil)
	require.NoError(t, w.svc.Publish(ctx, e))
	rec := newRecorder()
	rec.fail = func(d notify.Delivery) error {
		if d.Recipient == backup {
			return notify.Permanent(errors.New("mailbox does not exist"))
		}
		return nil
	}
	// No push sender configured.
	d := w.dispatcher(t, notify.DispatcherConfig{Senders: map[notify.Channel]notify.Sender{
		notify.ChannelEmail: rec, notify.ChannelSMS: rec,
	}})
	_, err := d.RunOnce(ctx)
	require.NoError(t, err)
	m, _ := w.outbox.Lookup(ctx, notify.MessageID(e.ID, backup))
	assert.Equal(t, notify.StateAbandoned, m.State, "permanent errors are not retried")
	assert.Equal(t, 1, m.Attempts)
	m, _ = w.outbox.Lookup(ctx, notify.MessageID(e.ID, device))
	assert.Equal(t, notify.StateAbandoned, m.State, "no sender for the channel")
	assert.Contains(t, m.LastError, "no sender")
	assert.Len(t, w.ops.Events(), 2)
	for _, sig := range w.ops.Events() {
		assert.Equal(t, notify.DeliveryFailed, sig.Type)
		assert.NotContains(t, sig.Attributes["recipient"], "alice.backup")
		assert.NotContains(t, sig.Attributes["recipient"], "push-token-1")
	}
}

func TestExponentialBackoff(t *testing.T) {
	b := notify.ExponentialBackoff(time.Second, time.Minute)
	tests := []struct {
		attempt  int
		jitter   float64
		min, max time.Duration
	}{
		{1, 0, 500 * time.Millisecond, 500 * time.Millisecond},
		{1, 0.999999, 999 * time.Millisecond, time.Second},
		{2, 0, time.Second, time.Second},
		{3, 0.5, 3 * time.Second, 3 * time.Second},
		{7, 0, 30 * time.Second, 30 * time.Second}, // 64s capped to 60s
		{50, 0.999999, 59 * time.Second, time.Minute},
		{1000, 0, 30 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		got := b(tt.attempt, tt.jitter)
		assert.GreaterOrEqual(t, got, tt.min, "attempt %d jitter %v", tt.attempt, tt.jitter)
		assert.LessOrEqual(t, got, tt.max, "attempt %d jitter %v", tt.attempt, tt.jitter)
	}
}

func TestDispatcherConfig(t *testing.T) {
	outbox := memory.NewNotify(memory.Options{})
	rec := newRecorder()
	tests := []struct {
		name string
		cfg  notify.DispatcherConfig
		want string
	}{
		{"no senders", notify.DispatcherConfig{}, "Senders"},
		{"unknown channel", notify.DispatcherConfig{Senders: map[notify.Channel]notify.Sender{"fax": rec}}, "unknown channel"},
		{"nil sender", notify.DispatcherConfig{Senders: map[notify.Channel]notify.Sender{notify.ChannelSMS: nil}}, "is nil"},
		{"lease too short", notify.DispatcherConfig{Senders: allChannels(rec), Lease: time.Minute, SendTimeout: 30 * time.Second, Batch: 2}, "Lease"},
		{"negative attempts", notify.DispatcherConfig{Senders: allChannels(rec), MaxAttempts: -1}, "MaxAttempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := notify.NewDispatcher(tt.cfg, outbox)
			require.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := notify.NewDispatcher(notify.DispatcherConfig{Senders: allChannels(rec)}, nil)
	assert.ErrorIs(t, err, validate.ErrInvalidConfig)
	_, err = notify.NewDispatcher(notify.DispatcherConfig{Senders: allChannels(rec)}, outbox)
	assert.NoError(t, err, "defaults are consistent")
}

// TestGracefulShutdownAndRestart stops a running dispatcher while a send is in flight:
// the in-flight send completes and is recorded, the rest of the claimed batch is
// released, and a restarted dispatcher delivers everything else. With a clean shutdown
// no message is ever handed to a sender twice.
func TestGracefulShutdownAndRestart(t *testing.T) {
	w := newWorld(t)
	all := w.publish(t, 10) // 40 messages
	rec := newRecorder()
	inFlight, release := make(chan struct{}), make(chan struct{})
	var blocked atomic.Bool
	blocking := notify.SenderFunc(func(ctx context.Context, d notify.Delivery) error {
		if blocked.CompareAndSwap(false, true) {
			close(inFlight)
			<-release // the gateway is slow; shutdown must wait for it
		}
		return rec.Send(ctx, d)
	})
	d := w.dispatcher(t, notify.DispatcherConfig{Senders: allChannels(blocking), Workers: 1, Batch: 8})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	<-inFlight
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned while a send was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	require.ErrorIs(t, <-done, context.Canceled)
	require.Len(t, rec.Delivered(), 1, "only the in-flight send happened")

	// Nothing is left leased: everything unsent is claimable at once, with no attempt
	// counted for the released messages.
	for _, id := range all {
		m, err := w.outbox.Lookup(context.Background(), id)
		require.NoError(t, err)
		assert.Empty(t, m.Lease, "no message left leased after a graceful shutdown")
		if m.State == notify.StatePending {
			assert.Zero(t, m.Attempts)
		}
	}

	d2 := w.dispatcher(t, notify.DispatcherConfig{Senders: allChannels(rec), Workers: 3, Batch: 4})
	runUntil(t, d2, func() bool { return len(rec.Delivered()) == len(all) })
	for _, id := range all {
		assert.Equal(t, 1, rec.Calls(id), "handed to a sender exactly once")
		m, _ := w.outbox.Lookup(context.Background(), id)
		assert.Equal(t, notify.StateSent, m.State)
	}
}

// crashingOutbox simulates a process that dies: once crashed, nothing it does reaches the
// store any more.
type crashingOutbox struct {
	notify.Outbox
	crashed atomic.Bool
}

func (c *crashingOutbox) Claim(ctx context.Context, token string, max int, lease time.Duration) ([]notify.Message, error) {
	if c.crashed.Load() {
		return nil, errors.New("process is dead")
	}
	return c.Outbox.Claim(ctx, token, max, lease)
}

func (c *crashingOutbox) Complete(ctx context.Context, id, token string, o notify.Outcome) error {
	if c.crashed.Load() {
		return errors.New("process is dead")
	}
	return c.Outbox.Complete(ctx, id, token, o)
}

// TestCrashAndRestart: messages are published, the dispatcher dies mid-flight (after
// sending some messages but before recording that it did), and a new dispatcher takes
// over once the leases expire. Every message is delivered exactly once to a sender that
// honours idempotency keys, none is lost, and only messages whose outcome was lost in the
// crash are offered to the sender a second time, with the same key.
func TestCrashAndRestart(t *testing.T) {
	t.Run("rendered at publish", func(t *testing.T) { testCrashAndRestart(t, false) })
	t.Run("rendered at delivery", func(t *testing.T) { testCrashAndRestart(t, true) })
}

func testCrashAndRestart(t *testing.T, deferRendering bool) {
	w := newWorldWith(t, notify.Config{DeferRendering: deferRendering})
	all := w.publish(t, 25) // 100 messages
	rec := newRecorder()
	crashing := &crashingOutbox{Outbox: w.outbox}
	var sent atomic.Int32
	dying := notify.SenderFunc(func(ctx context.Context, d notify.Delivery) error {
		err := rec.Send(ctx, d)
		if sent.Add(1) == 30 {
			crashing.crashed.Store(true) // dies right after the gateway accepted this one
		}
		return err
	})
	d1, err := notify.NewDispatcher(notify.DispatcherConfig{
		Senders: allChannels(dying), Workers: 4, Batch: 5, Lease: time.Minute, SendTimeout: time.Second,
		PollInterval: time.Millisecond, Now: w.clk.Now, Rand: zeroRand{},
	}, crashing)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d1.Run(ctx) }()
	require.Eventually(t, crashing.crashed.Load, 5*time.Second, time.Millisecond)
	cancel()
	<-done
	before := len(rec.Delivered())
	require.GreaterOrEqual(t, before, 30)
	require.Less(t, before, len(all), "the crash happened mid-flight")

	// Some messages are stuck in the dead process's leases.
	var leased int
	for _, id := range all {
		m, _ := w.outbox.Lookup(context.Background(), id)
		if m.State == notify.StatePending && m.Lease != "" {
			leased++
		}
	}
	require.Positive(t, leased, "the crash left messages leased")

	// Restart: a new dispatcher cannot take them until the leases expire.
	d2 := w.dispatcher(t, notify.DispatcherConfig{Senders: allChannels(rec), Workers: 4, Batch: 5, Lease: time.Minute, SendTimeout: time.Second})
	w.clk.Advance(time.Minute)
	runUntil(t, d2, func() bool {
		for _, id := range all {
			if m, _ := w.outbox.Lookup(context.Background(), id); m.State != notify.StateSent {
				return false
			}
		}
		return true
	})
	got := rec.Delivered()
	assert.Len(t, got, len(all), "none lost")
	var again int
	for _, id := range all {
		d, ok := got[id]
		assert.True(t, ok, "message %s delivered", id)
		assert.NotEmpty(t, d.Content.Text, "message %s delivered rendered", id)
		assert.LessOrEqual(t, rec.Calls(id), 2, "offered at most once more after the crash")
		if rec.Calls(id) == 2 {
			again++
		}
	}
	// Only a message the dead process still held can be offered again: one whose outcome
	// was recorded is never sent twice from the outbox.
	assert.LessOrEqual(t, again, leased, "messages offered twice")
}

// TestConcurrentDispatchers: several dispatchers share one outbox and never send the
// same message twice.
func TestConcurrentDispatchers(t *testing.T) {
	w := newWorld(t)
	all := w.publish(t, 50)
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 3 {
		d := w.dispatcher(t, notify.DispatcherConfig{Senders: allChannels(rec), Workers: 4, Batch: 3})
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.Run(ctx) }()
	}
	require.Eventually(t, func() bool { return len(rec.Delivered()) == len(all) }, 10*time.Second, time.Millisecond)
	cancel()
	wg.Wait()
	assert.Equal(t, len(all), rec.TotalCalls(), "no message handed to a sender twice")
}

// runUntil runs d until cond holds (or fails the test after a while).
func runUntil(t *testing.T, d *notify.Dispatcher, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	require.Eventually(t, cond, 10*time.Second, time.Millisecond)
	cancel()
	<-done
}

// TestCrashLoopingMessageIsAbandoned: a message whose claims never record an outcome (its
// dispatcher dies on it every time) is abandoned, and the operators told, once it has been
// claimed more than MaxAttempts times, instead of being retried forever.
func TestCrashLoopingMessageIsAbandoned(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := sampleEvent(notify.PortOutRequested, nil)
	require.NoError(t, w.svc.Publish(ctx, e))
	all := ids(e.ID, email, phone, backup, device)
	const maxAttempts = 3
	for i := range maxAttempts {
		msgs, err := w.outbox.Claim(ctx, fmt.Sprintf("dead-dispatcher-%d", i), 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, msgs, len(all))
		w.clk.Advance(time.Minute) // the dispatcher died; its lease expires
	}
	rec := newRecorder()
	d := w.dispatcher(t, notify.DispatcherConfig{Senders: allChannels(rec), MaxAttempts: maxAttempts})
	n, err := d.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(all), n)
	assert.Zero(t, rec.TotalCalls(), "not handed to a sender after MaxAttempts claims")
	for _, id := range all {
		m, err := w.outbox.Lookup(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, notify.StateAbandoned, m.State)
		assert.Equal(t, maxAttempts+1, m.Attempts)
		assert.Contains(t, m.LastError, "without a recorded outcome")
	}
	assert.Len(t, w.ops.Events(), len(all), "operators are told of each")
	n, err = d.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "never claimed again")
}

// TestSenderPanicIsAFailure: a Sender that panics on one message does not take down the
// process: that message is abandoned (and signalled), the others are delivered.
func TestSenderPanicIsAFailure(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := sampleEvent(notify.SIMSwapRequested, nil)
	require.NoError(t, w.svc.Publish(ctx, e))
	rec := newRecorder()
	buggy := notify.SenderFunc(func(ctx context.Context, d notify.Delivery) error {
		if d.Recipient == phone {
			panic("gateway client bug: " + d.Recipient.Address)
		}
		return rec.Send(ctx, d)
	})
	d := w.dispatcher(t, notify.DispatcherConfig{Senders: allChannels(buggy)})
	n, err := d.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	m, err := w.outbox.Lookup(ctx, notify.MessageID(e.ID, phone))
	require.NoError(t, err)
	assert.Equal(t, notify.StateAbandoned, m.State)
	assert.Equal(t, "sender panicked", m.LastError)
	assert.Len(t, rec.Delivered(), 3, "the other messages are delivered")
	sig, ok := w.ops.Last(notify.DeliveryFailed)
	require.True(t, ok)
	assert.Equal(t, "sender panicked", sig.Attributes["error"])
}
