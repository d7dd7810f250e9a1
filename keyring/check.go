package keyring

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrWeakKey is returned (wrapped) for key material that is plainly not random: a
// placeholder left in configuration, a password typed where key bytes belong, or text
// that was meant to be decoded first. Replace the key with one from [GenerateKey].
var ErrWeakKey = errors.New("keyring: key material is not random")

// weakKeyFix is the advice every ErrWeakKey carries.
const weakKeyFix = "generate one with keyring.GenerateKey (or: head -c 32 /dev/urandom | base64) and decode it before use"

// CheckKeyMaterial returns nil for key bytes that may be random, and an error wrapping
// [ErrWeakKey] for bytes that certainly are not:
//
//   - empty;
//   - one byte repeated, such as 32 zero bytes (a zeroed buffer that was never filled);
//   - any shorter pattern repeated ("abcdabcd…", two copies of one half);
//   - a counting sequence (0x00, 0x01, 0x02, … or any other fixed step);
//   - a run of 8 or more equal bytes anywhere: a buffer half filled (16 random bytes
//     and 16 zeros), a zeroed key with one byte set, a password padded with NULs;
//   - entirely printable ASCII and whitespace, ignoring NUL bytes at the end: a
//     password or passphrase (also one read as a C string), hex or base64 text used
//     undecoded, or the base64 of "000…", which decodes to text.
//
// A key of 32 bytes from a CSPRNG is refused with a probability below 10^-13 (all
// printable is the only rule a random key can plausibly break; a run of 8 equal bytes
// comes up below 10^-15), so a refusal is a
// configuration mistake, not bad luck. The check cannot prove a key random: it catches
// the placeholders people actually ship. The error never includes the key.
//
// [NewLocal] and [ParseKeys] apply it to every keyring key, and the carrierguard
// packages that take an HMAC key (otp.CodeConfig.HashKey, twofactor.Config.HashKey,
// protection.Config.PINKey, password.HasherConfig.Pepper) apply it in their
// constructors. Use it on any other secret key your integration loads.
func CheckKeyMaterial(key []byte) error {
	n := len(key)
	if n == 0 {
		return fmt.Errorf("%w: the key is empty; %s", ErrWeakKey, weakKeyFix)
	}
	for p := 1; p <= n/2; p++ {
		if repeats(key, p) {
			if p == 1 {
				return fmt.Errorf("%w: every byte is the same (a placeholder such as all zeros); %s", ErrWeakKey, weakKeyFix)
			}
			return fmt.Errorf("%w: it repeats a %d-byte pattern; %s", ErrWeakKey, p, weakKeyFix)
		}
	}
	if n > 2 && counts(key) {
		return fmt.Errorf("%w: its bytes count up or down in fixed steps; %s", ErrWeakKey, weakKeyFix)
	}
	if isText(bytes.TrimRight(key, "\x00")) {
		return fmt.Errorf("%w: it is all printable text (a password, or hex or base64 that was not decoded); %s", ErrWeakKey, weakKeyFix)
	}
	if longestRun(key) >= weakRun {
		return fmt.Errorf("%w: it has runs of %d or more equal bytes (a buffer padded or only partly filled); %s", ErrWeakKey, weakRun, weakKeyFix)
	}
	return nil
}

// weakRun is the shortest run of equal bytes CheckKeyMaterial refuses: in n random
// bytes one comes up with probability below n·256^-7 (about 10^-15 for 32 bytes).
const weakRun = 8

// longestRun returns the length of the longest run of equal consecutive bytes.
func longestRun(key []byte) int {
	best, run := 0, 0
	for i := range key {
		if i > 0 && key[i] == key[i-1] {
			run++
		} else {
			run = 1
		}
		best = max(best, run)
	}
	return best
}

// repeats reports whether key[i] == key[i-p] for every i >= p.
func repeats(key []byte, p int) bool {
	for i := p; i < len(key); i++ {
		if key[i] != key[i-p] {
			return false
		}
	}
	return true
}

// counts reports whether consecutive bytes differ by one fixed step (mod 256).
func counts(key []byte) bool {
	step := key[1] - key[0]
	for i := 2; i < len(key); i++ {
		if key[i]-key[i-1] != step {
			return false
		}
	}
	return true
}

// isText reports whether every byte is printable ASCII or tab, CR or LF.
func isText(key []byte) bool {
	for _, c := range key {
		if (c < 0x20 || c > 0x7e) && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}
