package notify

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strconv"
	"sync"
	"time"
)

// BackoffFunc returns how long to wait before attempt+1 after attempt failed. jitter is
// uniform in [0, 1) and comes from the dispatcher's Rand.
type BackoffFunc func(attempt int, jitter float64) time.Duration

// ExponentialBackoff returns a BackoffFunc that doubles from base up to limit, with
// "equal jitter": the wait is uniform between half the exponential step and the full
// step, so retries from many dispatchers spread out but never come early.
func ExponentialBackoff(base, limit time.Duration) BackoffFunc {
	return func(attempt int, jitter float64) time.Duration {
		d := base
		for i := 1; i < attempt && d < limit; i++ {
			d *= 2
		}
		d = min(d, limit)
		half := d / 2
		return half + time.Duration(jitter*float64(d-half))
	}
}

// Dispatcher defaults.
const (
	DefaultWorkers      = 4
	DefaultBatch        = 8
	DefaultLease        = 5 * time.Minute
	DefaultSendTimeout  = 20 * time.Second
	DefaultPollInterval = time.Second
	DefaultMaxAttempts  = 10
	DefaultBaseDelay    = 10 * time.Second
	DefaultMaxDelay     = 30 * time.Minute
)

// DispatcherConfig configures a Dispatcher. Only Senders is required.
type DispatcherConfig struct {
	// Senders has one Sender per channel served. A message on a channel with no sender is
	// abandoned (and signalled), never silently dropped.
	Senders map[Channel]Sender `validate:"required,min=1"`
	// Workers is how many claim-send loops Run runs. Default DefaultWorkers.
	Workers int `validate:"gte=0,lte=256"`
	// Batch is how many messages a worker claims at once. Default DefaultBatch.
	Batch int `validate:"gte=0,lte=1000"`
	// Lease is how long a claim holds its messages. It must exceed SendTimeout times
	// Batch, so a lease never expires while its holder is still sending (which would let
	// a second dispatcher send the same message). Default DefaultLease.
	Lease time.Duration `validate:"gte=0"`
	// SendTimeout bounds each Send. Default DefaultSendTimeout.
	SendTimeout time.Duration `validate:"gte=0"`
	// PollInterval is how long an idle worker waits before claiming again. Default
	// DefaultPollInterval.
	PollInterval time.Duration `validate:"gte=0"`
	// MaxAttempts is how many attempts a message gets before it is abandoned. Default
	// DefaultMaxAttempts.
	MaxAttempts int `validate:"gte=0,lte=100"`
	// Backoff spaces retries. Default ExponentialBackoff(DefaultBaseDelay, DefaultMaxDelay).
	Backoff BackoffFunc
	// Operators receives a DeliveryFailed event for every abandoned message. Nil means
	// the abandonment is only logged (at Error level).
	Operators Publisher
	// Templates renders messages stored unrendered by a Service with
	// Config.DeferRendering; pass the Service's templates. Nil means the default
	// templates (NewTemplates(TemplatesConfig{})), built at the first such message.
	Templates *Templates
	// Now, Rand and Logger: nil means time.Now, crypto/rand.Reader and discard.
	Now    func() time.Time
	Rand   io.Reader
	Logger *slog.Logger
}

// Dispatcher delivers the messages in an Outbox: it claims them with a lease, sends each
// through the Sender for its channel, and records the outcome: sent, retry later with
// backoff, or abandoned after MaxAttempts or a permanent error (then it tells the
// operators). Any number of dispatchers, in any number of processes, may share an
// Outbox. A Dispatcher is safe for concurrent use.
type Dispatcher struct {
	cfg       DispatcherConfig
	outbox    Outbox
	randMu    sync.Mutex
	templates func() (*Templates, error)
}

