package questions

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// Enrollment limits.
const (
	// QuestionsPerSubscriber is how many questions a subscriber chooses.
	QuestionsPerSubscriber = 3
	// MinAnswerLen is the fewest letters or digits an answer may have.
	MinAnswerLen = 3
	// MaxAnswerLen is the most characters an answer (or a spoken answer) may have.
	MaxAnswerLen = 500
)

// Choice is one question the subscriber picked and their answer to it.
type Choice struct {
	// QuestionID is a catalog question's ID. Leave it empty to write your own question
	// in Custom.
	QuestionID string
	// Custom is the subscriber's own question (10 to 200 characters) when QuestionID is
	// empty. It must not ask about a readily available personal fact.
	Custom string
	// Answer is the subscriber's answer. It is sealed at once and never shown again.
	Answer string
}

// Facts are the subscriber's readily available personal facts. FCC rules forbid
// authenticating with them, so no answer may be one of them. Empty fields are skipped.
type Facts struct {
	Name        string
	Email       string
	Phone       string
	ZIP         string
	DateOfBirth time.Time
}

// Enrollment is a subscriber setting or changing their security questions.
type Enrollment struct {
	Subscriber string
	// Channel is where the subscriber did it, such as "app" or "web".
	Channel string
	// Choices are exactly QuestionsPerSubscriber questions with answers.
	Choices []Choice
	// Facts are checked against every answer.
	Facts Facts
}

// prepared is a validated choice, ready to seal.
type prepared struct {
	q      Question
	answer string
}

// commonAnswers are single words too easy to guess to be an answer on their own.
var commonAnswers = map[string]bool{
	"yes": true, "no": true, "none": true, "nothing": true, "idk": true, "dunno": true,
	"unknown": true, "na": true, "nil": true, "null": true, "maybe": true, "ok": true,
	"test": true, "testing": true, "password": true, "pass": true, "answer": true,
	"secret": true, "same": true, "whatever": true, "nope": true, "yep": true, "yeah": true,
	"asdf": true, "qwerty": true, "abc": true, "abcd": true, "xyz": true, "blah": true,
	"hello": true, "hi": true, "dog": true, "cat": true, "god": true, "love": true,
	"money": true, "mother": true, "father": true, "family": true, "food": true,
	"pizza": true, "music": true, "red": true, "blue": true, "green": true, "black": true,
	"123": true, "1234": true, "12345": true, "123456": true, "0": true, "1": true,
}

// validateEnrollment checks every rule and returns the choices ready to seal. rand
// supplies custom question IDs.
func (s *Service) validateEnrollment(e Enrollment, rand io.Reader) ([]prepared, error) {
	if e.Subscriber == "" {
		return nil, fmt.Errorf("%w: Subscriber is empty", ErrInvalidRequest)
	}
	if e.Channel == "" {
		return nil, fmt.Errorf("%w: Channel is empty (say where the subscriber made the change, such as \"app\")", ErrInvalidRequest)
	}
	switch n := len(e.Choices); {
	case n < QuestionsPerSubscriber:
		return nil, fmt.Errorf("%w: %d given, choose exactly %d", ErrTooFewQuestions, n, QuestionsPerSubscriber)
	case n > QuestionsPerSubscriber:
		return nil, fmt.Errorf("%w: %d given, choose exactly %d", ErrTooManyQuestions, n, QuestionsPerSubscriber)
	}
	facts := newFactSet(e.Facts)
	out := make([]prepared, 0, len(e.Choices))
	seenQ := make(map[string]int, len(e.Choices))
	normAnswers := make([]string, 0, len(e.Choices))
	for i, c := range e.Choices {
		fail := func(err error, detail string) error {
			return &EnrollmentError{Index: i, QuestionID: c.QuestionID, Err: err, detail: detail}
		}
		var q Question
		switch {
		case c.QuestionID != "" && c.Custom != "":
			return nil, fail(ErrCustomQuestion, "set QuestionID or Custom, not both")
		case c.QuestionID != "":
			var ok bool
			if q, ok = Lookup(c.QuestionID); !ok {
				return nil, fail(ErrUnknownQuestion, "pick an ID from Catalog()")
			}
		default:
			text, err := checkCustomQuestion(c.Custom)
			if err != nil {
				return nil, &EnrollmentError{Index: i, Err: err}
			}
			id, err := customID(rand)
			if err != nil {
				return nil, fmt.Errorf("%w: reading randomness: %v", ErrUnavailable, err)
			}
			q = Question{ID: id, Text: text, Custom: true}
		}
		key := normalize(q.Text)
		if j, dup := seenQ[key]; dup {
			return nil, fail(ErrDuplicateQuestion, fmt.Sprintf("it is the same as choice %d", j+1))
		}
		seenQ[key] = i

		answer := strings.TrimSpace(c.Answer)
		switch {
		case answer == "":
			return nil, fail(ErrAnswerEmpty, "")
		case !utf8.ValidString(answer):
			return nil, fail(ErrInvalidEnrollment, "the answer is not valid UTF-8")
		case utf8.RuneCountInString(answer) > MaxAnswerLen:
			return nil, fail(ErrAnswerTooLong, fmt.Sprintf("at most %d characters", MaxAnswerLen))
		}
		toks := normalizeTokens(answer)
		letters := 0
		for _, t := range toks {
			letters += utf8.RuneCountInString(t)
		}
		if letters < MinAnswerLen {
			return nil, fail(ErrAnswerTooShort, fmt.Sprintf("use at least %d letters or digits", MinAnswerLen))
		}
		if len(toks) == 1 && (commonAnswers[toks[0]] || english.IsStopWord(toks[0]) || extraStopwords[toks[0]] || repeatedRune(toks[0])) {
			return nil, fail(ErrAnswerTooCommon, "anyone could guess it; answer with something only you would say")
		}
		if containedIn(toks, normalizeTokens(q.Text)) {
			return nil, fail(ErrAnswerInQuestion, "the answer only repeats words of the question")
		}
		if what := facts.match(toks); what != "" {
			return nil, fail(ErrAnswerPersonalFact, "it is the subscriber's "+what+", which others can find out")
		}
		norm := strings.Join(toks, " ")
		for j, prev := range normAnswers {
			if norm == prev || verdictFor(scoreNormalized(prev, norm), s.cfg.MatchThreshold, s.cfg.CloseThreshold) == Match ||
				verdictFor(scoreNormalized(norm, prev), s.cfg.MatchThreshold, s.cfg.CloseThreshold) == Match {
				return nil, fail(ErrAnswerRepeated, fmt.Sprintf("it is the same as the answer to choice %d; use a different answer for each question", j+1))
			}
		}
		normAnswers = append(normAnswers, norm)
		out = append(out, prepared{q: q, answer: answer})
	}
	return out, nil
}

