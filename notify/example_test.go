package notify_test

import (
	"context"
	"fmt"
	"time"

	"github.com/carrierguard/carrierguard/notify"
)

func ExampleRecorder() {
	var rec notify.Recorder
	err := rec.Publish(context.Background(), notify.Event{
		ID:         notify.NewID(),
		Type:       notify.SIMSwapRequested,
		Subscriber: "subscriber-42",
		Time:       time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC),
		Actor:      notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"},
		Channel:    "phone",
		Attributes: map[string]string{"line": "•••• 1234"},
	})
	fmt.Println(err, rec.Types(), notify.SIMSwapRequested.Security())
	// Output: <nil> [sim_swap.requested] true
}
