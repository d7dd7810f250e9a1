// Package cleanup gives the context for undoing or correcting a half-made change after
// a step failed: revoking a code or PIN nobody was told of, recording a denial. The
// request's context may be what failed (a client that hung up while a gateway or the
// outbox was slow), and a clean-up run on a cancelled context would fail too and leave
// the half-made change behind.
package cleanup

import (
	"context"
	"time"
)

// Timeout bounds a clean-up.
const Timeout = 10 * time.Second

// Context returns a context that keeps ctx's values but not its cancellation or
// deadline, with a deadline of its own Timeout from now. Call cancel when done.
func Context(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), Timeout)
}
