package protection

import (
	"fmt"
	"math/bits"
	"slices"
	"time"

	"github.com/carrierguard/carrierguard/otp"
)

// Rule is the policy for one action, as data.
type Rule struct {
	// Channels maps each channel the action may be requested on to its alternatives:
	// any one evidence set, complete and fresh, satisfies the rule. A channel that is
	// absent, or maps to no alternatives, never allows the action.
	Channels map[Channel][]EvidenceKinds
	// Flags are overlays that apply while a flag is on, keyed by single flag.
	Flags map[Flags]FlagOverlay
	// Risk are overlays that apply at RiskMedium and RiskHigh: the overlay of the
	// request's level applies (a High overlay does not inherit the Medium one).
	Risk map[RiskLevel]RiskOverlay
}

// FlagOverlay tightens a rule while a protection flag is on.
type FlagOverlay struct {
	// OnlyChannels, if not empty, limits the action to these channels while the flag is on.
	OnlyChannels []Channel
	// Require, if not empty, must be met as well: every alternative is combined with one
	// of these sets.
	Require []EvidenceKinds
}

// RiskOverlay tightens a rule at a risk level.
type RiskOverlay struct {
	// AddOneOf adds a factor: every alternative must be completed with one more kind from
	// this set that it does not already contain.
	AddOneOf EvidenceKinds
	// Deny lists channels on which the action is denied at this level (the decision
	// names another channel, such as a store, when one remains).
	Deny []Channel
	// Hold lists channels on which a satisfied request is held for HoldFor rather than
	// allowed at once.
	Hold    []Channel
	HoldFor time.Duration
}

// PolicyConfig configures NewPolicy. The zero value is the default policy.
type PolicyConfig struct {
	// Rules replaces the default rule of each action it names; other actions keep
	// DefaultRules. Every rule, default or not, must pass the invariants NewPolicy checks.
	Rules map[Action]Rule
	// Freshness overrides how long each evidence kind counts after it was obtained.
	// Defaults: session 12h, password 15m, contact code 10m, authenticator 10m,
	// recovery code 10m, security questions 15m, transfer PIN 10m, government ID 30m.
	Freshness map[EvidenceKind]time.Duration
	// ChannelEvidence overrides which evidence kinds can be obtained on a channel;
	// evidence of other kinds is ignored there. Defaults: app and web: session,
	// password, contact code, authenticator, recovery code; chat and phone: contact code,
	// security questions, transfer PIN; store: government ID, contact code, security
	// questions, transfer PIN; partner: transfer PIN.
	ChannelEvidence map[Channel]EvidenceKinds
	// SIMChangeWindow is how recent a SIM change or port of a number must be for an SMS
	// or voice code sent to it not to count. Zero means 7 days. Service.Decide uses it.
	SIMChangeWindow time.Duration
	// ClockSkew is how far in the future evidence may be dated before it is rejected.
	// Zero means none.
	ClockSkew time.Duration
	// Purposes overrides, per action, the purpose a second-factor proof must have been
	// given for to count toward it (PurposeFor gives the defaults). An entry for
	// ActionDisableFlag applies to every flag; without one, the purpose of what the flag
	// being lifted guards (PurposeForFlag of Request.Flag) applies.
	Purposes map[Action]otp.Purpose
	// Probation overrides, per action, how long after its factor was added or changed a
	// second-factor proof does not count toward the action (DefaultProbation: 7 days for
	// SIM swaps, eSIM transfers, port-outs, transfer PINs, lifting a flag, turning 2FA
	// off, removing a trusted contact and turning 2FA on; none for the rest). Adding a
	// factor has none here because the rule differs with 2FA: while it is on, package
	// twofactor itself takes the proof only from a factor past its probation; while it
	// is off, a code from any verified contact on file will do. An entry of zero means no probation for that action; SIM swaps, eSIM
	// transfers and port-outs must keep one (NewPolicy refuses zero).
	Probation map[Action]time.Duration
	// ProbationHold is how long a SIM swap, eSIM transfer or port-out asked for in the
	// app or on the web is held when its only second factor is in probation, instead of
	// being carried out at once: the subscriber's contacts on file hear of it and can
	// cancel meanwhile. Zero means 24 hours; at least one hour.
	ProbationHold time.Duration
	// Now is used by Evaluate when Request.At is zero. Nil means time.Now.
	Now func() time.Time
}

