package status

import (
	"context"
	"errors"

	"github.com/carrierguard/carrierguard/questions"
)

// QuestionsLister is the one method of package questions' Service that the status
// reads. *questions.Service satisfies it.
type QuestionsLister interface {
	Questions(ctx context.Context, subscriber string) ([]questions.Question, error)
}

// FromQuestions adapts package questions' Service to QuestionsState:
//
//	src := status.Sources{Questions: status.FromQuestions(questionsService), ...}
//
// The step is done when the subscriber has questions.QuestionsPerSubscriber questions
// set; a subscriber without questions (questions.ErrNotEnrolled) has not done it. Any
// other error is returned and fails the status closed.
func FromQuestions(svc QuestionsLister) QuestionsFunc {
	return func(ctx context.Context, subscriber string) (bool, error) {
		qs, err := svc.Questions(ctx, subscriber)
		switch {
		case errors.Is(err, questions.ErrNotEnrolled):
			return false, nil
		case err != nil:
			return false, err
		}
		return len(qs) >= questions.QuestionsPerSubscriber, nil
	}
}
