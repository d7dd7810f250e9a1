package otp

import (
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func TestCallingCode(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
	}{
		{"+14155552671", 1}, {"+447400123456", 44}, {"+4930123456", 49}, {"+8821300000", 882},
		{"+3512", 351}, {"+2693212345", 269}, {"+1", 1},
		// Not E.164, or no assigned code.
		{"", 0}, {"+", 0}, {"14155552671", 0}, {"+044123", 0}, {"+0", 0}, {"+999123", 0},
		{"+1 415", 0}, {"+1-415", 0}, {"+１4155552671", 0}, {"alice@example.com", 0},
	} {
		if got := callingCode(tt.in); got != tt.want {
			t.Errorf("callingCode(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// FuzzCallingCode: callingCode never panics, finds only assigned codes, and agrees with
// phonenumbers wherever phonenumbers places the number in a region; a number
// phonenumbers places in a region always has a calling code (so it is never counted as
// "country/0" or refused for want of one).
func FuzzCallingCode(f *testing.F) {
	for _, s := range []string{"+14155552671", "+447400123456", "+882130000001", "+0", "+", "", "+999", "+18762100001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cc := callingCode(s)
		if cc != 0 && !phonenumbers.GetSupportedCallingCodes()[cc] {
			t.Fatalf("callingCode(%q) = %d, not an assigned code", s, cc)
		}
		r := regionOf(s)
		if r == "" {
			return
		}
		if cc == 0 {
			t.Fatalf("regionOf(%q) = %s but callingCode found none", s, r)
		}
		if r != "001" && phonenumbers.GetCountryCodeForRegion(r) != cc {
			t.Fatalf("callingCode(%q) = %d but the number is in %s", s, cc, r)
		}
	})
}