// DefaultFreshness returns the default freshness window of every evidence kind.
func DefaultFreshness() map[EvidenceKind]time.Duration {
	return map[EvidenceKind]time.Duration{
		EvidenceSession:           12 * time.Hour,
		EvidencePassword:          15 * time.Minute,
		EvidenceContactCode:       10 * time.Minute,
		EvidenceAuthenticator:     10 * time.Minute,
		EvidenceRecoveryCode:      10 * time.Minute,
		EvidenceSecurityQuestions: 15 * time.Minute,
		EvidenceTransferPIN:       10 * time.Minute,
		EvidenceGovernmentID:      30 * time.Minute,
	}
}

// DefaultProbation returns the default probation of every action that has one: how long
// after its factor was added or changed a second-factor proof does not count toward it.
func DefaultProbation() map[Action]time.Duration {
	const week = 7 * 24 * time.Hour
	return map[Action]time.Duration{
		ActionSIMSwap:              week,
		ActionESIMTransfer:         week,
		ActionPortOut:              week,
		ActionIssueTransferPIN:     week,
		ActionDisableFlag:          week,
		ActionDisableTwoFactor:     week,
		ActionRemoveTrustedContact: week,
		ActionEnableTwoFactor:      week,
	}
}

// DefaultChannelEvidence returns which evidence kinds each channel can obtain by default.
func DefaultChannelEvidence() map[Channel]EvidenceKinds {
	online := Kinds(EvidenceSession, EvidencePassword, EvidenceContactCode, EvidenceAuthenticator, EvidenceRecoveryCode)
	agent := Kinds(EvidenceContactCode, EvidenceSecurityQuestions, EvidenceTransferPIN)
	return map[Channel]EvidenceKinds{
		ChannelApp:     online,
		ChannelWeb:     online,
		ChannelChat:    agent,
		ChannelPhone:   agent,
		ChannelStore:   agent | Kinds(EvidenceGovernmentID),
		ChannelPartner: Kinds(EvidenceTransferPIN),
	}
}

// DefaultRules returns a fresh copy of the default policy, one rule per action; see the
// package documentation for it as a table. Change the copy and pass the rules you change
// in PolicyConfig.Rules.
func DefaultRules() map[Action]Rule {
	var (
		S = Kinds(EvidenceSession)
		P = Kinds(EvidencePassword)
		C = Kinds(EvidenceContactCode)
		A = Kinds(EvidenceAuthenticator)
		R = Kinds(EvidenceRecoveryCode)
		Q = Kinds(EvidenceSecurityQuestions)
		T = Kinds(EvidenceTransferPIN)
		I = Kinds(EvidenceGovernmentID)
	)
	alts := func(a ...EvidenceKinds) []EvidenceKinds { return a }
	online := func(a ...EvidenceKinds) map[Channel][]EvidenceKinds {
		return map[Channel][]EvidenceKinds{ChannelApp: a, ChannelWeb: slices.Clone(a)}
	}
	with := func(m map[Channel][]EvidenceKinds, c Channel, a ...EvidenceKinds) map[Channel][]EvidenceKinds {
		m[c] = a
		return m
	}
	extra := P | C | A | Q | I
	// strict: high risk is never handled remotely: only in a store.
	strict := func() map[RiskLevel]RiskOverlay {
		return map[RiskLevel]RiskOverlay{
			RiskMedium: {AddOneOf: extra},
			RiskHigh: {AddOneOf: extra, Deny: []Channel{
				ChannelApp, ChannelWeb, ChannelChat, ChannelPhone, ChannelPartner}},
		}
	}
	// moderate: high risk is held for a day, so the subscriber hears of it first.
	moderate := func() map[RiskLevel]RiskOverlay {
		return map[RiskLevel]RiskOverlay{
			RiskMedium: {AddOneOf: extra},
			RiskHigh: {AddOneOf: extra, Hold: []Channel{
				ChannelApp, ChannelWeb, ChannelChat, ChannelPhone}, HoldFor: 24 * time.Hour},
		}
	}
	lockdown := func() map[Flags]FlagOverlay {
		return map[Flags]FlagOverlay{AccountLockdown: {Require: alts(C|Q, I)}}
	}
	simChange := func() Rule {
		flags := lockdown()
		flags[NeverSIMSwap] = FlagOverlay{OnlyChannels: []Channel{ChannelStore}, Require: alts(I | C)}
		return Rule{
			Channels: with(online(S|C), ChannelStore, I|C),
			Flags:    flags,
			Risk:     strict(),
		}
	}
	credential := func(a ...EvidenceKinds) Rule {
		return Rule{Channels: with(online(a...), ChannelStore, I|C), Flags: lockdown(), Risk: strict()}
	}
	factor := func(a ...EvidenceKinds) Rule {
		return Rule{Channels: with(online(a...), ChannelStore, I), Flags: lockdown(), Risk: strict()}
	}
	// firstFactor: an account with no factor has nothing more to give online, so medium
	// risk cannot ask for one; high risk goes to a store. What the new factor can then do
	// is bounded by its probation.
	firstFactor := func() Rule {
		r := factor(S | P)
		r.Risk = map[RiskLevel]RiskOverlay{RiskHigh: {Deny: []Channel{ChannelApp, ChannelWeb, ChannelChat, ChannelPhone, ChannelPartner}}}
		return r
	}
	everyday := func() Rule {
		ch := with(online(S|P, S|C, S|A), ChannelStore, I)
		ch[ChannelChat] = alts(C | Q)
		ch[ChannelPhone] = alts(C | Q)
		return Rule{Channels: ch, Flags: lockdown(), Risk: moderate()}
	}
	portFlags := lockdown()
	portFlags[NoPortOut] = FlagOverlay{Require: alts(T | C | Q)}
	return map[Action]Rule{
		ActionSIMSwap:      simChange(),
		ActionESIMTransfer: simChange(),
		ActionPortOut: {
			Channels: map[Channel][]EvidenceKinds{
				ChannelPartner: alts(T),
				ChannelChat:    alts(T | C),
				ChannelStore:   alts(I|T, I|C),
			},
			Flags: portFlags,
			Risk:  strict(),
		},
		ActionChangeEmail:             credential(S|P|C, S|P|A, S|C|A),
		ActionChangePhoneContact:      credential(S|P|C, S|P|A, S|C|A),
		ActionChangePassword:          credential(S|P|C, S|P|A, S|C|A),
		ActionChangeSecurityQuestions: credential(S|P|C, S|P|A, S|C|A),
		ActionDisableTwoFactor:        credential(S|P|C, S|P|A, S|P|R),
		ActionRemoveTrustedContact:    credential(S|P|C, S|P|A, S|P|R),
		ActionDisableFlag:             credential(S|P|C, S|C|A),
		ActionChangeLines:             credential(S|P|C, S|C|A),
		ActionIssueTransferPIN:        credential(S|C, S|A),
		// Adding a way to sign in is a credential change too: with one on file, it needs
		// a code from it (for otp.PurposeAddFactor, past its probation) and the password;
		// the first one, with 2FA off, the password alone (twofactor decides which
		// applies). In a store, an ID check.
		ActionAddFactor:             factor(S|P|C, S|P|A, S|P|R),
		ActionAddFirstFactor:        firstFactor(),
		ActionEnableTwoFactor:       factor(S|P|C, S|P|A, S|C|A),
		ActionChangeShippingAddress: everyday(),
		ActionChangePaymentMethod:   everyday(),
		ActionViewAccount: {
			Channels: with(with(with(online(S), ChannelChat, C), ChannelPhone, C), ChannelStore, I, C),
			// Account details (CPNI) are what an attacker gathers before a SIM swap or
			// port-out, so high risk sends viewing to a store like the other actions.
			Risk: strict(),
		},
	}
}

