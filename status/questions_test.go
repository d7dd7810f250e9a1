package status_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/questions"
	"github.com/carrierguard/carrierguard/status"
)

// *questions.Service plugs into Sources through FromQuestions.
var _ status.QuestionsState = status.FromQuestions((*questions.Service)(nil))

type listerFunc func(context.Context, string) ([]questions.Question, error)

func (f listerFunc) Questions(ctx context.Context, sub string) ([]questions.Question, error) {
	return f(ctx, sub)
}

func TestFromQuestions(t *testing.T) {
	boom := errors.New("store down")
	three := []questions.Question{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	for _, tt := range []struct {
		name    string
		qs      []questions.Question
		err     error
		want    bool
		wantErr error
	}{
		{"three set", three, nil, true, nil},
		{"fewer than three", three[:2], nil, false, nil},
		{"not enrolled", nil, questions.ErrNotEnrolled, false, nil},
		{"store error fails closed", nil, boom, false, boom},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := status.FromQuestions(listerFunc(func(context.Context, string) ([]questions.Question, error) {
				return tt.qs, tt.err
			}))
			got, err := src.QuestionsSet(context.Background(), "alice")
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
