package password_test

import (
	"context"
	"testing"

	"github.com/carrierguard/carrierguard/password"
)

// BenchmarkPolicyCheck measures the local checks a sign-up form runs on every
// keystroke or submit: length, blocklist, context words and runs; no zxcvbn, no
// breach call. Target: at most 10 µs/op.
func BenchmarkPolicyCheck(b *testing.B) {
	p := password.DefaultPolicy()
	p.MinStrength = 0
	c := newChecker(b, password.CheckerConfig{Policy: p})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Check(ctx, "violet tractor humming 42 lanterns", maria); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPolicyCheckStrength is BenchmarkPolicyCheck plus the zxcvbn estimate.
func BenchmarkPolicyCheckStrength(b *testing.B) {
	c := newChecker(b, password.CheckerConfig{Policy: password.DefaultPolicy()})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Check(ctx, "violet tractor humming 42 lanterns", maria); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHash is one argon2id hash with the OWASP parameters (19 MiB, t=2, p=1).
func BenchmarkHash(b *testing.B) {
	h, err := password.NewHasher(password.HasherConfig{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "violet tractor humming 42 lanterns"); err != nil {
			b.Fatal(err)
		}
	}
}
