package questions

import (
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Bounds that keep normalisation cheap whatever it is given. Answers are limited to
// MaxAnswerLen characters before they get here; these bounds protect the normaliser on
// its own (it is fuzzed with arbitrary input).
const (
	maxNormalizeInput = 4 * MaxAnswerLen // bytes of input considered
	maxTokens         = 128              // tokens kept
	maxTokenBytes     = 40               // bytes kept of each token
)

// foldPool holds Unicode folding transformers, which are stateful and so cannot be
// shared between goroutines. Decomposing (NFKD), dropping combining marks and case
// folding turns "Señor CRÈME", "senor creme" and "ＳＥÑＯＲ" alike into plain lower case;
// the second decomposition catches the few characters that case folding recomposes.
//
// Case folding alone is not idempotent: x/text's cases.Fold swaps the two cases of
// Cherokee (U+13A0 "Ꭰ" folds to U+AB70 "ꭰ", which folds back to "Ꭰ"), so one answer
// would have two canonical forms. Lower-casing each rune after folding settles every
// letter on one form; TestFoldTextEveryRune checks that for every code point.
var foldPool = sync.Pool{New: func() any { return newFolder() }}

// newFolder returns the transformer that foldText applies to non-ASCII text.
func newFolder() transform.Transformer {
	return transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), cases.Fold(),
		runes.Map(unicode.ToLower), norm.NFKD, runes.Remove(runes.In(unicode.Mn)))
}

// foldText lower-cases s and strips diacritics and compatibility forms.
func foldText(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	t := foldPool.Get().(transform.Transformer)
	defer foldPool.Put(t)
	return foldWith(t, s)
}

// foldWith folds non-ASCII s with t, a transformer from newFolder.
func foldWith(t transform.Transformer, s string) string {
	t.Reset()
	out, _, err := transform.String(t, s)
	if err != nil {
		return strings.ToLower(s)
	}
	return out
}

// fillers are spoken disfluencies an agent may type; they carry nothing.
var fillers = map[string]bool{
	"um": true, "umm": true, "uh": true, "uhh": true, "uhm": true, "er": true, "erm": true,
	"hmm": true, "hm": true, "mm": true, "ah": true, "eh": true,
}

// rewrites map spoken and abbreviated forms to one spelling, so that either side of a
// comparison can use either form. No value is itself a key, so rewriting is idempotent.
var rewrites = map[string][]string{
	"gonna": {"going", "to"}, "wanna": {"want", "to"}, "gotta": {"got", "to"},
	"cannot": {"can", "not"}, "mr": {"mister"}, "mrs": {"missus"}, "dr": {"doctor"},
	"mom": {"mother"}, "mum": {"mother"}, "mommy": {"mother"}, "mummy": {"mother"}, "mama": {"mother"},
	"dad": {"father"}, "daddy": {"father"}, "papa": {"father"},
	"grandma": {"grandmother"}, "granny": {"grandmother"}, "nana": {"grandmother"}, "nan": {"grandmother"},
	"grandpa": {"grandfather"}, "granddad": {"grandfather"}, "grandad": {"grandfather"},
	"tv": {"television"}, "telly": {"television"}, "bike": {"bicycle"}, "fridge": {"refrigerator"},
	"okay": {"ok"}, "xmas": {"christmas"},
}

// Number words. Ordinals become their cardinal digits ("third" and "3rd" are both "3").
var (
	unitWords = map[string]int64{
		"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
		"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
		"fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
		"nineteen": 19,
		"first":    1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
		"seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
	}
	tensWords = map[string]int64{
		"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
		"eighty": 80, "ninety": 90,
	}
	scaleWords = map[string]int64{"hundred": 100, "thousand": 1000, "million": 1000000}
)

func isNumberWord(w string) bool {
	_, u := unitWords[w]
	_, t := tensWords[w]
	_, s := scaleWords[w]
	return u || t || s
}

// normalize returns the canonical form of an answer: lower case, no diacritics or
// punctuation, fillers dropped, numbers as digits, tokens separated by single spaces. It
// is idempotent, never panics and returns at most maxTokens tokens of at most
// maxTokenBytes bytes each. Word order is kept; matching ignores it.
func normalize(s string) string {
	return strings.Join(normalizeTokens(s), " ")
}

// normalizeTokens is normalize without the final join.
func normalizeTokens(s string) []string {
	if len(s) > maxNormalizeInput {
		s = s[:maxNormalizeInput]
	}
	s = foldText(strings.ToValidUTF8(s, " "))
	raw := split(s)
	return canonical(raw)
}

