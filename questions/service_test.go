package questions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/questions"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/twofactor"
)

const (
	carrierStored = "Two roads diverged in a wood and I – I took the one less traveled by, and that has made all the difference."
	carrierSpoken = "Two roads diverged but I took the one less traveled by. That has made all the difference."
	nearMiss      = "Two roads diverged in a yellow wood, and sorry I could not travel both"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	svc      *questions.Service
	events   *notify.Recorder
	clock    *fakeclock.Clock
	answers  *memory.QuestionAnswers
	attempts *memory.QuestionAttempts
	keys     keyring.Keyring
	tf       *secondFactor // issues and verifies second-factor proofs
}

func newKeyring(t testing.TB) *keyring.Local {
	t.Helper()
	kr, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 1, Secret: testkey.New("keyring")}}})
	require.NoError(t, err)
	return kr
}

func newEnv(t testing.TB, cfg questions.Config) *env {
	t.Helper()
	e := &env{events: &notify.Recorder{}, clock: fakeclock.New(epoch), keys: newKeyring(t)}
	e.answers = memory.NewQuestionAnswers(memory.Options{Now: e.clock.Now})
	e.attempts = memory.NewQuestionAttempts(memory.Options{Now: e.clock.Now})
	e.tf = newSecondFactor(t, e.clock, 7)
	cfg.Now = e.clock.Now
	svc, err := questions.New(cfg, e.answers, e.attempts, e.keys, e.events, e.tf.svc)
	require.NoError(t, err)
	e.svc = svc
	return e
}

func goodChoices() []questions.Choice {
	return []questions.Choice{
		{QuestionID: "poem-line", Answer: carrierStored},
		{QuestionID: "worst-meal", Answer: "Burnt spaghetti carbonara with scrambled eggs"},
		{Custom: "What did we call the broken lawnmower?", Answer: "The Grumbler"},
	}
}

func enrollment(sub string, choices []questions.Choice) questions.Enrollment {
	return questions.Enrollment{Subscriber: sub, Channel: "app", Choices: choices}
}

func (e *env) enroll(t testing.TB, sub string) []questions.Question {
	t.Helper()
	qs, err := e.svc.Enroll(context.Background(), enrollment(sub, goodChoices()))
	require.NoError(t, err)
	return qs
}

func (e *env) verify(sub, qid, spoken string) (questions.Result, error) {
	return e.svc.Verify(context.Background(), questions.Verification{
		Subscriber: sub, QuestionID: qid, Spoken: spoken, AgentID: "agent-7", Channel: "phone",
	})
}

func TestNewConfig(t *testing.T) {
	kr := newKeyring(t)
	ans, att, rec := memory.NewQuestionAnswers(memory.Options{}), memory.NewQuestionAttempts(memory.Options{}), &notify.Recorder{}
	tf := newSecondFactor(t, fakeclock.New(epoch), 7).svc
	tests := []struct {
		name string
		cfg  questions.Config
		want string
	}{
		{"negative failures", questions.Config{MaxFailures: -1}, "MaxFailures"},
		{"over NIST limit", questions.Config{MaxFailures: 101}, "MaxFailures"},
		{"negative window", questions.Config{FailureWindow: -time.Hour}, "FailureWindow"},
		{"threshold above 1", questions.Config{MatchThreshold: 1.5}, "MatchThreshold"},
		{"close above match", questions.Config{MatchThreshold: 0.75, CloseThreshold: 0.8}, "CloseThreshold"},
		{"match threshold that accepts half an answer", questions.Config{MatchThreshold: 0.6, CloseThreshold: 0.3}, "MatchThreshold"},
		{"close above default match", questions.Config{CloseThreshold: 0.9}, "CloseThreshold"},
		{"unknown proof method", questions.Config{ProofMethods: []string{"totp", "security-questions"}}, "ProofMethods"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := questions.New(tt.cfg, ans, att, kr, rec, tf)
			require.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	for name, mk := range map[string]func() (*questions.Service, error){
		"AnswerStore":   func() (*questions.Service, error) { return questions.New(questions.Config{}, nil, att, kr, rec, tf) },
		"AttemptStore":  func() (*questions.Service, error) { return questions.New(questions.Config{}, ans, nil, kr, rec, tf) },
		"keyring":       func() (*questions.Service, error) { return questions.New(questions.Config{}, ans, att, nil, rec, tf) },
		"Publisher":     func() (*questions.Service, error) { return questions.New(questions.Config{}, ans, att, kr, nil, tf) },
		"ProofVerifier": func() (*questions.Service, error) { return questions.New(questions.Config{}, ans, att, kr, rec, nil) },
	} {
		t.Run("nil "+name, func(t *testing.T) {
			_, err := mk()
			require.ErrorIs(t, err, validate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), name, "the error names what is missing")
		})
	}
	_, err := questions.New(questions.Config{}, ans, att, kr, rec, tf)
	require.NoError(t, err)
}

func TestEnrollShowsQuestionsNeverAnswers(t *testing.T) {
	e := newEnv(t, questions.Config{})
	qs := e.enroll(t, "sub-1")
	require.Len(t, qs, 3)
	assert.Equal(t, "poem-line", qs[0].ID)
	assert.Equal(t, "worst-meal", qs[1].ID)
	assert.True(t, qs[2].Custom)
	assert.True(t, strings.HasPrefix(qs[2].ID, "custom-"), qs[2].ID)
	assert.Equal(t, "What did we call the broken lawnmower?", qs[2].Text)

	got, err := e.svc.Questions(context.Background(), "sub-1")
	require.NoError(t, err)
	assert.Equal(t, qs, got)

	ev, ok := e.events.Last(notify.SecurityQuestionsSet)
	require.True(t, ok, "no %s event", notify.SecurityQuestionsSet)
	assert.Equal(t, notify.ActorSubscriber, ev.Actor.Kind)
	assert.Equal(t, "app", ev.Channel)
	assert.Equal(t, epoch, ev.Time)
	assert.Equal(t, "poem-line,worst-meal,"+qs[2].ID, ev.Attributes["question_ids"])

	// Nothing at rest reveals an answer: not the sealed bytes, not any other field.
	rec, err := e.answers.Get(context.Background(), "sub-1")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), rec.Version)
	for _, c := range goodChoices() {
		for _, a := range rec.Answers {
			for _, frag := range []string{c.Answer, strings.ToLower(c.Answer), "Grumbler", "spaghetti", "roads"} {
				assert.False(t, bytes.Contains(a.Sealed, []byte(frag)), "sealed answer contains %q", frag)
				assert.NotContains(t, a.Question+a.QuestionID, frag)
			}
		}
	}
	for _, ev := range e.events.Events() {
		for k, v := range ev.Attributes {
			assert.NotContains(t, strings.ToLower(v), "grumbler", "event attribute %s", k)
		}
	}
}