// scoreNormalized scores two already normalised answers.
func scoreNormalized(stored, spoken string) float64 {
	var b1, b2 [32]term
	return scoreTerms(prepare(b1[:0], strings.Fields(stored)), prepare(b2[:0], strings.Fields(spoken)))
}

func customID(rand io.Reader) (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", err
	}
	return "custom-" + hex.EncodeToString(b[:]), nil
}

func repeatedRune(s string) bool {
	r, size := utf8.DecodeRuneInString(s)
	return strings.Count(s, string(r))*size == len(s)
}

// containedIn reports whether every token of a is among the tokens of b.
func containedIn(a, b []string) bool {
	if len(a) == 0 {
		return false
	}
	set := make(map[string]bool, len(b))
	for _, t := range b {
		set[t] = true
	}
	for _, t := range a {
		if !set[t] {
			return false
		}
	}
	return true
}

// factSet holds the normalised forms of a subscriber's personal facts.
type factSet struct {
	nameTokens map[string]bool
	compact    map[string]string // compact form -> which fact
	phone      string            // digits only
}

func compact(s string) string { return strings.Join(normalizeTokens(s), "") }

func newFactSet(f Facts) factSet {
	fs := factSet{nameTokens: map[string]bool{}, compact: map[string]string{}}
	add := func(v, what string) {
		if c := compact(v); len(c) >= MinAnswerLen {
			fs.compact[c] = what
		}
	}
	for _, t := range normalizeTokens(f.Name) {
		if utf8.RuneCountInString(t) >= 2 {
			fs.nameTokens[t] = true
		}
	}
	add(f.Name, "name")
	if f.Email != "" {
		add(f.Email, "email address")
		if at := strings.LastIndexByte(f.Email, '@'); at > 0 {
			add(f.Email[:at], "email address")
		}
	}
	for _, r := range f.Phone {
		if r >= '0' && r <= '9' {
			fs.phone += string(r)
		}
	}
	if f.ZIP != "" {
		add(f.ZIP, "ZIP code")
		if c := compact(f.ZIP); len(c) > 5 && isDigits(c[:5]) {
			add(c[:5], "ZIP code")
		}
	}
	if d := f.DateOfBirth; !d.IsZero() {
		for _, layout := range []string{
			"2006-01-02", "01/02/2006", "02/01/2006", "1/2/2006", "2/1/2006", "01022006",
			"02012006", "20060102", "January 2 2006", "2 January 2006", "Jan 2 2006",
			"2 Jan 2006", "January 2", "2 January", "Jan 2", "2 Jan", "2006", "01/02/06",
			"02/01/06", "010206", "020106",
		} {
			add(d.Format(layout), "date of birth")
		}
	}
	return fs
}

// match returns which fact the answer is, or "".
func (fs factSet) match(toks []string) string {
	c := strings.Join(toks, "")
	if what, ok := fs.compact[c]; ok {
		return what
	}
	if len(fs.nameTokens) > 0 {
		all := true
		for _, t := range toks {
			if !fs.nameTokens[t] {
				all = false
				break
			}
		}
		if all {
			return "name"
		}
	}
	if len(fs.phone) >= 4 && len(c) >= 4 && isDigits(c) && strings.Contains(fs.phone, c) {
		return "phone number"
	}
	return ""
}
