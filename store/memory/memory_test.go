package memory

import (
	"testing"
	"time"
)

func TestOptionsClock(t *testing.T) {
	if (Options{}).clock() == nil {
		t.Fatal("zero Options has no clock")
	}
	fixed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := (Options{Now: func() time.Time { return fixed }}).clock()(); !got.Equal(fixed) {
		t.Fatalf("injected clock ignored: %v", got)
	}
}
