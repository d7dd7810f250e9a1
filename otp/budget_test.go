package otp_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/internal/validate"
	"github.com/carrierguard/carrierguard/netkey"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
)

// Numbers that phonenumbers holds valid for their region.
func usNumber(i int) otp.Destination {
	return otp.Destination{Channel: otp.ChannelSMS, Address: fmt.Sprintf("+1415555%04d", i)}
}

func gbNumber(i int) otp.Destination {
	return otp.Destination{Channel: otp.ChannelSMS, Address: fmt.Sprintf("+4474001%05d", i)}
}

// budgetEnv is a Codes whose resend limits stay out of the way, so that only the
// budgets refuse.
func budgetEnv(t *testing.T, b otp.SMSBudgets) codesEnv {
	t.Helper()
	return newCodes(t, otp.CodeConfig{Budgets: b, DestinationHourlyLimit: 1000})
}

// ask issues a sign-in code for a subscriber of its own.
func (e codesEnv) ask(sub string, d otp.Destination, ip string) (otp.Issued, error) {
	return e.codes.Issue(context.Background(), otp.IssueRequest{Subscriber: sub, Purpose: otp.PurposeSignIn, Destination: d, ClientIP: ip})
}

func wantBudget(t *testing.T, err error, limit otp.BudgetLimit, what string) *otp.BudgetError {
	t.Helper()
	var be *otp.BudgetError
	require.ErrorAs(t, err, &be, what)
	assert.Equal(t, limit, be.Limit, what)
	if limit == otp.BudgetCountryNotAllowed {
		assert.ErrorIs(t, err, otp.ErrCountryNotAllowed, what)
		assert.NotErrorIs(t, err, otp.ErrThrottled, "%s: waiting does not help", what)
		assert.Zero(t, be.RetryAfter, what)
	} else {
		assert.ErrorIs(t, err, otp.ErrBudgetExceeded, what)
		assert.ErrorIs(t, err, otp.ErrThrottled, what)
		assert.NotErrorIs(t, err, otp.ErrCountryNotAllowed, what)
	}
	return be
}

// Attack: SMS pumping. A bot asks for codes to premium numbers abroad, whose operator
// shares the fee. Only the home regions (and those allowed on purpose) get codes, and
// the refusal costs nothing: no budget, no resend interval.
func TestAttackSMSPumpingToPremiumForeignNumber(t *testing.T) {
	e := budgetEnv(t, otp.SMSBudgets{HomeRegions: []string{"US"}})
	for _, tt := range []struct{ addr, region string }{
		{"+882130000001", "001"},  // international networks: a classic pumping range
		{"+447400100001", "GB"},   // abroad
		{"+18762100001", "JM"},    // +1, but Jamaica: the region decides, not the calling code
		{"+15555550123", ""},      // +1 but valid for no region: never taken for a home number
		{"+999123456789", ""},     // no such calling code
		{"not-a-number", ""},      // not E.164 at all
		{"+4474001000011234", ""}, // too long for its region
	} {
		for _, ch := range []otp.Channel{otp.ChannelSMS, otp.ChannelVoice} {
			iss, err := e.ask("mallory", otp.Destination{Channel: ch, Address: tt.addr}, "198.51.100.9")
			be := wantBudget(t, err, otp.BudgetCountryNotAllowed, tt.addr)
			assert.Equal(t, tt.region, be.Region, tt.addr)
			assert.Empty(t, iss.Code)
		}
	}
	// Nothing was counted: mallory's own number at home gets a code at once (no resend
	// interval), and the client's budget is untouched.
	_, err := e.ask("mallory", usNumber(1), "198.51.100.9")
	require.NoError(t, err)
	// Email is not an SMS: no country to check.
	_, err = e.ask("mallory2", otp.Destination{Channel: otp.ChannelEmail, Address: "m@example.com"}, "198.51.100.9")
	require.NoError(t, err)
}

