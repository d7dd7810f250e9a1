package otp

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"testing"
)

// The single-block path is in use for every algorithm on this toolchain, and agrees with
// crypto/hmac for keys shorter than, equal to and longer than the block size.
func TestSingleBlockHMACMatchesCryptoHMAC(t *testing.T) {
	for _, alg := range []Algorithm{SHA1, SHA256, SHA512} {
		for _, n := range []int{16, 20, 32, 64, 65, 128, 200} {
			secret := bytes.Repeat([]byte{byte(n)}, n)
			k, err := NewKey(secret, Params{Algorithm: alg})
			if err != nil {
				t.Fatal(err)
			}
			if k.fast == nil {
				t.Fatalf("%s, %d-byte key: fast path disabled by its self-test", alg, n)
			}
			h, _ := alg.hash()
			for c := uint64(0); c < 1000; c += 37 {
				m := hmac.New(h, secret)
				var msg [8]byte
				binary.BigEndian.PutUint64(msg[:], c)
				m.Write(msg[:])
				if want := m.Sum(nil); !bytes.Equal(k.fast.sum(c), want) {
					t.Fatalf("%s, %d-byte key, counter %d: mismatch", alg, n, c)
				}
			}
		}
	}
}

// A key whose fast path disagrees falls back to crypto/hmac and still gives RFC values.
func TestFallbackPath(t *testing.T) {
	k, err := NewKey([]byte("12345678901234567890"), Params{})
	if err != nil {
		t.Fatal(err)
	}
	k.fast = nil
	if got := k.HOTP(0); got != "755224" {
		t.Fatalf("fallback HOTP(0) = %s, want 755224", got)
	}
	f := newSingleBlockHMAC(sha1New, []byte("12345678901234567890"))
	if f.agrees(func(uint64) []byte { return make([]byte, 20) }) {
		t.Fatal("self-test accepted a wrong reference")
	}
}

var sha1New, _ = SHA1.hash()