func TestEnrollRules(t *testing.T) {
	dob := time.Date(1990, 6, 5, 0, 0, 0, 0, time.UTC)
	facts := questions.Facts{Name: "Jane Q. Doe", Email: "jane.doe77@example.com", Phone: "+1 (555) 123-4567", ZIP: "90210-1234", DateOfBirth: dob}
	with := func(i int, c questions.Choice) []questions.Choice {
		cs := goodChoices()
		cs[i] = c
		return cs
	}
	answer := func(i int, a string) []questions.Choice {
		cs := goodChoices()
		cs[i].Answer = a
		return cs
	}
	tests := []struct {
		name    string
		choices []questions.Choice
		want    error
		index   int // -1: not an EnrollmentError
	}{
		{"none", nil, questions.ErrTooFewQuestions, -1},
		{"two", goodChoices()[:2], questions.ErrTooFewQuestions, -1},
		{"four", append(goodChoices(), questions.Choice{QuestionID: "motto", Answer: "Measure twice, cut once"}), questions.ErrTooManyQuestions, -1},
		{"unknown ID", with(1, questions.Choice{QuestionID: "mothers-maiden-name", Answer: "Smithers"}), questions.ErrUnknownQuestion, 1},
		{"same question twice", with(1, questions.Choice{QuestionID: "poem-line", Answer: "Hope is the thing with feathers"}), questions.ErrDuplicateQuestion, 1},
		{"custom repeats catalog", with(2, questions.Choice{Custom: "what is your favorite line from a poem", Answer: "Hope is the thing with feathers"}), questions.ErrDuplicateQuestion, 2},
		{"ID and custom", with(2, questions.Choice{QuestionID: "motto", Custom: "What did we call the van?", Answer: "Old Rusty"}), questions.ErrCustomQuestion, 2},
		{"custom too short", with(2, questions.Choice{Custom: "Why?", Answer: "Because I said so"}), questions.ErrCustomQuestion, 2},
		{"custom too long", with(2, questions.Choice{Custom: strings.Repeat("Really ", 30) + "why?", Answer: "Because I said so"}), questions.ErrCustomQuestion, 2},
		{"custom biographical", with(2, questions.Choice{Custom: "What street did you grow up on?", Answer: "Elm Street"}), questions.ErrCustomQuestion, 2},
		{"custom maiden name", with(2, questions.Choice{Custom: "What is your mother's maiden name?", Answer: "Fitzwilliam"}), questions.ErrCustomQuestion, 2},
		{"custom with line break", with(2, questions.Choice{Custom: "What did we call\nthe van?", Answer: "Old Rusty"}), questions.ErrCustomQuestion, 2},
		{"empty answer", answer(0, ""), questions.ErrAnswerEmpty, 0},
		{"blank answer", answer(1, " \t "), questions.ErrAnswerEmpty, 1},
		{"oversize answer", answer(1, strings.Repeat("spaghetti ", 51)), questions.ErrAnswerTooLong, 1},
		{"two letters", answer(1, "ab"), questions.ErrAnswerTooShort, 1},
		{"two letters spaced", answer(1, "a - b!"), questions.ErrAnswerTooShort, 1},
		{"yes", answer(1, "Yes"), questions.ErrAnswerTooCommon, 1},
		{"nothing", answer(1, "Nothing."), questions.ErrAnswerTooCommon, 1},
		{"stopword", answer(1, "the"), questions.ErrAnswerTooCommon, 1},
		{"one letter repeated", answer(1, "zzzz"), questions.ErrAnswerTooCommon, 1},
		{"same answer", answer(1, strings.ToUpper(carrierStored)), questions.ErrAnswerRepeated, 1},
		{"paraphrase of another answer", answer(2, carrierSpoken), questions.ErrAnswerRepeated, 2},
		{"words of the question", answer(0, "A poem"), questions.ErrAnswerInQuestion, 0},
		{"question words reordered", answer(1, "Dish cooked"), questions.ErrAnswerInQuestion, 1},
		{"first name", answer(1, "jane"), questions.ErrAnswerPersonalFact, 1},
		{"full name", answer(1, "Jane Doe"), questions.ErrAnswerPersonalFact, 1},
		{"email", answer(1, "Jane.Doe77@Example.com"), questions.ErrAnswerPersonalFact, 1},
		{"email local part", answer(1, "jane doe 77"), questions.ErrAnswerPersonalFact, 1},
		{"phone", answer(1, "555-123-4567"), questions.ErrAnswerPersonalFact, 1},
		{"phone tail", answer(1, "1234567"), questions.ErrAnswerPersonalFact, 1},
		{"zip", answer(1, "90210"), questions.ErrAnswerPersonalFact, 1},
		{"zip+4", answer(1, "90210 1234"), questions.ErrAnswerPersonalFact, 1},
		{"dob iso", answer(1, "1990-06-05"), questions.ErrAnswerPersonalFact, 1},
		{"dob words", answer(1, "June 5th, 1990"), questions.ErrAnswerPersonalFact, 1},
		{"dob us", answer(1, "06/05/1990"), questions.ErrAnswerPersonalFact, 1},
		{"birth year", answer(1, "1990"), questions.ErrAnswerPersonalFact, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, questions.Config{})
			en := enrollment("sub-1", tt.choices)
			en.Facts = facts
			_, err := e.svc.Enroll(context.Background(), en)
			require.ErrorIs(t, err, tt.want)
			require.ErrorIs(t, err, questions.ErrInvalidEnrollment)
			if tt.index >= 0 {
				var ee *questions.EnrollmentError
				require.ErrorAs(t, err, &ee)
				assert.Equal(t, tt.index, ee.Index)
				assert.Contains(t, err.Error(), fmt.Sprintf("choice %d", tt.index+1))
				if id := tt.choices[tt.index].QuestionID; id != "" {
					assert.Contains(t, err.Error(), id)
				}
				if a := tt.choices[tt.index].Answer; len(strings.TrimSpace(a)) > 3 {
					assert.NotContains(t, strings.ToLower(err.Error()), strings.ToLower(strings.TrimSpace(a)), "error message echoes the answer")
				}
			}
			// Nothing half-written, nothing announced.
			_, err = e.svc.Questions(context.Background(), "sub-1")
			require.ErrorIs(t, err, questions.ErrNotEnrolled)
			assert.Empty(t, e.events.Events())
		})
	}

	t.Run("facts do not reject unrelated answers", func(t *testing.T) {
		e := newEnv(t, questions.Config{})
		en := enrollment("sub-1", goodChoices())
		en.Facts = facts
		_, err := e.svc.Enroll(context.Background(), en)
		require.NoError(t, err)
	})
	t.Run("exactly 500 characters is fine", func(t *testing.T) {
		e := newEnv(t, questions.Config{})
		_, err := e.svc.Enroll(context.Background(), enrollment("sub-1", answer(1, strings.Repeat("spaghetti ", 49)+"carbonara!")))
		require.NoError(t, err)
	})
	t.Run("missing subscriber or channel", func(t *testing.T) {
		e := newEnv(t, questions.Config{})
		_, err := e.svc.Enroll(context.Background(), questions.Enrollment{Channel: "app", Choices: goodChoices()})
		require.ErrorIs(t, err, questions.ErrInvalidRequest)
		_, err = e.svc.Enroll(context.Background(), questions.Enrollment{Subscriber: "sub-1", Choices: goodChoices()})
		require.ErrorIs(t, err, questions.ErrInvalidRequest)
	})
}

