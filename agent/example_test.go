package agent_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
	"github.com/carrierguard/carrierguard/store/memory"
)

// A credential file binds each token (by its hash) to one agent and one channel. The
// console authenticates the bearer token; the channel comes with it.
func ExampleParseStatic() {
	conf := "# agent-id channel token-hash name\n" +
		"alice phone " + agent.HashToken("alice-phone-token").String() + " Alice Archer\n" +
		"alice store " + agent.HashToken("alice-store-token").String() + " Alice Archer\n"
	auth, err := agent.ParseStatic(strings.NewReader(conf))
	if err != nil {
		fmt.Println(err)
		return
	}
	who, err := auth.Authenticate(context.Background(), "alice-phone-token")
	fmt.Println(who.Agent, who.Channel, err)
	_, err = auth.Authenticate(context.Background(), "X-Agent-ID: alice")
	fmt.Println(err)
	// Output:
	// alice phone <nil>
	// agent: not authenticated
}

// A phone case: the channel is the credential's, a passport "checked" on the phone is
// refused, and a code the caller read out to verify their identity is no evidence for a
// SIM swap.
func ExampleCases() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	audit := agent.LogAuditor{Logger: slog.New(slog.DiscardHandler)}
	cases, _ := agent.New(agent.Config{Now: func() time.Time { return now }}, memory.NewAgentCases(memory.Options{}), audit)

	who := agent.Identity{Agent: "alice", Name: "Alice Archer", Channel: protection.ChannelPhone}
	c, _ := cases.Open(ctx, who, "sub-42")
	fmt.Println("case channel:", c.Channel)

	_, err := cases.AddEvidence(ctx, who, c.ID, protection.Evidence{Kind: protection.EvidenceGovernmentID, ObtainedAt: now})
	fmt.Println(err)

	fmt.Println("code purpose for a SIM swap:", agent.CodePurpose(protection.ActionSIMSwap))
	c, _ = cases.AddEvidence(ctx, who, c.ID, protection.Evidence{Kind: protection.EvidenceContactCode,
		Contact: protection.ContactSMS, Purpose: agent.PurposeIdentity, ObtainedAt: now})
	fmt.Println("evidence toward viewing the account:", len(c.EvidenceFor(protection.ActionViewAccount)))
	fmt.Println("evidence toward a SIM swap:", len(c.EvidenceFor(protection.ActionSIMSwap)))
	// Output:
	// case channel: phone
	// agent: this evidence cannot be given on the case's channel: an ID is checked in person, in a store case, not on phone
	// code purpose for a SIM swap: sim_swap_authorisation
	// evidence toward viewing the account: 1
	// evidence toward a SIM swap: 0
}

// The message carrying a code says what it is for.
func ExampleCodeMessage() {
	for _, p := range []otp.Purpose{agent.PurposeIdentity, otp.PurposeSIMSwap} {
		msg, _ := agent.CodeMessage(p)
		fmt.Printf("Your code is 123456. It is %s.\n", msg)
	}
	// Output:
	// Your code is 123456. It is to verify your identity with support (it cannot approve a SIM swap or a port-out).
	// Your code is 123456. It is to approve a SIM swap on your line.
}

func ExampleNewToken() {
	tok, _ := agent.NewToken(nil)
	line := agent.Credential{Agent: "bob", Name: "Bob Baker", Channel: protection.ChannelChat, Hash: agent.HashToken(tok)}.String()
	fmt.Fprintln(os.Stderr, "give the agent:", tok) // once, out of band
	fmt.Println(strings.HasPrefix(line, "bob chat sha256:"), !strings.Contains(line, tok))
	// Output: true true
}
