package questions_test

import (
	"context"
	"testing"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/questions"
	"github.com/carrierguard/carrierguard/store/memory"
)

// BenchmarkVerifyAnswer measures one agent verification of the carrier's example
// paraphrase: read the record, charge and refund an attempt, unseal the stored answer,
// normalise both answers, match, publish the audit event (memory stores, a publisher
// that drops events). Target: at most 50 µs/op.
func BenchmarkVerifyAnswer(b *testing.B) {
	ctx := context.Background()
	drop := notify.PublisherFunc(func(context.Context, notify.Event) error { return nil })
	svc, err := questions.New(questions.Config{}, memory.NewQuestionAnswers(memory.Options{}),
		memory.NewQuestionAttempts(memory.Options{}), newKeyring(b), drop, newSecondFactor(b, fakeclock.New(epoch), 7).svc)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Enroll(ctx, enrollment("sub-1", goodChoices())); err != nil {
		b.Fatal(err)
	}
	v := questions.Verification{Subscriber: "sub-1", QuestionID: "poem-line", Spoken: carrierSpoken, AgentID: "agent-7", Channel: "phone"}
	b.ReportAllocs()
	for b.Loop() {
		r, err := svc.Verify(ctx, v)
		if err != nil || r.Verdict != questions.Match {
			b.Fatalf("Verify = %+v, %v", r, err)
		}
	}
}
