package password

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRuns(t *testing.T) {
	for _, tt := range []struct {
		in          string
		repeat, seq int
		periodic    bool
	}{
		{"a", 1, 1, false},
		{"aaaaaa", 6, 1, true},
		{"abcdef", 1, 6, false},
		{"fedcba", 1, 6, false},
		{"qwerty", 1, 6, false},
		{"ytrewq", 1, 6, false},
		{"7890", 1, 4, false},
		{"asdf-1234-zxcvb", 1, 5, false},
		{"abcabcabc", 1, 3, true},
		{"abab", 1, 2, false},
		{"az!\"#$%", 1, 1, false}, // symbols in code point order are not "sequential"
		{"αβγδε", 1, 5, false},
	} {
		rep, seq, per := runs([]rune(tt.in))
		if rep != tt.repeat || seq != tt.seq || per != tt.periodic {
			t.Errorf("runs(%q) = %d, %d, %v; want %d, %d, %v", tt.in, rep, seq, per, tt.repeat, tt.seq, tt.periodic)
		}
	}
}

func TestParseRange(t *testing.T) {
	suffix := []byte(strings.Repeat("B", 35))
	body := strings.Repeat("A", 35) + ":5\r\n" + strings.ToLower(string(suffix)) + ":7\n" + strings.Repeat("C", 35) + ":0\r\n"
	n, err := parseRange(strings.NewReader(body), suffix)
	if err != nil || n != 7 {
		t.Fatalf("parseRange = %d, %v; want 7", n, err)
	}
	n, err = parseRange(strings.NewReader(string(suffix)+":0\r\n"), suffix)
	if err != nil || n != 0 {
		t.Fatalf("a padding line counted: %d, %v", n, err)
	}
	long := strings.Repeat("A", 35) + ":" + strings.Repeat("9", 200)
	if _, err := parseRange(strings.NewReader(long), suffix); !errors.Is(err, ErrBreachUnavailable) {
		t.Fatalf("overlong line: %v", err)
	}
}

func FuzzParseRange(f *testing.F) {
	f.Add([]byte(strings.Repeat("A", 35) + ":5\r\n" + strings.Repeat("B", 35) + ":0\r\n"))
	f.Add([]byte("garbage"))
	f.Add([]byte(""))
	suffix := bytes.Repeat([]byte("B"), 35)
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := parseRange(bytes.NewReader(body), suffix)
		if err != nil && !errors.Is(err, ErrBreachUnavailable) {
			t.Fatalf("error %v does not wrap ErrBreachUnavailable", err)
		}
		if n < 0 || (err != nil && n != 0) {
			t.Fatalf("count %d with error %v", n, err)
		}
	})
}