// NewDispatcher returns a Dispatcher for outbox.
func NewDispatcher(cfg DispatcherConfig, outbox Outbox) (*Dispatcher, error) {
	if err := validateStruct(cfg); err != nil {
		return nil, err
	}
	if outbox == nil {
		return nil, errorf("NewDispatcher: the Outbox is nil")
	}
	for ch, s := range cfg.Senders {
		if !ch.valid() {
			return nil, errorf("DispatcherConfig.Senders: unknown channel %q (use email, sms or push)", ch)
		}
		if s == nil {
			return nil, errorf("DispatcherConfig.Senders[%s] is nil", ch)
		}
	}
	cfg.Senders = maps.Clone(cfg.Senders) // the caller's map may change later
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.Workers, DefaultWorkers)
	def(&cfg.Batch, DefaultBatch)
	def(&cfg.MaxAttempts, DefaultMaxAttempts)
	defD(&cfg.Lease, DefaultLease)
	defD(&cfg.SendTimeout, DefaultSendTimeout)
	defD(&cfg.PollInterval, DefaultPollInterval)
	if cfg.Lease <= cfg.SendTimeout*time.Duration(cfg.Batch) {
		return nil, errorf("DispatcherConfig.Lease (%v) must exceed SendTimeout × Batch (%v × %d); raise Lease or lower Batch", cfg.Lease, cfg.SendTimeout, cfg.Batch)
	}
	if cfg.Backoff == nil {
		cfg.Backoff = ExponentialBackoff(DefaultBaseDelay, DefaultMaxDelay)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{cfg: cfg, outbox: outbox}
	if t := cfg.Templates; t != nil {
		d.templates = func() (*Templates, error) { return t, nil }
	} else {
		d.templates = sync.OnceValues(func() (*Templates, error) { return NewTemplates(TemplatesConfig{}) })
	}
	return d, nil
}

// Run runs Workers claim-send loops until ctx is done, then returns ctx's error.
//
// Shutdown is graceful: when ctx is cancelled no new claims are made, a send in progress
// finishes (bounded by SendTimeout) and its outcome is recorded, and messages claimed but
// not yet sent are released at once without counting an attempt. A crash instead leaves
// its claimed messages leased until Lease expires; another dispatcher then claims them
// and sends them again with the same idempotency key.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range d.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.loop(ctx)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func (d *Dispatcher) loop(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		n, err := d.RunOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.cfg.Logger.LogAttrs(ctx, slog.LevelError, "notify: dispatch failed", slog.String("error", err.Error()))
		}
		if n > 0 && err == nil {
			continue // there may be more
		}
		timer.Reset(d.cfg.PollInterval)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
	}
}

// RunOnce claims one batch, sends it and records the outcomes, returning how many
// messages it claimed. It is what Run's workers loop on; call it directly to drive
// delivery from a test or a scheduled job. If ctx is cancelled part-way, the messages not
// yet sent are released.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	token, err := d.token()
	if err != nil {
		return 0, err
	}
	msgs, err := d.outbox.Claim(ctx, token, d.cfg.Batch, d.cfg.Lease)
	if err != nil {
		return 0, fmt.Errorf("notify: claiming messages: %w", err)
	}
	// Outcomes are recorded even after ctx is cancelled, so shutdown leaves no message
	// leased that could have been completed or released.
	bg := context.WithoutCancel(ctx)
	var (
		errs      []error
		abandoned []Message
	)
	for _, m := range msgs {
		var o Outcome
		switch {
		case ctx.Err() != nil:
			o = Outcome{State: StatePending, RetryAt: m.NextAttempt, Release: true}
		case m.Attempts > d.cfg.MaxAttempts:
			// Only claims that never recorded an outcome get a message here (a failed
			// send at MaxAttempts abandons it): its dispatchers keep dying on it. Stop
			// rather than crash-loop on it forever, and tell the operators.
			o = Outcome{State: StateAbandoned, Error: fmt.Sprintf("claimed %d times without a recorded outcome (dispatcher crashed or lease expired); not sent again", m.Attempts)}
		default:
			o = d.deliver(ctx, m)
		}
		if err := d.outbox.Complete(bg, m.ID, token, o); err != nil {
			errs = append(errs, fmt.Errorf("notify: recording outcome of %s: %w", m.ID, err))
			continue
		}
		if o.State == StateAbandoned {
			m.LastError = o.Error
			abandoned = append(abandoned, m)
		}
	}
	// Operators are told after the batch, so a slow operator publisher cannot hold the
	// batch's leases past their expiry.
	for _, m := range abandoned {
		d.abandoned(bg, m, m.LastError)
	}
	return len(msgs), errors.Join(errs...)
}

