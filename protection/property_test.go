package protection

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/otp"
)

// The evidence dimension of the exhaustive tests: every subset of these ten items. The
// eight kinds, fresh, plus two items that must never count: an SMS code to a number
// with a recent SIM change, and a password re-entered too long ago. The second-factor
// items are from factors added long ago; forAction gives them the action's purpose.
var propertyItems = func() []Evidence {
	at := propertyNow.Add(-time.Minute)
	return []Evidence{
		{Kind: EvidenceSession, ObtainedAt: propertyNow.Add(-time.Hour)},
		{Kind: EvidencePassword, ObtainedAt: at},
		{Kind: EvidenceContactCode, ObtainedAt: at, Contact: ContactEmail},
		{Kind: EvidenceAuthenticator, ObtainedAt: at},
		{Kind: EvidenceRecoveryCode, ObtainedAt: at},
		{Kind: EvidenceSecurityQuestions, ObtainedAt: at},
		{Kind: EvidenceTransferPIN, ObtainedAt: at},
		{Kind: EvidenceGovernmentID, ObtainedAt: at},
		{Kind: EvidenceContactCode, ObtainedAt: at, Contact: ContactSMS, SIM: SIMStatusChanged},
		{Kind: EvidencePassword, ObtainedAt: propertyNow.Add(-20 * time.Minute)},
	}
}()

var propertyNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// propertyAdded is when the factors of the property items were added: long established.
var propertyAdded = propertyNow.AddDate(-1, 0, 0)

// propertyFlag is the flag the exhaustive tests lift for ActionDisableFlag.
const propertyFlag = NeverSIMSwap

// forAction returns evs with every second-factor item given for a's purpose, from an
// established factor (unless already dated).
func forAction(p *Policy, a Action, evs []Evidence) []Evidence {
	out := slices.Clone(evs)
	for i := range out {
		if out[i].Kind.SecondFactor() {
			out[i].Purpose = p.Purpose(a, propertyFlag)
			if out[i].FactorAddedAt.IsZero() {
				out[i].FactorAddedAt = propertyAdded
			}
		}
	}
	return out
}

const numSubsets = 1 << 10

// outcomes holds the default policy's outcome for every action x channel x flag set x
// risk level x evidence subset, plus the evidence that counted.
type outcomes struct {
	only    Action // if set, only this action was evaluated
	out     []Outcome
	counted []EvidenceKinds
}

func oidx(a Action, c Channel, f Flags, r RiskLevel, s int) int {
	return index(a, c, f, r)*numSubsets + s
}

func evaluateAll(t *testing.T, p *Policy, only Action) outcomes {
	t.Helper()
	subsets := make([][]Evidence, numSubsets)
	for s := range numSubsets {
		for i, ev := range propertyItems {
			if s&(1<<i) != 0 {
				subsets[s] = append(subsets[s], ev)
			}
		}
	}
	n := len(p.table) * numSubsets
	o := outcomes{only: only, out: make([]Outcome, n), counted: make([]EvidenceKinds, n)}
	evaluated := 0
	perAction := make([][][]Evidence, numActions)
	for a := Action(1); a < numActions; a++ {
		perAction[a] = make([][]Evidence, numSubsets)
		for s := range numSubsets {
			perAction[a][s] = forAction(p, a, subsets[s])
		}
	}
	forAll(only, func(a Action, c Channel, f Flags, r RiskLevel, s int) {
		req := Request{Action: a, Channel: c, Flags: f, Risk: r, Evidence: perAction[a][s], At: propertyNow, Flag: propertyFlag}
		d, err := p.Evaluate(&req)
		if err != nil {
			t.Fatalf("%v: %v", req, err)
		}
		if !d.Outcome.Permits() && d.Outcome != StepUp && d.Outcome != Deny {
			t.Fatalf("%v: outcome %v", req, d.Outcome)
		}
		if d.Outcome == StepUp && len(d.Alternatives) == 0 {
			t.Fatalf("%v: a step-up with no alternatives", req)
		}
		i := oidx(a, c, f, r, s)
		o.out[i], o.counted[i] = d.Outcome, d.Counted
		evaluated++
	})
	want := int(numChannels-1) * numFlagSets * int(numRisk-1) * numSubsets
	if only == 0 {
		want *= int(numActions - 1)
	}
	if evaluated != want {
		t.Fatalf("evaluated %d combinations, want %d", evaluated, want)
	}
	return o
}

// forAll calls fn for every combination.
func forAll(only Action, fn func(a Action, c Channel, f Flags, r RiskLevel, s int)) {
	for a := Action(1); a < numActions; a++ {
		if only != 0 && a != only {
			continue
		}
		for c := Channel(1); c < numChannels; c++ {
			for f := Flags(0); f <= allFlags; f++ {
				for r := RiskLow; r < numRisk; r++ {
					for s := range numSubsets {
						fn(a, c, f, r, s)
					}
				}
			}
		}
	}
}