func TestEnrollTwiceNeedsChange(t *testing.T) {
	e := newEnv(t, questions.Config{})
	e.enroll(t, "sub-1")
	_, err := e.svc.Enroll(context.Background(), enrollment("sub-1", goodChoices()))
	require.ErrorIs(t, err, questions.ErrAlreadyEnrolled)
}

func TestConcurrentEnrollOnce(t *testing.T) {
	e := newEnv(t, questions.Config{})
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.svc.Enroll(context.Background(), enrollment("sub-1", goodChoices()))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, questions.ErrAlreadyEnrolled), errors.Is(err, questions.ErrConflict):
		default:
			t.Errorf("Enroll: %v", err)
		}
	}
	assert.Equal(t, 1, ok, "concurrent enrollments that succeeded")
	rec, err := e.answers.Get(context.Background(), "sub-1")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), rec.Version)
}

func TestChangeNeedsFreshProof(t *testing.T) {
	e := newEnv(t, questions.Config{})
	e.enroll(t, "sub-1")
	en := enrollment("sub-1", newChoices)

	stale := e.tf.emailProof(t, "sub-1")
	e.clock.Advance(questions.DefaultProofMaxAge + time.Second)
	// A service with the same key whose clock runs an hour ahead issues a proof dated in
	// the future.
	ahead := fakeclock.New(e.clock.Now().Add(time.Hour))
	future := newSecondFactor(t, ahead, 7).emailProof(t, "sub-1")
	bad := []struct {
		name  string
		proof twofactor.Proof
	}{
		{"none", twofactor.Proof{}},
		{"stale", stale},
		{"future", future},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Change(context.Background(), en, tt.proof)
			require.ErrorIs(t, err, questions.ErrProofRequired)
		})
	}
	_, ok := e.events.Last(notify.SecurityQuestionsChanged)
	require.False(t, ok, "a refused change published an event")

	// Lock the subscriber first: a successful change lifts it.
	for range 3 {
		_, err := e.verify("sub-1", "poem-line", "Jabberwocky")
		require.NoError(t, err)
	}
	_, err := e.verify("sub-1", "poem-line", carrierSpoken)
	require.ErrorIs(t, err, questions.ErrLocked)

	p := e.tf.emailProof(t, "sub-1")
	e.clock.Advance(questions.DefaultProofMaxAge - time.Minute) // old, but not too old
	qs, err := e.svc.Change(context.Background(), en, p)
	require.NoError(t, err)
	assert.Equal(t, []string{"robot-name", "motto", "unshared-snack"}, []string{qs[0].ID, qs[1].ID, qs[2].ID})
	ev, ok := e.events.Last(notify.SecurityQuestionsChanged)
	require.True(t, ok)
	assert.Equal(t, questions.ProofEmail, ev.Attributes["proof_method"])
	rec, err := e.answers.Get(context.Background(), "sub-1")
	require.NoError(t, err)
	assert.Equal(t, uint64(2), rec.Version)

	res, err := e.verify("sub-1", "robot-name", "mr clanky")
	require.NoError(t, err)
	assert.Equal(t, questions.Match, res.Verdict)
	_, err = e.verify("sub-1", "poem-line", carrierSpoken)
	require.ErrorIs(t, err, questions.ErrQuestionNotChosen)

	_, err = e.svc.Change(context.Background(), enrollment("sub-9", newChoices), e.tf.emailProof(t, "sub-9"))
	require.ErrorIs(t, err, questions.ErrNotEnrolled)
}

