package notify

import (
	"context"
	"errors"
	"log/slog"
)

// Delivery is what a Sender is asked to send: one rendered message to one recipient.
type Delivery struct {
	// IdempotencyKey is the same on every attempt of this message (it is the message ID).
	// Pass it to the gateway (an Idempotency-Key header, the email Message-ID) so a
	// retry after a crash is not delivered twice.
	IdempotencyKey string
	Type           Type
	Recipient      Recipient
	Content        Content
	// Attempt is 1 on the first try.
	Attempt int
}

// Sender delivers messages on one channel. A dispatcher is configured with one Sender per
// channel it serves.
//
// Send must be safe for concurrent use and must honour ctx's deadline. It returns nil
// only when the gateway accepted the message; any error makes the dispatcher retry later
// with the same IdempotencyKey, unless the error wraps ErrPermanent (see Permanent), which
// abandons the message at once. Errors are stored and logged, so they must not contain
// the message content. A panic in Send is recovered by the dispatcher and treated as a
// permanent failure of that message.
type Sender interface {
	Send(ctx context.Context, d Delivery) error
}

// SenderFunc adapts a function to the Sender interface.
type SenderFunc func(ctx context.Context, d Delivery) error

// Send calls f(ctx, d).
func (f SenderFunc) Send(ctx context.Context, d Delivery) error { return f(ctx, d) }

// ErrPermanent marks a failure that retrying cannot fix, such as a gateway rejecting the
// address. The dispatcher abandons the message at once.
var ErrPermanent = errors.New("permanent failure")

type permanentError struct{ err error }

func (p permanentError) Error() string        { return p.err.Error() }
func (p permanentError) Unwrap() []error      { return []error{p.err, ErrPermanent} }
func (p permanentError) Is(target error) bool { return target == ErrPermanent }

// Permanent marks err as permanent: errors.Is(Permanent(err), ErrPermanent) is true and
// errors.Is(Permanent(err), err) still holds. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// LogSender is a Sender for development: it logs each delivery at Info level with the
// type, channel, masked recipient, idempotency key and subject, never the body (bodies
// carry no secrets, but logs are not the place for them). It always succeeds.
type LogSender struct {
	Logger *slog.Logger // nil means slog.Default()
}

// Send logs d.
func (l LogSender) Send(ctx context.Context, d Delivery) error {
	lg := l.Logger
	if lg == nil {
		lg = slog.Default()
	}
	lg.LogAttrs(ctx, slog.LevelInfo, "notify: delivered (log sender)",
		slog.String("type", string(d.Type)),
		slog.String("channel", string(d.Recipient.Channel)),
		slog.String("to", d.Recipient.Masked()),
		slog.String("idempotency_key", d.IdempotencyKey),
		slog.String("subject", d.Content.Subject),
		slog.Int("attempt", d.Attempt))
	return nil
}
