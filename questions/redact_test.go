package questions_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/carrierguard/carrierguard/internal/redacttest"
	"github.com/carrierguard/carrierguard/questions"
)

// A request that carries an answer never prints, logs or encodes it, whatever an
// integrator does with it.
func TestRequestsNeverShowAnswers(t *testing.T) {
	const secret = "Glimmerous Snorkelwhistle"
	en := questions.Enrollment{Subscriber: "sub-1", Channel: "app", Choices: []questions.Choice{
		{QuestionID: "invented-word", Answer: secret},
		{Custom: "What did we call the broken lawnmower?", Answer: secret},
		{QuestionID: "motto", Answer: secret},
	}, Facts: questions.Facts{Name: "Ada Lovelace"}}
	ver := questions.Verification{Subscriber: "sub-1", QuestionID: "invented-word", Spoken: secret, AgentID: "agent-7", Channel: "phone"}

	for name, v := range map[string]any{
		"enrollment": en, "*enrollment": &en, "choice": en.Choices[0], "choices": en.Choices,
		"verification": ver, "*verification": &ver,
	} {
		out := redacttest.Renderings(t, v)
		for _, s := range out {
			for _, w := range []string{"Glimmerous", "glimmerous", "Snorkel", "476c696d", "476C696D"} { // hex of "Glim"
				assert.NotContains(t, s, w, "%s leaks the answer: %s", name, s)
			}
		}
		assert.True(t, strings.Contains(strings.Join(out, ""), "invented-word"), "%s: other fields still show", name)
	}
	assert.NotContains(t, fmt.Sprintf("%+v", en), "Lovelace", "personal facts are not printed")
}