func TestVerifyCarrierExample(t *testing.T) {
	e := newEnv(t, questions.Config{})
	e.enroll(t, "sub-1")

	res, err := e.verify("sub-1", "poem-line", carrierSpoken)
	require.NoError(t, err)
	assert.Equal(t, questions.Match, res.Verdict)
	assert.Equal(t, 3, res.FailuresLeft)
	ev, ok := e.events.Last(notify.SecurityQuestionsVerified)
	require.True(t, ok)
	assert.Equal(t, notify.Actor{Kind: notify.ActorAgent, ID: "agent-7"}, ev.Actor)
	assert.Equal(t, "phone", ev.Channel)
	assert.Equal(t, "poem-line", ev.Attributes["question_id"])
	assert.Equal(t, "match", ev.Attributes["result"])

	res, err = e.verify("sub-1", "poem-line", nearMiss)
	require.NoError(t, err)
	assert.NotEqual(t, questions.Match, res.Verdict)
	assert.Equal(t, 2, res.FailuresLeft)
	ev, ok = e.events.Last(notify.SecurityQuestionsVerificationFailed)
	require.True(t, ok)
	assert.Equal(t, "agent-7", ev.Actor.ID)
	assert.Equal(t, string(res.Verdict), ev.Attributes["result"])
	assert.Equal(t, "1", ev.Attributes["failures"])
	for _, ev := range e.events.Events() {
		for k, v := range ev.Attributes {
			assert.NotContains(t, strings.ToLower(v), "roads", "event attribute %s", k)
		}
	}

	// The custom question works the same way.
	qs, err := e.svc.Questions(context.Background(), "sub-1")
	require.NoError(t, err)
	res, err = e.verify("sub-1", qs[2].ID, "uh, the grumbler")
	require.NoError(t, err)
	assert.Equal(t, questions.Match, res.Verdict)
}

func TestVerifyLimits(t *testing.T) {
	e := newEnv(t, questions.Config{})
	e.enroll(t, "sub-1")

	// A match in between does not count, and does not reset.
	r, err := e.verify("sub-1", "worst-meal", "burnt toast")
	require.NoError(t, err)
	assert.Equal(t, 2, r.FailuresLeft)
	r, err = e.verify("sub-1", "worst-meal", "burnt spaghetti carbonara with scrambled eggs")
	require.NoError(t, err)
	require.Equal(t, questions.Match, r.Verdict)
	assert.Equal(t, 2, r.FailuresLeft)
	e.clock.Advance(time.Hour)
	r, err = e.verify("sub-1", "poem-line", "Hope is the thing with feathers")
	require.NoError(t, err)
	assert.Equal(t, 1, r.FailuresLeft)
	_, locked := e.events.Last(notify.SecurityQuestionsLocked)
	require.False(t, locked)

	r, err = e.verify("sub-1", "poem-line", "Jabberwocky")
	require.NoError(t, err)
	assert.Equal(t, 0, r.FailuresLeft)
	lock, ok := e.events.Last(notify.SecurityQuestionsLocked)
	require.True(t, ok, "third failure did not lock")
	assert.Equal(t, "3", lock.Attributes["failures"])
	sus, ok := e.events.Last(notify.SuspiciousActivity)
	require.True(t, ok, "third failure is not flagged as suspicious")
	assert.Equal(t, "agent-7", sus.Actor.ID)

	// Locked: even the right answer is refused, and the refusal is audited.
	r, err = e.verify("sub-1", "poem-line", carrierSpoken)
	require.ErrorIs(t, err, questions.ErrLocked)
	var le *questions.LockedError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 3, le.Failures)
	assert.Equal(t, questions.NoMatch, r.Verdict)
	ev, _ := e.events.Last(notify.SecurityQuestionsVerificationFailed)
	assert.Equal(t, "locked", ev.Attributes["result"])
	types := e.events.Types()
	assert.Equal(t, 1, count(types, notify.SecurityQuestionsLocked), "lock announced more than once: %v", types)

	// The first failure leaves the 24-hour window: one more attempt is allowed.
	e.clock.Advance(23*time.Hour - time.Second)
	_, err = e.verify("sub-1", "poem-line", carrierSpoken)
	require.ErrorIs(t, err, questions.ErrLocked)
	e.clock.Advance(time.Second)
	r, err = e.verify("sub-1", "poem-line", carrierSpoken)
	require.NoError(t, err)
	assert.Equal(t, questions.Match, r.Verdict)
}

