package main

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/questions"
	"github.com/carrierguard/carrierguard/store/memory"
)

var threeQuestions = map[string]any{"choices": []map[string]any{
	{"question_id": "poem-line", "answer": "Two roads diverged in a wood and I took the one less traveled by"},
	{"question_id": "worst-meal", "answer": "A charcoal lasagne with raisins"},
	{"custom": "What did we call the broken lawnmower?", "answer": "The Grumbler"},
}}

func TestQuestions(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/v1/questions/catalog", nil)
	require.Equal(t, 200, r.Status)
	assert.Contains(t, r.Raw, "poem-line")

	tok := h.signup("ada@example.com", "+14155550102")
	assert.Equal(t, 404, h.do("GET", "/v1/questions", nil, bearerH(tok)).Status)
	// Rules: exactly three; an answer that is a personal fact is refused, by choice.
	r = h.do("PUT", "/v1/questions", map[string]any{"choices": []map[string]any{{"question_id": "poem-line", "answer": "x"}}}, bearerH(tok))
	assert.Equal(t, codeInvalidField, r.str("code"))
	r = h.do("PUT", "/v1/questions", map[string]any{"choices": []map[string]any{
		{"question_id": "poem-line", "answer": "Ada Lovelace"},
		{"question_id": "worst-meal", "answer": "A charcoal lasagne with raisins"},
		{"question_id": "imaginary-pet", "answer": "A small green dragon called Pip"},
	}}, bearerH(tok))
	assert.Equal(t, http.StatusUnprocessableEntity, r.Status, r.Raw)
	assert.Equal(t, "questions_rejected", r.str("code"))

	r = h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.NotContains(t, r.Raw, "Grumbler")
	r = h.do("GET", "/v1/questions", nil, bearerH(tok))
	require.Equal(t, 200, r.Status)
	assert.Contains(t, r.Raw, "broken lawnmower")
	assert.NotContains(t, r.Raw, "Grumbler")
	st := h.do("GET", "/v1/status", nil, bearerH(tok))
	assert.EqualValues(t, 75, st.Body["percent"], st.Raw)

	// Changing them needs a fresh second factor.
	r = h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
	assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
	assert.Equal(t, "step_up_required", r.str("code"))
}

func TestAgentVerifiesQuestions(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	require.Equal(t, 200, h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok)).Status)
	r := h.agent("POST", "/agent/v1/cases", map[string]any{"phone": "+14155550102", "channel": "phone"})
	require.Equal(t, http.StatusCreated, r.Status)
	id := r.str("case_id")
	assert.Contains(t, r.Raw, "questions_to_ask")
	assert.NotContains(t, r.Raw, "Grumbler")

	r = h.agent("POST", "/agent/v1/cases/"+id+"/verify/questions", map[string]any{"question_id": "poem-line", "spoken": "no idea, sorry"})
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "no_match", r.str("verdict"))
	r = h.agent("POST", "/agent/v1/cases/"+id+"/verify/questions", map[string]any{"question_id": "nope", "spoken": "hello"})
	assert.Equal(t, 400, r.Status, r.Raw)
	r = h.agent("POST", "/agent/v1/cases/"+id+"/verify/questions", map[string]any{"question_id": "poem-line",
		"spoken": "Two roads diverged but I took the one less traveled by"})
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "match", r.str("verdict"))

	// Questions alone are supplemental: on the phone, account details still need a
	// trusted-contact code, and a SIM swap is denied whatever the evidence.
	r = h.agent("GET", "/agent/v1/cases/"+id, nil)
	assert.Contains(t, r.Raw, `"verified_with":["security_questions"]`)
	assert.Equal(t, false, r.Body["verified"])
	r = h.agent("POST", "/agent/v1/cases/"+id+"/sim-swap", map[string]any{})
	assert.Equal(t, "denied", r.str("status"), r.Raw)
	assert.Contains(t, r.Raw, "sim_change_channel")
}

func TestRiskFromClient(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	h.learnSignin("ada@example.com", harnessClient) // a sign-in with a second factor
	r := h.do("POST", "/v1/sim-swap", map[string]any{}, bearerH(tok))
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Contains(t, r.Raw, `"young_account"`)
	assert.NotContains(t, r.Raw, `"new_device"`)
	// Sign in from a never-seen device and address: the risk assessment says so.
	r = h.do("POST", "/v1/signin", map[string]any{"email": "ada@example.com", "password": testPassword},
		deviceHeader+": stranger-phone", "User-Agent: curl/8")
	require.Equal(t, 200, r.Status)
	assert.Contains(t, r.Raw, `"new_device"`)
}

// refuseSetEvents is a Publisher whose outbox refuses the questions events.
type refuseSetEvents struct{ notify.Publisher }

func (p refuseSetEvents) Publish(ctx context.Context, e notify.Event) error {
	if e.Type == notify.SecurityQuestionsSet || e.Type == notify.SecurityQuestionsChanged {
		return errors.New("outbox unavailable")
	}
	return p.Publisher.Publish(ctx, e)
}

// Questions that cannot be announced are not set: the library undoes the write, and
// the subscriber is told to try again (503), not that it worked.
func TestQuestionsNotAnnouncedAreNotSet(t *testing.T) {
	h := newHarness(t)
	tok := h.signup("ada@example.com", "+14155550102")
	secret, err := keyring.GenerateKey()
	require.NoError(t, err)
	kr, err := keyring.NewLocal(keyring.Config{Keys: []keyring.Key{{ID: 1, Secret: secret}}, Primary: 1})
	require.NoError(t, err)
	mo := memory.Options{Now: h.clock.Now}
	h.srv.questions, err = questions.New(questions.Config{Now: h.clock.Now}, memory.NewQuestionAnswers(mo),
		memory.NewQuestionAttempts(mo), kr, refuseSetEvents{h.srv.pub}, h.srv.tf)
	require.NoError(t, err)

	r := h.do("PUT", "/v1/questions", threeQuestions, bearerH(tok))
	require.Equal(t, http.StatusServiceUnavailable, r.Status, r.Raw)
	assert.Equal(t, codeUnavailable, r.str("code"), r.Raw)
	r = h.do("GET", "/v1/questions", nil, bearerH(tok))
	assert.Equal(t, http.StatusNotFound, r.Status, r.Raw)
}
