package main

import (
	"net/http"

	"github.com/carrierguard/carrierguard/otp"
	"sync"
	"time"
)

// challengeBook remembers, server-side, where each one-time-code challenge was issued:
// to which subscriber, and for which step of which flow (a contact's verification, a
// session's step-up, a pending sign-in, an agent's case). A challenge is completed only
// in that same place, so the server's own record, not the request body, decides what a
// code proves: a code sent to verify one contact cannot verify another, a step-up
// code cannot finish a sign-in, and a code a subscriber requested in the app cannot be
// read out to an agent as proof in a case.
//
// twofactor already refuses a challenge of another subscriber or contact when it checks
// the code; this book adds the binding to the flow, which only the application knows.
// Like the pending sign-ins and the proof ledger it is in memory: a deployment with
// several instances keeps it in its shared session store.
type challengeBook struct {
	mu        sync.Mutex
	m         map[string]issuedChallenge
	now       func() time.Time
	lastSweep time.Time
}

type issuedChallenge struct {
	subscriber string
	scope      string
	purpose    otp.Purpose
	at         time.Time
}

// challengeKeep is how long a challenge is remembered: longer than any code lives (otp
// caps email codes at an hour, SMS codes at ten minutes). twofactor enforces the
// code's own expiry; the book only has to outlive it.
const challengeKeep = time.Hour

// Scopes of the flows that issue challenges.
func contactScope(contactID string) string { return "contact:" + contactID }
func sessionScope(sessionID string) string { return "session:" + sessionID }
func signinScope(signinID string) string   { return "signin:" + signinID }
func caseScope(caseID string) string       { return "case:" + caseID }

func newChallengeBook(now func() time.Time) *challengeBook {
	return &challengeBook{m: map[string]issuedChallenge{}, now: now}
}

// issued records that challenge id went to subscriber for scope and purpose.
func (b *challengeBook) issued(id, subscriber, scope string, purpose otp.Purpose) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.lastSweep) > time.Minute {
		for k, c := range b.m {
			if now.Sub(c.at) > challengeKeep {
				delete(b.m, k)
			}
		}
		b.lastSweep = now
	}
	b.m[id] = issuedChallenge{subscriber: subscriber, scope: scope, purpose: purpose, at: now}
}

// check returns the purpose challenge id was issued for if it was issued to subscriber
// for scope and is recent enough to still be live, and otherwise the same invalid-code
// error a wrong code gets (so it says nothing about other subscribers' challenges).
// twofactor checks the flow and purpose again from its own store.
func (b *challengeBook) check(id, subscriber, scope string) (otp.Purpose, error) {
	now := b.now()
	b.mu.Lock()
	c, ok := b.m[id]
	b.mu.Unlock()
	if !ok || c.subscriber != subscriber || c.scope != scope || now.Sub(c.at) > challengeKeep {
		return "", errorf(http.StatusForbidden, codeInvalidCode, "the code is wrong, used or expired, or the challenge was not issued for this request")
	}
	return c.purpose, nil
}