// Regions allowed besides home are allowed, each capped per calling code; lists may be
// written in lower case.
func TestBudgetAllowedRegions(t *testing.T) {
	e := budgetEnv(t, otp.SMSBudgets{HomeRegions: []string{"us"}, AllowedRegions: []string{"GB", "JM"}, PerCountry: 2})
	for i, d := range []otp.Destination{gbNumber(1), gbNumber(2), {Channel: otp.ChannelSMS, Address: "+18762100001"}} {
		_, err := e.ask(fmt.Sprint("sub", i), d, "")
		require.NoError(t, err, d.Address)
	}
	// Jamaica is +1 like home, but not home: it counts against +1's country budget,
	// which US numbers never touch.
	_, err := e.ask("sub3", otp.Destination{Channel: otp.ChannelSMS, Address: "+18762100002"}, "")
	require.NoError(t, err)
	_, err = e.ask("sub4", otp.Destination{Channel: otp.ChannelSMS, Address: "+18762100003"}, "")
	wantBudget(t, err, otp.BudgetCountry, "third Jamaican code")
	for i := range 5 {
		_, err := e.ask(fmt.Sprint("home", i), usNumber(i), "")
		require.NoError(t, err, "home numbers are bounded by Global only")
	}
	_, err = e.ask("sub5", otp.Destination{Channel: otp.ChannelSMS, Address: "+4930123456789"}, "")
	wantBudget(t, err, otp.BudgetCountryNotAllowed, "Germany is on neither list")
}

// Attack: one client asks for codes to 50 numbers, each for an account of its own, so
// that no per-subscriber or per-destination limit is reached.
func TestAttackOneClientRequestsCodesToFiftyNumbers(t *testing.T) {
	e := budgetEnv(t, otp.SMSBudgets{HomeRegions: []string{"US"}})
	const perClient = 20 // the documented default
	var refused int
	for i := range 50 {
		_, err := e.ask(fmt.Sprint("victim", i), usNumber(i), "203.0.113.7:51000")
		if i < perClient {
			require.NoError(t, err, "code %d", i)
			continue
		}
		be := wantBudget(t, err, otp.BudgetClient, fmt.Sprint("code ", i))
		assert.Equal(t, time.Hour, be.RetryAfter, "the whole window, not when it frees up")
		refused++
	}
	assert.Equal(t, 50-perClient, refused)
	// The same client in its IPv4-mapped form is the same client.
	_, err := e.ask("victim50", usNumber(50), "::ffff:203.0.113.7")
	wantBudget(t, err, otp.BudgetClient, "IPv4-mapped form")
	// Another client is not held up.
	_, err = e.ask("victim51", usNumber(51), "203.0.113.8")
	require.NoError(t, err)
	// The window slides.
	e.clk.Advance(time.Hour)
	_, err = e.ask("victim52", usNumber(52), "203.0.113.7")
	require.NoError(t, err)
}

// Attack: an IPv6 client rotates its address for every request: inside its /64 it is
// one client, and across the /64s of its /48 it meets the network's budget.
func TestAttackIPv6RotationDodgesSMSBudget(t *testing.T) {
	e := budgetEnv(t, otp.SMSBudgets{PerClient: 3, PerNetwork: 7})
	n := 0
	next := func(ip string) error {
		n++
		_, err := e.ask(fmt.Sprint("victim", n), usNumber(n), ip)
		return err
	}
	for i := range 3 {
		require.NoError(t, next(fmt.Sprintf("2001:db8:1:1::%x", i+1)))
	}
	wantBudget(t, next("[2001:db8:1:1:ffff:ffff:ffff:ffff]:443"), otp.BudgetClient, "another address of the same /64")
	for i := range 4 {
		require.NoError(t, next(fmt.Sprintf("2001:db8:1:%x::1", i+2)), "another /64")
	}
	wantBudget(t, next("2001:db8:1:ff::1"), otp.BudgetNetwork, "the eighth code from one /48")
	require.NoError(t, next("2001:db8:2::1"), "another /48")
}

