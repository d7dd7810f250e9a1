package questions

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// Verdict is the outcome of a verification, for the agent to act on.
type Verdict string

// Verdicts.
const (
	// Match: the spoken answer carries the content of the stored one.
	Match Verdict = "match"
	// Close: much of the content is there but not enough; ask another question. It
	// counts as a failure, because a verdict that says "warm" is a hint to a guesser.
	Close Verdict = "close"
	// NoMatch: a different answer, or verification could not be done (fail closed).
	NoMatch Verdict = "no_match"
)

// Default verdict thresholds on the 0..1 score.
const (
	DefaultMatchThreshold = 0.82
	DefaultCloseThreshold = 0.6
)

// Token weights. Informative words decide a match; function words and fillers do not.
const (
	weightLight       = 0.35 // frequent content words: "thing", "made", "called"
	weightShortWord   = 0.5  // one or two letters
	weightThreeLetter = 0.8
	weightWord        = 1.0
	weightSmallNumber = 0.6 // a single digit: "one" is often a pronoun ("the one I ...")
	weightNumber      = 1.0
)

// Similarity of two tokens that are not identical.
const (
	simSameStem = 0.95 // "sleeps" / "sleeping"
	simPerEdit  = 0.1  // subtracted per typo
)

// Coverage of the stored answer counts twice as much as coverage of the spoken one (an
// F-measure with beta squared = 2): a subscriber may add words, but must say what they
// stored, and two guesses in one breath ("Rex or Max") do not match.
const beta2 = 2.0

// extraStopwords complement the Snowball English stop list with apostrophe-less
// contractions (the normaliser drops apostrophes) and the hedges people use when they
// answer out loud. They carry no content.
var extraStopwords = map[string]bool{
	"dont": true, "doesnt": true, "didnt": true, "cant": true, "couldnt": true, "wont": true,
	"wouldnt": true, "shouldnt": true, "isnt": true, "arent": true, "wasnt": true,
	"werent": true, "hasnt": true, "havent": true, "hadnt": true, "im": true, "ive": true,
	"id": true, "ill": true, "youre": true, "youve": true, "youd": true, "hes": true,
	"shes": true, "theyre": true, "theyve": true, "thats": true, "whats": true, "whos": true,
	"theres": true, "lets": true, "wed": true, "weve": true, "could": true, "would": true,
	"might": true, "must": true, "shall": true, "may": true, "also": true, "yes": true,
	"yeah": true, "yep": true, "ok": true, "oh": true, "well": true, "like": true,
	"actually": true, "basically": true, "definitely": true, "probably": true, "maybe": true,
	"perhaps": true, "think": true, "guess": true, "believe": true, "remember": true,
	"mean": true, "know": true, "say": true, "said": true, "guys": true, "ya": true,
	"whether": true, "inside": true, "onto": true, "upon": true, "within": true, "without": true,
}

// lightWords are frequent English content words that say little on their own.
var lightWords = map[string]bool{
	"thing": true, "things": true, "stuff": true, "something": true, "anything": true,
	"everything": true, "make": true, "made": true, "makes": true, "making": true,
	"get": true, "got": true, "gets": true, "getting": true, "go": true, "goes": true,
	"going": true, "went": true, "gone": true, "put": true, "take": true, "took": true,
	"taken": true, "give": true, "gave": true, "come": true, "came": true, "call": true,
	"called": true, "name": true, "named": true, "really": true, "always": true,
	"never": true, "ever": true, "every": true, "lot": true, "lots": true, "much": true,
	"many": true, "way": true, "kind": true, "sort": true, "little": true, "big": true,
	"good": true, "great": true, "new": true, "old": true, "day": true, "time": true,
	"favorite": true, "favourite": true, "still": true, "even": true, "back": true,
	"want": true, "see": true, "use": true, "used": true, "keep": true, "let": true,
	"quite": true, "bit": true, "far": true, "ones": true, "people": true,
}

// lightForms holds lightWords and their inflections ("takes", "taking", "called"),
// generated once by adding common English endings and keeping the forms that Snowball
// stems to the same stem, so that matching need not stem every word. Built on first
// use, never changed.
var lightForms = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool, 4*len(lightWords))
	for w := range lightWords {
		m[w] = true
		stem := english.Stem(w, true)
		bases := []string{w, strings.TrimSuffix(w, "e")}
		if n := len(w); n >= 3 {
			bases = append(bases, w+w[n-1:]) // doubled consonant: "putting"
		}
		for _, b := range bases {
			for _, end := range []string{"s", "es", "ed", "d", "ing", "en", "er", "ers"} {
				if f := b + end; english.Stem(f, true) == stem {
					m[f] = true
				}
			}
		}
	}
	return m
})

