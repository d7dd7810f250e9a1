package twofactor_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/twofactor"
)

func TestParseEmail(t *testing.T) {
	tests := []struct {
		in, want, errPart string
	}{
		{"  Alice@Example.COM ", "alice@example.com", ""},
		{"a.b+tag@mail.example.co.uk", "a.b+tag@mail.example.co.uk", ""},
		{"", "", "empty"},
		{"alice.example.com", "", "missing @"},
		{"a@b@example.com", "", "more than one @"},
		{"@example.com", "", "nothing before @"},
		{"alice@", "", "nothing after @"},
		{"Alice <alice@example.com>", "", "give only the address"},
		{"alice@localhost", "", "not a full domain name"},
		{"alice@example..com", "", "not a valid address"},
		{"alice@[192.0.2.1]", "", "IP-address domains"},
		{strings.Repeat("a", 65) + "@example.com", "", "longer than 64"},
		{strings.Repeat("a", 250) + "@example.com", "", "longer than 254"},
		{"al\xffce@example.com", "", "UTF-8"},
	}
	for _, tt := range tests {
		got, err := twofactor.ParseEmail(tt.in)
		if tt.errPart != "" {
			require.Error(t, err, tt.in)
			assert.ErrorIs(t, err, twofactor.ErrInvalidEmail)
			assert.Contains(t, err.Error(), tt.errPart, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got)
	}
}

func TestParsePhone(t *testing.T) {
	us := twofactor.PhoneOptions{DefaultRegion: "US"}
	gb := twofactor.PhoneOptions{DefaultRegion: "gb"}
	tests := []struct {
		in      string
		opts    twofactor.PhoneOptions
		want    string
		wantErr error
		errPart string
	}{
		{"(201) 555-0123", us, "+12015550123", nil, ""},
		{"+1 201-555-0123", twofactor.PhoneOptions{}, "+12015550123", nil, ""},
		{"07400 123456", gb, "+447400123456", nil, ""},
		{"+44 7400 123456", us, "+447400123456", nil, ""},
		{"020 7946 0000", gb, "", twofactor.ErrNotMobile, "fixed-line"},
		{"0800 890 567", gb, "", twofactor.ErrNotMobile, "toll-free"},
		{"201 555 0123", twofactor.PhoneOptions{}, "", twofactor.ErrInvalidPhone, "country code"},
		{"+999 123 4567", us, "", twofactor.ErrInvalidPhone, "country code"},
		{"call me", us, "", twofactor.ErrInvalidPhone, "not a phone number"},
		{"+1 201", us, "", twofactor.ErrInvalidPhone, "too few digits"},
		{"", us, "", twofactor.ErrInvalidPhone, "empty"},
		{"056 4123 4567", gb, "", twofactor.ErrNotMobile, "VoIP"},
		{"056 4123 4567", twofactor.PhoneOptions{DefaultRegion: "GB", AllowVoIP: true}, "+445641234567", nil, ""},
		{"07400 123456", twofactor.PhoneOptions{DefaultRegion: "XX"}, "", twofactor.ErrInvalidPhone, "default region"},
		{"＋４４ ７４００ １２３４５６", twofactor.PhoneOptions{}, "+447400123456", nil, ""},
		{"+1 201 555 0123 4567 8901", us, "", twofactor.ErrInvalidPhone, "too many digits"},
	}
	for _, tt := range tests {
		got, err := twofactor.ParsePhone(tt.in, tt.opts)
		if tt.wantErr != nil {
			require.Error(t, err, tt.in)
			assert.ErrorIs(t, err, tt.wantErr, tt.in)
			assert.ErrorIs(t, err, twofactor.ErrInvalidContact)
			assert.Contains(t, err.Error(), tt.errPart, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestMask(t *testing.T) {
	assert.Equal(t, "•••• 0123", twofactor.Mask(twofactor.KindPhone, "+12015550123"))
	assert.Equal(t, "a•••@example.com", twofactor.Mask(twofactor.KindEmail, "alice@example.com"))
	assert.Equal(t, "é•••@example.com", twofactor.Mask(twofactor.KindEmail, "éloise@example.com"))
	assert.Equal(t, "••••", twofactor.Mask(twofactor.KindPhone, "+123"))
	assert.Equal(t, "•••", twofactor.Mask("fax", "x"))
}

func TestParseContactKind(t *testing.T) {
	_, err := twofactor.ParseContact("fax", "123", twofactor.PhoneOptions{})
	assert.ErrorIs(t, err, twofactor.ErrInvalidContact)
	got, err := twofactor.ParseContact(twofactor.KindEmail, "B@Example.com", twofactor.PhoneOptions{})
	require.NoError(t, err)
	assert.Equal(t, "b@example.com", got)
}

// FuzzParseContact: parsing never panics, errors always wrap ErrInvalidContact, and a
// normalised value parses to itself.
func FuzzParseContact(f *testing.F) {
	for _, s := range []string{"alice@example.com", "A <a@b.c>", "(201) 555-0123", "+44 7400 123456", "０７４００ １２３４５６", "+1", "@", ""} {
		f.Add(s)
	}
	opts := twofactor.PhoneOptions{DefaultRegion: "US"}
	f.Fuzz(func(t *testing.T, s string) {
		for _, kind := range []twofactor.Kind{twofactor.KindEmail, twofactor.KindPhone} {
			got, err := twofactor.ParseContact(kind, s, opts)
			if err != nil {
				if !errors.Is(err, twofactor.ErrInvalidContact) {
					t.Fatalf("%s %q: error %v does not wrap ErrInvalidContact", kind, s, err)
				}
				continue
			}
			again, err := twofactor.ParseContact(kind, got, opts)
			if err != nil || again != got {
				t.Fatalf("%s %q -> %q -> %q, %v", kind, s, got, again, err)
			}
		}
	})
}
