package twofactor

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/carrierguard/carrierguard/keyring"
	"github.com/carrierguard/carrierguard/notify"
)

// RecoveryAlphabet holds the characters of recovery codes: digits and upper-case letters
// without the easily confused 0/O, 1/I/L, and U (to avoid accidental words).
const RecoveryAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

const (
	// RecoveryCodeCount is how many recovery codes a set holds.
	RecoveryCodeCount = 10
	// RecoveryCodeLength is the number of characters in a recovery code (about 49 bits).
	RecoveryCodeLength = 10
)

// ErrMalformedRecoveryCode is returned for input that cannot be a recovery code.
var ErrMalformedRecoveryCode = errors.New("twofactor: malformed recovery code")

// generateRecoveryCode draws RecoveryCodeLength characters uniformly from
// RecoveryAlphabet by rejection sampling (no modulo bias).
func generateRecoveryCode(r io.Reader) (string, error) {
	const n = len(RecoveryAlphabet)
	const limit = 256 - 256%n // accept bytes below the largest multiple of n
	var out [RecoveryCodeLength]byte
	var buf [32]byte
	i := 0
	for i < len(out) {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", fmt.Errorf("twofactor: read random: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && i < len(out) {
				out[i] = RecoveryAlphabet[int(b)%n]
				i++
			}
		}
	}
	return string(out[:]), nil
}

// NormalizeRecoveryCode turns what a subscriber types into the canonical code: spaces and
// dashes removed, letters upper-cased. Anything else is ErrMalformedRecoveryCode.
func NormalizeRecoveryCode(s string) (string, error) {
	if len(s) > 64 {
		return "", fmt.Errorf("%w: too long", ErrMalformedRecoveryCode)
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r < unicode.MaxASCII && strings.ContainsRune(RecoveryAlphabet, unicode.ToUpper(r)):
			b.WriteRune(unicode.ToUpper(r))
		default:
			return "", fmt.Errorf("%w: unexpected character", ErrMalformedRecoveryCode)
		}
	}
	if b.Len() != RecoveryCodeLength {
		return "", fmt.Errorf("%w: want %d characters, got %d", ErrMalformedRecoveryCode, RecoveryCodeLength, b.Len())
	}
	return b.String(), nil
}

// FormatRecoveryCode groups a code for display: "ABCDE-FGHJK".
func FormatRecoveryCode(code string) string {
	if len(code) != RecoveryCodeLength {
		return code
	}
	return code[:5] + "-" + code[5:]
}

// hashRecoveryCode is the keyed hash stored for a recovery code: HMAC-SHA-256 under a
// key derived from Config.HashKey, over the subscriber and the canonical code, each
// length-prefixed, so a hash copied to another subscriber's set matches nothing.
func hashRecoveryCode(key []byte, subscriber, code string) []byte {
	in := keyring.AssociatedData(subscriber, code)
	defer clear(in) // it holds the code
	m := hmac.New(sha256.New, key)
	m.Write(in)
	return m.Sum(nil)
}

// deriveKey derives a purpose-specific key from the configured HashKey.
func deriveKey(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// GenerateRecoveryCodes makes a new set of RecoveryCodeCount codes, stores their keyed
// hashes in place of the old set (every old code stops working) and returns the codes,
// formatted for display ("ABCDE-FGHJK"). Show them once, over the signed-in session; they
// are not stored in plaintext and cannot be shown again.
//
// A new set is a new factor, so it needs what adding a contact does (see AddContact and
// Reauth): a session thief must not be able to mint codes that bypass 2FA, and one who
// got a sign-in code out of the subscriber has no proof for otp.PurposeAddFactor. The
// set's generation time is kept with it: its codes are new, for Config.FactorProbation,
// like any factor. notify.RecoveryCodesGenerated is published before the set is
// replaced, so if publishing fails the old codes still work.
func (s *Service) GenerateRecoveryCodes(ctx context.Context, subscriber string, re Reauth, o Origin) ([]string, error) {
	if err := checkSubscriber(subscriber); err != nil {
		return nil, err
	}
	if err := s.checkOrigin(o); err != nil {
		return nil, err
	}
	fs, err := s.factors(ctx, subscriber)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeFactorChange(ctx, fs, FactorRecoveryCodes, "", re, o); err != nil {
		return nil, err
	}
	codes := make([]string, 0, RecoveryCodeCount)
	hashes := make([][]byte, 0, RecoveryCodeCount)
	for len(codes) < RecoveryCodeCount {
		c, err := generateRecoveryCode(s.cfg.Rand)
		if err != nil {
			return nil, err
		}
		if slices.Contains(codes, c) {
			continue
		}
		codes = append(codes, c)
		hashes = append(hashes, hashRecoveryCode(s.recMK, subscriber, c))
	}
	// The event goes first: once the set is replaced the old codes are gone, and a
	// subscriber who was not told (and not shown the new codes) would be left with none.
	err = s.publish(ctx, s.event(notify.RecoveryCodesGenerated, subscriber, o, map[string]string{"count": strconv.Itoa(len(codes))}))
	if err != nil {
		return nil, err
	}
	if err := s.rec.ReplaceRecoveryCodes(ctx, subscriber, hashes, s.cfg.Now()); err != nil {
		return nil, fmt.Errorf("twofactor: recovery store: %w", err)
	}
	for i, c := range codes {
		codes[i] = FormatRecoveryCode(c)
	}
	return codes, nil
}
