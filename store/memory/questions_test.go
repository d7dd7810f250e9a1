package memory_test

import (
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/questions"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

func TestQuestionAnswers(t *testing.T) {
	storetest.TestQuestionAnswers(t, func(t *testing.T, now func() time.Time) questions.AnswerStore {
		return memory.NewQuestionAnswers(memory.Options{Now: now})
	})
}

func TestQuestionAttempts(t *testing.T) {
	storetest.TestQuestionAttempts(t, func(t *testing.T, now func() time.Time) questions.AttemptStore {
		return memory.NewQuestionAttempts(memory.Options{Now: now})
	})
}
