package line

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
)

// PurposeLineProof is the purpose of the SMS code that proves a line. It proves
// possession of the number and nothing else: it is no evidence for signing in or for
// any change.
const PurposeLineProof otp.Purpose = "line_proof"

// Codes issues and checks one-time codes; *otp.Codes implements it.
type Codes interface {
	Issue(ctx context.Context, req otp.IssueRequest) (otp.Issued, error)
	Verify(ctx context.Context, req otp.VerifyRequest) (otp.Verified, error)
	Undelivered(ctx context.Context, challengeID string) error
}

// Message is an SMS code on its way to a number. Code is the only copy of the plaintext.
type Message struct {
	Subscriber string
	Number     string
	Code       string
	ExpiresAt  time.Time
}

// Sender delivers line-proof codes by SMS. It should fail only when the message was not
// accepted for delivery; the code is then withdrawn.
type Sender interface {
	SendLineCode(ctx context.Context, m Message) error
}

// SenderFunc adapts a function to the Sender interface.
type SenderFunc func(ctx context.Context, m Message) error

// SendLineCode calls f(ctx, m).
func (f SenderFunc) SendLineCode(ctx context.Context, m Message) error { return f(ctx, m) }

// Config configures a Service. Zero values are the documented defaults.
type Config struct {
	// SIMChangeWindow is how long after a SIM change or port a number cannot be proved
	// by SMS (Deps.SIMChanges). Zero means 7 days, NIST SP 800-63B's concern with SMS
	// after a SIM change; at most 100 days.
	SIMChangeWindow time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// DefaultSIMChangeWindow is Config.SIMChangeWindow's default.
const DefaultSIMChangeWindow = 7 * 24 * time.Hour

// Deps are what a Service works with. Store and Publisher are required. Codes and
// Sender prove lines by SMS (both or neither), and then SIMChanges is required too: an
// SMS read just after a SIM swap proves nothing. Provisioning proves lines from the
// carrier's records. At least one way must be given.
type Deps struct {
	Store        Store
	Codes        Codes
	Sender       Sender
	SIMChanges   SIMChanges
	Provisioning Provisioning
	Publisher    notify.Publisher
}

// Service decides which numbers are a subscriber's lines. It is safe for concurrent use.
type Service struct {
	cfg  Config
	deps Deps
}

// New returns a Service.
func New(cfg Config, deps Deps) (*Service, error) {
	switch {
	case deps.Store == nil:
		return nil, fmt.Errorf("%w: Deps.Store is nil", ErrInvalidRequest)
	case deps.Publisher == nil:
		return nil, fmt.Errorf("%w: Deps.Publisher is nil", ErrInvalidRequest)
	case (deps.Codes == nil) != (deps.Sender == nil):
		return nil, fmt.Errorf("%w: Deps.Codes and Deps.Sender go together", ErrInvalidRequest)
	case deps.Codes == nil && deps.Provisioning == nil:
		return nil, fmt.Errorf("%w: give Deps.Codes and Deps.Sender, or Deps.Provisioning, or both", ErrInvalidRequest)
	case deps.Codes != nil && deps.SIMChanges == nil:
		return nil, fmt.Errorf("%w: Deps.SIMChanges is required with Deps.Codes (a *protection.Service)", ErrInvalidRequest)
	case cfg.SIMChangeWindow < 0 || cfg.SIMChangeWindow > 100*24*time.Hour:
		return nil, fmt.Errorf("%w: Config.SIMChangeWindow must be between 0 (default 7 days) and 100 days", ErrInvalidRequest)
	}
	if cfg.SIMChangeWindow == 0 {
		cfg.SIMChangeWindow = DefaultSIMChangeWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, deps: deps}, nil
}

func normalize(subscriber, number string) (string, error) {
	if subscriber == "" || len(subscriber) > 128 {
		return "", fmt.Errorf("%w: the subscriber must be 1 to 128 bytes", ErrInvalidRequest)
	}
	n, err := protection.NormalizeE164(number)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return n, nil
}

// Owner returns the binding of number: whose proved line it is. ErrNotFound if nobody's.
func (s *Service) Owner(ctx context.Context, number string) (Binding, error) {
	n, err := protection.NormalizeE164(number)
	if err != nil {
		return Binding{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return s.deps.Store.Line(ctx, n)
}

// Check returns the binding if number is a proved line of subscriber, and ErrUnproved
// otherwise. A number no one has proved is asked of Provisioning (if configured); if it
// says yes, the binding is recorded (SourceProvisioning) and returned. A number proved
// by another subscriber is ErrUnproved for this one, whatever provisioning says: the
// carrier moves it with Release first. Any store or provisioning error is returned and
// means "not proved".
//
// Call Check before every SIM swap, eSIM transfer or port-out: a number typed in at
// sign-up is a claim, not a line.
func (s *Service) Check(ctx context.Context, subscriber, number string) (Binding, error) {
	n, err := normalize(subscriber, number)
	if err != nil {
		return Binding{}, err
	}
	b, err := s.deps.Store.Line(ctx, n)
	switch {
	case err == nil && b.Subscriber == subscriber:
		return b, nil
	case err == nil:
		return Binding{}, ErrUnproved
	case !errors.Is(err, ErrNotFound):
		return Binding{}, fmt.Errorf("line: store: %w", err)
	case s.deps.Provisioning == nil:
		return Binding{}, ErrUnproved
	}
	owns, err := s.deps.Provisioning.OwnsLine(ctx, subscriber, n)
	if err != nil {
		return Binding{}, fmt.Errorf("line: provisioning: %w", err)
	}
	if !owns {
		return Binding{}, ErrUnproved
	}
	b = Binding{Number: n, Subscriber: subscriber, Source: SourceProvisioning, ProvedAt: s.cfg.Now()}
	switch err := s.deps.Store.Bind(ctx, b); {
	case errors.Is(err, ErrTaken):
		return Binding{}, ErrUnproved
	case err != nil:
		return Binding{}, fmt.Errorf("line: store: %w", err)
	}
	return s.deps.Store.Line(ctx, n)
}

// Challenge is an SMS code on its way to a number. ID is not secret; pass it back to
// Complete with the code.
type Challenge struct {
	ID        string
	Masked    string // "•••• 0123"
	ExpiresAt time.Time
}

// Begin sends an SMS code to number, to prove it is subscriber's line. A number with a
// SIM change or port within Config.SIMChangeWindow gets no code (ErrRecentSIMChange),
// and Complete checks again. The code is sent
// whether or not another subscriber has proved the number (Complete refuses it then), so
// Begin does not tell who is a customer. otp's resend limits apply per subscriber and
// per number; if the Sender fails the code is withdrawn (refunded to those limits and to
// otp's SMS budgets) and the error returned, unless ctx was cancelled meanwhile: a send
// the caller abandoned may have gone out, and stays counted.
//
// Begin counts the code against otp's global and country SMS budgets only: it is for
// codes no client asked for. A request from a client uses BeginFrom, which counts it
// against the client's budget too.
func (s *Service) Begin(ctx context.Context, subscriber, number string) (Challenge, error) {
	return s.BeginFrom(ctx, subscriber, number, "")
}

// BeginFrom is Begin for a code a client asked for: clientIP is the client's address
// as your server or its proxy vouches for it (http.Request.RemoteAddr form is fine),
// never a header the client wrote. The code counts against otp's SMS budget for that
// client (SMSBudgets.PerClient, and PerNetwork for an IPv6 /48), so that one client
// signing up account after account cannot spend the budget every subscriber's codes
// share (a *otp.BudgetError). An address that does not parse is an error, never "no
// limit".
func (s *Service) BeginFrom(ctx context.Context, subscriber, number, clientIP string) (Challenge, error) {
	if s.deps.Codes == nil {
		return Challenge{}, fmt.Errorf("%w: lines are proved by provisioning only here", ErrInvalidRequest)
	}
	n, err := normalize(subscriber, number)
	if err != nil {
		return Challenge{}, err
	}
	if err := s.checkSIM(ctx, n); err != nil {
		return Challenge{}, err
	}
	issued, err := s.deps.Codes.Issue(ctx, otp.IssueRequest{Subscriber: subscriber, Purpose: PurposeLineProof,
		Destination: otp.Destination{Channel: otp.ChannelSMS, Address: n}, ClientIP: clientIP})
	if err != nil {
		return Challenge{}, err
	}
	if err := s.deps.Sender.SendLineCode(ctx, Message{Subscriber: subscriber, Number: n, Code: issued.Code, ExpiresAt: issued.ExpiresAt}); err != nil {
		if ctx.Err() != nil {
			// The caller hung up while the message was on its way: it may have gone out,
			// so it keeps its place in the resend limits and budgets (and expires as
			// sent codes do); refunding it would let hanging up buy unlimited SMS.
			return Challenge{}, fmt.Errorf("line: sending the code: %w", err)
		}
		if uerr := s.deps.Codes.Undelivered(ctx, issued.ChallengeID); uerr != nil {
			return Challenge{}, errors.Join(fmt.Errorf("line: sending the code: %w", err), uerr)
		}
		return Challenge{}, fmt.Errorf("line: sending the code: %w", err)
	}
	return Challenge{ID: issued.ChallengeID, Masked: Mask(n), ExpiresAt: issued.ExpiresAt}, nil
}

// checkSIM refuses an SMS proof of a number with a recent SIM change; an error from the
// history refuses it too.
func (s *Service) checkSIM(ctx context.Context, number string) error {
	changed, err := s.deps.SIMChanges.SIMChangedWithin(ctx, number, s.cfg.SIMChangeWindow)
	switch {
	case err != nil:
		return fmt.Errorf("line: SIM-change history: %w", err)
	case changed:
		return ErrRecentSIMChange
	}
	return nil
}

// CompleteRequest is a code read back from an SMS sent by Begin. Subscriber and Number
// come from the caller's own state (the account's claimed number), never from the
// client alone.
type CompleteRequest struct {
	Subscriber  string
	Number      string
	ChallengeID string
	Code        string
}

// Complete checks the code and, if it is right, binds the number to the subscriber
// (SourceSMSCode) and publishes notify.AccountDetailsChanged. Wrong, used or expired
// codes return otp's errors (otp.ErrInvalidCode, otp.ErrExpired, ...); a number another
// subscriber has proved returns ErrTaken and binds nothing.
func (s *Service) Complete(ctx context.Context, req CompleteRequest) (Binding, error) {
	if s.deps.Codes == nil {
		return Binding{}, fmt.Errorf("%w: lines are proved by provisioning only here", ErrInvalidRequest)
	}
	n, err := normalize(req.Subscriber, req.Number)
	if err != nil {
		return Binding{}, err
	}
	if err := s.checkSIM(ctx, n); err != nil { // a swap may have come since Begin
		return Binding{}, err
	}
	v, err := s.deps.Codes.Verify(ctx, otp.VerifyRequest{ChallengeID: req.ChallengeID, Subscriber: req.Subscriber,
		Purpose: PurposeLineProof, Destination: otp.Destination{Channel: otp.ChannelSMS, Address: n}, Code: req.Code})
	if err != nil {
		return Binding{}, err
	}
	switch cur, err := s.deps.Store.Line(ctx, n); {
	case err == nil && cur.Subscriber == req.Subscriber:
		return cur, nil // proved before: nothing changes, nothing to announce
	case err == nil:
		return Binding{}, ErrTaken
	case !errors.Is(err, ErrNotFound):
		return Binding{}, fmt.Errorf("line: store: %w", err)
	}
	b := Binding{Number: n, Subscriber: req.Subscriber, Source: SourceSMSCode, ProvedAt: v.VerifiedAt}
	// Announce before binding (the publisher is a durable outbox): a line that was
	// attached without a notice is worse than a notice for a binding that then failed.
	if err := s.deps.Publisher.Publish(ctx, notify.Event{ID: notify.NewID(), Type: notify.AccountDetailsChanged,
		Subscriber: req.Subscriber, Time: b.ProvedAt, Actor: notify.Actor{Kind: notify.ActorSubscriber}, Channel: "system",
		Attributes: map[string]string{"detail": "line_proved", "line": Mask(n)}}); err != nil {
		return Binding{}, fmt.Errorf("line: publishing: %w", err)
	}
	if err := s.deps.Store.Bind(ctx, b); err != nil {
		if errors.Is(err, ErrTaken) {
			return Binding{}, ErrTaken
		}
		return Binding{}, fmt.Errorf("line: store: %w", err)
	}
	return s.deps.Store.Line(ctx, n)
}

// Release ends subscriber's binding of number, after a completed port-out or a
// cancelled line. ErrNotFound if it was not subscriber's line.
func (s *Service) Release(ctx context.Context, subscriber, number string) error {
	n, err := normalize(subscriber, number)
	if err != nil {
		return err
	}
	return s.deps.Store.Unbind(ctx, n, subscriber)
}

// Mask shows the last four digits of a number: "•••• 0123", as notify.MaskPhone does
// for events and messages.
func Mask(number string) string { return notify.MaskPhone(number) }
