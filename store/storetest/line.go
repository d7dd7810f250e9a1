package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/line"
)

// TestLines is the conformance suite for line.Store. newStore must return a fresh,
// empty store.
func TestLines(t *testing.T, newStore func(t *testing.T) line.Store) {
	t.Helper()
	ctx := context.Background()
	b := func(num, sub string) line.Binding {
		return line.Binding{Number: num, Subscriber: sub, Source: line.SourceSMSCode, ProvedAt: Epoch}
	}

	t.Run("BindAndRead", func(t *testing.T) {
		st := newStore(t)
		if _, err := st.Line(ctx, "+15550100001"); !errors.Is(err, line.ErrNotFound) {
			t.Fatalf("Line(unbound) = %v, want ErrNotFound", err)
		}
		if err := st.Bind(ctx, b("+15550100001", "alice")); err != nil {
			t.Fatalf("Bind: %v", err)
		}
		got, err := st.Line(ctx, "+15550100001")
		if err != nil || got.Subscriber != "alice" || got.Source != line.SourceSMSCode || !got.ProvedAt.Equal(Epoch) || got.Number != "+15550100001" {
			t.Fatalf("Line = %+v, %v", got, err)
		}
		if _, err := st.Line(ctx, "+15550100002"); !errors.Is(err, line.ErrNotFound) {
			t.Fatalf("Line(another number) = %v, want ErrNotFound", err)
		}
	})

	t.Run("OneOwner", func(t *testing.T) {
		st := newStore(t)
		if err := st.Bind(ctx, b("+15550100001", "alice")); err != nil {
			t.Fatal(err)
		}
		again := b("+15550100001", "alice")
		again.Source, again.ProvedAt = line.SourceProvisioning, Epoch.Add(time.Hour)
		if err := st.Bind(ctx, again); err != nil {
			t.Fatalf("Bind by the owner again = %v, want nil", err)
		}
		if got, _ := st.Line(ctx, "+15550100001"); got.Source != line.SourceSMSCode || !got.ProvedAt.Equal(Epoch) {
			t.Fatalf("a repeated Bind replaced the binding: %+v", got)
		}
		if err := st.Bind(ctx, b("+15550100001", "mallory")); !errors.Is(err, line.ErrTaken) {
			t.Fatalf("Bind by another subscriber = %v, want ErrTaken", err)
		}
		if got, _ := st.Line(ctx, "+15550100001"); got.Subscriber != "alice" {
			t.Fatalf("the line moved to %q", got.Subscriber)
		}
	})

	t.Run("BindRace", func(t *testing.T) {
		st := newStore(t)
		failures := ExactlyOnce(t, Contenders, func(i int) error { return st.Bind(ctx, b("+15550100009", fmt.Sprint("sub-", i))) })
		for _, err := range failures {
			if !errors.Is(err, line.ErrTaken) {
				t.Fatalf("racing Bind: %v, want ErrTaken", err)
			}
		}
	})

	t.Run("Unbind", func(t *testing.T) {
		st := newStore(t)
		if err := st.Bind(ctx, b("+15550100001", "alice")); err != nil {
			t.Fatal(err)
		}
		if err := st.Unbind(ctx, "+15550100001", "mallory"); !errors.Is(err, line.ErrNotFound) {
			t.Fatalf("Unbind by another subscriber = %v, want ErrNotFound", err)
		}
		if err := st.Unbind(ctx, "+15550100001", "alice"); err != nil {
			t.Fatalf("Unbind: %v", err)
		}
		if _, err := st.Line(ctx, "+15550100001"); !errors.Is(err, line.ErrNotFound) {
			t.Fatalf("Line after Unbind = %v", err)
		}
		if err := st.Unbind(ctx, "+15550100001", "alice"); !errors.Is(err, line.ErrNotFound) {
			t.Fatalf("second Unbind = %v, want ErrNotFound", err)
		}
		if err := st.Bind(ctx, b("+15550100001", "bob")); err != nil {
			t.Fatalf("Bind after Unbind: %v", err)
		}
	})
}
