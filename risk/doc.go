// Package risk scores sensitive requests — sign-ins, SIM swaps, port-outs, account
// changes — from what the carrier knows about the subscriber: where they usually are,
// which devices they use, how fast they could have travelled, how busy the account is
// and what changed on it recently. A risky request needs more proof; the protection
// package turns the [Level] into that decision.
//
// # Getting started
//
//	svc, err := risk.New(risk.Config{UntrustedIPs: torAndHosting},
//		memory.NewRiskProfiles(memory.Options{}), memory.NewRiskGlobal(memory.Options{}))
//	...
//	a, err := svc.Assess(ctx, risk.Request{
//		Subscriber: id, Action: risk.ActionSIMSwap, Channel: risk.ChannelApp,
//		IP: clientIP, Geo: geo /* from risk/geoip */, Device: fingerprint,
//		UserAgent: r.UserAgent(), Account: facts,
//	})
//	if err != nil { /* a.Level is High: fail closed */ }
//	// ... ask for proof according to a.Level, then:
//	svc.Record(ctx, req, risk.Verified) // passed an established second factor
//	svc.Record(ctx, req, risk.Succeeded) // anything else that passed: a password alone
//	svc.Record(ctx, req, risk.Failed)
//
// and, once, wrap the publisher every carrierguard service publishes through:
//
//	pub, err := risk.NewFacts(outbox, svc, logger)
//
// [Service.Assess] never changes state; [Service.Record] does, after the proof step.
// Every request counts towards velocity; only a [Verified] one, a request that passed a
// second factor established before it, teaches the subscriber's profile its device and
// place and updates the global counts (online learning). A sign-in that proved only the
// password teaches nothing: the password is what a thief is most likely to have, and
// learning his phone would make his SIM swap look like the subscriber's.
//
// # The Scorer interface
//
// A [Scorer] turns a [Request] into an [Assessment]: a Score in [0, 1], a Level (Low,
// Medium, High) and the [Signal]s that fired, each with its value, weight and a short
// non-secret reason fit to show a support agent. [Service] is the built-in Scorer; the
// Freeman [Model] is one on its own; a carrier adds its own models through
// Config.Scorers and they are combined like the built-in signals.
//
// # Built-in signals
//
// Each signal yields a value in [0, 1]; names are the Signal* constants.
//
//   - new_device: the device fingerprint (or, without one, the user agent) never appeared
//     in the subscriber's successful logins (1); none supplied at all (0.5).
//   - new_location: unseen country (1), region (0.6) or city (0.3).
//   - home_distance: distance from the home area, the location of the subscriber's most
//     often seen city; 0 within HomeRadiusKm (100 km), rising linearly to 1 at FarKm
//     (2,000 km). "Normally in Miami, now in California" fires it fully.
//   - impossible_travel: the great-circle (haversine) distance from the last located
//     login, divided by the time since, exceeds MaxSpeedKmh (900 km/h). Moves within
//     HomeRadiusKm never count, so geolocation noise is not travel; the antimeridian and
//     the poles are handled by the formula.
//   - untrusted_ip: the address is listed by Config.UntrustedIPs (an [IPList] of CIDR
//     ranges such as anonymisers and hosting providers, loaded from text, or the
//     carrier's own [IPReputation]) (1); no address supplied (0.5): a missing IP is
//     itself a signal.
//   - velocity: MaxSensitive (3) sensitive requests or MaxFailures (5) failures within
//     VelocityWindow (1 h).
//   - port_velocity: a port-out after MaxPortRequests (4) failed port-out requests for
//     the line within PortWindow (24 h): a partner, or a thief with a partner's
//     credential, trying PINs.
//   - credential_change: a SIM swap or port-out within 72 h of a password, email,
//     trusted-contact or second-factor change, or of a protection flag being lifted: the
//     classic takeover chain.
//   - unverified_email: the account's email address is not verified.
//   - young_account: falls from 1 for a new account to 0 at 30 days.
//   - recent_sim_change: falls from 1 right after a SIM change to 0 at 7 days.
//   - freeman_model: the Freeman model below, calibrated onto [0, 1].
//
// # Combining and levels
//
// Signals combine as a noisy-OR: Score = 1 − Π(1 − weightᵢ·valueᵢ). A weight is thus the
// score its signal produces alone, several signals add up without ever exceeding 1, and
// no signal can lower the score. Weights ([DefaultWeights], overridden by
// Config.Weights; 0 disables) and the thresholds MediumAt (0.3) and HighAt (0.6) are
// policy: the defaults make a takeover-chain SIM swap or impossible travel High on its
// own, and a new region plus a new device plus distance from home High together.
//
// Every error fails closed: a malformed request (empty subscriber or action, a time in
// the future, coordinates out of range), a store error, or an error or panic of the IP
// reputation or a plugged-in scorer returns Level High and Score 1 with the error.
//
// # The Freeman model
//
// Freeman et al. ("Who Are You? A Statistical Approach to Measuring User Authenticity",
// NDSS 2016) score a login by the likelihood ratio of "attacker" against "this
// subscriber":
//
//	S = p(u|A)/p(u|L) × Π_k p(x_k) / p(x_k | u, L)
//
// p(u|A) = 1/(number of subscribers): attackers pick victims uniformly. p(u|L) is the
// subscriber's share of all legitimate logins. For each feature k the global frequency
// p(x_k) stands in for the attacker's distribution and the subscriber's own frequency
// p(x_k|u,L) for theirs. Two hierarchical features are used, as in the das-group
// reference implementation studied by Wiefling et al. (ACM TOPS 2022):
//
//	IP address → ASN → country                               weights 0.6 / 0.3 / 0.1
//	user agent → browser+version → OS+version → device type  0.5387 / 0.2680 / 0.1882 / 0.0051
//
// Each side of the ratio is the weighted sum of the frequencies at every level, so an
// unseen IP address from the subscriber's usual ISP still matches at the ASN and country
// levels. Global frequencies are smoothed: a value seen c times in n logins counts
// c/(n+M), an unseen one 1/(n+M), with M pseudo-values built up the hierarchy —
// M(country) = 1, M(ASN) = distinct countries + M(country), M(IP) = distinct ASNs +
// M(ASN), and likewise along the user-agent chain. When no level of a hierarchy matches
// the subscriber's history, its local likelihood is taken as a quarter of the global one
// (a factor of 4), as the reference does. User agents are parsed by
// github.com/mileusna/useragent, unless the request carries a parsed [Client]; the model
// keeps the parsed forms of a few hundred recently seen strings in a fixed-size cache.
//
// A subscriber with no learned logins is not scored by the model: it abstains (score 0,
// no signal), like new_device and new_location, which also need history to compare
// with. This is a policy choice. "No history" is ignorance, not evidence, and it covers
// two different subscribers: a brand-new account, whose newness young_account and
// unverified_email already weigh from facts the carrier holds (its age, its verified
// email), and an established account that simply has no recorded sign-in yet, such as
// every subscriber on the day carrierguard is deployed. Counting "no history" as risk
// in the model would count a new account's newness twice and step up every existing
// subscriber's first request for no reason the carrier could explain. So by default a
// new, verified account's first sign-in is Low (young_account alone, 0.25), an
// unverified one Medium (0.4), and a SIM swap or port-out still raises what it raises
// (credential_change, recent_sim_change, untrusted_ip, velocity). A carrier that wants
// every first request stepped up sets ModelConfig.NoHistoryScore (0.5 reaches Medium
// alone at the default weight).
//
// S is a likelihood ratio, so the calibrated score is the posterior probability of an
// attack given prior odds (ModelConfig.PriorOdds, default 0.2):
//
//	score = S·odds / (1 + S·odds)
//
// S = 5 maps to 0.5, S = 1 (no evidence either way) to 0.17, and a login from the
// subscriber's usual place and browser (S ≪ 1) to nearly 0; the mapping is monotone, so
// it changes no ranking, only where the levels fall. The default odds were chosen on the
// synthetic data of risk/cmd/rbaeval, where 99% of legitimate logins have S below 1.5
// (score below 0.23) and half of naive attacks S above 7 (score above 0.58). Carriers
// should check the mapping on their own logins with rbaeval and set PriorOdds to match.
//
// # Profiles and stores
//
// A [Profile] keeps, per [Feature], at most [MaxValues] (64) distinct values with their
// counts, most recently seen first; a new value at a full table evicts the least
// recently seen one, and a count that reaches 65,535 halves the table (ageing). Values
// are stored as 64-bit FNV-1a hashes, never raw. A profile is a fixed-size plain value
// (6,904 bytes; about 6.9 KiB per subscriber in the in-memory store), however long the
// history, together with the last time of each account change. Global counts ([GlobalStore]) are exact in the in-memory adapter.
// Both store interfaces are small and covered by store/storetest.
//
// Geolocation lives in risk/geoip (MaxMind City and ASN databases); the evaluation
// command risk/cmd/rbaeval replays a login dataset against the model.
//
// # Wiring
//
// This package imports only notify, the event vocabulary (a leaf), for [Facts]; the
// packages that read its judgements hold the adapters:
//
//   - protection.RiskFromScorer(svc, build) makes any [Scorer] the RiskAssessor of
//     protection's Service, which then scores every request it decides, maps [Level]
//     with protection.RiskLevelOf, and denies on any error or unassessed level.
//   - session.RiskTravel(svc, geoLocator) makes [Service.ImpossibleTravel] the travel
//     check of the session registry: a session's move between two addresses is judged
//     by the same haversine distance, MaxSpeedKmh and HomeRadiusKm as the
//     impossible_travel signal, and an impossible one revokes the session.
//
// # Account changes flow by themselves
//
// The takeover chain is "get in, change a credential, swap the SIM". carrierguard's
// services publish a [notify.Event] for every account change, so risk learns the changes
// from those events instead of from the integrator: [Facts] wraps the publisher they all
// publish through and records each change ([ChangeOf]: password, email, trusted contact,
// second factor or security questions, a lifted protection flag, a completed SIM swap)
// with its time in the subscriber's profile. [Service.Assess] then takes, for each change,
// the later of the recorded time and the one in [Account], so credential_change and
// recent_sim_change fire with no Account field filled. The event is published first and
// never refused or lost because of risk; a change that cannot be recorded is logged (see
// [Facts] for why that does not fail closed, and what does). Integrators with their own
// event bus call [Service.Observe]; changes made outside carrierguard go to
// [Service.NoteChange].
//
// Account.EmailVerified comes from package status and Account.Created from the
// carrier's records; Account.SIMChanged may come from protection's SIM-change history
// (LastSIMChange) as well.
//
// # Channels: the subscriber's device, agents and partners
//
// Device, browser, location and IP signals and the Freeman model describe the
// subscriber's own device, so they apply only on the app, the web and unknown channels
// ([Channel.SubscriberClient]). A request through a support agent (phone, chat, retail)
// or a partner's system (api: the gaining carrier's port-out) is scored on the account
// signals only, and nothing about its client is learned: a normal partner port-out with
// the PIN on an established account is Low, while a recent SIM change, a young account,
// an unverified email, a credential change or repeated failed port-outs still raise it.
// The channel must come from the caller's credential, never from a request field.
//
// # Strangers
//
// A request for a subscriber risk has never seen creates a provisional profile, one that
// has learned no sign-in and recorded no change: it is all that failed sign-ins for
// invented emails can create. Provisional profiles hold only velocity history, so they
// are read as empty after Config.StrangerTTL (24 h) and at most Config.MaxStrangers
// (10,000) are kept: [Service.Record] prunes them through [ProfileStore] whenever it
// creates one. A flood of invented identities keeps the store's size flat, and never
// evicts an established profile.
package risk