func count(ts []notify.Type, t notify.Type) int {
	n := 0
	for _, x := range ts {
		if x == t {
			n++
		}
	}
	return n
}

func TestVerifyLimitConfigurable(t *testing.T) {
	e := newEnv(t, questions.Config{MaxFailures: 5, FailureWindow: time.Hour})
	e.enroll(t, "sub-1")
	for i := range 5 {
		r, err := e.verify("sub-1", "worst-meal", "cold soup")
		require.NoError(t, err)
		assert.Equal(t, 4-i, r.FailuresLeft)
	}
	_, err := e.verify("sub-1", "worst-meal", "cold soup")
	require.ErrorIs(t, err, questions.ErrLocked)
	e.clock.Advance(time.Hour)
	_, err = e.verify("sub-1", "worst-meal", "cold soup")
	require.NoError(t, err)
}

func TestVerifyConcurrentRespectsLimit(t *testing.T) {
	e := newEnv(t, questions.Config{})
	e.enroll(t, "sub-1")
	var wg sync.WaitGroup
	var mu sync.Mutex
	judged, locked := 0, 0
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.verify("sub-1", "poem-line", "Jabberwocky")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				judged++
			case errors.Is(err, questions.ErrLocked):
				locked++
			default:
				t.Errorf("verify: %v", err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 3, judged, "answers judged")
	assert.Equal(t, 29, locked)
}

// A database row copied to another subscriber, or replayed into a later version, does
// not verify: the associated data binds it.
func TestSealingBindsRecord(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, questions.Config{})
	e.enroll(t, "victim")
	victim, err := e.answers.Get(ctx, "victim")
	require.NoError(t, err)

	// The attacker enrolls, then overwrites their own row with the victim's sealed answers.
	_, err = e.svc.Enroll(ctx, enrollment("attacker", []questions.Choice{
		{QuestionID: "poem-line", Answer: "Hope is the thing with feathers"},
		{QuestionID: "worst-meal", Answer: "Cold beans on toast"},
		{QuestionID: "motto", Answer: "Measure twice, cut once"},
	}))
	require.NoError(t, err)
	stolen := victim
	stolen.Subscriber = "attacker"
	stolen.Version = 2
	require.NoError(t, e.answers.Put(ctx, stolen))
	r, err := e.verify("attacker", "poem-line", carrierSpoken)
	require.ErrorIs(t, err, questions.ErrUnavailable)
	require.ErrorIs(t, err, keyring.ErrOpen)
	assert.Equal(t, questions.NoMatch, r.Verdict)

	// Same subscriber, answers moved between questions.
	swapped := victim
	swapped.Version = 2
	swapped.Answers = append([]questions.SealedAnswer(nil), victim.Answers...)
	swapped.Answers[0].Sealed, swapped.Answers[1].Sealed = victim.Answers[1].Sealed, victim.Answers[0].Sealed
	require.NoError(t, e.answers.Put(ctx, swapped))
	r, err = e.verify("victim", "poem-line", "burnt spaghetti carbonara with scrambled eggs")
	require.ErrorIs(t, err, questions.ErrUnavailable)
	assert.Equal(t, questions.NoMatch, r.Verdict)

	// Old answers replayed under a newer version.
	replay := victim
	replay.Version = 3
	require.NoError(t, e.answers.Put(ctx, replay))
	r, err = e.verify("victim", "poem-line", carrierSpoken)
	require.ErrorIs(t, err, questions.ErrUnavailable)
	assert.Equal(t, questions.NoMatch, r.Verdict)
}

type failingKeyring struct{ keyring.Keyring }

func (failingKeyring) Open(context.Context, []byte, []byte) ([]byte, error) {
	return nil, errors.New("hsm: connection refused")
}

func TestKeyringFailureFailsClosed(t *testing.T) {
	ctx := context.Background()
	good := newEnv(t, questions.Config{})
	good.enroll(t, "sub-1")

	rec := &notify.Recorder{}
	svc, err := questions.New(questions.Config{Now: good.clock.Now}, good.answers, good.attempts, failingKeyring{good.keys}, rec, good.tf.svc)
	require.NoError(t, err)
	for range 5 {
		r, err := svc.Verify(ctx, questions.Verification{Subscriber: "sub-1", QuestionID: "poem-line", Spoken: carrierStored, AgentID: "agent-7", Channel: "chat"})
		require.ErrorIs(t, err, questions.ErrUnavailable)
		assert.Equal(t, questions.NoMatch, r.Verdict)
		assert.NotContains(t, err.Error(), "roads")
	}
	ev, ok := rec.Last(notify.SecurityQuestionsVerificationFailed)
	require.True(t, ok, "a failed verification was not audited")
	assert.Equal(t, "error", ev.Attributes["result"])
	assert.Equal(t, "0", ev.Attributes["failures"], "the audit event counts the refunded attempt as a failure")
	_, locked := rec.Last(notify.SecurityQuestionsLocked)
	assert.False(t, locked, "keyring outages locked the subscriber")

	// The outage did not use up the subscriber's attempts.
	r, err := good.verify("sub-1", "poem-line", carrierSpoken)
	require.NoError(t, err)
	assert.Equal(t, questions.Match, r.Verdict)
	assert.Equal(t, 3, r.FailuresLeft)
}

