// Package protection decides, for every sensitive request on a subscriber's account,
// whether to allow it, ask for more proof, hold it or deny it, and says why. It also
// keeps what those decisions rest on: the free protection flags (Never SIM Swap, No Port
// Out, Account Lockdown), the SIM-change history the FCC requires, and transfer PINs.
//
// Criminals hijack phone numbers with fraudulent SIM swaps and port-outs, usually by
// talking a support agent into one, and then take over the victim's bank and email.
// This package is where a carrier's rules against that live, as data that can be read,
// tested and audited.
//
// # Getting started
//
//	st := memory.NewProtection(memory.Options{}) // or your own adapter
//	// The twofactor service, built next on this one, tells whether 2FA is on (SIM
//	// changes are held while it is off) and which factors are still on file.
//	var tf *twofactor.Service
//	state, factors := protection.TwoFactorLater(&tf)
//	svc, err := protection.New(protection.Config{PINKey: key, TwoFactor: state, Factors: factors},
//		protection.Stores{Flags: st, History: st, PINs: st}, publisher)
//
//	// A SIM swap asked for in the app, with what the app has verified so far.
//	res, err := svc.RequestSIMChange(ctx, protection.ChangeRequest{
//		Subscriber: id, Number: "+15550104477", Kind: protection.ChangeSIMSwap,
//		Channel: protection.ChannelApp, Risk: level, Evidence: evidence,
//	})
//	switch res.Decision.Outcome {
//	case protection.Allow:  // provision the SIM, then svc.CompleteSIMChange(ctx, res.RequestID, actor)
//	case protection.StepUp: // offer res.Decision.Missing(), then call again with res.RequestID
//	case protection.Hold:   // carry it out at res.Decision.HoldUntil
//	case protection.Deny:   // show res.Decision.Message()
//	}
//
// For other sensitive actions (changing the email, password, payment method...) call
// [Service.Decide] with an [Action]. [Policy.Evaluate] is the pure decision underneath,
// for callers that keep flags and risk themselves.
//
// # Vocabulary
//
// A [Request] names an [Action] (SIM swap, eSIM transfer, port-out, credential and
// account changes, turning a flag off, viewing account details, issuing a transfer PIN),
// the [Channel] it came from (app, web, chat, phone, store, partner API), the [Flags]
// that are on, the [RiskLevel] (low, medium, high) and the [Evidence] given, each piece
// with the time it was obtained.
//
// Evidence comes from other packages and the integrator converts it: a twofactor proof
// becomes [EvidenceContactCode] (with its [ContactKind]: email, SMS or voice),
// [EvidenceAuthenticator] or [EvidenceRecoveryCode]; an agent's verification of security
// questions becomes [EvidenceSecurityQuestions]; a store employee's ID check becomes
// [EvidenceGovernmentID]; the signed-in session becomes [EvidenceSession] with its
// sign-in time ([SessionEvidence] does this from package session's registry).
// [Service.VerifyTransferPIN] returns [EvidenceTransferPIN] itself. The risk level comes
// from package risk or the carrier's scorer, either on the request or through a
// [RiskAssessor] ([RiskFromScorer]). See Wiring below.
//
// # Decisions
//
// A [Decision] has an [Outcome] (Allow, Hold, StepUp, Deny, in that order of
// strictness), machine-readable [Reason] codes, a human sentence from
// [Decision.Message], and for a step-up the [Decision.Alternatives]: evidence sets any one
// of which would satisfy the policy, so the UI can offer choices. Evidence counts only if
// it is fresh (codes 10 minutes, a re-entered password or agent-verified questions 15
// minutes, an ID check 30 minutes, a session 12 hours), obtainable on the request's
// channel (an "ID check" claimed in the app is ignored), and, for an SMS or voice code,
// sent to a number with no SIM change or port in the last 7 days; [Service.Decide] looks
// that up in the SIM-change history when the evidence names its Destination.
//
// # Which proof counts for what
//
// A second-factor proof (a contact code, an authenticator code, a recovery code) counts
// only toward the actions of the purpose it was given for ([Evidence.Purpose];
// [PurposeFor] gives the table, [PolicyConfig].Purposes overrides it): a SIM swap takes
// a proof for otp.PurposeSIMSwap, a port-out or transfer PIN one for PurposePortOut,
// turning 2FA off or removing a contact one for PurposeDisableTwoFactor, adding a factor
// or turning 2FA on one for PurposeAddFactor, lifting a flag one for the purpose of what
// the flag guards ([PurposeForFlag]: Never SIM Swap a SIM-swap proof, No Port Out a
// port-out proof, Account Lockdown an account-change proof), every other change one for
// PurposeAccountChange. A code's message names its purpose, so a subscriber talked into
// reading out a code "for account change" has not agreed to a SIM swap; an app or
// recovery code is bound to the step-up it was entered for. Codes an agent has the
// caller read out are no different: send them for the purpose of the action. A sign-in
// proof (PurposeSignIn) counts toward nothing: the session stands for the sign-in. Any
// other proof is ignored with [ReasonEvidenceWrongPurpose].
//
// # Probation of new factors
//
// A factor added or changed recently is not yet trusted for what a thief who added his
// own would do next. For a SIM swap, eSIM transfer, port-out, transfer PIN, lifting a
// flag, turning 2FA off, removing a trusted contact or turning 2FA on, a proof from a
// factor added within the probation ([DefaultProbation]: 7 days; [PolicyConfig].Probation
// per action) does not count ([ReasonFactorInProbation]); [Evidence.FactorAddedAt] says
// when it was added (a contact's verification, an app's confirmation, a recovery-code
// set's generation), and a zero time counts as new. A step-up then names the same
// evidence kinds, which an established factor can give. Package twofactor enforces the
// probation of adding a factor, turning 2FA on or off and removing a contact itself;
// [FactorGate] reports this policy's probation for those to twofactor.New, which takes
// it as twofactor's default and refuses a shorter one.
//
// # No instant SIM change on a new factor
//
// A SIM swap, eSIM transfer or port-out asked for in the app or on the web whose only
// second factor is in probation (an account whose first contact is a week old or less,
// or one whose owner's factors were replaced) is not carried out at once but held for
// [PolicyConfig].ProbationHold (24 hours by default; [ReasonProbationHold]), during
// which every contact on file is told and the subscriber can cancel. When the hold
// comes due it is re-decided ([Service.ApplyDueHolds], [Service.CompleteSIMChange])
// with the evidence judged as of the decision: the factor was new then and the hold is
// the remedy, so the request completes, whether or not the factor is established by
// now, unless something else changed meanwhile: a flag turned on, a higher risk, a
// contact number's SIM changed. Elsewhere such a request steps up. [NewPolicy] refuses a policy without a probation for these actions
// or with a hold shorter than an hour.
//
// The same hold applies, whatever the evidence, while the subscriber has two-step
// verification off ([Request].TwoFactorOff, filled in by [Service.Decide] from
// [Config].TwoFactor; [ReasonTwoFactorOffHold]): with only a password guarding
// sign-in, the owner must hear of a SIM change, and be able to cancel it, before the
// number moves. Config.TwoFactor is required, like Config.Factors: pass the twofactor
// service ([TwoFactorLater] gives both for one built after this service, as twofactor
// needs this one first); [TwoFactorFromRequest] and [FactorsAsGiven] are the explicit
// choices of a caller that does without.
//
// # Adding a way to sign in
//
// Adding a trusted contact, an authenticator app or recovery codes, and turning 2FA on,
// are sensitive actions too: [ActionAddFactor], [ActionAddFirstFactor] (an account with
// no factor yet, 2FA off: the session and a fresh password are all there is) and
// [ActionEnableTwoFactor]. Package twofactor asks [FactorGate] before each such change,
// so Account Lockdown and the risk assessment apply to them; twofactor itself requires
// a proof for otp.PurposeAddFactor from a factor already on file (from an established one
// while 2FA is on, and to turn it on), never from the factor being added.
//
// Malformed requests (unknown action or channel, evidence from the future) return an
// error wrapping [ErrInvalidRequest]. Every error comes with a Deny decision: a store or
// risk-scorer failure denies with [ReasonFault] and [ReasonStoreFault] or
// [ReasonRiskFault], never allows.
//
// # The default policy
//
// Alternatives by channel at low risk with no flag on. S session, P password re-entered,
// C trusted-contact code, A authenticator code, R recovery code, Q security questions
// verified by an agent, T transfer PIN, I government ID checked in store; "SC SA" means
// S+C or S+A; "-" means never on that channel.
//
//	action                     app, web      chat    phone   store         partner  high risk
//	sim_swap                   SC            -       -       CI            -        +1, store only
//	esim_transfer              SC            -       -       CI            -        +1, store only
//	port_out                   -             CT      -       CI TI         T        +1, store only
//	change_email               SPC SPA SCA   -       -       CI            -        +1, store only
//	change_phone_contact       SPC SPA SCA   -       -       CI            -        +1, store only
//	change_password            SPC SPA SCA   -       -       CI            -        +1, store only
//	change_shipping_address    SP SC SA      CQ      CQ      I             -        +1, hold 24h
//	change_payment_method      SP SC SA      CQ      CQ      I             -        +1, hold 24h
//	change_lines               SPC SCA       -       -       CI            -        +1, store only
//	disable_two_factor         SPC SPA SPR   -       -       CI            -        +1, store only
//	remove_trusted_contact     SPC SPA SPR   -       -       CI            -        +1, store only
//	change_security_questions  SPC SPA SCA   -       -       CI            -        +1, store only
//	disable_flag               SPC SCA       -       -       CI            -        +1, store only
//	view_account               S             C       C       C I           -        +1, store only
//	issue_transfer_pin         SC SA         -       -       CI            -        +1, store only
//	add_factor                 SPC SPA SPR   -       -       I             -        +1, store only
//	add_first_factor           SP            -       -       I             -        +1, store only
//	enable_two_factor          SPC SPA SCA   -       -       I             -        +1, store only
//
// Medium risk adds a factor (but not to add_first_factor: an account with no factor has
// none to add): every alternative needs one more of P, C, A, Q or I (on a
// channel that cannot provide one, the request is denied there and the decision points
// to the store). High risk adds the same factor and either sends the request to a store
// or holds it for a day so the subscriber hears of it first.
//
// Flags tighten the table:
//   - Never SIM Swap: SIM swaps and eSIM transfers only in a store, with I and C (or by
//     turning the flag off, which takes its cooling-off period).
//   - No Port Out: a port-out needs T, C and Q together, so it can only be authorised
//     through an agent in chat or a store, never by the partner API alone.
//   - Account Lockdown: every change (all actions but viewing) also needs C+Q or I, which
//     in practice sends changes to an agent or a store.
//
// The choices and why: SIM changes are never carried out on a phone call (or chat, or a
// partner API) because that is where social engineering works; they need a signed-in
// session or a store with ID, plus a fresh trusted-contact code (FCC 23-95, GUIDE 5).
// Security questions add assurance but are never enough alone for a SIM change, port-out
// or credential change. Credential changes need full reauthentication (OWASP ASVS).
// Turning a flag off needs the strongest evidence (session, password or authenticator,
// and a contact code; or ID and a code in a store) and still waits out a cooling-off.
//
// The policy is data: [DefaultRules] returns it as a map of [Rule] values (alternatives
// per channel, [FlagOverlay], [RiskOverlay]); change a copy and pass it in
// [PolicyConfig].Rules to override single actions. [NewPolicy] compiles every
// combination of action, channel, flags and risk into a table (so [Policy.Evaluate] does
// not allocate) and refuses any policy that would allow a SIM change on a phone call, let
// Never SIM Swap be bypassed outside a store, accept security questions alone, accept no
// evidence, or become more lenient when a flag is turned on or the risk rises.
//
// # Flags
//
// Turning a flag on ([Service.EnableFlag]) is immediate, free and allowed from any
// authenticated channel: it only ever tightens. Turning one off
// ([Service.RequestFlagDisable]) is decided as [ActionDisableFlag] and, if permitted,
// takes effect only after a cooling-off period (24 hours by default) during which the
// subscriber is notified and can cancel ([Service.CancelFlagDisable]). The flag goes off
// the first time it is read after the period ([Service.Flags], [Service.Decide]); a
// periodic [Service.ApplyDue] does the same for every subscriber, so no background
// goroutine is needed. Events: notify.ProtectionFlagEnabled,
// ProtectionFlagDisableRequested, ProtectionFlagDisableCancelled, ProtectionFlagDisabled.
//
// Events and the outbox: the notify.Publisher is expected to be a durable outbox (ideally
// written in the same transaction as the stores), so a Publish error means the event
// was not recorded. Whatever weakens protection is therefore announced before it is
// applied: DisableRequested is published before the disable is scheduled, and Disabled
// before the flag goes off; if publishing fails, nothing is weakened, the error is
// returned and Decide fails closed until the outbox accepts the event. Such events are
// delivered at least once (a race at the due time can publish Disabled twice; the copies
// share subscriber, flag and effective_at). What only tightens (turning a flag on,
// cancelling a disable) is applied first and then announced.
//
// # SIM-change history
//
// Every SIM swap, eSIM transfer and port-out request is recorded, with a record per
// step (requested, pending, approving, approved, denied, completed) holding the number,
// time, channel, actor, decision and evidence; [Service.RecordPortIn] records numbers
// ported in. Records are kept 3 years by default; run [Service.PurgeHistory] daily. The
// requested event is published before anything is decided, then the approved, denied and
// completed ones (notify.SIMSwap* with attribute sim=physical or sim=esim,
// notify.PortOut*). An approval is recorded as approving, announced, and only then
// recorded as approved, the state [Service.CompleteSIMChange] requires; if the approved
// event cannot be published, the caller gets Deny with [ReasonFault], and the history
// and a denied event say so too. [SIMChangeChecker] is the small query interface package
// twofactor and a CAMARA SIM Swap API use: the last SIM change of a number, and whether
// it changed within a window.
//
// # Approvals: expiry, re-decision, cancel
//
// An approval does not wait forever: it expires [Config].ApprovalTTL (one hour by
// default) after the decision, or after the hold ends if it was held, and
// [Service.CompleteSIMChange] refuses it then ([ErrApprovalExpired]). Completing
// re-decides the stored request with the flags and risk of that moment and the
// SIM-change status of code destinations looked up again, judging the evidence's
// freshness as of the decision (otherwise no hold could ever complete); if it no longer
// permits, the request is recorded and announced as denied ([ErrNoLongerPermitted]). The
// record moves from approved to completed in one compare-and-set, so a cancel that wins
// the race is never overtaken. [Service.CancelSIMChange] cancels an open request for the
// subscriber (any signed-in session) or an agent; [Service.CancelSIMChangeByToken] takes
// the single-use token the approved event carries for the notice's cancel link (only its
// keyed hash is stored). Turning a flag on with [Service.EnableFlag] cancels the open
// approvals and holds it forbids. [Service.ApplyDueHolds] re-decides the holds that have
// come due and returns those still permitted, for the carrier to complete. With
// [Config].Factors set (package twofactor's state through [FactorsFromTwoFactor]), the
// re-decision also drops evidence whose factor is gone: a held swap resting on a
// contact the owner removed meanwhile no longer passes.
//
// # Partners
//
// [Service.PartnerPortOut] decides a partner's port-out together with its transfer PIN:
// the PIN is checked without being spent and spent only if the policy permits. A
// partner learns only accepted (with a reference) or not: every rejection (no customer,
// no PIN, a wrong, used or locked PIN, a flag, the risk) is the same zero
// [PartnerAnswer], audited in the history without notifying the subscriber, and rejected
// requests are limited per partner (Config.PartnerLimit per PartnerWindow,
// [ErrPartnerLimited]).
//
// # Transfer PINs
//
// [Service.IssueTransferPIN] issues the PIN a port-out needs: 6 digits by default, drawn
// from crypto/rand without modulo bias, stored only as an HMAC keyed with Config.PINKey
// and bound to the subscriber, valid 7 days and for one port-out, and announced with
// notify.TransferPINIssued (a PIN whose issue cannot be announced is revoked at once).
// [Service.VerifyTransferPIN] consumes it atomically.
//
// Wrong PINs are counted per subscriber, across PINs: issuing a new PIN never resets the
// count (GUIDE 4); only a correct PIN does. Every 5th wrong PIN in a row (PINMaxFailures)
// destroys the live PIN, locks the subscriber's transfer PINs for an hour (PINLockout)
// and publishes notify.Lockout, since someone may be trying to port the number out. The
// subscriber is not stuck until the PIN would have expired: passing the policy for
// [ActionIssueTransferPIN] again gives a new PIN at once, which inherits the count and
// the lockout (it works when the lockout ends; its event says "usable_from"). So a
// guesser gets at most 5 tries per PIN, and only the authenticated, notified subscriber
// can make another. [Service.RevokeTransferPIN] destroys the live PIN (keeping the count)
// and, as it only tightens, publishes nothing.
//
// # Wiring
//
// Three joins connect this package to the rest of carrierguard; imports point one way
// (protection imports risk, session and twofactor; none of them imports protection).
//
// Risk, from package risk. Set Config.Risk to [RiskFromScorer](scorer, build) with the
// carrier's *risk.Service (or any risk.Scorer), and Decide scores every request itself:
//
//	cfg.Risk = protection.RiskFromScorer(riskService,
//		func(ctx context.Context, subscriber string, req protection.Request) (risk.Request, error) {
//			c := clientFrom(ctx) // what the HTTP handler put there: IP, Geo, device, account facts
//			return risk.Request{IP: c.IP, Geo: c.Geo, Device: c.Device, UserAgent: c.UA, Account: c.Account}, nil
//		})
//
// The adapter fills in the subscriber, the action ([RiskAction]), the channel
// ([RiskChannel]) and the time, and maps the level with [RiskLevelOf]. It fails closed:
// a scorer or build error, a panic, or an unassessed (zero) level denies the request
// with [ReasonFault] and [ReasonRiskFault] ([ErrRiskUnassessed]). The request's own Risk
// stays a floor. After the proof step, report the outcome to risk with Record.
//
// Sessions, from package session. On the app and web channels, build the session part of
// the evidence from the registry, not from what the client says:
//
//	s, err := sessions.Validate(ctx, token, client) // or sessions.StepUp after a new proof
//	proof := stepUps.For(s.ID, protection.PurposeFor(protection.ActionSIMSwap)) // your record of the session's step-ups
//	second, err := protection.EvidenceFromProof(tf, subscriber, proof)        // kind, purpose, factor age
//	ev, err := protection.SessionEvidence(subscriber, s, second)
//	res, err := svc.RequestSIMChange(ctx, protection.ChangeRequest{..., Evidence: ev})
//
// [SessionEvidence] gives [EvidenceSession] at the sign-in time, [EvidencePassword] at
// the last password entry and the second factor at its last proof in the session, so the
// freshness windows above judge the registry's times: a step-up answered with a fresh
// code is recorded with session's StepUp and counts at once; a sign-in code 11 minutes
// old, a password 16 minutes old or a session 13 hours old does not.
//
// Second-factor proofs, from package twofactor. [EvidenceFromProof](tf, subscriber, proof)
// checks the proof's tag with the *twofactor.Service that issued it and that it belongs
// to subscriber (Evidence itself names no subscriber, so an unchecked proof for Alice
// could otherwise count for Bob), then maps it: a contact code to [EvidenceContactCode]
// with its kind and destination, an authenticator code to [EvidenceAuthenticator], a
// recovery code to [EvidenceRecoveryCode], each obtained at the proof's time so the
// freshness windows apply, with the proof's purpose and its factor's age. Keep the
// session's step-up proofs server-side and pass [SessionEvidence] the one given for the
// action's purpose ([PurposeFor]): never the sign-in proof. Wire [FactorGate] into
// twofactor.Deps.Gate.
//
// # Storage
//
// [FlagStore], [HistoryStore] and [PINStore] are the store interfaces, with atomic
// single-use and completion operations; [DueDisables] is an optional capability for
// [Service.ApplyDue]. store/memory implements them, and store/storetest holds the
// conformance suites any adapter must pass.
package protection