// Attack: a flood across many numbers of one calling code, from many clients, the
// pattern of pumping through an allowed country's premium ranges.
func TestAttackFloodAcrossOneCountryCode(t *testing.T) {
	e := budgetEnv(t, otp.SMSBudgets{HomeRegions: []string{"US"}, AllowedRegions: []string{"GB"}})
	const perCountry = 100 // the documented default
	for i := range perCountry {
		_, err := e.ask(fmt.Sprint("bot", i), gbNumber(i), fmt.Sprintf("198.51.%d.%d", i/250, i%250+1))
		require.NoError(t, err, "code %d", i)
	}
	_, err := e.ask("bot-last", gbNumber(perCountry), "192.0.2.200")
	wantBudget(t, err, otp.BudgetCountry, "one code too many to +44")
	// Home numbers still get codes.
	_, err = e.ask("owner", usNumber(1), "192.0.2.201")
	require.NoError(t, err)
}

// The global cap holds however the requests are spread, and a refusal never keeps
// what the resend limits reserved for it.
func TestBudgetGlobal(t *testing.T) {
	e := budgetEnv(t, otp.SMSBudgets{Global: 3})
	var first otp.Issued
	for i := range 3 {
		iss, err := e.ask(fmt.Sprint("sub", i), usNumber(i), fmt.Sprintf("192.0.2.%d", i+1))
		require.NoError(t, err)
		if i == 0 {
			first = iss
		}
	}
	_, err := e.ask("late", otp.Destination{Channel: otp.ChannelVoice, Address: usNumber(9).Address}, "192.0.2.50")
	wantBudget(t, err, otp.BudgetGlobal, "fourth code in all (voice counts with SMS)")
	_, err = e.ask("mailed", email, "192.0.2.50")
	require.NoError(t, err, "email counts against no budget")
	// An undelivered code gives its budget back; "late" has no resend interval to wait
	// for, because the refused issue was released.
	require.NoError(t, e.codes.Undelivered(context.Background(), first.ChallengeID))
	_, err = e.ask("late", usNumber(10), "192.0.2.50")
	require.NoError(t, err)
	iss, err := e.ask("another", usNumber(11), "")
	wantBudget(t, err, otp.BudgetGlobal, "full again")
	assert.Empty(t, iss.ChallengeID)
}

// A revoked code may have been delivered: its budget stays spent.
func TestBudgetRevokeKeepsTheBudgetSpent(t *testing.T) {
	e := budgetEnv(t, otp.SMSBudgets{Global: 1})
	iss, err := e.ask("alice", usNumber(1), "")
	require.NoError(t, err)
	require.NoError(t, e.codes.Revoke(context.Background(), iss.ChallengeID))
	_, err = e.ask("bob", usNumber(2), "")
	wantBudget(t, err, otp.BudgetGlobal, "after a revoke")
}

// Subscriber limits are checked first and keep their own error.
func TestBudgetAfterResendLimits(t *testing.T) {
	e := budgetEnv(t, otp.SMSBudgets{Global: 1})
	_, err := e.ask("alice", usNumber(1), "")
	require.NoError(t, err)
	_, err = e.ask("alice", usNumber(1), "")
	var te *otp.ThrottleError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, otp.ThrottleInterval, te.Reason)
}

func TestBudgetClientIPInvalid(t *testing.T) {
	e := budgetEnv(t, otp.SMSBudgets{})
	for _, ip := range []string{"localhost", "203.0.113.7 ", "2001:db8::/64", "unknown"} {
		_, err := e.ask("alice", usNumber(1), ip)
		assert.ErrorIs(t, err, netkey.ErrInvalidAddress, ip)
	}
	// Nothing was reserved by the refusals.
	_, err := e.ask("alice", usNumber(1), "203.0.113.7")
	require.NoError(t, err)
}

// budgetSpy records the budget reservations a Codes makes.
type budgetSpy struct {
	*memory.OTP
	mu  sync.Mutex
	res []otp.BudgetReservation
}

func (s *budgetSpy) ReserveBudget(ctx context.Context, r otp.BudgetReservation) error {
	s.mu.Lock()
	r.Counters = slices.Clone(r.Counters) // the caller's: kept past the call, it must be copied
	s.res = append(s.res, r)
	s.mu.Unlock()
	return s.OTP.ReserveBudget(ctx, r)
}