type failingAnswers struct{ questions.AnswerStore }

func (failingAnswers) Get(context.Context, string) (questions.Record, error) {
	return questions.Record{}, errors.New("db: timeout")
}

func TestStoreFailureFailsClosed(t *testing.T) {
	svc, err := questions.New(questions.Config{}, failingAnswers{memory.NewQuestionAnswers(memory.Options{})},
		memory.NewQuestionAttempts(memory.Options{}), newKeyring(t), &notify.Recorder{}, newSecondFactor(t, fakeclock.New(epoch), 7).svc)
	require.NoError(t, err)
	r, err := svc.Verify(context.Background(), questions.Verification{Subscriber: "sub-1", QuestionID: "poem-line", Spoken: carrierSpoken, AgentID: "a", Channel: "chat"})
	require.ErrorIs(t, err, questions.ErrUnavailable)
	assert.Equal(t, questions.NoMatch, r.Verdict)
	_, err = svc.Enroll(context.Background(), enrollment("sub-1", goodChoices()))
	require.ErrorIs(t, err, questions.ErrUnavailable)
}

// failingPut is an AnswerStore whose Put fails with err.
type failingPut struct {
	questions.AnswerStore
	err error
}

func (f failingPut) Put(context.Context, questions.Record) error { return f.err }

// An event announces what was stored: when the write fails, the subscriber hears
// nothing, whether the store is down or someone else changed the questions first.
func TestStoreWriteFailurePublishesNothing(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want error
	}{
		{"store down", errors.New("db: timeout"), questions.ErrUnavailable},
		{"conflict", fmt.Errorf("%w: version 2 is stored", questions.ErrConflict), questions.ErrConflict},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, questions.Config{})
			e.enroll(t, "sub-1")
			svc, err := questions.New(questions.Config{Now: e.clock.Now}, failingPut{e.answers, tt.err}, e.attempts, e.keys, e.events, e.tf.svc)
			require.NoError(t, err)
			before := len(e.events.Events())

			_, err = svc.Enroll(context.Background(), enrollment("sub-2", goodChoices()))
			require.ErrorIs(t, err, tt.want)
			_, err = svc.Change(context.Background(), enrollment("sub-1", newChoices), e.tf.emailProof(t, "sub-1"))
			require.ErrorIs(t, err, tt.want)
			assert.Len(t, e.events.Events(), before, "an event was published for a change that was not stored")
		})
	}
}

// Questions never change unheard: when the event cannot be published after the
// write, the write is undone (a first enrollment deleted, a change reverted) and the
// error says that nothing changed.
func TestUnannouncedWriteIsUndone(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, questions.Config{})
	e.events.Err = errors.New("outbox full")
	qs, err := e.svc.Enroll(ctx, enrollment("sub-1", goodChoices()))
	require.ErrorIs(t, err, questions.ErrUnavailable)
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.Nil(t, qs)
	_, err = e.svc.Questions(ctx, "sub-1")
	require.ErrorIs(t, err, questions.ErrNotEnrolled, "the enrollment was withdrawn")
	e.events.Err = nil
	original := e.enroll(t, "sub-1")

	// A change that cannot be announced leaves the previous answers, and the past
	// failures, as they were.
	r, err := e.verify("sub-1", "poem-line", "Jabberwocky")
	require.NoError(t, err)
	require.Equal(t, questions.NoMatch, r.Verdict)
	failuresLeft := r.FailuresLeft
	p := e.tf.emailProof(t, "sub-1")
	e.events.Err = errors.New("outbox full")
	qs, err = e.svc.Change(ctx, enrollment("sub-1", newChoices), p)
	require.ErrorIs(t, err, questions.ErrUnavailable)
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.Nil(t, qs)
	e.events.Err = nil
	got, err := e.svc.Questions(ctx, "sub-1")
	require.NoError(t, err)
	assert.Equal(t, original, got)
	_, err = e.verify("sub-1", "robot-name", "Mister Clanky")
	require.ErrorIs(t, err, questions.ErrQuestionNotChosen, "the new questions are not in force")
	r, err = e.verify("sub-1", "poem-line", "Jabberwocky")
	require.NoError(t, err)
	assert.Equal(t, failuresLeft-1, r.FailuresLeft, "past failures were not cleared")
	r, err = e.verify("sub-1", "poem-line", carrierSpoken)
	require.NoError(t, err)
	assert.Equal(t, questions.Match, r.Verdict, "the previous answer still opens: %+v", r)
	for _, ev := range e.events.Events() {
		assert.NotEqual(t, notify.SecurityQuestionsChanged, ev.Type)
	}

	// Announced, the same change goes through on top of the restored version.
	qs, err = e.svc.Change(ctx, enrollment("sub-1", newChoices), p)
	require.NoError(t, err)
	assert.Equal(t, "robot-name", qs[0].ID)
	r, err = e.verify("sub-1", "robot-name", "mister clanky")
	require.NoError(t, err)
	assert.Equal(t, questions.Match, r.Verdict)
}

