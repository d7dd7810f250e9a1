package otp

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// randomCode rejects the values at the top of the 64-bit range that would make low codes
// more likely than high ones (modulo bias). A statistical test cannot see a bias of 2^-44,
// so this checks the rejection itself with chosen random input.
func TestRandomCodeRejectsBiasedTail(t *testing.T) {
	for n := 6; n <= 10; n++ {
		mod := pow10[n]
		limit := ^uint64(0) - ^uint64(0)%mod // values at or above it are biased
		var in bytes.Buffer
		for _, v := range []uint64{^uint64(0), limit, limit - 1} {
			_ = binary.Write(&in, binary.BigEndian, v)
		}
		code, err := randomCode(&in, n)
		if err != nil {
			t.Fatalf("%d digits: %v", n, err)
		}
		// limit-1 is the largest unbiased value, and it is ≡ mod-1: all nines.
		if want := string(bytes.Repeat([]byte{'9'}, n)); code != want {
			t.Errorf("%d digits: got %s, want %s (the biased tail was not rejected)", n, code, want)
		}
		if in.Len() != 0 {
			t.Errorf("%d digits: %d bytes unread", n, in.Len())
		}
		if limit%mod != 0 {
			t.Errorf("%d digits: limit %d is not a multiple of %d", n, limit, mod)
		}
	}
}