// questionsNeverAlone are the actions security questions can never authorise alone:
// SIM changes, port-outs and credential changes.
var questionsNeverAlone = [...]Action{
	ActionSIMSwap, ActionESIMTransfer, ActionPortOut, ActionChangeEmail, ActionChangePhoneContact,
	ActionChangePassword, ActionChangeSecurityQuestions, ActionDisableTwoFactor,
	ActionRemoveTrustedContact, ActionDisableFlag, ActionIssueTransferPIN, ActionAddFactor,
	ActionAddFirstFactor, ActionEnableTwoFactor,
}

// entry is the compiled rule for one action, channel, flag set and risk level.
type entry struct {
	alts    []EvidenceKinds // minimal alternatives; nil means denied
	reasons ReasonSet       // reasons that apply whatever the evidence
	hold    time.Duration   // >0: a satisfied request is held this long
}

const numFlagSets = int(allFlags) + 1

func index(a Action, c Channel, f Flags, r RiskLevel) int {
	return ((int(a)*int(numChannels)+int(c))*numFlagSets+int(f))*int(numRisk) + int(r)
}

// Policy decides on requests. It is immutable after NewPolicy and safe for concurrent
// use. Build it once: NewPolicy precomputes every decision's alternatives, so Evaluate
// does not allocate.
type Policy struct {
	table         []entry
	fresh         [numEvidence]time.Duration
	obtainable    [numChannels]EvidenceKinds
	purpose       [numActions]otp.Purpose
	probation     [numActions]time.Duration
	probationHold time.Duration
	simWindow     time.Duration
	skew          time.Duration
	now           func() time.Time
}

