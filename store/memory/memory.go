// Package memory holds carrierguard's in-memory store adapters: the default for tests,
// development and the examples. Nothing survives a restart; use the SQLite or PostgreSQL
// adapters for that.
//
// Each core package declares the small store interfaces it needs; this package implements
// them, one type per core package (for example [OTP] for package otp), each built with
// New<Type>(Options) and safe for concurrent use. Every type passes the conformance suite
// in package storetest, which is the contract an MVNO's own CRM-backed adapter must also
// pass.
//
// Expiry is evaluated against Options.Now, so tests move time with a fake clock instead
// of sleeping. Expired items are treated as absent at once and dropped lazily.
package memory

import "time"

// Options configures every in-memory store.
type Options struct {
	// Now is the clock that expiry is measured against. Nil means time.Now.
	Now func() time.Time
}

func (o Options) clock() func() time.Time {
	if o.Now == nil {
		return time.Now
	}
	return o.Now
}