// The store counts clients under a keyed hash, never the address, and countries by
// calling code, never the number; and the time is the core's.
func TestBudgetStoreSeesNoAddresses(t *testing.T) {
	ctx := context.Background()
	spy := &budgetSpy{OTP: memory.NewOTP(memory.Options{})}
	clientKeys := map[string]bool{}
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, hk := range [][]byte{testkey.New("budget-1"), testkey.New("budget-2")} {
		codes, err := otp.NewCodes(otp.CodeConfig{Budgets: otp.SMSBudgets{HomeRegions: []string{"US"}, AllowedRegions: []string{"GB"}}, HashKey: hk, Now: func() time.Time { return at }}, spy.OTP, spy, &notify.Recorder{})
		require.NoError(t, err)
		_, err = codes.Issue(ctx, otp.IssueRequest{Subscriber: fmt.Sprint("sub", hk[0]), Purpose: otp.PurposeSignIn,
			Destination: gbNumber(1), ClientIP: "2001:db8:77:1::5"})
		require.NoError(t, err)
	}
	require.Len(t, spy.res, 2)
	for _, r := range spy.res {
		assert.Equal(t, at, r.At)
		var limits []otp.BudgetLimit
		for _, c := range r.Counters {
			limits = append(limits, c.Limit)
			assert.Equal(t, at.Add(-time.Hour), c.Since)
			assert.LessOrEqual(t, len(c.Key), 80)
			for _, secret := range []string{"2001:db8", "db8:77", "7400100001", "2001db8"} {
				if c.Limit == otp.BudgetClient || c.Limit == otp.BudgetNetwork {
					assert.NotContains(t, c.Key, secret)
				}
			}
			if c.Limit == otp.BudgetClient {
				clientKeys[c.Key] = true
			}
		}
		assert.Equal(t, []otp.BudgetLimit{otp.BudgetClient, otp.BudgetNetwork, otp.BudgetCountry, otp.BudgetGlobal}, limits)
		assert.Equal(t, "country/44", r.Counters[2].Key)
	}
	assert.Len(t, clientKeys, 2, "the key depends on HashKey")
}

// A budget store that fails never lets a code out, and what was reserved is given back.
func TestBudgetStoreFailureFailsClosed(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewOTP(memory.Options{})
	fs := &budgetFailing{OTP: mem, fail: true}
	codes, err := otp.NewCodes(otp.CodeConfig{Budgets: usHome, HashKey: testkey.New("budget")}, mem, fs, &notify.Recorder{})
	require.NoError(t, err)
	iss, err := codes.Issue(ctx, otp.IssueRequest{Subscriber: "alice", Purpose: otp.PurposeSignIn, Destination: usNumber(1)})
	assert.ErrorIs(t, err, errStore)
	assert.NotErrorIs(t, err, otp.ErrThrottled)
	assert.Empty(t, iss.Code)
	fs.fail = false
	_, err = codes.Issue(ctx, otp.IssueRequest{Subscriber: "alice", Purpose: otp.PurposeSignIn, Destination: usNumber(1)})
	assert.NoError(t, err, "the failed issue's resend reservation was released")
}

type budgetFailing struct {
	*memory.OTP
	fail bool
}

func (f *budgetFailing) ReserveBudget(ctx context.Context, r otp.BudgetReservation) error {
	if f.fail {
		return errStore
	}
	return f.OTP.ReserveBudget(ctx, r)
}

