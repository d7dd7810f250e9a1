package session_test

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/carrierguard/carrierguard/session"
)

// FuzzParseToken: parsing never panics; anything not accepted is ErrNotAuthenticated;
// anything accepted is a canonical 43-character base64url encoding of 32 bytes.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{
		"", "A", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
		"_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-E", "+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/E",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
		"ääääääääääääääääääääää",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := session.ParseToken(s)
		if err != nil {
			if err != session.ErrNotAuthenticated {
				t.Fatalf("ParseToken(%q) error %v, want ErrNotAuthenticated", s, err)
			}
			if h != (session.TokenHash{}) {
				t.Fatalf("ParseToken(%q) returned a hash with its error", s)
			}
			return
		}
		raw, derr := base64.RawURLEncoding.DecodeString(s)
		if derr != nil || len(raw) != 32 || base64.RawURLEncoding.EncodeToString(raw) != s {
			t.Fatalf("ParseToken accepted %q, which is not a canonical 32-byte token", s)
		}
	})
}

// FuzzValidate: any string but the real token is refused with ErrNotAuthenticated.
func FuzzValidate(f *testing.F) {
	fx := newFixture(f, session.Config{})
	tok, _ := fx.create(f, "alice", phone)
	f.Add(tok)
	f.Add(tok[:42] + "B")
	f.Add("")
	f.Add(base64.RawURLEncoding.EncodeToString(make([]byte, 32)))
	f.Fuzz(func(t *testing.T, s string) {
		_, err := fx.svc.Validate(context.Background(), s, phone)
		if s == tok {
			if err != nil {
				t.Fatalf("the real token was refused: %v", err)
			}
			return
		}
		if !errors.Is(err, session.ErrNotAuthenticated) || errors.Is(err, session.ErrBindingViolation) {
			t.Fatalf("Validate(%q) = %v, want ErrNotAuthenticated", s, err)
		}
	})
}
