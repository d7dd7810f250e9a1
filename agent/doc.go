// Package agent gives support agents an identity, keeps their cases in a store, and
// binds the codes they send to what the codes are for.
//
// Social engineering of support staff is how most SIM-swap fraud starts: a thief calls,
// sounds convincing, and talks an agent into moving the victim's number. The rules
// that stop it must not depend on what the agent types into the console, because that
// is exactly what the thief controls. This package takes three things away from the
// request:
//
//   - Who is acting. Every agent has an identity (ID, name, channels) from
//     configuration or a directory. An [Authenticator] turns the credential the console
//     presents into an [Identity]; a header that names an agent is not trusted.
//   - On which channel. Each credential is bound to exactly one channel (phone, chat or
//     store). The channel of a case comes from the credential that opened it, so a phone
//     agent cannot "declare" that the caller is in a store and claim a passport check.
//     An agent who works two channels holds two credentials.
//   - What a code proves. A code sent to the caller has a purpose: [PurposeIdentity] to
//     verify who they are, otp.PurposeSIMSwap to approve a SIM swap, otp.PurposePortOut
//     to approve a port-out ([CodePurpose]). The message says so ([CodeMessage]: "to
//     approve a SIM swap on your line"), and [EvidenceFor] counts a code only toward the
//     action it was sent for: a victim talked into reading out an identity code has not
//     approved a SIM swap.
//
// # Credentials from configuration
//
// [Static] is an Authenticator and [Directory] over a credential file ([ParseStatic]),
// one credential per line:
//
//	# agent-id  channel  token hash (sha256 of the token)                                        name
//	alice       phone    sha256:426dfb93bc0ee6af75971a1cc3d430da29315aebc4cb6448123e4365f617d592  Alice Archer
//
// Tokens are made with [NewToken] (256 random bits) and handed to the agent; only their
// SHA-256 ([HashToken]) is configured, and presented tokens are compared with every
// configured hash in constant time. A carrier with single sign-on implements
// Authenticator over its identity provider instead, mapping groups to channels.
//
// # Cases
//
// [Cases] opens a [Case] for an Identity: agent, channel, subscriber, opening time,
// evidence. Cases live in a [CaseStore] (store/memory has one; storetest.TestAgentCases
// is the contract for others), so several console replicas share them. Only the agent
// who opened a case, with a credential of the same channel, can use it; it expires after
// [Config].TTL (30 minutes). [Cases.AddEvidence] refuses what the channel cannot give (a
// government ID outside a store; a session or password, which only the subscriber's own
// app has) and code proofs that carry no purpose.
//
//	who, err := auth.Authenticate(ctx, bearerToken)          // never from a header
//	c, err := cases.Open(ctx, who, subscriberID)              // c.Channel == who.Channel
//	purpose, flow := agent.CodePurpose(protection.ActionSIMSwap), "case:"+c.ID // bound to this case
//	ch, err := tf.Begin(ctx, twofactor.BeginRequest{Subscriber: c.Subscriber,
//		ContactID: id, Purpose: purpose, Flow: flow})
//	// ... the caller reads the code out ...
//	proof, err := tf.Complete(ctx, twofactor.CompleteRequest{Subscriber: c.Subscriber,
//		ChallengeID: ch.ID, Code: code, Purpose: purpose, Flow: flow})
//	ev, err := protection.EvidenceFromProof(tf, c.Subscriber, proof) // checked; keeps purpose, factor age, number
//	c, err = cases.AddEvidence(ctx, who, c.ID, ev)
//	d, err := prot.Decide(ctx, c.Subscriber, protection.Request{Action: protection.ActionSIMSwap,
//		Channel: c.Channel, Evidence: c.EvidenceFor(protection.ActionSIMSwap), At: now})
//
// # Audit
//
// Every agent action is written to an [Auditor] with the agent's ID from the
// credential: cases opened and closed and evidence added (by Cases itself), and what the
// console does in a case ([Cases.Record]: account details viewed, codes sent, SIM
// changes requested). A failing Auditor fails the action: evidence that was not
// recorded does not count. Records never hold secrets. SIM changes an agent requests
// should also name the agent as notify.Actor{Kind: notify.ActorAgent, ID: who.Agent} so
// the subscriber's notice and the SIM-change history carry it.
package agent