// term is a token prepared for matching.
type term struct {
	text    string
	stem    string // computed on first use by stemOf
	stemmed bool
	runes   int
	weight  float64
	digits  bool
}

// weightOf is a token's informativeness: 0 for function words, low for frequent
// content words and very short words, 1 for the rest (names, nouns, inventions).
func weightOf(tm *term) float64 {
	t, digits := tm.text, tm.digits
	switch {
	case digits && len(t) == 1:
		return weightSmallNumber
	case digits:
		return weightNumber
	case english.IsStopWord(t) || extraStopwords[t]:
		return 0
	case lightForms()[t]:
		return weightLight
	}
	switch n := utf8.RuneCountInString(t); {
	case n <= 2:
		return weightShortWord
	case n == 3:
		return weightThreeLetter
	}
	return weightWord
}

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// prepare turns normalised tokens into terms, appending to dst.
func prepare(dst []term, tokens []string) []term {
	for _, t := range tokens {
		d := isDigits(t)
		dst = append(dst, term{text: t, runes: utf8.RuneCountInString(t), digits: d})
		tm := &dst[len(dst)-1]
		tm.weight = weightOf(tm)
	}
	return dst
}

// stemOf returns the term's Snowball English stem, computing it once. Stemming is the
// costliest step of matching, so it is done only for words that need it.
func stemOf(t *term) string {
	if !t.stemmed {
		t.stem, t.stemmed = t.text, true
		if !t.digits && len(t.text) > 3 && isASCIILetters(t.text) {
			t.stem = english.Stem(t.text, true)
		}
	}
	return t.stem
}

// similarity of two terms in 0..1. Numbers must be equal; words may share a stem or
// differ by a typo: one edit from four letters, two from eight.
func similarity(a, b *term) float64 {
	if a.text == b.text {
		return 1
	}
	if a.digits || b.digits {
		return 0
	}
	// Stems are prefixes of their words (up to a final y/i), so only words that begin
	// alike can share one; checking that first spares most stemming.
	if len(a.text) >= 3 && len(b.text) >= 3 && a.text[:2] == b.text[:2] && stemOf(a) == stemOf(b) {
		return simSameStem
	}
	short := min(a.runes, b.runes)
	k := 0
	switch {
	case short >= 8:
		k = 2
	case short >= 4:
		k = 1
	}
	if k > 0 && abs(a.runes-b.runes) <= k {
		if d := editDistance(a.text, b.text, k); d <= k {
			return 1 - simPerEdit*float64(d)
		}
	}
	return 0
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// coverage is the weighted share of from's content found in to.
func coverage(from, to []term, uniform bool) float64 {
	var num, den float64
	for i := range from {
		w := from[i].weight
		if uniform {
			w = 1
		}
		if w == 0 {
			continue
		}
		den += w
		best := 0.0
		for j := range to {
			if !uniform && to[j].weight == 0 {
				continue
			}
			if s := similarity(&from[i], &to[j]); s > best {
				best = s
				if best == 1 {
					break
				}
			}
		}
		num += w * best
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// scoreTerms compares a stored answer with a spoken one, both prepared, and returns a
// score in 0..1. Word order is ignored. When the stored answer is made only of function
// words ("it is what it is"), every word counts equally.
func scoreTerms(stored, spoken []term) float64 {
	uniform := true
	for i := range stored {
		if stored[i].weight > 0 {
			uniform = false
			break
		}
	}
	r := coverage(stored, spoken, uniform)
	p := coverage(spoken, stored, uniform)
	if r == 0 || p == 0 {
		return 0
	}
	return (1 + beta2) * p * r / (beta2*p + r)
}

// score normalises both answers and compares them.
func score(stored, spoken string) float64 {
	var b1, b2 [32]term
	st := prepare(b1[:0], normalizeTokens(stored))
	sp := prepare(b2[:0], normalizeTokens(spoken))
	return scoreTerms(st, sp)
}

// verdictFor maps a score to a verdict.
func verdictFor(score, match, close float64) Verdict {
	switch {
	case score >= match:
		return Match
	case score >= close:
		return Close
	}
	return NoMatch
}

// editDistance returns the optimal-string-alignment distance (insertions, deletions,
// substitutions and adjacent transpositions) between a and b, or max+1 once it is
// certain to exceed max. Tokens are at most maxTokenBytes long.
func editDistance(a, b string, max int) int {
	var ra, rb [maxTokenBytes]rune
	na, nb := 0, 0
	for _, r := range a {
		if na == len(ra) {
			break
		}
		ra[na] = r
		na++
	}
	for _, r := range b {
		if nb == len(rb) {
			break
		}
		rb[nb] = r
		nb++
	}
	var rows [3][maxTokenBytes + 1]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= nb; j++ {
		prev[j] = j
	}
	for i := 1; i <= na; i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= nb; j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[nb]
}
