package cleanup

import (
	"context"
	"testing"
	"time"
)

type key struct{}

// A clean-up context outlives its parent's cancellation, keeps its values and still
// has a deadline of its own.
func TestContext(t *testing.T) {
	parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	cancelParent()
	ctx, cancel := Context(parent)
	defer cancel()
	if err := ctx.Err(); err != nil {
		t.Fatalf("clean-up context already done: %v", err)
	}
	if got := ctx.Value(key{}); got != "v" {
		t.Errorf("value = %v, want the parent's", got)
	}
	deadline, ok := ctx.Deadline()
	if !ok || time.Until(deadline) > Timeout || time.Until(deadline) < Timeout-time.Minute {
		t.Errorf("deadline = %v (set %v), want about %v from now", deadline, ok, Timeout)
	}
	cancel()
	if ctx.Err() == nil {
		t.Error("cancel did not end the clean-up context")
	}
}