// NewPolicy builds and validates a policy. Besides well-formedness, it enforces these
// invariants on every rule, including overrides, and returns an error wrapping
// ErrInvalidPolicy that names the rule that breaks one:
//   - SIM swaps and eSIM transfers are never carried out on a phone call, chat or
//     partner API: only from a signed-in session or a store with ID, always with a
//     trusted-contact code;
//   - with Never SIM Swap on, SIM swaps and eSIM transfers happen only in a store, with
//     a government ID and a trusted-contact code;
//   - security questions alone never authorise a SIM change, port-out or credential change;
//   - no alternative is empty (nothing is allowed without evidence);
//   - turning a flag on, or raising the risk level, never relaxes a decision;
//   - no instant self-service SIM change without an established factor: SIM swaps, eSIM
//     transfers and port-outs keep a probation, and the hold that replaces an instant
//     change on a new factor alone lasts at least an hour.
func NewPolicy(cfg PolicyConfig) (*Policy, error) {
	p := &Policy{
		table:     make([]entry, int(numActions)*int(numChannels)*numFlagSets*int(numRisk)),
		simWindow: cfg.SIMChangeWindow,
		skew:      cfg.ClockSkew,
		now:       cfg.Now,
	}
	if p.simWindow == 0 {
		p.simWindow = 7 * 24 * time.Hour
	}
	if p.simWindow < 0 || p.skew < 0 {
		return nil, fmt.Errorf("%w: SIMChangeWindow and ClockSkew must not be negative", ErrInvalidPolicy)
	}
	if p.now == nil {
		p.now = time.Now
	}
	if err := p.setPurposes(cfg); err != nil {
		return nil, err
	}
	fresh := DefaultFreshness()
	for k, d := range cfg.Freshness {
		if !k.Valid() {
			return nil, fmt.Errorf("%w: Freshness names unknown evidence kind %d", ErrInvalidPolicy, k)
		}
		if d <= 0 {
			return nil, fmt.Errorf("%w: Freshness[%s] is %s; it must be positive", ErrInvalidPolicy, k, d)
		}
		fresh[k] = d
	}
	for k, d := range fresh {
		p.fresh[k] = d
	}
	obt := DefaultChannelEvidence()
	for c, ks := range cfg.ChannelEvidence {
		if !c.Valid() {
			return nil, fmt.Errorf("%w: ChannelEvidence names unknown channel %d", ErrInvalidPolicy, c)
		}
		if ks&^allEvidence != 0 {
			return nil, fmt.Errorf("%w: ChannelEvidence[%s] has unknown evidence kinds", ErrInvalidPolicy, c)
		}
		obt[c] = ks
	}
	for c, ks := range obt {
		p.obtainable[c] = ks
	}
	rules := DefaultRules()
	for a, r := range cfg.Rules {
		if !a.Valid() {
			return nil, fmt.Errorf("%w: Rules names unknown action %d", ErrInvalidPolicy, a)
		}
		rules[a] = r
	}
	for a := Action(1); a < numActions; a++ {
		if err := checkRule(a, rules[a]); err != nil {
			return nil, err
		}
		for f := Flags(0); f <= allFlags; f++ {
			for r := RiskLow; r < numRisk; r++ {
				for c := Channel(1); c < numChannels; c++ {
					p.table[index(a, c, f, r)] = p.compile(a, rules[a], c, f, r)
				}
				// Point denials at the store when the store would take the request.
				if store := p.table[index(a, ChannelStore, f, r)]; store.alts != nil {
					for c := Channel(1); c < numChannels; c++ {
						if e := &p.table[index(a, c, f, r)]; e.alts == nil && c != ChannelStore {
							e.reasons |= reasons(ReasonVisitStore)
						}
					}
				}
			}
		}
	}
	if err := p.checkInvariants(); err != nil {
		return nil, err
	}
	return p, nil
}

