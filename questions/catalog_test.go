package questions

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestCatalogIntegrity(t *testing.T) {
	cat := Catalog()
	if len(cat) < 24 {
		t.Fatalf("catalog has %d questions, want at least 24", len(cat))
	}
	idPattern := regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)
	ids := map[string]bool{}
	texts := map[string]bool{}
	for _, q := range cat {
		if !idPattern.MatchString(q.ID) || strings.HasPrefix(q.ID, "custom") {
			t.Errorf("ID %q: want lower-case words joined by hyphens, not starting with custom", q.ID)
		}
		if ids[q.ID] {
			t.Errorf("duplicate ID %q", q.ID)
		}
		ids[q.ID] = true
		norm := normalize(q.Text)
		if texts[norm] {
			t.Errorf("duplicate question text %q", q.Text)
		}
		texts[norm] = true
		if !strings.HasSuffix(q.Text, "?") || len(q.Text) < MinCustomQuestionLen || len(q.Text) > MaxCustomQuestionLen {
			t.Errorf("%s: text %q should be a question of %d-%d characters", q.ID, q.Text, MinCustomQuestionLen, MaxCustomQuestionLen)
		}
		if q.Custom {
			t.Errorf("%s: catalog question marked custom", q.ID)
		}
		if topic := biographicalTopic(q.Text); topic != "" {
			t.Errorf("%s: asks about %q, a readily available biographical fact", q.ID, topic)
		}
		if topic := biographicalTopic(strings.ReplaceAll(q.ID, "-", " ")); topic != "" {
			t.Errorf("%s: ID names %q, a readily available biographical fact", q.ID, topic)
		}
		if got, ok := Lookup(q.ID); !ok || got != q {
			t.Errorf("Lookup(%q) = %+v, %v", q.ID, got, ok)
		}
	}
	if _, ok := Lookup("mothers-maiden-name"); ok {
		t.Error("Lookup found a question that is not in the catalog")
	}
	// Catalog returns a copy.
	cat[0].Text = "changed"
	if Catalog()[0].Text == "changed" {
		t.Error("Catalog returned its internal slice")
	}
}

// The banned-topic check itself must catch the classic questions other services ask.
func TestBiographicalTopics(t *testing.T) {
	banned := []string{
		"What is your mother's maiden name?",
		"In what city were you born?",
		"What was the name of your first school?",
		"What street did you grow up on?",
		"What was the name of your first pet?",
		"What was the make of your first car?",
		"What is your father's middle name?",
		"Where did you go to high school?",
		"What is your date of birth?",
		"What is your ZIP code?",
		"What was your childhood best friend's name?",
		"Where were you married?",
		"WHAT TOWN WAS YOUR MOTHER’S BIRTHPLACE",
	}
	for _, q := range banned {
		if biographicalTopic(q) == "" {
			t.Errorf("%q not recognised as biographical", q)
		}
	}
	for _, q := range []string{"What would you name a robot butler?", "What did we call the broken lawnmower?", "Which pastry do you bake at midnight?"} {
		if topic := biographicalTopic(q); topic != "" {
			t.Errorf("%q wrongly flagged for %q", q, topic)
		}
	}
}

func TestCheckCustomQuestion(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want string
	}{
		{"  What did we call the broken lawnmower?  ", true, "What did we call the broken lawnmower?"},
		{"Ten chars?", true, "Ten chars?"},
		{"Nine chr?", false, "too short"},
		{strings.Repeat("a", 200), true, strings.Repeat("a", 200)},
		{strings.Repeat("a", 201), false, "too long"},
		{strings.Repeat("é", 200), true, strings.Repeat("é", 200)},
		{"What is\tthe answer?", false, "control character"},
		{"What is your mother's maiden name?", false, "maiden"},
		{"Which school did you attend?", false, "school"},
		{"bad \xff utf-8 question", false, "UTF-8"},
	}
	for _, tt := range tests {
		got, err := checkCustomQuestion(tt.in)
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("checkCustomQuestion(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, ErrCustomQuestion) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("checkCustomQuestion(%q) error = %v, want ErrCustomQuestion mentioning %q", tt.in, err, tt.want)
		}
	}
}