func TestBudgetConfig(t *testing.T) {
	store := memory.NewOTP(memory.Options{})
	for _, tt := range []struct {
		b    otp.SMSBudgets
		want string
	}{
		{otp.SMSBudgets{HomeRegions: []string{"USA"}}, "Budgets.HomeRegions[0]"},
		{otp.SMSBudgets{HomeRegions: []string{"US"}, AllowedRegions: []string{"GB", "XX"}}, "Budgets.AllowedRegions[1]"},
		{otp.SMSBudgets{AllowedRegions: []string{"001"}}, "Budgets.AllowedRegions[0]"},
		{otp.SMSBudgets{Window: time.Second}, "Budgets.Window"},
		{otp.SMSBudgets{Global: -1}, "Budgets.Global"},
		{otp.SMSBudgets{PerClient: -1}, "Budgets.PerClient"},
		{otp.SMSBudgets{PerNetwork: -1}, "Budgets.PerNetwork"},
		{otp.SMSBudgets{PerCountry: -1}, "Budgets.PerCountry"},
		// No allow-list unless asked for by name.
		{otp.SMSBudgets{}, "Budgets.HomeRegions is required"},
		{otp.SMSBudgets{AllowedRegions: []string{"GB"}}, "Budgets.HomeRegions is required"},
		{otp.SMSBudgets{AnyCountry: true, HomeRegions: []string{"US"}}, "Budgets.AnyCountry"},
		{otp.SMSBudgets{AnyCountry: true, AllowedRegions: []string{"GB"}}, "Budgets.AnyCountry"},
	} {
		_, err := otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("budget"), Budgets: tt.b}, store, store, &notify.Recorder{})
		require.ErrorIs(t, err, validate.ErrInvalidConfig, tt.want)
		assert.ErrorContains(t, err, tt.want)
	}
	// A configured window is what a refusal reports.
	e := budgetEnv(t, otp.SMSBudgets{Global: 1, Window: 10 * time.Minute})
	_, err := e.ask("a", usNumber(1), "")
	require.NoError(t, err)
	_, err = e.ask("b", usNumber(2), "")
	be := wantBudget(t, err, otp.BudgetGlobal, "second code")
	assert.Equal(t, 10*time.Minute, be.RetryAfter)
	e.clk.Advance(10 * time.Minute)
	_, err = e.ask("b", usNumber(2), "")
	require.NoError(t, err)
}

func TestBudgetErrorMessages(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&otp.BudgetError{Limit: otp.BudgetClient, RetryAfter: time.Hour}, "otp: too many codes requested: SMS budget spent (client): retry after 1h0m0s"},
		{&otp.BudgetError{Limit: otp.BudgetGlobal}, "otp: too many codes requested: SMS budget spent (global)"},
		{&otp.BudgetError{Limit: otp.BudgetCountryNotAllowed, Region: "JM"}, "otp: codes are not sent to this country (JM)"},
		{&otp.BudgetError{Limit: otp.BudgetCountryNotAllowed}, "otp: codes are not sent to this country"},
	} {
		assert.Equal(t, tt.want, tt.err.Error())
		assert.False(t, strings.Contains(tt.err.Error(), "+"), "no number in the message")
	}
	assert.True(t, errors.Is(otp.ErrBudgetExceeded, otp.ErrThrottled))
}

// Codes go only to the home country unless the configuration says, by name, that they
// go anywhere: a CodeConfig without Budgets is refused, and AnyCountry (the unsafe
// opt-out) sends to premium ranges abroad and to numbers of no known country, each
// calling code capped by PerCountry.
func TestBudgetAllowListByDefault(t *testing.T) {
	store := memory.NewOTP(memory.Options{})
	_, err := otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("budget")}, store, store, &notify.Recorder{})
	require.ErrorIs(t, err, validate.ErrInvalidConfig)
	assert.ErrorContains(t, err, "AnyCountry")

	premium := otp.Destination{Channel: otp.ChannelSMS, Address: "+18762100001"}
	unknown := otp.Destination{Channel: otp.ChannelSMS, Address: "+15555550123"}
	home := budgetEnv(t, otp.SMSBudgets{HomeRegions: []string{"US"}})
	for _, d := range []otp.Destination{premium, unknown} {
		_, err := home.ask("a", d, "198.51.100.7")
		wantBudget(t, err, otp.BudgetCountryNotAllowed, d.Address)
	}

	anywhere := budgetEnv(t, otp.SMSBudgets{AnyCountry: true, PerCountry: 2})
	for i, d := range []otp.Destination{premium, unknown} {
		_, err := anywhere.ask(fmt.Sprint("s", i), d, "198.51.100.7")
		require.NoError(t, err, "AnyCountry: %s", d.Address)
	}
	_, err = anywhere.ask("s3", usNumber(1), "198.51.100.7")
	wantBudget(t, err, otp.BudgetCountry, "+1 is capped by PerCountry like every calling code")
}
