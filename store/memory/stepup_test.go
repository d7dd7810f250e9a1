package memory_test

import (
	"testing"

	"github.com/carrierguard/carrierguard/stepup"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

func TestStepUp(t *testing.T) {
	storetest.TestStepUpStore(t, func(*testing.T) stepup.Store { return memory.NewStepUp(memory.Options{}) })
}