func TestDefaultPolicyProperties(t *testing.T) {
	p, err := NewPolicy(PolicyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	failures := checkProperties(evaluateAll(t, p, 0))
	for i, f := range failures {
		if i == 10 {
			t.Errorf("... and %d more", len(failures)-10)
			break
		}
		t.Error(f)
	}
}

// The checker must catch a broken policy. NewPolicy refuses to build one, so break a
// built one from the inside.
func TestPropertiesCatchBrokenPolicies(t *testing.T) {
	S, C, Q, A := Kinds(EvidenceSession), Kinds(EvidenceContactCode), Kinds(EvidenceSecurityQuestions), Kinds(EvidenceAuthenticator)
	tests := []struct {
		name    string
		action  Action
		corrupt func(p *Policy)
		want    string
	}{
		{"SIM swap by phone", ActionSIMSwap, func(p *Policy) {
			p.table[index(ActionSIMSwap, ChannelPhone, 0, RiskLow)] = entry{alts: []EvidenceKinds{C}}
		}, "by phone"},
		{"Never SIM Swap in the app", ActionESIMTransfer, func(p *Policy) {
			p.table[index(ActionESIMTransfer, ChannelApp, NeverSIMSwap, RiskLow)] = entry{alts: []EvidenceKinds{S | C}}
		}, "with Never SIM Swap"},
		{"questions alone", ActionPortOut, func(p *Policy) {
			p.table[index(ActionPortOut, ChannelChat, 0, RiskLow)] = entry{alts: []EvidenceKinds{Q}}
		}, "security questions alone"},
		{"risk relaxes", ActionViewAccount, func(p *Policy) {
			p.table[index(ActionViewAccount, ChannelApp, 0, RiskHigh)] = entry{alts: []EvidenceKinds{S}, hold: 0}
			p.table[index(ActionViewAccount, ChannelApp, 0, RiskMedium)] = entry{}
		}, "risk but"},
		{"high risk allowed remotely", ActionChangePaymentMethod, func(p *Policy) {
			p.table[index(ActionChangePaymentMethod, ChannelWeb, 0, RiskHigh)] = entry{alts: []EvidenceKinds{S | C | A}}
		}, "allowed at high risk"},
		{"flag relaxes", ActionChangeEmail, func(p *Policy) {
			p.table[index(ActionChangeEmail, ChannelApp, AccountLockdown, RiskLow)] = entry{alts: []EvidenceKinds{S}}
		}, "too"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPolicy(PolicyConfig{})
			if err != nil {
				t.Fatal(err)
			}
			tt.corrupt(p)
			failures := checkProperties(evaluateAll(t, p, tt.action))
			if !slices.ContainsFunc(failures, func(f string) bool { return strings.Contains(f, tt.want) }) {
				t.Fatalf("no failure mentioning %q among %d: %.3q", tt.want, len(failures), failures)
			}
		})
	}
}