// setPurposes fills in the purpose and probation tables and the probation hold.
func (p *Policy) setPurposes(cfg PolicyConfig) error {
	for a := Action(1); a < numActions; a++ {
		p.purpose[a] = PurposeFor(a)
	}
	for a, pu := range cfg.Purposes {
		if !a.Valid() {
			return fmt.Errorf("%w: Purposes names unknown action %d", ErrInvalidPolicy, a)
		}
		if err := pu.Validate(); err != nil {
			return fmt.Errorf("%w: Purposes[%s]: %v", ErrInvalidPolicy, a, err)
		}
		if pu == otp.PurposeSignIn || pu == otp.PurposeContactVerification {
			return fmt.Errorf("%w: Purposes[%s] is %s; a sign-in or contact-verification code proves that step only", ErrInvalidPolicy, a, pu)
		}
		p.purpose[a] = pu
	}
	prob := DefaultProbation()
	for a, d := range cfg.Probation {
		if !a.Valid() {
			return fmt.Errorf("%w: Probation names unknown action %d", ErrInvalidPolicy, a)
		}
		if d < 0 {
			return fmt.Errorf("%w: Probation[%s] is %s; it must not be negative", ErrInvalidPolicy, a, d)
		}
		prob[a] = d
	}
	for a, d := range prob {
		if a.movesNumber() && d <= 0 {
			return fmt.Errorf("%w: Probation[%s] is zero; a SIM change or port-out must never rest on a factor added moments ago", ErrInvalidPolicy, a)
		}
		p.probation[a] = d
	}
	p.probationHold = cfg.ProbationHold
	if p.probationHold == 0 {
		p.probationHold = 24 * time.Hour
	}
	if p.probationHold < time.Hour {
		return fmt.Errorf("%w: ProbationHold is %s; it must be at least 1h, so that the subscriber can hear of the request and cancel it", ErrInvalidPolicy, p.probationHold)
	}
	return nil
}

// SIMChangeWindow is how recent a SIM change must be for an SMS or voice code to the
// number not to count.
func (p *Policy) SIMChangeWindow() time.Duration { return p.simWindow }

// Purpose returns the purpose a second-factor proof must have been given for to count
// toward req's action: the configured one, or for lifting a flag without a configured
// one, PurposeForFlag(req.Flag). "" means none counts.
func (p *Policy) Purpose(a Action, flag Flags) otp.Purpose {
	if !a.Valid() {
		return ""
	}
	if pu := p.purpose[a]; pu != "" {
		return pu
	}
	if a == ActionDisableFlag {
		return PurposeForFlag(flag)
	}
	return ""
}

// Probation returns how long after its factor was added a second-factor proof does not
// count toward action a (zero: no probation).
func (p *Policy) Probation(a Action) time.Duration {
	if !a.Valid() {
		return 0
	}
	return p.probation[a]
}

func checkRule(a Action, r Rule) error {
	checkAlts := func(where string, alts []EvidenceKinds) error {
		for _, k := range alts {
			if k == 0 {
				return fmt.Errorf("%w: %s: %s has an empty alternative; nothing may be allowed without evidence", ErrInvalidPolicy, a, where)
			}
			if k&^allEvidence != 0 {
				return fmt.Errorf("%w: %s: %s has unknown evidence kinds", ErrInvalidPolicy, a, where)
			}
		}
		return nil
	}
	checkChannels := func(where string, cs []Channel) error {
		for _, c := range cs {
			if !c.Valid() {
				return fmt.Errorf("%w: %s: %s names unknown channel %d", ErrInvalidPolicy, a, where, c)
			}
		}
		return nil
	}
	if len(r.Channels) == 0 {
		return fmt.Errorf("%w: %s: rule has no channels", ErrInvalidPolicy, a)
	}
	for c, alts := range r.Channels {
		if !c.Valid() {
			return fmt.Errorf("%w: %s: Channels names unknown channel %d", ErrInvalidPolicy, a, c)
		}
		if err := checkAlts("Channels["+c.String()+"]", alts); err != nil {
			return err
		}
		if a.IsSIMChange() && len(alts) > 0 && c != ChannelApp && c != ChannelWeb && c != ChannelStore {
			return fmt.Errorf("%w: %s would be allowed on %s; SIM swaps and eSIM transfers are never carried out on a phone call, chat or partner API, only from a signed-in app or web session or a store with ID", ErrInvalidPolicy, a, c)
		}
	}
	for f, ov := range r.Flags {
		if !f.Single() {
			return fmt.Errorf("%w: %s: Flags key %s is not a single flag", ErrInvalidPolicy, a, f)
		}
		if err := checkAlts("Flags["+f.String()+"].Require", ov.Require); err != nil {
			return err
		}
		if err := checkChannels("Flags["+f.String()+"].OnlyChannels", ov.OnlyChannels); err != nil {
			return err
		}
	}
	for lvl, ov := range r.Risk {
		if lvl != RiskMedium && lvl != RiskHigh {
			return fmt.Errorf("%w: %s: Risk overlays apply to medium and high only, not %s", ErrInvalidPolicy, a, lvl)
		}
		if ov.AddOneOf&^allEvidence != 0 {
			return fmt.Errorf("%w: %s: Risk[%s].AddOneOf has unknown evidence kinds", ErrInvalidPolicy, a, lvl)
		}
		if err := checkChannels("Risk["+lvl.String()+"].Deny", ov.Deny); err != nil {
			return err
		}
		if err := checkChannels("Risk["+lvl.String()+"].Hold", ov.Hold); err != nil {
			return err
		}
		if len(ov.Hold) > 0 && ov.HoldFor <= 0 {
			return fmt.Errorf("%w: %s: Risk[%s].HoldFor must be positive when Hold lists channels", ErrInvalidPolicy, a, lvl)
		}
	}
	return nil
}

