package protection_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/protection"
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{4,14}$`)

// FuzzNormalizeE164: the output is always CAMARA's E.164 form, normalising is
// idempotent, and failures wrap ErrInvalidNumber.
func FuzzNormalizeE164(f *testing.F) {
	for _, s := range []string{"+15550104477", "+1 (555) 010-4477", "+44 7700.900.123", "", "+", "+0123456",
		"15550104477", "+1234567890123456", "++15550104477", "+1\x00555", "+１５５５０１０４４７７"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := protection.NormalizeE164(s)
		if err != nil {
			if !errors.Is(err, protection.ErrInvalidNumber) {
				t.Fatalf("error %v does not wrap ErrInvalidNumber", err)
			}
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("NormalizeE164(%q) = %q, not E.164", s, got)
		}
		again, err := protection.NormalizeE164(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}

// FuzzParse: parsing names round-trips, and anything that parses is a valid value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"sim_swap", " PORT_OUT ", "phone", "never_sim_swap", "", "Action(0)", "sim_swap\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := protection.ParseAction(s); err == nil {
			if !a.Valid() || a.String() != strings.ToLower(strings.TrimSpace(s)) {
				t.Fatalf("ParseAction(%q) = %v", s, a)
			}
		} else if !errors.Is(err, protection.ErrUnknownAction) {
			t.Fatalf("ParseAction error %v", err)
		}
		if c, err := protection.ParseChannel(s); err == nil {
			if back, _ := protection.ParseChannel(c.String()); back != c || !c.Valid() {
				t.Fatalf("ParseChannel(%q) = %v", s, c)
			}
		}
		if fl, err := protection.ParseFlag(s); err == nil && !fl.Single() {
			t.Fatalf("ParseFlag(%q) = %v, not a single flag", s, fl)
		}
	})
}

// FuzzEvaluate builds arbitrary requests from bytes: Evaluate never panics, errors
// always come with a Deny, and a SIM change on a phone call is never permitted.
func FuzzEvaluate(f *testing.F) {
	p, err := protection.NewPolicy(protection.PolicyConfig{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{1, 1, 0, 1, 1, 0, 1, 3, 5, 1})
	f.Add([]byte{1, 4, 0, 1, 3, 1, 3, 2, 6, 0})
	f.Add([]byte{3, 6, 2, 2, 7, 3, 0, 0})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{255, 255, 255, 255, 255, 255, 255, 255})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 4 {
			return
		}
		req := protection.Request{Action: protection.Action(b[0]), Channel: protection.Channel(b[1]),
			Flags: protection.Flags(b[2]), Risk: protection.RiskLevel(b[3]), At: now}
		for rest := b[4:]; len(rest) >= 3 && len(req.Evidence) < 16; rest = rest[3:] {
			req.Evidence = append(req.Evidence, protection.Evidence{
				Kind:       protection.EvidenceKind(rest[0] % 12),
				ObtainedAt: now.Add(time.Duration(int8(rest[1])) * time.Minute),
				Contact:    protection.ContactKind(rest[2] % 5),
				SIM:        protection.SIMStatus(rest[2] / 5 % 4),
			})
		}
		d, err := p.Evaluate(&req)
		if err != nil && (d.Outcome != protection.Deny || !errors.Is(err, protection.ErrInvalidRequest)) {
			t.Fatalf("error %v with outcome %v", err, d.Outcome)
		}
		if req.Action.IsSIMChange() && req.Channel == protection.ChannelPhone && d.Outcome != protection.Deny {
			t.Fatalf("SIM change by phone: %v", d.Outcome)
		}
		if d.Outcome == protection.StepUp && len(d.Alternatives) == 0 {
			t.Fatal("step-up without alternatives")
		}
		_ = d.Message()
	})
}
