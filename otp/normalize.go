package otp

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// MaxCodeInput is the longest input, in bytes, that NormalizeCode looks at.
const MaxCodeInput = 128

// NormalizeCode turns what a person typed into the canonical code: ASCII digits only.
//
// It accepts, and drops, spaces (any Unicode space) and dashes (any Unicode dash
// punctuation, and the minus sign), so "123 456", "123-456" and "１２３－４５６" all give
// "123456". Digits from any script are accepted: full-width forms are folded with
// golang.org/x/text/width, and other decimal digits (such as Arabic-Indic) are mapped by
// their Unicode value. Anything else fails with ErrMalformedCode; a code with the wrong
// number of digits fails with ErrWrongLength. digits is the expected length; 0 means any
// length from 1 to 10. Errors never echo the input.
//
// NormalizeCode is idempotent: its output, normalised again, is unchanged.
func NormalizeCode(s string, digits int) (string, error) {
	if fast, ok := asciiDigits(s, digits); ok {
		return fast, nil
	}
	if len(s) > MaxCodeInput {
		return "", fmt.Errorf("%w: input longer than %d bytes", ErrMalformedCode, MaxCodeInput)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: input is not valid UTF-8", ErrMalformedCode)
	}
	folded := width.Fold.String(s)
	out := make([]byte, 0, 10)
	pos := 0
	for _, r := range folded {
		pos++
		switch {
		case '0' <= r && r <= '9':
			out = append(out, byte(r))
		case unicode.IsSpace(r), unicode.Is(unicode.Pd, r), r == '\u2212':
			// separators people type or paste: drop them
		default:
			d, ok := decimalValue(r)
			if !ok {
				return "", fmt.Errorf("%w: character %d is not a digit, space or dash", ErrMalformedCode, pos)
			}
			out = append(out, '0'+d)
		}
		if len(out) > 10 {
			return "", fmt.Errorf("%w: more than 10 digits", ErrWrongLength)
		}
	}
	if len(out) == 0 {
		return "", fmt.Errorf("%w: no digits", ErrMalformedCode)
	}
	if digits > 0 && len(out) != digits {
		return "", fmt.Errorf("%w: got %d, want %d", ErrWrongLength, len(out), digits)
	}
	return string(out), nil
}

// asciiDigits is the allocation-free path for input that is already canonical.
func asciiDigits(s string, digits int) (string, bool) {
	if len(s) == 0 || len(s) > 10 || (digits > 0 && len(s) != digits) {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return s, true
}

// decimalValue returns the value of a Unicode decimal digit (general category Nd).
// Unicode guarantees Nd characters come in contiguous runs of ten, zero to nine, and the
// ranges of unicode.Nd each begin at a zero, so the value is the offset modulo ten.
func decimalValue(r rune) (byte, bool) {
	if !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	for _, rg := range unicode.Nd.R16 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return byte((r - rune(rg.Lo)) % 10), true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return byte((r - rune(rg.Lo)) % 10), true
		}
	}
	return 0, false
}

// parseCode normalises s and returns its numeric value.
func parseCode(s string, digits int) (uint64, error) {
	c, err := NormalizeCode(s, digits)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := 0; i < len(c); i++ {
		v = v*10 + uint64(c[i]-'0')
	}
	return v, nil
}
