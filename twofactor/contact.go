package twofactor

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/carrierguard/carrierguard/notify"
)

// Kind is the kind of a trusted contact.
type Kind string

// Contact kinds.
const (
	KindEmail Kind = "email"
	KindPhone Kind = "phone"
)

// Contact input errors. Each wraps ErrInvalidContact and says what was wrong.
var (
	ErrInvalidContact = errors.New("twofactor: invalid contact")
	ErrInvalidEmail   = fmt.Errorf("%w: invalid email address", ErrInvalidContact)
	ErrInvalidPhone   = fmt.Errorf("%w: invalid phone number", ErrInvalidContact)
	// ErrNotMobile is returned for a valid number that the numbering plan says is not a
	// mobile number (fixed line, toll free, premium rate, pager…: no SMS), and for VoIP
	// numbers unless PhoneOptions.AllowVoIP.
	ErrNotMobile = fmt.Errorf("%w: not a mobile number", ErrInvalidPhone)
)

const maxContactInput = 254 // RFC 5321 path limit; far above any phone number

// ParseEmail parses an email address as a subscriber types it and returns it normalised:
// surrounding space trimmed, lower-cased. A bare address is required: display names,
// angle brackets, comments and IP-literal domains are rejected, as is a domain without a
// dot. The error says which rule failed.
func ParseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fmt.Errorf("%w: empty", ErrInvalidEmail)
	case len(s) > maxContactInput:
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidEmail, maxContactInput)
	case !utf8.ValidString(s):
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalidEmail)
	case strings.ContainsAny(s, "<>()\"\\ \t\r\n,;"):
		return "", fmt.Errorf("%w: give only the address, like name@example.com", ErrInvalidEmail)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrInvalidEmail, describeMailError(s))
	}
	if addr.Name != "" || addr.Address != s {
		return "", fmt.Errorf("%w: give only the address, like name@example.com", ErrInvalidEmail)
	}
	local, domain, _ := strings.Cut(addr.Address, "@")
	switch {
	case len(local) > 64:
		return "", fmt.Errorf("%w: the part before @ is longer than 64 characters", ErrInvalidEmail)
	case strings.HasPrefix(domain, "["):
		return "", fmt.Errorf("%w: IP-address domains are not accepted", ErrInvalidEmail)
	case !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "", fmt.Errorf("%w: domain %q is not a full domain name", ErrInvalidEmail, domain)
	}
	return strings.ToLower(addr.Address), nil
}

func describeMailError(s string) string {
	switch at := strings.Count(s, "@"); {
	case at == 0:
		return "missing @"
	case at > 1:
		return "more than one @"
	case strings.HasPrefix(s, "@"):
		return "nothing before @"
	case strings.HasSuffix(s, "@"):
		return "nothing after @"
	default:
		return "not a valid address"
	}
}

// PhoneOptions says how phone numbers are parsed.
type PhoneOptions struct {
	// DefaultRegion is the ISO 3166-1 alpha-2 region used for numbers written in national
	// format ("(415) 555-2671" with region "US"). Numbers in international format (+...)
	// parse without it.
	DefaultRegion string
	// AllowVoIP accepts numbers the numbering plan marks as VoIP. Off by default: such
	// numbers are cheap to obtain and weaker as a possession factor.
	AllowVoIP bool
}

// ParsePhone parses a phone number as a subscriber types it and returns it in E.164
// ("+14155552671"). It rejects invalid numbers and numbers whose type, by the numbering
// plan's metadata, cannot receive SMS.
func ParsePhone(s string, opts PhoneOptions) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fmt.Errorf("%w: empty", ErrInvalidPhone)
	case len(s) > 64:
		return "", fmt.Errorf("%w: too long", ErrInvalidPhone)
	case !utf8.ValidString(s):
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalidPhone)
	}
	region := strings.ToUpper(opts.DefaultRegion)
	if region != "" && !supportedRegion(region) {
		return "", fmt.Errorf("%w: default region %q is not a known region code", ErrInvalidPhone, opts.DefaultRegion)
	}
	if !strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "＋") && region == "" {
		return "", fmt.Errorf("%w: write it with its country code, like +1 415 555 2671", ErrInvalidPhone)
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		switch {
		case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
			return "", fmt.Errorf("%w: unknown country code", ErrInvalidPhone)
		case errors.Is(err, phonenumbers.ErrNotANumber):
			return "", fmt.Errorf("%w: not a phone number", ErrInvalidPhone)
		case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
			return "", fmt.Errorf("%w: too few digits", ErrInvalidPhone)
		case errors.Is(err, phonenumbers.ErrNumTooLong):
			return "", fmt.Errorf("%w: too many digits", ErrInvalidPhone)
		default:
			return "", fmt.Errorf("%w: not a valid number", ErrInvalidPhone)
		}
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%w: %s", ErrInvalidPhone, describePossibility(num))
	}
	switch t := phonenumbers.GetNumberType(num); t {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE, phonenumbers.PERSONAL_NUMBER:
	case phonenumbers.VOIP:
		if !opts.AllowVoIP {
			return "", fmt.Errorf("%w: it is a VoIP number, which is not accepted", ErrNotMobile)
		}
	default:
		return "", fmt.Errorf("%w: it is a %s number", ErrNotMobile, typeName(t))
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// supportedRegion reports whether r is a region the numbering metadata knows.
func supportedRegion(r string) bool {
	return phonenumbers.GetCountryCodeForRegion(strings.ToUpper(r)) != 0
}

func describePossibility(num *phonenumbers.PhoneNumber) string {
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.TOO_SHORT:
		return "too few digits"
	case phonenumbers.TOO_LONG:
		return "too many digits"
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "unknown country code"
	default:
		return "not a number in use in its country"
	}
}

func typeName(t phonenumbers.PhoneNumberType) string {
	switch t {
	case phonenumbers.FIXED_LINE:
		return "fixed-line"
	case phonenumbers.TOLL_FREE:
		return "toll-free"
	case phonenumbers.PREMIUM_RATE:
		return "premium-rate"
	case phonenumbers.SHARED_COST:
		return "shared-cost"
	case phonenumbers.PAGER:
		return "pager"
	case phonenumbers.UAN:
		return "company (UAN)"
	case phonenumbers.VOICEMAIL:
		return "voicemail access"
	default:
		return "non-mobile"
	}
}

// ParseContact parses s as a contact of the given kind and returns its normalised value.
func ParseContact(kind Kind, s string, opts PhoneOptions) (string, error) {
	switch kind {
	case KindEmail:
		return ParseEmail(s)
	case KindPhone:
		return ParsePhone(s, opts)
	default:
		return "", fmt.Errorf("%w: kind %q is not %q or %q", ErrInvalidContact, kind, KindEmail, KindPhone)
	}
}

// Mask returns a normalised contact value in the form shown in UIs and messages:
// "•••• 2671" for a phone number, "a•••@example.com" for an email address. It uses
// package notify's masking, so events, messages and screens agree.
func Mask(kind Kind, value string) string {
	switch kind {
	case KindPhone:
		return notify.MaskPhone(value)
	case KindEmail:
		return notify.MaskEmail(value)
	default:
		return "•••"
	}
}
