package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config configures the outbox publisher built by New. The zero value is usable: default
// templates, the default former-address window, time.Now and no logging.
type Config struct {
	// Templates renders messages. Nil means NewTemplates(TemplatesConfig{}).
	Templates *Templates
	// FormerWindow is how long a removed or replaced address keeps hearing about address
	// changes. Zero means DefaultFormerWindow.
	FormerWindow time.Duration `validate:"gte=0"`
	// Operators, if set, receives a DeliveryFailed event when a security event has no
	// address to go to. (The Dispatcher signals abandoned messages.)
	Operators Publisher
	// DeferRendering stores each message with the masked event data it is rendered from
	// (Message.Render) instead of rendering it in Publish; the Dispatcher renders it when
	// it delivers, with DispatcherConfig.Templates, which must then be the templates
	// given here (both nil means the defaults for both). Publish still stores one message
	// per recipient and channel before it returns, with the same IDs, and still rejects
	// an event type without templates; but it no longer executes templates, which are
	// most of its cost, on the caller's path. A template that fails on a particular
	// event (all of them render sample data at construction) then fails at delivery,
	// where the message is abandoned and the operators told, instead of at Publish.
	DeferRendering bool
	// Now is the clock messages are stamped with. Nil means time.Now.
	Now func() time.Time
	// Logger receives warnings. Nil means discard.
	Logger *slog.Logger
}

// Service is the notify Publisher: Publish routes an event, renders one message per
// recipient and channel, and stores them all in the Outbox before returning. A
// Dispatcher delivers them. Service is safe for concurrent use.
type Service struct {
	cfg    Config
	dir    Directory
	outbox Outbox
}

var _ Publisher = (*Service)(nil)

// New returns a Service that routes with dir and stores messages in outbox.
func New(cfg Config, dir Directory, outbox Outbox) (*Service, error) {
	if err := validateStruct(cfg); err != nil {
		return nil, err
	}
	if dir == nil {
		return nil, errorf("New: the Directory is nil; pass your subscriber directory")
	}
	if outbox == nil {
		return nil, errorf("New: the Outbox is nil; pass an outbox store such as memory.NewNotify")
	}
	if cfg.Templates == nil {
		t, err := NewTemplates(TemplatesConfig{})
		if err != nil {
			return nil, err
		}
		cfg.Templates = t
	}
	if cfg.FormerWindow == 0 {
		cfg.FormerWindow = DefaultFormerWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, dir: dir, outbox: outbox}, nil
}

// ErrNoRecipient is reported (to Config.Operators, with a DeliveryFailed event) when a
// security event has nowhere to go. Publish itself succeeds in that case, because
// refusing would block a legitimate change for a subscriber without contacts.
var ErrNoRecipient = errors.New("notify: no recipient for security event")

// Publish validates e, routes it, renders each message (unless Config.DeferRendering)
// and stores them all in the outbox. It returns an error, and stores nothing, if the event is invalid (unknown type:
// ErrUnknownType), the directory lookup fails, a template fails, or the outbox does not
// store the messages. Publishing the same event (same ID) again stores nothing new.
func (s *Service) Publish(ctx context.Context, e Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := e.Validate(); err != nil {
		return err
	}
	if e.Type.Operator() {
		return fmt.Errorf("%w: %s is an operator signal; publish it to your operators, not to the notify outbox", ErrInvalidEvent, e.Type)
	}
	p, err := s.dir.Lookup(ctx, e.Subscriber)
	if err != nil {
		return fmt.Errorf("notify: looking up subscriber for %s: %w", e.Type, err)
	}
	routes, err := Routes(e, p, s.cfg.FormerWindow)
	if err != nil {
		return err
	}
	if len(routes) == 0 {
		if e.Type.Security() {
			s.noRecipient(ctx, e)
		}
		return nil
	}
	now := s.cfg.Now()
	msgs := make([]Message, 0, len(routes))
	if s.cfg.DeferRendering {
		if !s.cfg.Templates.has(e.Type) {
			return fmt.Errorf("%w %q: no templates", ErrUnknownType, e.Type)
		}
		rd := &RenderData{Time: e.Time, Channel: renderChannel(e.Channel), Actor: e.Actor.Kind, Attributes: maskAttributes(e.Attributes)}
		for _, r := range routes {
			msgs = append(msgs, Message{
				ID: MessageID(e.ID, r.Recipient), EventID: e.ID, Type: e.Type, Subscriber: e.Subscriber,
				Recipient: r.Recipient, Former: r.Former, Render: rd, Created: now,
				State: StatePending, NextAttempt: now,
			})
		}
		return s.enqueue(ctx, e, msgs)
	}
	type variant struct {
		ch     Channel
		former bool
	}
	rendered := make(map[variant]Content, 4)
	for _, r := range routes {
		key := variant{r.Recipient.Channel, r.Former}
		c, ok := rendered[key]
		if !ok {
			if c, err = s.cfg.Templates.Render(e, r.Recipient.Channel, r.Former); err != nil {
				return err
			}
			rendered[key] = c
		}
		msgs = append(msgs, Message{
			ID: MessageID(e.ID, r.Recipient), EventID: e.ID, Type: e.Type, Subscriber: e.Subscriber,
			Recipient: r.Recipient, Former: r.Former, Content: c, Created: now,
			State: StatePending, NextAttempt: now,
		})
	}
	return s.enqueue(ctx, e, msgs)
}

func (s *Service) enqueue(ctx context.Context, e Event, msgs []Message) error {
	if err := s.outbox.Enqueue(ctx, msgs); err != nil {
		return fmt.Errorf("notify: storing %d messages for %s: %w", len(msgs), e.Type, err)
	}
	return nil
}

func (s *Service) noRecipient(ctx context.Context, e Event) {
	s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "notify: security event has no recipient",
		slog.String("event_id", e.ID), slog.String("type", string(e.Type)), slog.String("subscriber", e.Subscriber))
	if s.cfg.Operators == nil {
		return
	}
	sig := Event{
		ID: NewID(), Type: DeliveryFailed, Subscriber: e.Subscriber, Time: s.cfg.Now(),
		Actor: Actor{Kind: ActorSystem, ID: "notify"}, Channel: "system",
		Attributes: map[string]string{"event_id": e.ID, "event_type": string(e.Type), "error": ErrNoRecipient.Error()},
	}
	if err := s.cfg.Operators.Publish(ctx, sig); err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "notify: operator signal failed",
			slog.String("event_id", e.ID), slog.String("error", err.Error()))
	}
}