// cancellingPublisher cancels the caller's context, then fails: a client that hung up
// while the outbox was slow.
type cancellingPublisher struct{ cancel context.CancelFunc }

func (c cancellingPublisher) Publish(context.Context, notify.Event) error {
	c.cancel()
	return context.Canceled
}

// The undo runs even when the caller's context is what failed.
func TestUndoOutlivesCancelledRequest(t *testing.T) {
	e := newEnv(t, questions.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := questions.New(questions.Config{Now: e.clock.Now}, e.answers, e.attempts, e.keys, cancellingPublisher{cancel}, e.tf.svc)
	require.NoError(t, err)
	_, err = svc.Enroll(ctx, enrollment("sub-1", goodChoices()))
	require.ErrorIs(t, err, questions.ErrUnavailable)
	assert.Contains(t, err.Error(), "nothing was changed")
	_, err = e.answers.Get(context.Background(), "sub-1")
	require.ErrorIs(t, err, questions.ErrNotFound)
}

// failingUndo is an AnswerStore that cannot delete or write a version above 1.
type failingUndo struct{ questions.AnswerStore }

func (failingUndo) Delete(context.Context, string, uint64) error { return errors.New("db: timeout") }

func (f failingUndo) Put(ctx context.Context, rec questions.Record) error {
	if rec.Version > 2 {
		return errors.New("db: timeout")
	}
	return f.AnswerStore.Put(ctx, rec)
}

// If the undo fails too, the error says the questions stand unannounced, and no
// questions are returned as if it had worked.
func TestFailedUndoIsReported(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, questions.Config{})
	svc, err := questions.New(questions.Config{Now: e.clock.Now}, failingUndo{e.answers}, e.attempts, e.keys, e.events, e.tf.svc)
	require.NoError(t, err)
	e.events.Err = errors.New("outbox full")
	qs, err := svc.Enroll(ctx, enrollment("sub-1", goodChoices()))
	require.ErrorIs(t, err, questions.ErrUnavailable)
	assert.Contains(t, err.Error(), "stand unannounced")
	assert.Nil(t, qs)

	e.events.Err = nil
	e.enroll(t, "sub-2")
	e.events.Err = errors.New("outbox full")
	qs, err = svc.Change(ctx, enrollment("sub-2", newChoices), e.tf.emailProof(t, "sub-2"))
	require.ErrorIs(t, err, questions.ErrUnavailable)
	assert.Contains(t, err.Error(), "stand unannounced")
	assert.Nil(t, qs)
}

func TestVerifyBadInput(t *testing.T) {
	e := newEnv(t, questions.Config{})
	e.enroll(t, "sub-1")
	ok := questions.Verification{Subscriber: "sub-1", QuestionID: "poem-line", Spoken: carrierSpoken, AgentID: "agent-7", Channel: "chat"}
	tests := []struct {
		name string
		edit func(*questions.Verification)
		want error
	}{
		{"no subscriber", func(v *questions.Verification) { v.Subscriber = "" }, questions.ErrInvalidRequest},
		{"no question", func(v *questions.Verification) { v.QuestionID = "" }, questions.ErrInvalidRequest},
		{"no agent", func(v *questions.Verification) { v.AgentID = "" }, questions.ErrInvalidRequest},
		{"no channel", func(v *questions.Verification) { v.Channel = "" }, questions.ErrInvalidRequest},
		{"empty answer", func(v *questions.Verification) { v.Spoken = "  " }, questions.ErrInvalidRequest},
		{"oversize answer", func(v *questions.Verification) { v.Spoken = strings.Repeat("x", 501) }, questions.ErrInvalidRequest},
		{"not enrolled", func(v *questions.Verification) { v.Subscriber = "sub-2" }, questions.ErrNotEnrolled},
		{"question not chosen", func(v *questions.Verification) { v.QuestionID = "motto" }, questions.ErrQuestionNotChosen},
		{"unknown question", func(v *questions.Verification) { v.QuestionID = "nope" }, questions.ErrQuestionNotChosen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := ok
			tt.edit(&v)
			r, err := e.svc.Verify(context.Background(), v)
			require.ErrorIs(t, err, tt.want)
			assert.Equal(t, questions.NoMatch, r.Verdict)
		})
	}
	// None of those counted as a failure.
	r, err := e.svc.Verify(context.Background(), ok)
	require.NoError(t, err)
	assert.Equal(t, questions.Match, r.Verdict)
	assert.Equal(t, 3, r.FailuresLeft)
	_, err = e.svc.Questions(context.Background(), "")
	require.ErrorIs(t, err, questions.ErrInvalidRequest)
}

