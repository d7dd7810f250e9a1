package password

import (
	"strings"
	"sync"
	"unicode"

	"github.com/trustelem/zxcvbn/frequency"
)

// Blocklist is an immutable set of banned passwords. Entries and candidates are
// compared case-insensitively; see Contains for the variants that are tried.
type Blocklist struct {
	set map[string]struct{}
}

// NewBlocklist returns a blocklist of the given words (lower-cased; empty words are
// ignored). Use it for a carrier's own list in CheckerConfig.Blocklists.
func NewBlocklist(words []string) *Blocklist {
	b := &Blocklist{set: make(map[string]struct{}, len(words))}
	for _, w := range words {
		if w = strings.ToLower(w); w != "" {
			b.set[w] = struct{}{}
		}
	}
	return b
}

// commonPasswords is built on first use from the zxcvbn frequency list and never
// changed afterwards, so sharing it is safe.
var commonPasswords = sync.OnceValue(func() *Blocklist {
	return NewBlocklist(frequency.FrequencyLists["passwords"])
})

// CommonPasswords returns the built-in blocklist: the 30,000 most common passwords
// from the "passwords" frequency list that ships with the zxcvbn 4.4.2 data, taken from
// the github.com/trustelem/zxcvbn module (ranked from leaked password corpora). The
// same list drives the strength estimate, so the two checks agree. The returned value
// is shared and immutable.
func CommonPasswords() *Blocklist { return commonPasswords() }

// Len returns the number of entries.
func (b *Blocklist) Len() int { return len(b.set) }

// Contains reports whether the password is on the list: as typed (case-insensitive), with
// common look-alike substitutions undone (p@ssw0rd), or once the digits and symbols at
// either end are removed (Password2024!), as long as at least four characters remain.
func (b *Blocklist) Contains(password string) bool {
	lower := strings.ToLower(password)
	if b.has(lower) {
		return true
	}
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if core != lower && runeCountAtLeast(core, 4) && b.has(core) {
		return true
	}
	for _, table := range leetTables {
		if l := unleet(lower, table); l != lower && b.has(l) {
			return true
		}
		if l := unleet(core, table); l != core && runeCountAtLeast(l, 4) && b.has(l) {
			return true
		}
	}
	return false
}

func (b *Blocklist) has(s string) bool {
	_, ok := b.set[s]
	return ok
}

// leetTables undo the usual substitutions; "1" and "!" are ambiguous (i or l), so two
// tables are tried.
var leetTables = [2]*strings.Replacer{
	strings.NewReplacer("4", "a", "@", "a", "3", "e", "1", "i", "!", "i", "0", "o", "$", "s", "5", "s", "7", "t", "+", "t"),
	strings.NewReplacer("4", "a", "@", "a", "3", "e", "1", "l", "!", "l", "0", "o", "$", "s", "5", "s", "7", "t", "+", "t"),
}

func unleet(s string, r *strings.Replacer) string {
	if !strings.ContainsAny(s, "4@31!0$57+") {
		return s
	}
	return r.Replace(s)
}

func runeCountAtLeast(s string, n int) bool {
	for range s {
		n--
		if n <= 0 {
			return true
		}
	}
	return n <= 0
}
