package otp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/netkey"
)

// SMSBudgets caps the SMS and voice codes the service sends, whoever they are for. The
// resend limits (per subscriber and purpose, per destination) stop one account or one
// number being flooded; budgets stop the attack that spreads wide instead: SMS pumping,
// where a bot asks for codes to thousands of numbers, often premium numbers abroad whose
// operator shares the termination fee with the fraudster, and the carrier pays.
//
// Four budgets, each counted over a sliding Window in the [BudgetStore] (so they survive
// restarts and two replicas on one database share them):
//
//   - the destination's country must be allowed: HomeRegions and AllowedRegions;
//   - Global: all SMS and voice codes together;
//   - PerClient and PerNetwork: the codes one client asked for (IssueRequest.ClientIP,
//     an IPv4 address or an IPv6 /64, and the IPv6 /48 around it; see package netkey);
//   - PerCountry: the codes to one country calling code outside the home regions.
//
// A refusal is a *BudgetError naming the budget. Email codes cost nothing to send and
// count against none of these. Zero fields take the defaults given.
type SMSBudgets struct {
	// HomeRegions are the carrier's home countries, as ISO 3166-1 alpha-2 region codes
	// ("US", "GB"). Codes go only to numbers in HomeRegions and AllowedRegions; a number
	// elsewhere, or one whose country cannot be told, is refused with
	// ErrCountryNotAllowed before anything is counted. Numbers in the home regions are
	// bounded by Global, not by PerCountry.
	//
	// Required: NewCodes refuses a configuration without it, unless AnyCountry is set.
	// The issue that asked for budgets names the default, the carrier's home country,
	// and only the integrator knows which that is, so it is asked for rather than
	// guessed.
	HomeRegions []string
	// AllowedRegions are further regions codes may go to (for example where many
	// subscribers keep a local number), each of their calling codes capped by
	// PerCountry. Regions are matched by the number, not only by the calling code:
	// with HomeRegions "US", a Jamaican number (+1 876) is not a home number.
	AllowedRegions []string
	// AnyCountry turns the allow-list off: codes go to every country, each calling code
	// capped by PerCountry, and to numbers whose country cannot be told. UNSAFE: it is
	// what lets SMS pumping reach premium ranges abroad. It exists for a carrier that
	// truly serves subscribers worldwide, and for tests; it cannot be combined with
	// HomeRegions or AllowedRegions.
	AnyCountry bool
	// Window is how long a sent code counts against the budgets. Default 1 hour.
	Window time.Duration `validate:"omitempty,min=1m,max=24h"`
	// Global is how many SMS and voice codes the service sends per Window in all.
	// Default 2000. It bounds what a flood from many clients (a botnet) can cost, and
	// the price is that such a flood, once it has spent the budget, holds up every
	// subscriber's SMS codes until the window slides: size it well above your peak
	// hour, and offer authenticator apps, which need no SMS.
	Global int `validate:"omitempty,min=1,max=100000000"`
	// PerClient is how many codes one client (an IPv4 address, or an IPv6 /64) may ask
	// for per Window, whoever they are for. Default 20. Behind carrier-grade NAT one
	// address is many subscribers: raise it, or do not pass ClientIP for your own NAT
	// pool's addresses.
	PerClient int `validate:"omitempty,min=1,max=10000000"`
	// PerNetwork is how many codes the clients of one IPv6 /48 may ask for per Window
	// together, so that a client cannot escape PerClient by moving from /64 to /64.
	// Default 100.
	PerNetwork int `validate:"omitempty,min=1,max=10000000"`
	// PerCountry is how many codes may go per Window to one country calling code
	// outside HomeRegions (to every calling code, with AnyCountry). Default 100.
	PerCountry int `validate:"omitempty,min=1,max=100000000"`
}

// BudgetLimit names the budget that refused a code.
type BudgetLimit string

