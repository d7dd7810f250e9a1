package status

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice@example.com", "alice@example.com"},
		{"Alice.Smith+cg@Mail.Example.COM", "Alice.Smith+cg@mail.example.com"},
		{"o'brien@xn--bcher-kva.example", "o'brien@xn--bcher-kva.example"},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{
		"", "alice", "@example.com", "alice@", "alice@localhost", "Alice <alice@example.com>",
		"alice@example.com ", " alice@example.com", "al ice@example.com", "alice@exa_mple.com",
		"alice@-example.com", "alice@example..com", "alice@bücher.example", "a@b@example.com",
		"alice@example.com\n", strings.Repeat("a", 250) + "@example.com",
	} {
		if got, err := NormalizeEmail(in); !errors.Is(err, ErrInvalidEmail) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want ErrInvalidEmail", in, got, err)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.com": "a•••@example.com",
		"é@example.com":     "é•••@example.com",
		"nonsense":          "•••",
	} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzNormalizeEmail: never panics; accepted addresses are idempotent, bounded, have
// one lowercase ASCII domain and mask without revealing the local part beyond its first
// character.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"alice@example.com", "A@B.C", "\"q\"@example.com", "Alice <a@b.c>", "é@example.com", "a@b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidEmail) {
				t.Fatalf("NormalizeEmail(%q) error %v does not wrap ErrInvalidEmail", s, err)
			}
			return
		}
		if len(got) > maxEmailLen {
			t.Fatalf("accepted %d bytes", len(got))
		}
		again, err := NormalizeEmail(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
		at := strings.LastIndexByte(got, '@')
		if d := got[at+1:]; d != strings.ToLower(d) {
			t.Fatalf("domain %q not lowercased", d)
		}
		first, _ := utf8.DecodeRuneInString(got)
		if m := MaskEmail(got); m != string(first)+"•••"+got[at:] {
			t.Fatalf("MaskEmail(%q) = %q", got, m)
		}
	})
}
