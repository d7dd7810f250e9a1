package questions

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

type labeledPair struct {
	line            int
	label, kind, id string
	stored, spoken  string
}

func loadPairs(t *testing.T) []labeledPair {
	t.Helper()
	f, err := os.Open("testdata/pairs.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labeledPair
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("pairs.tsv:%d: %d fields, want 5", n, len(f))
		}
		if f[0] != "match" && f[0] != "nomatch" {
			t.Fatalf("pairs.tsv:%d: label %q", n, f[0])
		}
		if want := map[string]string{"format": "match", "typo": "match", "paraphrase": "match", "nearmiss": "nomatch", "unrelated": "nomatch"}[f[1]]; want != f[0] {
			t.Fatalf("pairs.tsv:%d: kind %q with label %q", n, f[1], f[0])
		}
		if _, ok := Lookup(f[2]); !ok {
			t.Fatalf("pairs.tsv:%d: unknown question %q", n, f[2])
		}
		out = append(out, labeledPair{n, f[0], f[1], f[2], f[3], f[4]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLabeledPairs measures the matcher against the hand-labeled set: precision and
// recall of the Match verdict at the default thresholds.
func TestLabeledPairs(t *testing.T) {
	pairs := loadPairs(t)
	if len(pairs) < 60 {
		t.Fatalf("%d labeled pairs, want at least 60", len(pairs))
	}
	// The set stays varied: every kind of pair is well represented.
	kinds := map[string]int{}
	for _, p := range pairs {
		kinds[p.kind]++
	}
	for _, k := range []string{"format", "typo", "paraphrase", "nearmiss", "unrelated"} {
		if kinds[k] < 10 {
			t.Errorf("%d %s pairs, want at least 10", kinds[k], k)
		}
	}
	var tp, fp, fn, tn int
	for _, p := range pairs {
		s := score(p.stored, p.spoken)
		v := verdictFor(s, DefaultMatchThreshold, DefaultCloseThreshold)
		switch {
		case p.label == "match" && v == Match:
			tp++
		case p.label == "match":
			fn++
			t.Logf("missed  (line %d, %s, score %.2f, %s): %q / %q", p.line, p.kind, s, v, p.stored, p.spoken)
		case v == Match:
			fp++
			t.Logf("WRONG   (line %d, %s, score %.2f): %q / %q", p.line, p.kind, s, p.stored, p.spoken)
		default:
			tn++
		}
	}
	precision := float64(tp) / float64(max(tp+fp, 1))
	recall := float64(tp) / float64(max(tp+fn, 1))
	t.Logf("%d pairs: precision %.3f, recall %.3f (tp %d, fp %d, fn %d, tn %d)", len(pairs), precision, recall, tp, fp, fn, tn)
	if precision < 0.98 {
		t.Errorf("precision %.3f < 0.98", precision)
	}
	if recall < 0.90 {
		t.Errorf("recall %.3f < 0.90", recall)
	}
}

func TestCarrierExample(t *testing.T) {
	stored := "Two roads diverged in a wood and I – I took the one less traveled by, and that has made all the difference."
	spoken := "Two roads diverged but I took the one less traveled by. That has made all the difference."
	other := "Two roads diverged in a yellow wood, and sorry I could not travel both"
	if s := score(stored, spoken); verdictFor(s, DefaultMatchThreshold, DefaultCloseThreshold) != Match {
		t.Errorf("carrier's paraphrase scores %.2f, want a match", s)
	}
	if s := score(stored, other); verdictFor(s, DefaultMatchThreshold, DefaultCloseThreshold) == Match {
		t.Errorf("different line on the same theme scores %.2f, must not match", s)
	}
}

func TestScoreProperties(t *testing.T) {
	tests := []struct {
		name           string
		stored, spoken string
		want           Verdict
	}{
		{"identical", "Sir Reginald the cactus", "Sir Reginald the cactus", Match},
		{"word order", "Peanut butter and pickle sandwiches", "sandwiches of pickle and peanut butter", Match},
		{"digits for words", "Seven hundred rubber ducks", "700 rubber ducks", Match},
		{"different number", "Jeeves 3000", "Jeeves 2000", NoMatch},
		{"diacritics", "Crème brûlée", "creme brulee", Match},
		{"one typo", "Hermione Granger", "Hermoine Granger", Match},
		{"too many typos", "Glimmerous", "glamorous", NoMatch},
		{"short words need exact", "Rex", "Rax", NoMatch},
		{"empty spoken", "Rex", "", NoMatch},
		{"fillers only", "Rex", "um uh", NoMatch},
		{"function words only stored", "It is what it is", "it is what it is", Match},
		{"function words only, different", "It is what it is", "so be it", NoMatch},
		{"spray of guesses", "Sherlock Holmes", "Batman, Sherlock Holmes, Gandalf, Harry Potter or Darth Vader", NoMatch},
		{"one word of two", "Sherlock Holmes", "Sherlock", Close},
		{"two guesses at once", "Glimmerous", "glimmerous or glamorous", Close},
		{"answer with a little context", "Rex", "it was rex", Match},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := score(tt.stored, tt.spoken)
			if got := verdictFor(s, DefaultMatchThreshold, DefaultCloseThreshold); got != tt.want {
				t.Errorf("score(%q, %q) = %.2f (%s), want %s", tt.stored, tt.spoken, s, got, tt.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		max  int
		want int
	}{
		{"badger", "badger", 2, 0},
		{"badger", "bagder", 2, 1},
		{"laundry", "laundary", 2, 1},
		{"cinnamon", "cinammon", 2, 2},
		{"glimmerous", "glamorous", 2, 3},
		{"abc", "xyz", 1, 2},
		{"", "abc", 5, 3},
		{"señor", "senor", 2, 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b, tt.max); got != tt.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.max, got, tt.want)
		}
	}
}
