package otp_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
	"github.com/carrierguard/carrierguard/store/storetest"
)

// wantCodeHash computes the stored form of a code from its definition, independently of
// the package: HMAC-SHA-256 under key over the label, challenge ID, subscriber, purpose,
// channel, address and code, each as a 4-byte big-endian length and its bytes.
func wantCodeHash(key []byte, id, sub string, p otp.Purpose, d otp.Destination, code string) []byte {
	var in []byte
	for _, part := range []string{"carrierguard/otp/code/v1", id, sub, string(p), string(d.Channel), d.Address, code} {
		in = binary.BigEndian.AppendUint32(in, uint32(len(part)))
		in = append(in, part...)
	}
	m := hmac.New(sha256.New, key)
	m.Write(in)
	return m.Sum(nil)
}

// storedHash issues a code with a seeded random source (so the challenge ID and code
// depend only on seed) and reads back the hash the store holds.
func storedHash(t *testing.T, key []byte, seed uint64) (otp.Issued, []byte) {
	t.Helper()
	clk := storetest.NewClock()
	store := memory.NewOTP(memory.Options{Now: clk.Now})
	codes, err := otp.NewCodes(otp.CodeConfig{Budgets: usHome, HashKey: key, Now: clk.Now, Rand: rand.NewChaCha8([32]byte{byte(seed)})}, store, store, &notify.Recorder{})
	require.NoError(t, err)
	iss, err := codes.Issue(context.Background(), otp.IssueRequest{Subscriber: "alice", Purpose: otp.PurposeSIMSwap, Destination: phone})
	require.NoError(t, err)
	c, err := store.BeginAttempt(context.Background(), iss.ChallengeID)
	require.NoError(t, err)
	return iss, c.Hash
}

// The code is stored only as HMAC-SHA-256, keyed with CodeConfig.HashKey, over the
// challenge ID, subscriber, purpose, channel, address and code. An unkeyed SHA-256 of
// the same fields, or a hash that leaves the challenge ID out, fails here.
func TestCodeHashKnownAnswer(t *testing.T) {
	key := testkey.New("otp")
	iss, got := storedHash(t, key, 1)
	assert.Equal(t, wantCodeHash(key, iss.ChallengeID, "alice", otp.PurposeSIMSwap, phone, iss.Code), got)

	// Another key, same challenge ID and code (same seed): another hash.
	otherKey := testkey.New("another otp key")
	iss2, got2 := storedHash(t, otherKey, 1)
	require.Equal(t, iss.ChallengeID, iss2.ChallengeID)
	require.Equal(t, iss.Code, iss2.Code)
	assert.NotEqual(t, got, got2, "the hash depends on HashKey")
	assert.Equal(t, wantCodeHash(otherKey, iss2.ChallengeID, "alice", otp.PurposeSIMSwap, phone, iss2.Code), got2)
}
