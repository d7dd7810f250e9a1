package otp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"hash"
	"time"
)

// Algorithm is the HMAC hash of a TOTP or HOTP key.
type Algorithm string

// Algorithms. SHA1 is what every authenticator app supports and is the default; HMAC-SHA1
// is not affected by SHA-1's collision weakness.
const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

func (a Algorithm) hash() (func() hash.Hash, bool) {
	switch a {
	case SHA1:
		return sha1.New, true
	case SHA256:
		return sha256.New, true
	case SHA512:
		return sha512.New, true
	}
	return nil, false
}

// Params are the public parameters of a TOTP or HOTP key. Zero fields mean the defaults
// every app supports: SHA1, 6 digits, 30-second steps.
type Params struct {
	Algorithm Algorithm
	// Digits is 6, 7 or 8 (RFC 4226 §5.3). Apps support 6 and 8.
	Digits int
	// Period is the TOTP time step, a whole number of seconds. Ignored for HOTP.
	Period time.Duration
}

func (p Params) withDefaults() Params {
	if p.Algorithm == "" {
		p.Algorithm = SHA1
	}
	if p.Digits == 0 {
		p.Digits = 6
	}
	if p.Period == 0 {
		p.Period = 30 * time.Second
	}
	return p
}

func (p Params) validate() error {
	if _, ok := p.Algorithm.hash(); !ok {
		return fmt.Errorf("otp: algorithm %q is not SHA1, SHA256 or SHA512", p.Algorithm)
	}
	if p.Digits < 6 || p.Digits > 8 {
		return fmt.Errorf("otp: digits must be 6, 7 or 8, got %d", p.Digits)
	}
	if p.Period < time.Second || p.Period%time.Second != 0 {
		return fmt.Errorf("otp: period must be a whole number of seconds, got %s", p.Period)
	}
	return nil
}

// MinSecretSize is the shortest key NewKey accepts, in bytes (128 bits, RFC 4226 §4).
// Enrollment generates 20 bytes or more.
const MinSecretSize = 16

// Key is a decoded TOTP/HOTP secret, keyed once and reused for every time step or
// counter it checks, so verification does no allocation. A Key is not safe for
// concurrent use: give each goroutine its own (they are cheap to make).
type Key struct {
	p      Params
	mod    uint32
	period int64
	mac    hash.Hash        // crypto/hmac, pre-keyed: the reference path
	fast   *singleBlockHMAC // nil unless it passed its self-test against mac
	msg    [8]byte
	sum    [sha512.Size]byte
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10}

// NewKey returns a Key for secret (at least MinSecretSize bytes) with the given
// parameters. The Key holds its own keyed copy of the secret; the caller may clear
// secret afterwards.
func NewKey(secret []byte, p Params) (*Key, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return nil, err
	}
	if len(secret) < MinSecretSize {
		return nil, fmt.Errorf("otp: secret is %d bytes, want at least %d", len(secret), MinSecretSize)
	}
	h, _ := p.Algorithm.hash()
	k := &Key{p: p, mod: uint32(pow10[p.Digits]), period: int64(p.Period / time.Second), mac: hmac.New(h, secret)}
	if f := newSingleBlockHMAC(h, secret); f != nil && f.agrees(k.hmacValue) {
		k.fast = f
	}
	return k, nil
}

// Params returns the key's parameters, defaults filled in.
func (k *Key) Params() Params { return k.p }

// value computes the HOTP value of counter (RFC 4226 §5.3): HMAC, dynamic truncation,
// modulo 10^digits.
func (k *Key) value(counter uint64) uint32 {
	var s []byte
	if k.fast != nil {
		s = k.fast.sum(counter)
	}
	if s == nil { // no fast path, or it failed: the reference path never does
		s = k.hmacValue(counter)
	}
	off := s[len(s)-1] & 0x0f
	return (binary.BigEndian.Uint32(s[off:]) & 0x7fffffff) % k.mod
}

// hmacValue is HMAC(secret, counter) with crypto/hmac, reset to its keyed state.
func (k *Key) hmacValue(counter uint64) []byte {
	binary.BigEndian.PutUint64(k.msg[:], counter)
	k.mac.Reset()
	k.mac.Write(k.msg[:])
	return k.mac.Sum(k.sum[:0])
}

func (k *Key) format(v uint32) string {
	var b [8]byte
	for i := k.p.Digits - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[:k.p.Digits])
}

// HOTP returns the code for counter.
func (k *Key) HOTP(counter uint64) string { return k.format(k.value(counter)) }