// compile computes the entry for one combination.
func (p *Policy) compile(a Action, r Rule, c Channel, f Flags, lvl RiskLevel) entry {
	var e entry
	alts := slices.Clone(r.Channels[c])
	if len(alts) == 0 {
		e.reasons |= reasons(ReasonChannelNotAllowed)
		if a.IsSIMChange() {
			e.reasons |= reasons(ReasonSIMChangeChannel)
		}
	}
	for i, fr := range [...]Reason{ReasonFlagNeverSIMSwap, ReasonFlagNoPortOut, ReasonFlagAccountLockdown} {
		flag := Flags(1 << i)
		ov, ok := r.Flags[flag]
		if !ok || !f.Has(flag) {
			continue
		}
		e.reasons |= reasons(fr)
		if len(ov.OnlyChannels) > 0 && !slices.Contains(ov.OnlyChannels, c) {
			alts = nil
		}
		if len(ov.Require) > 0 {
			alts = combine(alts, ov.Require)
		}
	}
	if ov, ok := r.Risk[lvl]; ok {
		if lvl == RiskHigh {
			e.reasons |= reasons(ReasonRiskHigh)
		} else {
			e.reasons |= reasons(ReasonRiskMedium)
		}
		if slices.Contains(ov.Deny, c) {
			alts = nil
		}
		if ov.AddOneOf != 0 {
			alts = addOne(alts, ov.AddOneOf)
		}
		if slices.Contains(ov.Hold, c) {
			e.hold = ov.HoldFor
			e.reasons |= reasons(ReasonRiskHold)
		}
	}
	had := len(alts) > 0
	alts = slices.DeleteFunc(alts, func(k EvidenceKinds) bool { return k&^p.obtainable[c] != 0 })
	alts = minimize(alts)
	if len(alts) == 0 {
		if had {
			e.reasons |= reasons(ReasonChannelCannotSatisfy)
		}
		e.hold = 0
		e.reasons &^= reasons(ReasonRiskHold)
		return e
	}
	e.alts = slices.Clip(alts)
	return e
}

// combine returns every union of one set from as and one from bs.
func combine(as, bs []EvidenceKinds) []EvidenceKinds {
	var out []EvidenceKinds
	for _, a := range as {
		for _, b := range bs {
			out = append(out, a|b)
		}
	}
	return minimize(out)
}

// addOne completes every set in as with one kind from extra that it lacks.
func addOne(as []EvidenceKinds, extra EvidenceKinds) []EvidenceKinds {
	var out []EvidenceKinds
	for _, a := range as {
		for k := EvidenceKind(1); k < numEvidence; k++ {
			if extra.Has(k) && !a.Has(k) {
				out = append(out, a|1<<k)
			}
		}
	}
	return minimize(out)
}

// minimize sorts sets by size then value, drops duplicates and drops any set that
// contains another (it would never be the cheapest way to satisfy the rule).
func minimize(as []EvidenceKinds) []EvidenceKinds {
	slices.SortFunc(as, func(x, y EvidenceKinds) int {
		if d := bits.OnesCount16(uint16(x)) - bits.OnesCount16(uint16(y)); d != 0 {
			return d
		}
		return int(x) - int(y)
	})
	out := as[:0]
	for _, a := range as {
		redundant := false
		for _, b := range out {
			if a.Contains(b) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, a)
		}
	}
	return out
}

// atLeastAsStrict reports whether every request y permits, x permits too, no sooner.
func atLeastAsStrict(strict, lax entry) bool {
	if strict.alts == nil {
		return true
	}
	if lax.alts == nil {
		return false
	}
	for _, s := range strict.alts {
		if !slices.ContainsFunc(lax.alts, func(l EvidenceKinds) bool { return s.Contains(l) }) {
			return false
		}
	}
	return strict.hold >= lax.hold
}