// Budget limits.
const (
	// BudgetGlobal: SMSBudgets.Global codes went out in the last Window.
	BudgetGlobal BudgetLimit = "global"
	// BudgetClient: this client (IPv4 address or IPv6 /64) asked for PerClient codes.
	BudgetClient BudgetLimit = "client"
	// BudgetNetwork: the clients of this IPv6 /48 asked for PerNetwork codes.
	BudgetNetwork BudgetLimit = "network"
	// BudgetCountry: PerCountry codes went to this calling code.
	BudgetCountry BudgetLimit = "country"
	// BudgetCountryNotAllowed: the number is not in HomeRegions or AllowedRegions.
	BudgetCountryNotAllowed BudgetLimit = "country_not_allowed"
)

// Budget errors. ErrBudgetExceeded wraps ErrThrottled, so code that handles throttling
// handles a spent budget too; ErrCountryNotAllowed does not: waiting will not help.
var (
	ErrBudgetExceeded    = fmt.Errorf("%w: SMS budget spent", ErrThrottled)
	ErrCountryNotAllowed = errors.New("otp: codes are not sent to this country")
)

// BudgetError is returned by Codes.Issue (and, without RetryAfter, by
// BudgetStore.ReserveBudget) when an SMS budget refuses a code. errors.Is reports
// ErrCountryNotAllowed for Limit BudgetCountryNotAllowed and ErrBudgetExceeded (and so
// ErrThrottled) for every other limit.
type BudgetError struct {
	Limit BudgetLimit
	// Region is the destination's ISO region code, for BudgetCountryNotAllowed; empty
	// if the number's country cannot be told.
	Region string
	// RetryAfter is the budget's whole Window (zero for BudgetCountryNotAllowed). The
	// budgets count other people's codes too, so Codes never says when the window
	// will free up: that would tell when those codes were sent.
	RetryAfter time.Duration
}

func (e *BudgetError) Error() string {
	if e.Limit == BudgetCountryNotAllowed {
		if e.Region != "" {
			return fmt.Sprintf("%v (%s)", ErrCountryNotAllowed, e.Region)
		}
		return ErrCountryNotAllowed.Error()
	}
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%v (%s): retry after %s", ErrBudgetExceeded, e.Limit, e.RetryAfter.Round(time.Second))
	}
	return fmt.Sprintf("%v (%s)", ErrBudgetExceeded, e.Limit)
}

// Unwrap returns ErrCountryNotAllowed or ErrBudgetExceeded.
func (e *BudgetError) Unwrap() error {
	if e.Limit == BudgetCountryNotAllowed {
		return ErrCountryNotAllowed
	}
	return ErrBudgetExceeded
}

// budgetPolicy is SMSBudgets with defaults applied and the region lists compiled.
type budgetPolicy struct {
	SMSBudgets
	listed bool            // an allow-list is configured
	allow  map[string]bool // HomeRegions and AllowedRegions
	home   map[string]bool
	// codes says, for each calling code with a listed region, whether all, some or
	// none of its regions are allowed and home. A calling code not in it has none.
	codes map[int]codeRule
	// countryKeys is each calling code's budget key, made once so issuing a code
	// builds no string for it.
	countryKeys map[int]string
}

// codeRule is what the lists say of one calling code's regions.
type codeRule struct{ allow, home share }

// share is how many of a calling code's regions a list holds.
type share uint8

const (
	shareNone share = iota
	shareSome
	shareAll
)