// checkProperties returns a description of every violation.
func checkProperties(o outcomes) []string {
	var failures []string
	fail := func(format string, args ...any) {
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	var sawAllow, sawHold, sawStepUp, sawDeny bool
	forAll(o.only, func(a Action, c Channel, f Flags, r RiskLevel, s int) {
		got := o.out[oidx(a, c, f, r, s)]
		sawAllow = sawAllow || got == Allow
		sawHold = sawHold || got == Hold
		sawStepUp = sawStepUp || got == StepUp
		sawDeny = sawDeny || got == Deny

		// 1. A SIM swap or eSIM transfer by phone call is never allowed (nor offered a step-up).
		if a.IsSIMChange() && c == ChannelPhone && got != Deny {
			fail("%s by phone, flags %s, %s risk, evidence %04b: %s, want deny", a, f, r, s, got)
		}
		// 2. With Never SIM Swap on, no SIM change outside a store, ever.
		if a.IsSIMChange() && f.Has(NeverSIMSwap) && c != ChannelStore && got != Deny {
			fail("%s on %s with Never SIM Swap, %s risk, evidence %04b: %s, want deny", a, c, r, s, got)
		}
		// 3. Adding evidence never makes a decision stricter; a permitted request stays as it was.
		for i := range propertyItems {
			if s&(1<<i) != 0 {
				continue
			}
			more := o.out[oidx(a, c, f, r, s|1<<i)]
			if more > got || (got.Permits() && more != got) {
				fail("%s on %s, flags %s, %s risk: adding %s to evidence %04b turned %s into %s",
					a, c, f, r, propertyItems[i].Kind, s, got, more)
			}
		}
		// 4. Raising risk never relaxes a decision.
		if r < RiskHigh {
			if higher := o.out[oidx(a, c, f, r+1, s)]; higher < got {
				fail("%s on %s, flags %s, evidence %04b: %s at %s risk but %s at %s", a, c, f, s, got, r, higher, r+1)
			}
		}
		// (and turning a flag on never relaxes one either)
		for _, g := range FlagList() {
			if !f.Has(g) {
				if flagged := o.out[oidx(a, c, f|g, r, s)]; flagged < got {
					fail("%s on %s, %s risk, evidence %04b: %s with flags %s but %s with %s too", a, c, r, s, got, f, flagged, g)
				}
			}
		}
		// High risk denies self-service: outside a store, a request is held, stepped up or
		// denied, never allowed outright.
		if r == RiskHigh && c != ChannelStore && got == Allow {
			fail("%s on %s, flags %s, evidence %04b: allowed at high risk; want a store or a hold", a, c, f, s)
		}
		// 5. Security questions alone never allow a SIM change, port-out or credential change.
		if slices.Contains(questionsNeverAlone[:], a) && o.counted[oidx(a, c, f, r, s)] == Kinds(EvidenceSecurityQuestions) && got.Permits() {
			fail("%s on %s, flags %s, %s risk: security questions alone gave %s", a, c, f, r, got)
		}
		// Evidence that must never count never does.
		if s&(3<<8) != 0 && o.out[oidx(a, c, f, r, s&^(3<<8))] != got {
			fail("%s on %s: a stale password or an SMS code to a swapped number changed the decision", a, c)
		}
	})
	// The properties would hold vacuously for a policy that denies everything.
	if !sawAllow || !sawHold || !sawStepUp || !sawDeny {
		fail("outcomes seen: allow %v, hold %v, step-up %v, deny %v; want all four", sawAllow, sawHold, sawStepUp, sawDeny)
	}
	return failures
}

// The evidence attributes are monotone: for every action, channel, flag set, risk level
// and set of the eight good items, making the second-factor items older, from a factor
// in probation, or given for another purpose never gives a more permissive decision
// (nor an earlier hold). Each variant changes one attribute of every second-factor item.
func TestEvidenceAttributesAreMonotone(t *testing.T) {
	p, err := NewPolicy(PolicyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	variants := []struct {
		name   string
		change func(a Action, e *Evidence)
		// vacuous: the variant may never change a decision (older but still fresh)
		vacuous bool
	}{
		{"older, still fresh", func(_ Action, e *Evidence) { e.ObtainedAt = e.ObtainedAt.Add(-9 * time.Minute) }, true},
		{"older, stale", func(_ Action, e *Evidence) { e.ObtainedAt = e.ObtainedAt.Add(-time.Hour) }, false},
		{"factor in probation", func(_ Action, e *Evidence) { e.FactorAddedAt = propertyNow.AddDate(0, 0, -1) }, false},
		{"factor age unknown", func(_ Action, e *Evidence) { e.FactorAddedAt = time.Time{} }, false},
		{"wrong purpose", func(a Action, e *Evidence) {
			if e.Purpose == otp.PurposeSignIn {
				e.Purpose = otp.PurposeAccountChange
			} else {
				e.Purpose = otp.PurposeSignIn
			}
		}, false},
	}
	const good = 1 << 8 // subsets of the eight good items
	fails := 0
	var sawStricter [5]bool
	for a := Action(1); a < numActions; a++ {
		base := make([][]Evidence, good)
		for s := range good {
			for i := range 8 {
				if s&(1<<i) != 0 {
					base[s] = append(base[s], propertyItems[i])
				}
			}
			base[s] = forAction(p, a, base[s])
		}
		for vi, v := range variants {
			changed := make([][]Evidence, good)
			for s := range good {
				changed[s] = slices.Clone(base[s])
				for i := range changed[s] {
					if changed[s][i].Kind.SecondFactor() {
						v.change(a, &changed[s][i])
					}
				}
			}
			for c := Channel(1); c < numChannels; c++ {
				for f := Flags(0); f <= allFlags; f++ {
					for r := RiskLow; r < numRisk; r++ {
						for s := range good {
							req := Request{Action: a, Channel: c, Flags: f, Risk: r, At: propertyNow, Flag: propertyFlag, Evidence: base[s]}
							d1, err1 := p.Evaluate(&req)
							req.Evidence = changed[s]
							d2, err2 := p.Evaluate(&req)
							if err1 != nil || err2 != nil {
								t.Fatalf("%s: %v %v", v.name, err1, err2)
							}
							worse := d2.Outcome < d1.Outcome ||
								(d1.Outcome == Hold && d2.Outcome == Hold && d2.HoldUntil.Before(d1.HoldUntil))
							sawStricter[vi] = sawStricter[vi] || d2.Outcome > d1.Outcome
							if worse && fails < 10 {
								fails++
								t.Errorf("%s on %s, flags %s, %s risk, evidence %08b: %s made %s into %s",
									a, c, f, r, s, v.name, d1.Outcome, d2.Outcome)
							}
						}
					}
				}
			}
		}
	}
	for i, saw := range sawStricter {
		if !saw && !variants[i].vacuous {
			t.Errorf("%s never made a decision stricter: the property holds vacuously", variants[i].name)
		}
	}
}
