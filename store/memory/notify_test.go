package memory_test

import (
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

func TestNotifyOutbox(t *testing.T) {
	storetest.TestNotifyOutbox(t, func(t *testing.T, now func() time.Time) notify.Outbox {
		return memory.NewNotify(memory.Options{Now: now})
	})
}
