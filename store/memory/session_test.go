package memory_test

import (
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/session"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

func TestSessionStore(t *testing.T) {
	storetest.TestSessionStore(t, func(t *testing.T, now func() time.Time) session.Store {
		return memory.NewSession(memory.Options{Now: now})
	})
}

func TestSessionPending(t *testing.T) {
	storetest.TestSessionPending(t, func(*testing.T) session.PendingStore { return memory.NewSession(memory.Options{}) })
}
