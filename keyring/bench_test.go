package keyring_test

import (
	"context"
	"testing"

	"github.com/carrierguard/carrierguard/keyring"
)

// BenchmarkSealOpen measures a seal and an open of a 64-byte secret (target: ≤ 2 µs/op).
func BenchmarkSealOpen(b *testing.B) {
	kr := newLocal(b, 0, key(1, 1))
	ctx := context.Background()
	pt := make([]byte, 64)
	ad := keyring.AssociatedData("answer", "sub-123456", "q-07", "v1")
	b.ReportAllocs()
	for b.Loop() {
		s, err := kr.Seal(ctx, pt, ad)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := kr.Open(ctx, s, ad); err != nil {
			b.Fatal(err)
		}
	}
}