func newBudgetPolicy(b SMSBudgets) (budgetPolicy, error) {
	p := budgetPolicy{SMSBudgets: b}
	p.Window = cmp.Or(b.Window, time.Hour)
	p.Global = cmp.Or(b.Global, 2000)
	p.PerClient = cmp.Or(b.PerClient, 20)
	p.PerNetwork = cmp.Or(b.PerNetwork, 100)
	p.PerCountry = cmp.Or(b.PerCountry, 100)
	p.allow, p.home, p.codes = map[string]bool{}, map[string]bool{}, map[int]codeRule{}
	supported := phonenumbers.GetSupportedRegions()
	p.HomeRegions, p.AllowedRegions = make([]string, len(b.HomeRegions)), make([]string, len(b.AllowedRegions))
	for _, list := range []struct {
		field   string
		in, out []string
		home    bool
	}{{"HomeRegions", b.HomeRegions, p.HomeRegions, true}, {"AllowedRegions", b.AllowedRegions, p.AllowedRegions, false}} {
		for i, r := range list.in {
			r = strings.ToUpper(r)
			if !supported[r] {
				return budgetPolicy{}, validate.Errorf("otp", "CodeConfig.Budgets.%s[%d] %q is not an ISO 3166-1 alpha-2 region code, like \"US\"", list.field, i, list.in[i])
			}
			list.out[i] = r
			p.allow[r] = true
			if list.home {
				p.home[r] = true
			}
		}
	}
	switch {
	case b.AnyCountry && len(p.allow) > 0:
		return budgetPolicy{}, validate.Errorf("otp", "CodeConfig.Budgets.AnyCountry turns the allow-list off: leave HomeRegions and AllowedRegions empty with it, or drop it")
	case !b.AnyCountry && len(b.HomeRegions) == 0:
		return budgetPolicy{}, validate.Errorf("otp", "CodeConfig.Budgets.HomeRegions is required: the carrier's home countries, such as []string{\"US\"}, so that SMS codes go only there (and to AllowedRegions); Budgets.AnyCountry sends them worldwide instead, which is unsafe (SMS pumping)")
	}
	p.listed = !b.AnyCountry
	p.countryKeys = map[int]string{0: "country/0"}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		p.countryKeys[cc] = "country/" + strconv.Itoa(cc)
	}
	for r := range p.allow {
		cc := phonenumbers.GetCountryCodeForRegion(r)
		if _, done := p.codes[cc]; done {
			continue
		}
		regions := phonenumbers.GetRegionCodesForCountryCode(cc)
		p.codes[cc] = codeRule{allow: shareOf(regions, p.allow), home: shareOf(regions, p.home)}
	}
	return p, nil
}

func shareOf(regions []string, set map[string]bool) share {
	n := 0
	for _, r := range regions {
		if set[r] {
			n++
		}
	}
	switch {
	case n == 0:
		return shareNone
	case n == len(regions):
		return shareAll
	}
	return shareSome
}

// destination is what the budgets need to know of an SMS or voice destination.
type destination struct {
	callingCode int // 0 if the address is not an E.164 number with a known calling code
	home        bool
}

// classify decides whether a code may go to the E.164 number addr at all (a
// *BudgetError with BudgetCountryNotAllowed if not) and whether it is a home number.
// The calling code is read from the digits, which is cheap; the number is parsed with
// phonenumbers only when the lists treat the regions of its calling code differently
// (+1 is the United States, Canada and much of the Caribbean) or to name the region
// of a refused number.
func (p *budgetPolicy) classify(addr string) (destination, error) {
	d := destination{callingCode: callingCode(addr)}
	if !p.listed {
		return d, nil
	}
	rule := p.codes[d.callingCode] // the zero rule, none allowed, for code 0
	if rule.allow == shareNone {
		return d, &BudgetError{Limit: BudgetCountryNotAllowed, Region: regionOf(addr)}
	}
	if rule.allow == shareAll && rule.home != shareSome {
		d.home = rule.home == shareAll
		return d, nil
	}
	region := regionOf(addr)
	if !p.allow[region] {
		return d, &BudgetError{Limit: BudgetCountryNotAllowed, Region: region}
	}
	d.home = p.home[region]
	return d, nil
}

