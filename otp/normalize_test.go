package otp_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/otp"
)

func TestNormalizeCode(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		digits  int
		want    string
		wantErr error
	}{
		{"plain", "123456", 6, "123456", nil},
		{"spaces", " 123 456 ", 6, "123456", nil},
		{"tab and newline", "123\t456\n", 6, "123456", nil},
		{"dash", "123-456", 6, "123456", nil},
		{"en dash", "123–456", 6, "123456", nil},
		{"minus sign", "123−456", 6, "123456", nil},
		{"full-width digits", "１２３４５６", 6, "123456", nil},
		{"full-width dash and ideographic space", "１２３－４５６\u3000", 6, "123456", nil},
		{"arabic-indic digits", "١٢٣٤٥٦", 6, "123456", nil},
		{"devanagari digits", "१२३४५६", 6, "123456", nil},
		{"eight digits", "1234 5678", 8, "12345678", nil},
		{"any length", "1234567", 0, "1234567", nil},
		{"too short", "12345", 6, "", otp.ErrWrongLength},
		{"too long", "1234567", 6, "", otp.ErrWrongLength},
		{"more than ten", "12345678901", 0, "", otp.ErrWrongLength},
		{"letter", "12345a", 6, "", otp.ErrMalformedCode},
		{"letter O for zero", "12345O", 6, "", otp.ErrMalformedCode},
		{"superscript digit", "12345²", 6, "", otp.ErrMalformedCode},
		{"dot", "123.456", 6, "", otp.ErrMalformedCode},
		{"empty", "", 6, "", otp.ErrMalformedCode},
		{"only separators", " - ", 6, "", otp.ErrMalformedCode},
		{"invalid UTF-8", "123\xff456", 6, "", otp.ErrMalformedCode},
		{"huge", strings.Repeat(" ", 1000) + "123456", 6, "", otp.ErrMalformedCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := otp.NormalizeCode(tt.in, tt.digits)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				if len(strings.TrimSpace(tt.in)) >= 3 {
					assert.NotContains(t, err.Error(), strings.TrimSpace(tt.in), "errors never echo input")
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// The fast path for canonical input does not allocate.
func TestNormalizeCodeCanonicalNoAlloc(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { _, _ = otp.NormalizeCode("123456", 6) })
	assert.Zero(t, allocs)
}

func FuzzNormalizeCode(f *testing.F) {
	for _, s := range []string{"123456", " 123-456 ", "１２３４５６", "١٢٣٤٥٦", "12a456", "", "\xff", "1234567890", "𝟏𝟐𝟑𝟒𝟓𝟔"} {
		f.Add(s, 6)
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, s string, digits int) {
		digits = (digits%11 + 11) % 11 // 0..10
		got, err := otp.NormalizeCode(s, digits)
		if err != nil {
			if got != "" {
				t.Fatalf("error with output %q", got)
			}
			return
		}
		if len(got) == 0 || len(got) > 10 || (digits > 0 && len(got) != digits) {
			t.Fatalf("NormalizeCode(%q, %d) = %q: bad length", s, digits, got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < '0' || got[i] > '9' {
				t.Fatalf("NormalizeCode(%q) = %q: not ASCII digits", s, got)
			}
		}
		again, err := otp.NormalizeCode(got, digits)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}
