package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/twofactor"
	"github.com/stretchr/testify/assert"
)

func TestProofLedger(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	l := newProofLedger(clock.Now)
	email := twofactor.Proof{Subscriber: "s", Method: twofactor.MethodContactCode, Kind: twofactor.KindEmail, At: clock.Now()}
	l.add("sess", email)
	clock.Advance(time.Minute)
	newer := email
	newer.At = clock.Now()
	l.add("sess", newer)
	auth := twofactor.Proof{Subscriber: "s", Method: twofactor.MethodAuthenticator, At: clock.Now().Add(-time.Second)}
	l.add("sess", auth)
	assert.Len(t, l.get("sess"), 2, "one proof per method and kind")
	p, ok := l.latest("sess")
	assert.True(t, ok)
	assert.Equal(t, newer.At, p.At)
	_, ok = l.latest("other")
	assert.False(t, ok)

	// Old sessions are swept as proofs keep coming.
	clock.Advance(2 * proofKeep)
	for i := range 300 {
		l.add("s"+strconv.Itoa(i), twofactor.Proof{Subscriber: "s", Method: twofactor.MethodRecoveryCode, At: clock.Now()})
	}
	assert.Empty(t, l.get("sess"))
	assert.Len(t, l.get("s299"), 1)
}
