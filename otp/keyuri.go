package otp

import (
	"encoding/base32"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind is the type of an authenticator key: time-based or counter-based.
type Kind string

// Kinds.
const (
	TOTP Kind = "totp"
	HOTP Kind = "hotp"
)

// KeyURI is an authenticator key in the otpauth:// form that apps scan from a QR code:
//
//	otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30
//
// It carries the secret: treat its String form as a secret and never log or store it.
type KeyURI struct {
	Kind Kind
	// Issuer names the carrier in the app. It is required and may not contain ':'.
	Issuer string
	// Account names the subscriber's account in the app (a masked number, say).
	Account string
	Secret  []byte
	Params  Params
	// Counter is the initial HOTP counter; always 0 for TOTP.
	Counter uint64
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// String returns the URI: label and issuer parameter both carry the issuer, the secret
// is base32 without padding, and every parameter is written out explicitly. Spaces are
// escaped as %20, which every app reads correctly.
func (k KeyURI) String() string {
	p := k.Params.withDefaults()
	var b strings.Builder
	b.WriteString("otpauth://")
	b.WriteString(string(k.Kind))
	b.WriteString("/")
	b.WriteString(url.PathEscape(k.Issuer))
	b.WriteString(":")
	b.WriteString(url.PathEscape(k.Account))
	b.WriteString("?secret=")
	b.WriteString(b32.EncodeToString(k.Secret))
	b.WriteString("&issuer=")
	b.WriteString(queryEscape(k.Issuer))
	b.WriteString("&algorithm=")
	b.WriteString(string(p.Algorithm))
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(p.Digits))
	if k.Kind == HOTP {
		b.WriteString("&counter=")
		b.WriteString(strconv.FormatUint(k.Counter, 10))
	} else {
		b.WriteString("&period=")
		b.WriteString(strconv.FormatInt(int64(p.Period/time.Second), 10))
	}
	return b.String()
}

func queryEscape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// MaxKeyURI is the longest key URI ParseKeyURI accepts, in bytes.
const MaxKeyURI = 2048

// ParseKeyURI parses and strictly validates an otpauth:// key URI, for importing a
// token's provisioning URI. The issuer comes from the issuer parameter or the label
// prefix, and must be present; if both are present they must agree. The secret must be
// base32 (any case, padding optional) of MinSecretSize to 128 bytes. algorithm, digits
// and period (TOTP) are optional and validated; counter is required for HOTP. Unknown
// parameters are ignored. Errors wrap ErrInvalidKeyURI and never echo the secret.
func ParseKeyURI(s string) (KeyURI, error) {
	fail := func(format string, args ...any) (KeyURI, error) {
		return KeyURI{}, fmt.Errorf("%w: "+format, append([]any{ErrInvalidKeyURI}, args...)...)
	}
	if len(s) > MaxKeyURI {
		return fail("longer than %d bytes", MaxKeyURI)
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return fail("not a URI")
	}
	if !strings.EqualFold(u.Scheme, "otpauth") {
		return fail("scheme is not otpauth")
	}
	if u.User != nil || u.Opaque != "" || u.Fragment != "" {
		return fail("unexpected user info, opaque part or fragment")
	}
	var k KeyURI
	switch strings.ToLower(u.Host) {
	case "totp":
		k.Kind = TOTP
	case "hotp":
		k.Kind = HOTP
	default:
		return fail("type is not totp or hotp")
	}
	label := strings.TrimPrefix(u.Path, "/")
	labelIssuer, account, hasIssuer := strings.Cut(label, ":")
	if !hasIssuer {
		labelIssuer, account = "", label
	}
	account = strings.TrimLeft(account, " ")
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fail("query is not well formed")
	}
	k.Issuer = q.Get("issuer")
	if k.Issuer == "" {
		k.Issuer = labelIssuer
	} else if hasIssuer && labelIssuer != k.Issuer {
		return fail("label issuer and issuer parameter differ")
	}
	k.Account = account
	switch {
	case k.Issuer == "":
		return fail("issuer is missing")
	case strings.Contains(k.Issuer, ":"):
		return fail("issuer contains ':'")
	case k.Account == "":
		return fail("account name is missing")
	case !printable(k.Issuer) || !printable(k.Account):
		return fail("issuer or account is not printable UTF-8")
	}
	secret := strings.ToUpper(strings.TrimRight(q.Get("secret"), "="))
	k.Secret, err = b32.DecodeString(secret)
	if err != nil || secret == "" {
		return fail("secret is missing or not base32")
	}
	if len(k.Secret) < MinSecretSize || len(k.Secret) > 128 {
		return fail("secret is %d bytes, want %d to 128", len(k.Secret), MinSecretSize)
	}
	k.Params = Params{Algorithm: SHA1, Digits: 6, Period: 30 * time.Second}
	if a := q.Get("algorithm"); a != "" {
		k.Params.Algorithm = Algorithm(strings.ToUpper(a))
	}
	if d := q.Get("digits"); d != "" {
		if k.Params.Digits, err = smallInt(d, 6, 8); err != nil {
			return fail("digits must be 6, 7 or 8")
		}
	}
	if k.Kind == TOTP {
		if p := q.Get("period"); p != "" {
			n, err := smallInt(p, 1, 3600)
			if err != nil {
				return fail("period must be 1 to 3600 seconds")
			}
			k.Params.Period = time.Duration(n) * time.Second
		}
	} else {
		c := q.Get("counter")
		if c == "" {
			return fail("counter is required for hotp")
		}
		if k.Counter, err = strconv.ParseUint(c, 10, 63); err != nil {
			return fail("counter is not a number")
		}
	}
	if err := k.Params.validate(); err != nil {
		return fail("%v", strings.TrimPrefix(err.Error(), "otp: "))
	}
	return k, nil
}

func smallInt(s string, lo, hi int) (int, error) {
	if len(s) > 4 {
		return 0, strconv.ErrRange
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi || strconv.Itoa(n) != s {
		return 0, strconv.ErrSyntax
	}
	return n, nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