// No method of Service hands out anything an answer could travel in: no strings, byte
// slices or stored records, only questions, verdicts and errors.
func TestNoMethodReturnsAnswers(t *testing.T) {
	allowed := map[reflect.Type]bool{
		reflect.TypeFor[[]questions.Question](): true,
		reflect.TypeFor[questions.Result]():     true,
		reflect.TypeFor[error]():                true,
	}
	typ := reflect.TypeFor[*questions.Service]()
	require.Positive(t, typ.NumMethod())
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		for j := range m.Type.NumOut() {
			if out := m.Type.Out(j); !allowed[out] {
				t.Errorf("Service.%s returns %v; only questions, results and errors may leave the service", m.Name, out)
			}
		}
	}
	for _, st := range []reflect.Type{reflect.TypeFor[questions.Question](), reflect.TypeFor[questions.Result]()} {
		for i := range st.NumField() {
			f := st.Field(i)
			if f.Type.Kind() == reflect.Slice || (f.Type.Kind() == reflect.String && f.Name != "ID" && f.Name != "Text" && f.Type != reflect.TypeFor[questions.Verdict]()) {
				t.Errorf("%s.%s (%v) could carry an answer", st.Name(), f.Name, f.Type)
			}
		}
	}
}

// A match that cannot be audited does not count: when the verification event cannot
// be published, the verdict is NoMatch and the error wraps ErrUnavailable.
func TestUnauditedMatchDoesNotCount(t *testing.T) {
	e := newEnv(t, questions.Config{})
	e.enroll(t, "sub-1")
	e.events.Err = errors.New("outbox full")
	r, err := e.verify("sub-1", "poem-line", carrierSpoken)
	require.ErrorIs(t, err, questions.ErrUnavailable)
	assert.Equal(t, questions.NoMatch, r.Verdict)
	e.events.Err = nil
	r, err = e.verify("sub-1", "poem-line", carrierSpoken)
	require.NoError(t, err)
	assert.Equal(t, questions.Match, r.Verdict, "the same answer matches once it can be audited")
}

// racingPublisher stores another version of the record, as a change made elsewhere
// would, then fails to publish.
type racingPublisher struct {
	answers *memory.QuestionAnswers
}

func (p racingPublisher) Publish(ctx context.Context, e notify.Event) error {
	rec, err := p.answers.Get(ctx, e.Subscriber)
	if err != nil {
		return err
	}
	rec.Version++
	if err := p.answers.Put(ctx, rec); err != nil {
		return err
	}
	return errors.New("outbox full")
}

// An undo never overwrites a change made meanwhile elsewhere: it reports the conflict.
func TestUndoYieldsToAChangeMadeMeanwhile(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, questions.Config{})
	e.enroll(t, "sub-1")
	svc, err := questions.New(questions.Config{Now: e.clock.Now}, e.answers, e.attempts, e.keys, racingPublisher{e.answers}, e.tf.svc)
	require.NoError(t, err)
	qs, err := svc.Change(ctx, enrollment("sub-1", newChoices), e.tf.emailProof(t, "sub-1"))
	require.ErrorIs(t, err, questions.ErrUnavailable)
	require.ErrorIs(t, err, questions.ErrConflict)
	assert.Contains(t, err.Error(), "made meanwhile elsewhere")
	assert.Nil(t, qs)
	rec, err := e.answers.Get(ctx, "sub-1")
	require.NoError(t, err)
	assert.Equal(t, uint64(3), rec.Version, "the other change stands")
}

// TestAttackPartialScoreLeak: a guesser on the phone (or an agent reading the audit
// trail) tries "pizza", then "burnt toast", then "burnt spaghetti". With a score in the
// answer he would see 0.00, 0.25, 0.50 and know which words to keep. Every wrong answer
// with the same verdict must look the same: the same Result (bar the failure count)
// and the same audit event, with no score in either.
func TestAttackPartialScoreLeak(t *testing.T) {
	e := newEnv(t, questions.Config{MaxFailures: 10})
	e.enroll(t, "sub-1")
	type seen struct {
		res   questions.Result
		attrs map[string]string
	}
	try := func(spoken string) seen {
		t.Helper()
		res, err := e.verify("sub-1", "worst-meal", spoken)
		require.NoError(t, err)
		ev, ok := e.events.Last(notify.SecurityQuestionsVerificationFailed)
		require.True(t, ok)
		assert.NotContains(t, ev.Attributes, "score", "a failure event carries no score")
		attrs := maps.Clone(ev.Attributes)
		delete(attrs, "failures")
		res.FailuresLeft = 0
		return seen{res, attrs}
	}
	// Guesses that cover none, a quarter and half of the stored answer's weight.
	none, quarter, half := try("pizza"), try("burnt toast"), try("burnt spaghetti")
	assert.Equal(t, questions.NoMatch, none.res.Verdict)
	assert.Equal(t, none, quarter, "a better wrong guess must not look different")
	assert.Equal(t, none, half, "a better wrong guess must not look different")
	closer := try("burnt spaghetti carbonara")
	assert.Equal(t, questions.Close, closer.res.Verdict)
	assert.Equal(t, questions.Result{Verdict: questions.Close}, closer.res)

	// Nothing that leaves the package for a failure mentions a score.
	out, err := json.Marshal(closer.res)
	require.NoError(t, err)
	assert.NotContains(t, strings.ToLower(string(out)), "score")
	assert.NotContains(t, fmt.Sprintf("%+v", closer.res), "0.")

	// The match event keeps the score, for tuning the thresholds on real matches.
	res, err := e.verify("sub-1", "worst-meal", "burnt spaghetti carbonara with scrambled eggs")
	require.NoError(t, err)
	assert.Equal(t, questions.Match, res.Verdict)
	ev, ok := e.events.Last(notify.SecurityQuestionsVerified)
	require.True(t, ok)
	assert.Equal(t, "1.00", ev.Attributes["score"])
}