// split cuts folded text into runs of letters or of digits. Apostrophes inside a word
// are dropped ("don't" is "dont"), "&" is the word "and", separators between digits such
// as "1,000" are dropped, and a change between letters and digits ends a token ("3rd"
// is "3" "rd").
func split(s string) []string {
	out := make([]string, 0, 16)
	// A token is usually a run of s itself, kept as s[start:end] without copying; only
	// one that skips a character inside it (an apostrophe, a thousands separator, a
	// combining mark) is copied into buf.
	var buf []byte
	start, end, copied := -1, 0, false
	kind := 0 // 0 none, 1 letters, 2 digits
	write := func(i int, r rune) {
		_, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case start < 0:
			start, end, copied = i, i+size, false
		case !copied && i == end:
			end = i + size
		default:
			if !copied {
				buf, copied = append(buf[:0], s[start:end]...), true
			}
			buf = utf8.AppendRune(buf, r)
		}
	}
	flush := func() {
		if start >= 0 && len(out) < 2*maxTokens {
			tok := s[start:end]
			if copied {
				tok = string(buf)
			}
			out = append(out, truncate(tok, maxTokenBytes))
		}
		start, kind = -1, 0
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r):
			if kind == 2 {
				flush()
			}
			kind = 1
			write(i, r)
		case unicode.IsDigit(r):
			if kind == 1 {
				flush()
			}
			kind = 2
			write(i, r)
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

// nextRune returns the rune after the one starting at s[i], or utf8.RuneError.
func nextRune(s string, i int) rune {
	_, size := utf8.DecodeRuneInString(s[i:])
	r, _ := utf8.DecodeRuneInString(s[i+size:])
	return r
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// canonical drops fillers, applies rewrites, turns number words into digits and drops
// ordinal suffixes after digits.
func canonical(raw []string) []string {
	words := make([]string, 0, len(raw)+4)
	for _, w := range raw {
		if fillers[w] {
			continue
		}
		if r, ok := rewrites[w]; ok {
			words = append(words, r...)
			continue
		}
		words = append(words, w)
	}
	out := make([]string, 0, len(words))
	for i := 0; i < len(words); {
		if isNumberWord(words[i]) || (words[i] == "a" && i+1 < len(words) && scaleWords[words[i+1]] > 0) {
			n, next := parseNumber(words, i)
			out = append(out, strconv.FormatInt(n, 10))
			i = next
			continue
		}
		w := words[i]
		i++
		if (w == "st" || w == "nd" || w == "rd" || w == "th") && len(out) > 0 && isDigits(out[len(out)-1]) {
			continue
		}
		out = append(out, w)
	}
	if len(out) > maxTokens {
		out = out[:maxTokens]
	}
	return out
}

// numberCap keeps parsed numbers far from overflow; a longer phrase becomes two numbers.
const numberCap = 1_000_000_000_000

// What the last word of a number phrase was.
const (
	numNone = iota
	numUnit
	numTeen
	numTens
	numTensUnit
	numHundred
	numScale
)

// parseNumber reads a number phrase starting at words[i] ("one hundred and five",
// "twenty one", "a thousand", and years read in pairs such as "nineteen sixty nine") and
// returns its value and the index after it. It always consumes at least one word.
func parseNumber(words []string, start int) (int64, int) {
	var total, cur, lastScale int64
	last, year := numNone, false
	i := start
	for ; i < len(words); i++ {
		w := words[i]
		if w == "a" && i == start && i+1 < len(words) && scaleWords[words[i+1]] > 0 {
			cur, last = 1, numUnit
			continue
		}
		if w == "and" && (last == numHundred || last == numScale) && i+1 < len(words) {
			next := words[i+1]
			if _, u := unitWords[next]; u {
				continue
			}
			if _, t := tensWords[next]; t {
				continue
			}
			break
		}
		// pair is true when this word may start the second half of a year ("nineteen
		// sixty"): the phrase so far is a bare 10..99.
		pair := !year && total == 0 && cur >= 10 && cur < 100 && (last == numTeen || last == numTens || last == numTensUnit)
		if u, ok := unitWords[w]; ok && u < 10 {
			switch last {
			case numNone, numScale, numTens, numHundred:
				cur += u
			default:
				return total + cur, i
			}
			last = numUnit
			if cur%100 > 20 {
				last = numTensUnit
			}
			continue
		}
		t, ok := unitWords[w] // 10..19: smaller units were read above
		kind := numTeen
		if !ok {
			t, ok = tensWords[w]
			kind = numTens
		}
		if ok {
			switch {
			case last == numNone || last == numHundred || last == numScale:
				cur += t
			case pair:
				cur, year = cur*100+t, true
			default:
				return total + cur, i
			}
			last = kind
			continue
		}
		if s, ok := scaleWords[w]; ok && !year {
			if last == numNone {
				cur = 1
			}
			if s == 100 {
				if last == numHundred || last == numScale || cur >= 100 || total+cur*s >= numberCap {
					return total + cur, i
				}
				cur *= s
				last = numHundred
				continue
			}
			if last == numScale || (lastScale != 0 && s >= lastScale) || total+cur*s >= numberCap {
				return total + cur, i
			}
			total += cur * s
			cur, lastScale, last = 0, s, numScale
			continue
		}
		break
	}
	return total + cur, i
}
