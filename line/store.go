package line

import (
	"context"
	"errors"
	"time"
)

// Errors. Match them with errors.Is.
var (
	// ErrNotFound is a number that is no subscriber's proved line.
	ErrNotFound = errors.New("line: not found")
	// ErrTaken is a number already proved to be another subscriber's line. Moving a
	// line between accounts is a carrier provisioning matter, not a self-service one.
	ErrTaken = errors.New("line: the number is another subscriber's line")
	// ErrUnproved is a number not (yet) proved to be the subscriber's line: nobody has
	// read a code sent to it, and the carrier's provisioning does not say so.
	ErrUnproved = errors.New("line: the number is not a proved line of the subscriber")
	// ErrInvalidRequest is a call with missing or malformed arguments.
	ErrInvalidRequest = errors.New("line: invalid request")
	// ErrRecentSIMChange is a number that had a SIM change or port within
	// Config.SIMChangeWindow: whoever reads its SMS now may not be its owner, so it is
	// not proved by SMS until the window has passed (provisioning still can).
	ErrRecentSIMChange = errors.New("line: the number had a recent SIM change; it cannot be proved by SMS now")
)

// Source is how a line was proved.
type Source string

// Sources.
const (
	// SourceSMSCode: a one-time code sent by SMS to the number was read back.
	SourceSMSCode Source = "sms_code"
	// SourceProvisioning: the carrier's own provisioning system says the subscriber
	// holds the line.
	SourceProvisioning Source = "provisioning"
)

// Binding is a proved line: the number belongs to the subscriber's account.
type Binding struct {
	Number     string // E.164
	Subscriber string
	Source     Source
	ProvedAt   time.Time
}

// Store persists proved lines. A number is bound to at most one subscriber; the core
// decides when a binding is made. Implementations are safe for concurrent use and Bind
// is atomic: 64 subscribers binding one number at once leave exactly one binding.
// storetest.TestLines is the conformance suite.
type Store interface {
	// Bind records b. If the number is already bound to b.Subscriber it changes nothing
	// and returns nil; if it is bound to another subscriber it returns ErrTaken.
	Bind(ctx context.Context, b Binding) error
	// Line returns the binding of number, or ErrNotFound.
	Line(ctx context.Context, number string) (Binding, error)
	// Unbind removes the binding of number if it belongs to subscriber (a port-out
	// completed, the line was cancelled); otherwise it returns ErrNotFound.
	Unbind(ctx context.Context, number, subscriber string) error
}

// Provisioning is the carrier's own record of who holds which line: its billing or
// provisioning system. OwnsLine reports whether subscriber holds number; an error means
// it could not tell, and the line stays unproved (fail closed).
type Provisioning interface {
	OwnsLine(ctx context.Context, subscriber, number string) (bool, error)
}

// ProvisioningFunc adapts a function to the Provisioning interface.
type ProvisioningFunc func(ctx context.Context, subscriber, number string) (bool, error)

// OwnsLine calls f(ctx, subscriber, number).
func (f ProvisioningFunc) OwnsLine(ctx context.Context, subscriber, number string) (bool, error) {
	return f(ctx, subscriber, number)
}

// SIMChanges reports whether a number had a SIM change or port within d.
// *protection.Service implements it from its SIM-change history.
type SIMChanges interface {
	SIMChangedWithin(ctx context.Context, number string, d time.Duration) (bool, error)
}