// Step returns the TOTP time step that t falls in: Unix seconds divided by the period.
// Times before 1970 give negative steps, which never verify.
func (k *Key) Step(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return -1
	}
	return s / k.period
}

// TOTP returns the code for the time step t falls in (RFC 6238).
func (k *Key) TOTP(t time.Time) string { return k.format(k.value(uint64(max(k.Step(t), 0)))) }

// NoStep is the lastStep to pass when no code has been accepted yet.
const NoStep int64 = -1

// VerifyTOTP checks code against the steps within skew of t's step (skew 1 means the
// previous, current and next step) and returns the step that matched.
//
// Every step in the window is computed and compared in constant time, whether or not an
// earlier one matched, so timing does not reveal which step (if any) matched. A code that
// matches only steps not later than lastStep fails with ErrReplay; pass NoStep when
// nothing has been accepted. If the code matches several fresh steps (possible by chance)
// the latest wins. Errors: ErrMalformedCode / ErrWrongLength for input that is not a code
// of the key's length, ErrInvalidCode for no match, ErrReplay.
func (k *Key) VerifyTOTP(code string, t time.Time, skew int, lastStep int64) (int64, error) {
	want, err := parseCode(code, k.p.Digits)
	if err != nil {
		return 0, err
	}
	now := k.Step(t)
	if now < 0 || skew < 0 {
		return 0, ErrInvalidCode
	}
	first := max(now-int64(skew), 0)
	return k.scan(uint32(want), first, now+int64(skew), lastStep, false)
}

// VerifyHOTP checks code against counters next to next+lookAhead, all of them, in
// constant time, and returns the lowest counter that matched. Store that counter; the next
// code is expected at counter+1, so pass it back as next. Errors as for VerifyTOTP (a code
// matching only a counter below next is indistinguishable from a wrong one, since only
// the window is computed).
func (k *Key) VerifyHOTP(code string, next uint64, lookAhead int) (uint64, error) {
	want, err := parseCode(code, k.p.Digits)
	if err != nil {
		return 0, err
	}
	if lookAhead < 0 || next > 1<<62 {
		return 0, ErrInvalidCode
	}
	c, err := k.scan(uint32(want), int64(next), int64(next)+int64(lookAhead), int64(next)-1, true)
	return uint64(c), err
}

// ResyncHOTP finds the counter c in [next, next+window) at which code1 matches c and
// code2 matches c+1 (RFC 4226 §7.4), and returns c+1: the counter to store as accepted.
// Use it when a token has drifted further than the look-ahead window.
func (k *Key) ResyncHOTP(code1, code2 string, next uint64, window int) (uint64, error) {
	w1, err := parseCode(code1, k.p.Digits)
	if err != nil {
		return 0, err
	}
	w2, err := parseCode(code2, k.p.Digits)
	if err != nil {
		return 0, err
	}
	if window <= 0 || next > 1<<62 {
		return 0, ErrInvalidCode
	}
	var found, at uint64
	prev := k.value(next)
	for c := next; c < next+uint64(window); c++ {
		cur := k.value(c + 1)
		eq := uint64(subtle.ConstantTimeEq(int32(prev), int32(w1)) & subtle.ConstantTimeEq(int32(cur), int32(w2)))
		// keep the lowest match: take c only when nothing was found yet
		take := eq &^ found
		at = ctSelect(take, c+1, at)
		found |= eq
		prev = cur
	}
	if found == 0 {
		return 0, ErrInvalidCode
	}
	return at, nil
}

// scan compares want with the value at every step in [first, last], in constant time.
// A match at a step <= lastStep is stale. It returns the latest (or, if lowest is set,
// the lowest) fresh match; ErrReplay if only stale steps matched; ErrInvalidCode if none.
func (k *Key) scan(want uint32, first, last, lastStep int64, lowest bool) (int64, error) {
	var fresh, stale, at uint64
	for s := first; s <= last; s++ {
		eq := uint64(subtle.ConstantTimeEq(int32(k.value(uint64(s))), int32(want)))
		isFresh := uint64(uint64(lastStep-s)>>63) & 1 // 1 when s > lastStep (steps are far from overflow)
		hit := eq & isFresh
		take := hit
		if lowest {
			take = hit &^ fresh
		}
		at = ctSelect(take, uint64(s), at)
		fresh |= hit
		stale |= eq &^ isFresh
	}
	switch {
	case fresh == 1:
		return int64(at), nil
	case stale == 1:
		return 0, ErrReplay
	}
	return 0, ErrInvalidCode
}

// ctSelect returns x if bit is 1 and y if it is 0, without branching.
func ctSelect(bit, x, y uint64) uint64 {
	m := -bit
	return x&m | y&^m
}
