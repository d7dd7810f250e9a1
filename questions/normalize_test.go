package questions

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  Hope is the THING with feathers!! ", "hope is the thing with feathers"},
		{"A dragon named Señor Crème", "a dragon named senor creme"},
		{"ＦＵＬＬＷＩＤＴＨ Straße", "fullwidth strasse"},
		{"Ǆemal’s café", "dzemals cafe"},
		{"Salt & vinegar", "salt and vinegar"},
		{"don't, can't, cannot", "dont cant can not"},
		{"um, uh... the er vacuum cleaner, hmm", "the vacuum cleaner"},
		{"Seven hundred rubber ducks", "700 rubber ducks"},
		{"twenty-one", "21"},
		{"one hundred and five", "105"},
		{"a thousand and one nights", "1001 nights"},
		{"twelve thousand three hundred forty five", "12345"},
		{"nineteen sixty nine", "1969"},
		{"twenty twenty", "2020"},
		{"nine eleven", "9 11"},
		{"seven seven", "7 7"},
		{"1,000 ducks", "1000 ducks"},
		{"the 3rd time, the third time", "the 3 time the 3 time"},
		{"Jeeves3000", "jeeves 3000"},
		{"Mr Clanky & Mrs Clanky", "mister clanky and missus clanky"},
		{"I'm gonna", "im going to"},
		{"hundred and cats", "100 and cats"},
		{"½", "1 2"},
		{"\xff\xfe broken", "broken"},
		// Cherokee: case folding maps each case to the other; both must land on one form.
		{"ᏣᎳᎩ", "ꮳꮃꭹ"},
		{"ꮳꮃꭹ", "ꮳꮃꭹ"},
	}
	for _, tt := range tests {
		if got := normalize(tt.in); got != tt.want {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeBounds(t *testing.T) {
	long := strings.Repeat("supercalifragilisticexpialidocious-and-then-some ", 200)
	toks := normalizeTokens(long)
	if len(toks) > maxTokens {
		t.Fatalf("%d tokens, want at most %d", len(toks), maxTokens)
	}
	for _, tok := range toks {
		if len(tok) > maxTokenBytes {
			t.Fatalf("token of %d bytes, want at most %d", len(tok), maxTokenBytes)
		}
	}
	if got := normalize(strings.Repeat("million ", 50)); got != strings.TrimSpace(strings.Repeat("1000000 ", 50)) {
		t.Fatalf("repeated scale words = %q", got)
	}
}

// TestFoldTextEveryRune checks that folding is idempotent for every code point on its
// own, which the fuzzer only samples: a letter with two canonical forms would make a
// correct answer fail to match itself once stored and compared again.
func TestFoldTextEveryRune(t *testing.T) {
	// One transformer for the whole walk: going through foldText's pool a million
	// times costs a minute under the race detector. ASCII takes foldText's own path.
	folder := newFolder()
	fold := func(s string) string {
		if len(s) == 1 {
			return foldText(s)
		}
		return foldWith(folder, s)
	}
	// Unassigned and private-use code points have no case mapping or decomposition, so
	// they pass through unchanged; walking only the assigned ones (the two-letter
	// general categories but Co and Cs) makes the walk seven times shorter.
	var points []rune
	for name, table := range unicode.Categories {
		if len(name) != 2 || name == "Co" || name == "Cs" {
			continue
		}
		for _, rg := range table.R16 {
			for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
				points = append(points, r)
			}
		}
		for _, rg := range table.R32 {
			for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
				points = append(points, r)
			}
		}
	}
	checked := len(points)
	bad := 0
	for _, r := range points {
		once := fold(string(r))
		if twice := fold(once); twice != once {
			if bad++; bad <= 10 {
				t.Errorf("foldText(%U %q) = %q, and again = %q", r, string(r), once, twice)
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d code points in all fold differently a second time", bad)
	}
	if checked < 100_000 {
		t.Fatalf("checked only %d assigned code points; the category filter is wrong", checked)
	}
}

// FuzzNormalize checks that the answer normaliser never panics, is idempotent, keeps to
// its bounds and returns valid UTF-8 made only of tokens separated by single spaces.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", "Two roads diverged in a wood and I – I took the one less traveled by",
		"Señor Crème brûlée", "nineteen sixty nine", "a hundred and one", "one million million million million",
		"1,000,000th", "İstanbul ǅ ß ﬁ ½ ①", "\xff\xfe", "don't you'll", "&&&", "uh um er",
		"twenty twenty twenty one", "a a hundred", "st 1 st", "ꭸ", "ᏣᎳᎩ", strings.Repeat("x", 3000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := normalize(s)
		if twice := normalize(once); twice != once {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, once, twice)
		}
		if !utf8.ValidString(once) {
			t.Fatalf("invalid UTF-8 output %q", once)
		}
		toks := strings.Split(once, " ")
		if once != "" {
			for _, tok := range toks {
				if tok == "" || len(tok) > maxTokenBytes {
					t.Fatalf("bad token %q in %q", tok, once)
				}
			}
		}
		if len(toks) > maxTokens || len(once) > maxTokens*(maxTokenBytes+1) {
			t.Fatalf("output too large: %d tokens, %d bytes", len(toks), len(once))
		}
		// Scoring never panics either, and a non-empty answer matches itself.
		sc := score(s, s)
		if sc < 0 || sc > 1 {
			t.Fatalf("score out of range: %v", sc)
		}
		if once != "" && sc < 0.99 {
			t.Fatalf("answer %q scores %.2f against itself", s, sc)
		}
	})
}

// splitReference is split as first written, one strings.Builder per token: FuzzSplit
// checks that the copy-free split cuts exactly the same tokens.
func splitReference(s string) []string {
	out := make([]string, 0, 16)
	var b strings.Builder
	kind := 0 // 0 none, 1 letters, 2 digits
	flush := func() {
		if b.Len() > 0 && len(out) < 2*maxTokens {
			out = append(out, truncate(b.String(), maxTokenBytes))
		}
		b.Reset()
		kind = 0
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r):
			if kind == 2 {
				flush()
			}
			kind = 1
			b.WriteRune(r)
		case unicode.IsDigit(r):
			if kind == 1 {
				flush()
			}
			kind = 2
			b.WriteRune(r)
		case unicode.Is(unicode.Mn, r):
			// a stray combining mark: ignore it without splitting the word
		case (r == '\'' || r == '’' || r == 'ʼ') && kind == 1 && unicode.IsLetter(nextRune(s, i)):
			// apostrophe inside a word
		case r == ',' && kind == 2 && unicode.IsDigit(nextRune(s, i)):
			// thousands separator
		case r == '&':
			flush()
			out = append(out, "and")
		default:
			flush()
		}
	}
	flush()
	return out
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"", "don't stop", "1,000,000th", "e\u0301te", "\u0301lone mark", "a&b", "3rd", "rock'n'roll",
		"ǅemal’s café", "x,1,2", "12,ab", "l'", "'tis", strings.Repeat("ab'", 200),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = foldText(strings.ToValidUTF8(s, " "))
		if got, want := split(s), splitReference(s); !slices.Equal(got, want) {
			t.Fatalf("split(%q) = %q, want %q", s, got, want)
		}
	})
}