func (d *Dispatcher) deliver(ctx context.Context, m Message) Outcome {
	sender, ok := d.cfg.Senders[m.Recipient.Channel]
	if !ok {
		return Outcome{State: StateAbandoned, Error: fmt.Sprintf("no sender for channel %q", m.Recipient.Channel)}
	}
	content := m.Content
	if m.Render != nil {
		c, err := d.render(m)
		if err != nil {
			// Rendering is deterministic: a retry would fail the same way.
			reason := sanitizeError(err)
			d.cfg.Logger.LogAttrs(ctx, slog.LevelError, "notify: render failed",
				slog.String("message_id", m.ID), slog.String("type", string(m.Type)),
				slog.String("channel", string(m.Recipient.Channel)), slog.String("error", reason))
			return Outcome{State: StateAbandoned, Error: reason}
		}
		content = c
	}
	// A send in progress is not cut short by shutdown, only by SendTimeout.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.SendTimeout)
	err := safeSend(sctx, sender, Delivery{
		IdempotencyKey: m.ID, Type: m.Type, Recipient: m.Recipient, Content: content, Attempt: m.Attempts,
	})
	cancel()
	if err == nil {
		return Outcome{State: StateSent}
	}
	reason := sanitizeError(err)
	d.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "notify: send failed",
		slog.String("message_id", m.ID), slog.String("type", string(m.Type)),
		slog.String("channel", string(m.Recipient.Channel)), slog.String("to", m.Recipient.Masked()),
		slog.Int("attempt", m.Attempts), slog.String("error", reason))
	if errors.Is(err, ErrPermanent) || m.Attempts >= d.cfg.MaxAttempts {
		return Outcome{State: StateAbandoned, Error: reason}
	}
	return Outcome{State: StatePending, Error: reason, RetryAt: d.cfg.Now().Add(d.cfg.Backoff(m.Attempts, d.jitter()))}
}

// render renders a message stored with Config.DeferRendering.
func (d *Dispatcher) render(m Message) (Content, error) {
	t, err := d.templates()
	if err != nil {
		return Content{}, err
	}
	return t.Render(m.Render.event(m.Type), m.Recipient.Channel, m.Former)
}

// errSenderPanicked is the (permanent) error of a Send that panicked.
var errSenderPanicked = errors.New("sender panicked")

// safeSend calls s.Send and turns a panic into a permanent failure, so one message that
// trips a bug in a sender cannot take down the process embedding the dispatcher (and, at
// every restart, take it down again). The panic value is not kept: it may hold the
// message.
func safeSend(ctx context.Context, s Sender, d Delivery) (err error) {
	defer func() {
		if recover() != nil {
			err = Permanent(errSenderPanicked)
		}
	}()
	return s.Send(ctx, d)
}

func (d *Dispatcher) abandoned(ctx context.Context, m Message, reason string) {
	d.cfg.Logger.LogAttrs(ctx, slog.LevelError, "notify: message abandoned",
		slog.String("message_id", m.ID), slog.String("event_id", m.EventID), slog.String("type", string(m.Type)),
		slog.String("channel", string(m.Recipient.Channel)), slog.String("to", m.Recipient.Masked()),
		slog.Int("attempts", m.Attempts), slog.String("error", reason))
	if d.cfg.Operators == nil {
		return
	}
	sig := Event{
		ID: NewID(), Type: DeliveryFailed, Subscriber: m.Subscriber, Time: d.cfg.Now(),
		Actor: Actor{Kind: ActorSystem, ID: "notify.dispatcher"}, Channel: "system",
		Attributes: map[string]string{
			"message_id": m.ID, "event_id": m.EventID, "event_type": string(m.Type),
			"channel": string(m.Recipient.Channel), "recipient": m.Recipient.Masked(),
			"attempts": strconv.Itoa(m.Attempts), "error": reason,
		},
	}
	if err := d.cfg.Operators.Publish(ctx, sig); err != nil {
		d.cfg.Logger.LogAttrs(ctx, slog.LevelError, "notify: operator signal failed",
			slog.String("message_id", m.ID), slog.String("error", err.Error()))
	}
}

// sanitizeError bounds an error for storage and masks anything address-like in it.
func sanitizeError(err error) string {
	s := maskValue(oneLine(err.Error()))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// token returns a lease token unique to this claim: 128 bits from crypto/rand (not
// Config.Rand, which tests make deterministic), so dispatchers in different processes
// never share one.
func (d *Dispatcher) token() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("notify: lease token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func (d *Dispatcher) jitter() float64 {
	var b [8]byte
	if err := d.read(b[:]); err != nil {
		return 1 // no randomness: wait the full step
	}
	return float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53)
}

func (d *Dispatcher) read(b []byte) error {
	d.randMu.Lock()
	defer d.randMu.Unlock()
	_, err := io.ReadFull(d.cfg.Rand, b)
	return err
}
