package session_test

import (
	"context"
	"testing"

	"github.com/carrierguard/carrierguard/session"
)

// BenchmarkSessionValidate validates a token against the in-memory store, among 10,000
// live sessions. Target: at most 2 µs/op.
func BenchmarkSessionValidate(b *testing.B) {
	f := newFixture(b, session.Config{})
	for range 10_000 {
		f.create(b, "someone", laptop)
	}
	tok, _ := f.create(b, "alice", phone)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.Validate(ctx, tok, phone); err != nil {
			b.Fatal(err)
		}
	}
}