func (p *Policy) checkInvariants() error {
	C, S, I, Q := Kinds(EvidenceContactCode), Kinds(EvidenceSession), Kinds(EvidenceGovernmentID), Kinds(EvidenceSecurityQuestions)
	for a := Action(1); a < numActions; a++ {
		for c := Channel(1); c < numChannels; c++ {
			for f := Flags(0); f <= allFlags; f++ {
				for r := RiskLow; r < numRisk; r++ {
					e := p.table[index(a, c, f, r)]
					where := fmt.Sprintf("%s on %s with flags %s at %s risk", a, c, f, r)
					for _, alt := range e.alts {
						if a.IsSIMChange() {
							if !alt.Contains(C) || (!alt.Contains(S) && !alt.Contains(I)) {
								return fmt.Errorf("%w: %s would be allowed with %s; a SIM change needs a trusted-contact code and a signed-in session or a government ID", ErrInvalidPolicy, where, alt)
							}
							if f.Has(NeverSIMSwap) && (c != ChannelStore || !alt.Contains(I|C)) {
								return fmt.Errorf("%w: %s would be allowed with %s; with Never SIM Swap on, only a store with a government ID and a trusted-contact code may change the SIM", ErrInvalidPolicy, where, alt)
							}
						}
						if slices.Contains(questionsNeverAlone[:], a) && alt&^Q == 0 {
							return fmt.Errorf("%w: %s would be allowed by security questions alone; they add assurance but never suffice for this action", ErrInvalidPolicy, where)
						}
					}
					if r > RiskLow && !atLeastAsStrict(e, p.table[index(a, c, f, r-1)]) {
						return fmt.Errorf("%w: %s is more lenient than at %s risk; raising the risk must never relax a decision", ErrInvalidPolicy, where, r-1)
					}
					for i := range 3 {
						g := Flags(1 << i)
						if f.Has(g) && !atLeastAsStrict(e, p.table[index(a, c, f&^g, r)]) {
							return fmt.Errorf("%w: %s is more lenient than without %s; turning a flag on must never relax a decision", ErrInvalidPolicy, where, g)
						}
					}
				}
			}
		}
	}
	return nil
}

// Request is one sensitive request to decide on.
type Request struct {
	Action  Action
	Channel Channel
	// Flags are the subscriber's protection flags that are on. Service.Decide fills
	// them in from the flag store.
	Flags Flags
	// Risk is the request's assessed risk level; required (there is no "unknown").
	Risk RiskLevel
	// Evidence is every proof the requester has given; the order does not matter.
	Evidence []Evidence
	// At is the time of the request; zero means the policy's clock.
	At time.Time
	// Flag, for ActionDisableFlag, is the flag being turned off (a single flag): a
	// second-factor proof counts only if it was given for the purpose of what that flag
	// guards (PurposeForFlag). Service.RequestFlagDisable sets it.
	Flag Flags
	// TwoFactorOff says the subscriber has two-step verification off. A SIM swap, eSIM
	// transfer or port-out asked for in the app or on the web is then held for
	// ProbationHold (ReasonTwoFactorOffHold) even when its evidence would allow it at
	// once: with nothing but a password guarding sign-in, the owner must hear of it, and
	// be able to cancel, before the number moves. Service.Decide fills it in from
	// Config.TwoFactor.
	TwoFactorOff bool
}

