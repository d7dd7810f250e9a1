package token

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func TestNewParse(t *testing.T) {
	src := bytes.NewReader(bytes.Repeat([]byte{0xAB}, Bytes))
	tok, h, err := New(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != Len {
		t.Fatalf("len(token) = %d, want %d", len(tok), Len)
	}
	if h != sha256.Sum256(bytes.Repeat([]byte{0xAB}, Bytes)) {
		t.Fatal("hash is not the SHA-256 of the random bytes")
	}
	got, ok := Parse(tok)
	if !ok || got != h {
		t.Fatalf("Parse(New()) = %x, %v", got, ok)
	}
	if _, _, err := New(strings.NewReader("short")); err == nil {
		t.Fatal("New with a short random source succeeded")
	}
}

func TestParseRejects(t *testing.T) {
	valid := base64.RawURLEncoding.EncodeToString(make([]byte, Bytes)) // 43 × "A"
	for _, s := range []string{"", valid[:42], valid + "A", valid[:42] + "B", "+" + valid[1:], valid[:42] + "=", " " + valid[1:]} {
		if _, ok := Parse(s); ok {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("")
	f.Add(strings.Repeat("A", Len))
	f.Add(strings.Repeat("A", Len-1) + "B")
	f.Add(strings.Repeat("_", Len))
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := Parse(s)
		if !ok {
			if h != (Hash{}) {
				t.Fatal("rejected input returned a hash")
			}
			return
		}
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(raw) != Bytes || base64.RawURLEncoding.EncodeToString(raw) != s || sha256.Sum256(raw) != h {
			t.Fatalf("Parse accepted non-canonical %q", s)
		}
	})
}
