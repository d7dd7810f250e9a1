package memory_test

import (
	"testing"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

func TestAgentCases(t *testing.T) {
	storetest.TestAgentCases(t, func(*testing.T) agent.CaseStore { return memory.NewAgentCases(memory.Options{}) })
}