// Evaluate decides on a request. It does not allocate unless the request is malformed.
//
// A second-factor proof (contact, authenticator or recovery code) counts only toward
// an action of its Purpose (ReasonEvidenceWrongPurpose otherwise), and, for an action
// with a probation, only once its factor is established: FactorAddedAt at least the
// probation before the request (ReasonFactorInProbation otherwise; zero counts as
// new). A SIM swap, eSIM transfer or port-out asked for in the app or on the web that
// would be satisfied if the new factor's proof counted is held for ProbationHold
// (ReasonProbationHold) rather than carried out at once; elsewhere it steps up. One
// asked for there while the subscriber's 2FA is off (Request.TwoFactorOff) is held for
// ProbationHold too (ReasonTwoFactorOffHold), whatever its evidence.
//
// A malformed request (unknown action, channel, risk level or flags, evidence of an
// unknown kind or from the future, a contact code without its contact kind) returns an
// error wrapping ErrInvalidRequest together with a Deny decision, so a caller that
// ignores the error still fails closed.
func (p *Policy) Evaluate(req *Request) (Decision, error) {
	d := Decision{Action: req.Action, Channel: req.Channel, Outcome: Deny}
	if err := checkRequest(req); err != nil {
		d.Reasons = reasons(ReasonInvalidRequest)
		return d, err
	}
	now := req.At
	if now.IsZero() {
		now = p.now()
	}
	var extra ReasonSet
	var provisional EvidenceKinds // right purpose, but their factor is in probation
	want := p.Purpose(req.Action, req.Flag)
	probation := p.probation[req.Action]
	for i := range req.Evidence {
		ev := &req.Evidence[i]
		if !ev.Kind.Valid() {
			d.Reasons = reasons(ReasonInvalidRequest)
			return d, fmt.Errorf("%w: Evidence[%d] has unknown kind %d", ErrInvalidRequest, i, ev.Kind)
		}
		if ev.ObtainedAt.IsZero() {
			d.Reasons = reasons(ReasonInvalidRequest)
			return d, fmt.Errorf("%w: Evidence[%d] (%s) has no ObtainedAt", ErrInvalidRequest, i, ev.Kind)
		}
		if ev.ObtainedAt.After(now.Add(p.skew)) {
			d.Reasons = reasons(ReasonInvalidRequest)
			return d, fmt.Errorf("%w: Evidence[%d] (%s) obtained %s after the request", ErrFutureEvidence, i, ev.Kind, ev.ObtainedAt.Sub(now))
		}
		if ev.Kind == EvidenceContactCode && !ev.Contact.valid() {
			d.Reasons = reasons(ReasonInvalidRequest)
			return d, fmt.Errorf("%w: Evidence[%d] is a contact code without a Contact kind (email, SMS or voice)", ErrInvalidRequest, i)
		}
		switch {
		case !p.obtainable[req.Channel].Has(ev.Kind):
			extra |= reasons(ReasonEvidenceWrongChannel)
		case now.Sub(ev.ObtainedAt) > p.fresh[ev.Kind]:
			extra |= reasons(ReasonEvidenceStale)
		case ev.Kind == EvidenceContactCode && ev.Contact.phoneBased() && ev.SIM == SIMStatusChanged:
			extra |= reasons(ReasonContactSIMChanged)
		case ev.Kind == EvidenceContactCode && ev.Contact.phoneBased() && ev.SIM != SIMStatusStable:
			extra |= reasons(ReasonContactSIMUnknown)
		case ev.Kind.SecondFactor() && (want == "" || ev.Purpose != want):
			extra |= reasons(ReasonEvidenceWrongPurpose)
		case ev.Kind.SecondFactor() && probation > 0 && !Established(ev.FactorAddedAt, now, probation):
			extra |= reasons(ReasonFactorInProbation)
			provisional |= 1 << ev.Kind
		default:
			d.Counted |= 1 << ev.Kind
		}
	}
	e := &p.table[index(req.Action, req.Channel, req.Flags, req.Risk)]
	d.Reasons = e.reasons | extra
	if e.alts == nil {
		return d, nil
	}
	for _, alt := range e.alts {
		if d.Counted.Contains(alt) {
			d.Reasons |= reasons(ReasonEvidenceSatisfied)
			hold := e.hold
			if req.TwoFactorOff && req.Action.movesNumber() && req.Channel.SelfService() {
				// No instant self-service SIM change without an established second
				// factor guarding sign-in.
				d.Reasons |= reasons(ReasonTwoFactorOffHold)
				hold = max(hold, p.probationHold)
			}
			if hold > 0 {
				d.Outcome, d.HoldUntil = Hold, now.Add(hold)
			} else {
				d.Outcome = Allow
			}
			return d, nil
		}
	}
	// No instant self-service SIM change or port-out on a new factor alone: if the
	// factor in probation would have satisfied the policy, hold the request instead.
	if provisional != 0 && req.Action.movesNumber() && req.Channel.SelfService() {
		for _, alt := range e.alts {
			if (d.Counted | provisional).Contains(alt) {
				d.Reasons |= reasons(ReasonEvidenceSatisfied, ReasonProbationHold)
				d.Outcome, d.HoldUntil = Hold, now.Add(max(e.hold, p.probationHold))
				return d, nil
			}
		}
	}
	d.Outcome = StepUp
	d.Reasons |= reasons(ReasonEvidenceRequired)
	d.Alternatives = e.alts
	return d, nil
}

// Established reports whether a factor added or changed at added is past a probation
// of the given length at time now. The zero time (unknown) is never established.
func Established(added, now time.Time, probation time.Duration) bool {
	return !added.IsZero() && now.Sub(added) >= probation
}

func checkRequest(req *Request) error {
	switch {
	case !req.Action.Valid():
		return fmt.Errorf("%w: %w %d", ErrInvalidRequest, ErrUnknownAction, req.Action)
	case !req.Channel.Valid():
		return fmt.Errorf("%w: %w %d", ErrInvalidRequest, ErrUnknownChannel, req.Channel)
	case req.Flags&^allFlags != 0:
		return fmt.Errorf("%w: %w: %s", ErrInvalidRequest, ErrUnknownFlag, req.Flags)
	case !req.Risk.Valid():
		return fmt.Errorf("%w: Risk %d is not low, medium or high", ErrInvalidRequest, req.Risk)
	case req.Flag != 0 && !req.Flag.Single():
		return fmt.Errorf("%w: Flag %s is not a single flag", ErrInvalidRequest, req.Flag)
	}
	return nil
}
