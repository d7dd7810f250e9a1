package questions

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Question is a security question as the subscriber sees it. It never carries an answer.
type Question struct {
	// ID is stable across releases and safe to store: catalog IDs look like
	// "poem-line"; custom questions get "custom-" followed by random hex.
	ID string
	// Text is the question as shown to the subscriber and read out by an agent.
	Text string
	// Custom reports whether the subscriber wrote the question.
	Custom bool
}

// Custom question length limits, in characters.
const (
	MinCustomQuestionLen = 10
	MaxCustomQuestionLen = 200
)

// catalog is the built-in list. IDs are stable: never rename or reuse one, only add.
// The questions ask for memories, tastes and inventions that are not on a driving
// licence, a social profile or a credit report, and few other services ask them, so an
// answer learned elsewhere is unlikely to fit here.
var catalog = []Question{
	{ID: "poem-line", Text: "What is your favorite line from a poem?"},
	{ID: "stuck-lyric", Text: "Which song lyric gets stuck in your head more than any other?"},
	{ID: "worst-meal", Text: "What is the worst dish you have ever cooked?"},
	{ID: "imaginary-pet", Text: "If you could keep any imaginary creature as a pet, what would it be?"},
	{ID: "useless-talent", Text: "What useless talent are you secretly proud of?"},
	{ID: "harmless-fear", Text: "What harmless thing frightened you when you were little?"},
	{ID: "fictional-dinner", Text: "Which fictional character would you invite to dinner?"},
	{ID: "odd-food-combo", Text: "What odd food combination do you enjoy?"},
	{ID: "game-house-rule", Text: "What house rule do you add to a board or card game?"},
	{ID: "quoted-film-line", Text: "Which film line do you quote more often than you should?"},
	{ID: "strangest-loss", Text: "What is the strangest thing you have ever lost?"},
	{ID: "secret-ingredient", Text: "Which ingredient do you add to a recipe that nobody expects?"},
	{ID: "reread-book", Text: "Which book have you reread more than any other?"},
	{ID: "invented-word", Text: "What word have you made up, or wish existed?"},
	{ID: "named-object", Text: "What name have you given to a thing you own, such as a plant, car or gadget?"},
	{ID: "history-day", Text: "If you could watch one day in history, which would it be?"},
	{ID: "personal-mascot", Text: "Which animal would be your personal mascot?"},
	{ID: "motto", Text: "What saying do you live by?"},
	{ID: "odd-collection", Text: "What unusual thing have you collected?"},
	{ID: "household-ritual", Text: "What small household ritual do visitors find odd?"},
	{ID: "favorite-joke", Text: "What joke always makes you laugh?"},
	{ID: "band-name", Text: "If you started a band, what would you call it?"},
	{ID: "alien-question", Text: "What would you ask an alien first?"},
	{ID: "museum-exhibit", Text: "If you ran a museum, what would its first exhibit be?"},
	{ID: "unshared-snack", Text: "Which snack would you never share?"},
	{ID: "robot-name", Text: "What would you name a robot butler?"},
	{ID: "pointless-argument", Text: "What pointless argument do you always win?"},
	{ID: "dream-invention", Text: "What would you invent if money were no object?"},
}

// Catalog returns the built-in questions in display order. The slice is a copy.
func Catalog() []Question { return slices.Clone(catalog) }

// Lookup returns the catalog question with the given ID.
func Lookup(id string) (Question, bool) {
	for _, q := range catalog {
		if q.ID == id {
			return q, true
		}
	}
	return Question{}, false
}

// biographicalTopics are words and phrases that mark a question about readily available
// biographical or account facts, which FCC rules (47 CFR 64.2010) forbid as
// authentication. The catalog is tested against this list and custom questions are
// checked with it. Matching is on whole words of the lower-cased text.
var biographicalTopics = []string{
	"maiden", "mother's", "father's", "parents", "born", "birth", "birthplace", "birthday",
	"hometown", "grew up", "street", "road", "address", "zip", "postcode", "postal",
	"school", "college", "university", "graduate", "graduated", "teacher", "mascot of your school",
	"city", "town", "state", "county", "country",
	"first pet", "pet's name", "first car", "first job", "employer", "boss",
	"spouse", "husband", "wife", "married", "wedding", "anniversary", "best friend",
	"phone", "email", "e-mail", "social security", "ssn", "licence", "license", "passport",
	"account number", "pin", "password", "bank", "middle name", "last name", "surname",
	"first name", "nickname", "sibling", "brother", "sister", "children", "child's", "son", "daughter",
	"age", "year", "date",
}

// biographicalTopic returns the first banned topic that text mentions, or "".
func biographicalTopic(text string) string {
	text = strings.ReplaceAll(text, "’", "'")
	words := " " + strings.Join(strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '-'
	}), " ") + " "
	bare := strings.ReplaceAll(words, "'s ", " ") // "friend's" also reads as "friend"
	for _, t := range biographicalTopics {
		if strings.Contains(words, " "+t+" ") || strings.Contains(bare, " "+t+" ") {
			return t
		}
	}
	return ""
}

// checkCustomQuestion validates a subscriber-written question and returns it trimmed.
func checkCustomQuestion(text string) (string, error) {
	text = strings.TrimSpace(text)
	if !utf8.ValidString(text) {
		return "", fmt.Errorf("%w: it is not valid UTF-8", ErrCustomQuestion)
	}
	n := utf8.RuneCountInString(text)
	switch {
	case n < MinCustomQuestionLen:
		return "", fmt.Errorf("%w: %d characters is too short; write at least %d", ErrCustomQuestion, n, MinCustomQuestionLen)
	case n > MaxCustomQuestionLen:
		return "", fmt.Errorf("%w: %d characters is too long; keep it to %d", ErrCustomQuestion, n, MaxCustomQuestionLen)
	}
	for _, r := range text {
		if unicode.IsControl(r) {
			return "", fmt.Errorf("%w: it contains a control character such as a line break", ErrCustomQuestion)
		}
	}
	if t := biographicalTopic(text); t != "" {
		return "", fmt.Errorf("%w: it asks about %q, a readily available personal fact that must not be used to authenticate; ask about a memory or a taste instead", ErrCustomQuestion, t)
	}
	return text, nil
}
