// Package session is carrierguard's session registry: it signs subscribers in to the
// self-service app and web, lists their sessions, signs them out one by one or
// everywhere at once, records when they last proved a second factor or re-entered their
// password (step-up freshness), and revokes sessions that look hijacked.
//
// # Getting started
//
//	sessions, err := session.New(session.Config{Travel: session.RiskTravel(riskService, geoLocator)},
//		memory.NewSession(memory.Options{}), publisher)
//
//	// After a successful password + 2FA sign-in:
//	token, s, err := sessions.Create(ctx, subscriberID,
//		session.Client{Device: fingerprint, UserAgent: r.UserAgent(), IP: ip},
//		session.ProofPassword, session.ProofSecondFactor)
//	// Hand token to the client (a Secure, HttpOnly cookie or the app's keychain).
//
//	// On every request:
//	s, err = sessions.Validate(ctx, token, client)
//	if err != nil { /* 401 for ErrNotAuthenticated, 500 otherwise; refuse either way */ }
//
//	// "Sign out everywhere", keeping the current session:
//	n, err := sessions.RevokeAll(ctx, s.Subscriber, s.ID, session.By{Channel: "app"})
//
// # Tokens
//
// A token is 32 bytes (256 bits) from crypto/rand, written as 43 characters of unpadded
// base64url. It is returned once, by Create; the store keeps only its SHA-256, and
// looks sessions up by that hash. A plain hash suffices because the token is
// high-entropy: there is nothing to brute-force. Because the lookup key is the hash, the
// time a lookup takes says nothing useful about the token's secret bits, and the Service
// compares the stored hash again with crypto/subtle. A session also has an ID, a public
// handle that lists and revokes it and grants nothing on its own.
//
// Every token that does not name a live session (malformed, unknown, expired, revoked)
// gets the same error, ErrNotAuthenticated. Store and travel-check failures get other
// errors; every error means "refuse the request".
//
// # Expiry
//
// A session ends IdleTimeout after its last successful validation (default 1 h) or
// MaxLifetime after creation however busy it is (default 24 h): the reauthentication
// limits NIST SP 800-63B rev 4 suggests for AAL2. Stores treat ended sessions as absent.
//
// # Binding
//
// A session is bound to the device fingerprint it was created with (compared by
// Config.DeviceMatch, exact by default) and, when Config.Travel is set, to plausible
// movement: when a session's address changes, the TravelCheck ([RiskTravel] over package
// risk, or any function wrapped in TravelFunc) is asked whether the move is impossible travel.
// On a violation the session is revoked at once, a notify.SuspiciousActivity event is
// published with the reason ("device_mismatch" or "impossible_travel"), and Validate
// returns ErrBindingViolation, which also matches ErrNotAuthenticated. The legitimate
// subscriber simply signs in again; the thief's copy of the token is dead.
//
// # Step-up freshness
//
// Session.SecondFactorAt and Session.PasswordAt say when the subscriber last proved a
// second factor or re-entered the password in this session. Sign-in sets them through
// Create's proofs; a later step-up sets them through StepUp. Package protection reads
// them, for example with Session.Fresh(session.ProofSecondFactor, 5*time.Minute, now),
// before a SIM swap or a contact change, as OWASP ASVS asks for full reauthentication
// before changes to phone, email, MFA or recovery data.
//
// # Credential changes end the other sessions
//
// A password change, a verified contact or the authenticator removed, 2FA turned off,
// the email changed or the password reported compromised ends every other session of
// the subscriber, and clears the step-up proofs (SecondFactorAt, PasswordAt) of the one
// that made the change, so a proof from before the change cannot be replayed after it.
// New recovery codes end every other session too (a thief who signed in with a leaked
// code is out once the owner replaces the codes), but keep the proofs: they remove no
// factor. This is on by default and owned by the library: the services that make those changes
// publish their events from inside, and the Service's [Service.Publisher] wraps the
// publisher it was built with and calls [Service.RevokeOthers] for each event that
// Config.RevokeOn ([RevokeOnCredentialChange] by default) matches. Wire it once:
//
//	sessions, _ := session.New(cfg, sessionStore, outbox)
//	pub := sessions.Publisher() // give pub to password, twofactor, otp, status
//
// Events carry no session, so the acting session travels on the context: after
// Validate, a handler calls [NewContext], and the change it makes keeps that session.
// Without it (an agent's change, a background job, a handler that forgot) every session
// of the subscriber ends, the acting one too: the safe default, at the cost of a sign-in.
// Step-up proofs kept outside the registry are forgotten through Config.Proofs (a
// [ProofRevoker]).
//
// # Events
//
// RevokeOthers publishes notify.SessionsRevoked with scope credential_change, the reason
// (the event type of the change) and the kept session. Revoke and RevokeAll publish notify.SessionsRevoked (attributes: scope, count, and the
// session or kept session ID) with the By actor; a binding violation publishes
// notify.SuspiciousActivity. A revocation is never undone because its event failed to
// publish: the error says the sessions ended but the subscriber was not told.
//
// # Wiring
//
// The session registry joins two other packages; neither join is required.
//
//   - Impossible travel, from package risk: [RiskTravel](riskService, geoLocator) is the
//     Config.Travel a carrier normally uses. It locates the session's previous and new
//     address with a [GeoLookup] (*geoip.Locator from risk/geoip fits as is) and asks
//     the *risk.Service's ImpossibleTravel, the same haversine distance, MaxSpeedKmh
//     (900 km/h) and HomeRadiusKm (100 km) as risk's impossible_travel signal, so a
//     session and a sign-in are judged alike. A Miami session reused from California
//     minutes later is revoked with a notify.SuspiciousActivity event (reason
//     "impossible_travel"). An address without coordinates cannot be judged and passes
//     (device binding still holds); a lookup error refuses the request without revoking.
//
//   - Step-up evidence, for package protection: protection.SessionEvidence turns a
//     validated Session into protection.Evidence (the session from CreatedAt, a
//     re-entered password from PasswordAt, the second factor from SecondFactorAt), so the
//     times the policy's freshness windows judge come from this registry, never from the
//     client.
//
//   - Kept step-up proofs, from package stepup: a *stepup.Service is the Config.Proofs
//     that forgets the twofactor proofs a server keeps per session when a credential
//     changes.
//
// # Pending sign-ins
//
// A sign-in with 2FA on takes two requests: the password, then the code. BeginSignin
// records the first step in the store (a [Pending]: subscriber, device, when the
// password was verified, when it expires, by default after 10 minutes);
// PendingSignin finds it again for the device that began it; TakeSignin ends it once,
// atomically, before Create starts the session. Because the pending sign-in is in the
// store, not in a handler's memory, the replica that checks the code need not be the one
// that checked the password. A credential change (RevokeOthers) deletes the subscriber's
// pending sign-ins: a sign-in begun with a password that has since been changed cannot
// be finished with a phished code.
//
// Imports point one way: this package imports notify and risk (for RiskTravel's types); risk
// imports neither session nor protection; protection imports session and risk.
//
// # Storage
//
// Store is two small interfaces: Tokens (Create, Get, Touch) for the per-request path
// and Registry (List, Revoke, RevokeAll, ClearProofs) for management. store/memory.Session implements
// both; store/storetest.TestSessionStore is the contract any other adapter must pass,
// including atomic RevokeAll and single-winner Revoke under concurrency. Pending
// sign-ins are an optional capability of the store, [PendingStore] (memory.Session has
// it); store/storetest.TestSessionPending is its contract.
package session
