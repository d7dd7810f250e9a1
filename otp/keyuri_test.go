package otp_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	potp "github.com/pquerna/otp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/otp"
)

const seedB32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"

func TestParseKeyURI(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want otp.KeyURI
	}{
		{"minimal totp", "otpauth://totp/Carrier:alice?secret=" + seedB32,
			otp.KeyURI{Kind: otp.TOTP, Issuer: "Carrier", Account: "alice", Secret: seedSHA1, Params: otp.Params{Algorithm: otp.SHA1, Digits: 6, Period: 30 * time.Second}}},
		{"issuer parameter only, lower-case secret, padding, spaces", "otpauth://totp/My%20Carrier:%20alice@example.com?secret=" + strings.ToLower(seedB32) + "====&issuer=My%20Carrier&algorithm=sha256&digits=8&period=60",
			otp.KeyURI{Kind: otp.TOTP, Issuer: "My Carrier", Account: "alice@example.com", Secret: seedSHA1, Params: otp.Params{Algorithm: otp.SHA256, Digits: 8, Period: 60 * time.Second}}},
		{"hotp", "otpauth://hotp/alice?secret=" + seedB32 + "&issuer=Carrier&counter=42",
			otp.KeyURI{Kind: otp.HOTP, Issuer: "Carrier", Account: "alice", Secret: seedSHA1, Counter: 42, Params: otp.Params{Algorithm: otp.SHA1, Digits: 6, Period: 30 * time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := otp.ParseKeyURI(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseKeyURIRejects(t *testing.T) {
	tests := map[string]string{
		"not otpauth":        "https://totp/Carrier:alice?secret=" + seedB32,
		"unknown type":       "otpauth://motp/Carrier:alice?secret=" + seedB32,
		"no secret":          "otpauth://totp/Carrier:alice",
		"bad base32":         "otpauth://totp/Carrier:alice?secret=not-base32!",
		"short secret":       "otpauth://totp/Carrier:alice?secret=GEZDGNBV",
		"no issuer":          "otpauth://totp/alice?secret=" + seedB32,
		"issuers disagree":   "otpauth://totp/Carrier:alice?secret=" + seedB32 + "&issuer=Other",
		"no account":         "otpauth://totp/Carrier:?secret=" + seedB32,
		"MD5":                "otpauth://totp/Carrier:alice?secret=" + seedB32 + "&algorithm=MD5",
		"10 digits":          "otpauth://totp/Carrier:alice?secret=" + seedB32 + "&digits=10",
		"zero period":        "otpauth://totp/Carrier:alice?secret=" + seedB32 + "&period=0",
		"hotp no counter":    "otpauth://hotp/Carrier:alice?secret=" + seedB32,
		"control in account": "otpauth://totp/Carrier:al%00ice?secret=" + seedB32,
		"fragment":           "otpauth://totp/Carrier:alice?secret=" + seedB32 + "#x",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := otp.ParseKeyURI(in)
			require.ErrorIs(t, err, otp.ErrInvalidKeyURI)
			assert.NotContains(t, err.Error(), seedB32, "errors never echo the secret")
		})
	}
}

// What we write, pquerna/otp (and so the apps it mirrors) reads back the same.
func TestKeyURIStringReadByPquerna(t *testing.T) {
	k := otp.KeyURI{Kind: otp.TOTP, Issuer: "Acme & Co Mobile", Account: "•••• 1234", Secret: seedSHA1, Params: otp.Params{Algorithm: otp.SHA512, Digits: 8, Period: 60 * time.Second}}
	pk, err := potp.NewKeyFromURL(k.String())
	require.NoError(t, err)
	assert.Equal(t, "totp", pk.Type())
	assert.Equal(t, k.Issuer, pk.Issuer())
	assert.Equal(t, k.Account, pk.AccountName())
	assert.Equal(t, seedB32, pk.Secret())
	assert.Equal(t, potp.AlgorithmSHA512, pk.Algorithm())
	assert.Equal(t, potp.DigitsEight, pk.Digits())
	assert.Equal(t, uint64(60), pk.Period())
	assert.NotContains(t, k.String(), "+", "spaces are %20, not +")
}

func FuzzParseKeyURI(f *testing.F) {
	f.Add("otpauth://totp/Carrier:alice?secret=" + seedB32)
	f.Add("otpauth://hotp/Carrier:bob?secret=" + seedB32 + "&counter=7&digits=8&algorithm=SHA512")
	f.Add("otpauth://totp/A%20B:c%3Ad?secret=" + seedB32 + "&issuer=A%20B&period=45")
	f.Add("otpauth://totp/x?issuer=%26&secret=" + seedB32)
	f.Fuzz(func(t *testing.T, s string) {
		k, err := otp.ParseKeyURI(s)
		if err != nil {
			return
		}
		out := k.String()
		k2, err := otp.ParseKeyURI(out)
		if err != nil {
			t.Fatalf("ParseKeyURI(%q) -> %q does not parse: %v", s, out, err)
		}
		if !reflect.DeepEqual(k, k2) {
			t.Fatalf("round trip changed the key:\n%+v\n%+v", k, k2)
		}
		if out2 := k2.String(); out2 != out {
			t.Fatalf("String not stable: %q then %q", out, out2)
		}
	})
}

// The secret parameter is base32 without padding for every secret length, not only the
// multiples of 5 bytes (such as the default 20) that never need any, and reads back.
func TestKeyURIStringSecretUnpadded(t *testing.T) {
	for _, n := range []int{16, 20, 21, 32, 33, 64} {
		secret := make([]byte, n)
		for i := range secret {
			secret[i] = byte(i*7 + 1)
		}
		k := otp.KeyURI{Kind: otp.TOTP, Issuer: "Carrier", Account: "alice", Secret: secret, Params: otp.Params{Algorithm: otp.SHA1, Digits: 6, Period: 30 * time.Second}}
		u, err := url.Parse(k.String())
		require.NoError(t, err)
		param := u.Query().Get("secret")
		assert.NotContains(t, param, "=", "%d-byte secret", n)
		assert.Len(t, param, (n*8+4)/5, "%d-byte secret", n)
		got, err := otp.ParseKeyURI(k.String())
		require.NoError(t, err)
		assert.Equal(t, k, got, "%d-byte secret", n)
	}
}