// callingCode returns the country calling code of an E.164 number ("+44..." is 44), or
// 0. Calling codes are prefix-free (ITU-T E.164), so the first 1 to 3 digits that form
// an assigned code are the code.
func callingCode(addr string) int {
	if len(addr) < 2 || addr[0] != '+' || addr[1] == '0' {
		return 0
	}
	for i := 1; i < len(addr); i++ {
		if addr[i] < '0' || addr[i] > '9' {
			return 0
		}
	}
	known := phonenumbers.GetSupportedCallingCodes()
	cc := 0
	for i := 1; i <= 3 && i < len(addr); i++ {
		cc = cc*10 + int(addr[i]-'0')
		if cc != 0 && known[cc] {
			return cc
		}
	}
	return 0
}

// regionOf returns the ISO region of a valid E.164 number, or "" if the number is not
// valid for any region (an unassigned range, or not a number): such a number is never
// taken for an allowed one.
func regionOf(addr string) string {
	if callingCode(addr) == 0 {
		return ""
	}
	num, err := phonenumbers.Parse(addr, "")
	if err != nil {
		return ""
	}
	r := phonenumbers.GetRegionCodeForNumber(num)
	if r == "" || r == phonenumbers.UNKNOWN_REGION {
		return ""
	}
	return r
}

// budgetCounters returns what one SMS or voice code counts against, in the order a
// refusal is reported: client, network, country, global. The client keys are keyed
// hashes of the prefix (the store never sees an address); the country key is the
// calling code.
// It appends to out, which a caller may pass from a pool (see reserveBudget).
func (s *Codes) budgetCounters(out []BudgetCounter, now time.Time, d destination, client netkey.Keys, hasClient bool) []BudgetCounter {
	p := &s.budget
	since := now.Add(-p.Window)
	if hasClient {
		out = append(out, BudgetCounter{Limit: BudgetClient, Key: s.budgetKey("client/", client.ClientString()), Max: p.PerClient, Since: since})
		if client.Tiered() {
			out = append(out, BudgetCounter{Limit: BudgetNetwork, Key: s.budgetKey("network/", client.NetworkString()), Max: p.PerNetwork, Since: since})
		}
	}
	if !d.home {
		out = append(out, BudgetCounter{Limit: BudgetCountry, Key: p.countryKeys[d.callingCode], Max: p.PerCountry, Since: since})
	}
	return append(out, BudgetCounter{Limit: BudgetGlobal, Key: "global", Max: p.Global, Since: since})
}

// counterSet is room for every counter of one code, pooled: a BudgetStore keeps
// nothing of r.Counters after ReserveBudget returns, so issuing a code allocates none.
type counterSet [4]BudgetCounter

// reserveBudget reserves one SMS or voice code, id, against the budgets, and returns the
// refusal as Issue reports it.
func (s *Codes) reserveBudget(ctx context.Context, id string, now time.Time, d destination, client netkey.Keys, hasClient bool) error {
	set := s.counters.Get().(*counterSet)
	defer func() {
		*set = counterSet{}
		s.counters.Put(set)
	}()
	r := BudgetReservation{ID: id, At: now, Counters: s.budgetCounters(set[:0], now, d, client, hasClient)}
	if err := s.rates.ReserveBudget(ctx, r); err != nil {
		return s.budgetRefused(err)
	}
	return nil
}

// budgetKey is prefix and hex HMAC-SHA-256 under HashKey over what it names.
func (s *Codes) budgetKey(prefix, value string) string {
	var b strings.Builder
	b.Grow(len(prefix) + 64)
	b.WriteString(prefix)
	b.WriteString(s.hexSum("carrierguard/otp/budget/"+prefix, value))
	return b.String()
}

// budgetRefused turns a ReserveBudget error into Issue's: a refusal reports the whole
// Window (see BudgetError.RetryAfter).
func (s *Codes) budgetRefused(err error) error {
	var be *BudgetError
	if errors.As(err, &be) && be.Limit != BudgetCountryNotAllowed {
		return &BudgetError{Limit: be.Limit, RetryAfter: s.budget.Window}
	}
	return fmt.Errorf("otp: issue: budget store: %w", err)
}
