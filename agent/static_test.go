package agent_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/protection"
)

func hashOf(tok string) string { return agent.HashToken(tok).String() }

func TestParseStatic(t *testing.T) {
	good := "# agents\n\n" +
		"alice phone " + hashOf("tok-alice-phone") + " Alice Archer\n" +
		"alice\tstore\t" + hashOf("tok-alice-store") + "\tAlice Archer\n" +
		"  bob   chat   " + hashOf("tok-bob") + "   Bob  Baker  \n"
	s, err := agent.ParseStatic(strings.NewReader(good))
	if err != nil {
		t.Fatalf("ParseStatic: %v", err)
	}
	ctx := context.Background()
	for tok, want := range map[string]agent.Identity{
		"tok-alice-phone": {Agent: "alice", Name: "Alice Archer", Channel: protection.ChannelPhone},
		"tok-alice-store": {Agent: "alice", Name: "Alice Archer", Channel: protection.ChannelStore},
		"tok-bob":         {Agent: "bob", Name: "Bob  Baker", Channel: protection.ChannelChat},
	} {
		got, err := s.Authenticate(ctx, tok)
		if err != nil || got != want {
			t.Errorf("Authenticate(%s) = %+v, %v; want %+v", tok, got, err, want)
		}
	}
	a, err := s.Agent(ctx, "alice")
	if err != nil || a.Name != "Alice Archer" || !slices.Equal(a.Channels, []protection.Channel{protection.ChannelPhone, protection.ChannelStore}) {
		t.Errorf("Agent(alice) = %+v, %v", a, err)
	}
	if _, err := s.Agent(ctx, "carol"); !errors.Is(err, agent.ErrUnknownAgent) {
		t.Errorf("Agent(carol) = %v, want ErrUnknownAgent", err)
	}

	bad := []struct{ name, line, want string }{
		{"three fields", "alice phone " + hashOf("x"), "four fields"},
		{"app channel", "alice app " + hashOf("x") + " A", "phone, chat or store"},
		{"partner channel", "alice partner " + hashOf("x") + " A", "phone, chat or store"},
		{"upper-case channel", "alice Phone " + hashOf("x") + " A", "phone, chat or store"},
		{"plain token", "alice phone tok-alice A", "sha256:"},
		{"short hash", "alice phone sha256:abcd A", "sha256:"},
		{"upper-case hash", "alice phone " + strings.ToUpper(hashOf("x")) + " A", "sha256:"},
		{"zero hash", "alice phone sha256:" + strings.Repeat("0", 64) + " A", "all zeros"},
		{"bad id", "al/ice phone " + hashOf("x") + " A", "agent ID"},
		{"long id", strings.Repeat("a", 33) + " phone " + hashOf("x") + " A", "agent ID"},
		{"control in name", "alice phone " + hashOf("x") + " A\x01B", "control"},
		{"long line", "alice phone " + hashOf("x") + " " + strings.Repeat("n", 1100), "longer than"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := agent.ParseStatic(strings.NewReader("# c\n" + tc.line + "\n"))
			if !errors.Is(err, agent.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseStatic = %v, want ErrInvalidConfig mentioning %q", err, tc.want)
			}
			if tc.name != "long line" && !strings.Contains(err.Error(), "line 2") {
				t.Errorf("error %q does not name line 2", err)
			}
			if strings.Contains(err.Error(), hashOf("x")[7:]) {
				t.Errorf("error %q quotes the hash", err)
			}
		})
	}

	t.Run("one token, one identity", func(t *testing.T) {
		_, err := agent.ParseStatic(strings.NewReader("alice phone " + hashOf("t") + " A\nbob store " + hashOf("t") + " B\n"))
		if !errors.Is(err, agent.ErrInvalidConfig) || !strings.Contains(err.Error(), "already used") {
			t.Fatalf("a token shared by two credentials was accepted: %v", err)
		}
	})
	t.Run("one name per agent", func(t *testing.T) {
		_, err := agent.ParseStatic(strings.NewReader("alice phone " + hashOf("t1") + " A\nalice store " + hashOf("t2") + " B\n"))
		if !errors.Is(err, agent.ErrInvalidConfig) {
			t.Fatalf("an agent with two names was accepted: %v", err)
		}
	})
}

func TestStaticAuthenticateRefuses(t *testing.T) {
	s, err := agent.NewStatic([]agent.Credential{{Agent: "alice", Name: "Alice", Channel: protection.ChannelPhone, Hash: agent.HashToken("right")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"", "wrong", "right ", "Right", agent.HashToken("right").String(), strings.Repeat("x", 5000)} {
		if id, err := s.Authenticate(context.Background(), tok); !errors.Is(err, agent.ErrUnauthenticated) || id != (agent.Identity{}) {
			t.Errorf("Authenticate(%.20q) = %+v, %v; want ErrUnauthenticated", tok, id, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Authenticate(ctx, "right"); err == nil {
		t.Error("Authenticate with a cancelled context succeeded")
	}
}

func TestNewStaticValidates(t *testing.T) {
	ok := agent.Credential{Agent: "alice", Name: "Alice", Channel: protection.ChannelStore, Hash: agent.HashToken("t")}
	for name, mut := range map[string]func(*agent.Credential){
		"app channel":   func(c *agent.Credential) { c.Channel = protection.ChannelApp },
		"no channel":    func(c *agent.Credential) { c.Channel = 0 },
		"no hash":       func(c *agent.Credential) { c.Hash = agent.TokenHash{} },
		"no name":       func(c *agent.Credential) { c.Name = "" },
		"padded name":   func(c *agent.Credential) { c.Name = " Alice" },
		"no id":         func(c *agent.Credential) { c.Agent = "" },
		"invalid UTF-8": func(c *agent.Credential) { c.Name = "\xff" },
	} {
		c := ok
		mut(&c)
		if _, err := agent.NewStatic([]agent.Credential{c}); !errors.Is(err, agent.ErrInvalidConfig) {
			t.Errorf("%s: NewStatic = %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := agent.NewStatic([]agent.Credential{ok}); err != nil {
		t.Fatalf("NewStatic(valid) = %v", err)
	}
}

func TestNewToken(t *testing.T) {
	a, err := agent.NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := agent.NewToken(nil)
	if a == b || !strings.HasPrefix(a, "cga_") || len(a) != 47 {
		t.Fatalf("NewToken = %q, %q: want distinct cga_ tokens of 47 characters", a, b)
	}
	if _, err := agent.NewToken(strings.NewReader("short")); err == nil {
		t.Fatal("NewToken with too little randomness succeeded")
	}
}
