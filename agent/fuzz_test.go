package agent_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/carrierguard/carrierguard/agent"
)

// FuzzParseStatic: parsing never panics; whatever parses formats back (Credential.String)
// to a file that parses to the same credentials, and every credential authenticates
// nothing but errors on an empty token.
func FuzzParseStatic(f *testing.F) {
	f.Add("alice phone " + agent.HashToken("a").String() + " Alice Archer\n")
	f.Add("# c\n\nbob\tchat\t" + agent.HashToken("b").String() + "\tBob  B \n")
	f.Add("alice store sha256:" + strings.Repeat("ab", 32) + " A\nalice phone sha256:" + strings.Repeat("cd", 32) + " A\n")
	f.Add("alice phone sha256:zz A")
	f.Add("x app sha256: y")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := agent.ParseStatic(strings.NewReader(in))
		if err != nil {
			return
		}
		creds := s.Credentials()
		var b strings.Builder
		for _, c := range creds {
			if !utf8.ValidString(c.Name) || strings.ContainsAny(c.Name, "\r\n") {
				t.Fatalf("parsed name %q", c.Name)
			}
			b.WriteString(c.String() + "\n")
		}
		again, err := agent.ParseStatic(strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("formatted credentials do not parse: %v\n%s", err, b.String())
		}
		got := again.Credentials()
		if len(got) != len(creds) {
			t.Fatalf("round trip: %d credentials, want %d", len(got), len(creds))
		}
		for i := range got {
			if got[i] != creds[i] {
				t.Fatalf("round trip: %+v, want %+v", got[i], creds[i])
			}
		}
		if _, err := s.Authenticate(context.Background(), ""); err == nil {
			t.Fatal("the empty token authenticated")
		}
	})
}
