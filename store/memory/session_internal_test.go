package memory

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/session"
)

func TestSessionSweepsAbandoned(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	st := NewSession(Options{Now: clock.Now})
	create := func(i int) {
		now := clock.Now()
		id := fmt.Sprint(i)
		r := session.Record{Hash: sha256.Sum256([]byte(id)), Session: session.Session{
			ID: id, Subscriber: "sub" + id, CreatedAt: now, IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(24 * time.Hour),
		}}
		if err := st.Create(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	for i := range sessionSweepEvery - 1 {
		create(i)
	}
	clock.Advance(2 * time.Hour) // all of them idle out, never presented again
	create(sessionSweepEvery)
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.byID) != 1 || len(st.byHash) != 1 || len(st.bySub) != 1 {
		t.Fatalf("after a sweep: %d sessions, %d hashes, %d subscribers; want 1 each", len(st.byID), len(st.byHash), len(st.bySub))
	}
}
