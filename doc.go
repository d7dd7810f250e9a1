// Package carrierguard is an embeddable library that mobile carriers and MVNOs import
// into their backends and CRMs to stop account takeover, SIM-swap and port-out fraud.
//
// This package holds documentation only; the work is done by its subpackages.
//
// # Package map
//
//	keyring      seals small secrets at rest (AEAD, key IDs, rotation); pluggable for a KMS/HSM
//	notify       the account-event vocabulary every package publishes in; delivery and outbox
//	otp          out-of-band one-time passcodes; TOTP/HOTP with replay protection
//	twofactor    2FA with up to two trusted contacts, sign-in challenges, recovery codes
//	password     policy, blocklist and breach check, argon2id, rotation and reuse history
//	questions    security questions, sealed answers, verbal (fuzzy) verification by agents
//	protection   Never SIM Swap, No Port Out, Account Lockdown; the allow/step-up/deny decision
//	risk         pluggable request scoring: device, location, velocity, a Freeman model
//	status       Account Security Status (four steps, 0-100%) and email verification
//	session      session registry, sign out everywhere, step-up freshness, pending sign-ins
//	stepup       each session's step-up proofs, handed out only for their own purpose
//	agent        support agents: identities and per-channel tokens, cases in a store, audited
//	line         which numbers are an account's lines: proved by SMS code or provisioning
//	store/memory     in-memory adapters for every store interface
//	store/storetest  the conformance suite every adapter (yours too) must pass
//	examples/server  the reference net/http integration: go run ./examples/server -demo
//
// The SQLite and PostgreSQL adapters are not written yet; the README's Status list says
// what works today.
//
// # How the pieces fit
//
// Core packages hold logic only. Each declares, in its own store.go, the few small
// interfaces it needs (stores, senders, key rings), with context first and a sentinel
// such as ErrNotFound for a miss. Adapters live under store/ and prove themselves against
// store/storetest. Dependencies point one way: keyring, notify and risk are leaves; otp builds on
// keyring, twofactor on otp; session reads risk (impossible travel); protection reads
// risk results, session freshness and twofactor proofs; questions checks twofactor
// proofs; status reads password, questions and protection; agent reads protection's
// vocabulary and otp's purposes; line builds on otp; stepup keeps twofactor proofs per
// session. Nothing imports status or the examples.
//
// Services are structs built by New(cfg Config, deps...) (*Service, error). A zero Config
// field means the documented default, and New validates the whole Config once, returning
// an error that names the field and says what to fix; nothing panics on caller input.
//
// Every state change a subscriber must hear about publishes a [github.com/carrierguard/carrierguard/notify.Event] from inside
// the library, through the [github.com/carrierguard/carrierguard/notify.Publisher] the integrator supplies, so an integration
// cannot forget one.
//
// # Time and randomness
//
// Every package reads the time through a field
//
//	Now func() time.Time // nil means time.Now
//
// in its Config (store adapters take it in their Options), and never calls time.Now
// directly. Tests inject a manual clock and move it to test expiry, lockouts and
// cooling-off periods without sleeping; store/storetest hands adapters such a clock.
// Randomness likewise comes from an optional Rand io.Reader field (nil means
// crypto/rand.Reader), so tests can be deterministic where they need to be; production
// code leaves it nil.
//
// # Security rules
//
// Secrets (codes, seeds, answers, passwords, PINs, tokens) never appear in plaintext at
// rest, in logs, in error strings or in events. Secrets are compared in constant time. A
// store, scorer or sender error never turns into "allow": every package fails closed.
package carrierguard
