package main

import (
	"context"
	"time"
)

// RevokeProofs implements session.ProofRevoker: after a credential change, no proof the
// subscriber gave up to at counts any more, in any session, the acting one included.
func (l *proofLedger) RevokeProofs(_ context.Context, subscriber string, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, list := range l.m {
		out := list[:0]
		for _, p := range list {
			if p.Subscriber != subscriber || p.At.After(at) {
				out = append(out, p)
			}
		}
		if len(out) == 0 {
			delete(l.m, id)
		} else {
			l.m[id] = out
		}
	}
	return nil
}
