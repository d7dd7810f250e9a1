package memory_test

import (
	"testing"

	"github.com/carrierguard/carrierguard/line"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

func TestLines(t *testing.T) {
	storetest.TestLines(t, func(*testing.T) line.Store { return memory.NewLines(memory.Options{}) })
}
