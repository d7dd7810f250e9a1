package twofactor

import (
	"cmp"
	"errors"
	"fmt"
	"time"
)

// LockoutPolicy says how consecutive second-factor failures lock a subscriber out.
// Failures are counted per subscriber across every code and method; a success resets
// the count. Zero fields mean the defaults given.
//
// The lockout is a pure function of the stored [Failures] (see [LockoutPolicy.Until]):
// the failure that brings the count to a multiple of Threshold starts a lockout from
// its own time, level k = Count/Threshold lasting Base·2^(k-1) (capped at MaxLockout);
// HardLimit failures lock until support lifts it. Keeping no separate "locked until"
// record means a store only has to count atomically: because FailureStore.BeginAttempt
// checks and counts in one step, no attempt can slip past a multiple of Threshold while
// the lockout it starts is running.
type LockoutPolicy struct {
	// Threshold is how many consecutive failures start a lockout; every further multiple
	// of it starts a longer one. Default 5.
	Threshold int `validate:"omitempty,min=1,max=100"`
	// Base is the first lockout's length; each later one doubles, up to MaxLockout.
	// Default 15 minutes.
	Base time.Duration `validate:"omitempty,min=1s,max=24h"`
	// MaxLockout caps a single timed lockout. Default 24 hours.
	MaxLockout time.Duration `validate:"omitempty,min=1s,max=720h"`
	// HardLimit is the number of consecutive failures after which the subscriber is
	// locked until support lifts it (Service.Unlock). NIST SP 800-63B allows at most 100
	// consecutive failures. Default 100.
	HardLimit int `validate:"omitempty,min=1,max=100"`
}

// DefaultLockoutPolicy is the policy a zero LockoutPolicy means: 5 failures lock for 15
// minutes, each further 5 double it up to 24 hours, 100 lock until support lifts it.
var DefaultLockoutPolicy = LockoutPolicy{Threshold: 5, Base: 15 * time.Minute, MaxLockout: 24 * time.Hour, HardLimit: 100}

func (p LockoutPolicy) withDefaults() LockoutPolicy {
	p.Threshold = cmp.Or(p.Threshold, DefaultLockoutPolicy.Threshold)
	p.Base = cmp.Or(p.Base, DefaultLockoutPolicy.Base)
	p.MaxLockout = cmp.Or(p.MaxLockout, DefaultLockoutPolicy.MaxLockout)
	p.HardLimit = cmp.Or(p.HardLimit, DefaultLockoutPolicy.HardLimit)
	return p
}

// Failures is a subscriber's run of consecutive second-factor failures, as stored.
type Failures struct {
	// Count is the number of consecutive failed attempts (0 after a success).
	Count int
	// Last is when the last of them was made.
	Last time.Time
}

// Until returns the lockout that f puts the subscriber under: hard if f.Count reached
// HardLimit; otherwise, if f.Count is a multiple of Threshold, the end of the lockout
// its last failure started (zero if none). The
// subscriber is locked at now if hard or now is before until. Zero fields of p mean the
// defaults, so adapters can call it on whatever policy they are given.
func (p LockoutPolicy) Until(f Failures) (until time.Time, hard bool) {
	p = p.withDefaults()
	if f.Count >= p.HardLimit {
		return time.Time{}, true
	}
	if f.Count < p.Threshold || f.Count%p.Threshold != 0 {
		return time.Time{}, false // no lockout, or the last one ended and was tried again
	}
	return f.Last.Add(p.duration(f.Count / p.Threshold)), false
}

// Locked reports whether f locks the subscriber at now, as a *LockedError, or nil.
func (p LockoutPolicy) Locked(f Failures, now time.Time) error {
	until, hard := p.Until(f)
	if hard || now.Before(until) {
		return &LockedError{Until: until, Hard: hard}
	}
	return nil
}

// duration is the length of lockout level k ≥ 1.
func (p LockoutPolicy) duration(level int) time.Duration {
	d := p.Base
	for i := 1; i < level && d < p.MaxLockout; i++ {
		d *= 2
	}
	return min(d, p.MaxLockout)
}

// starts reports whether the count-th consecutive failure starts a new lockout.
func (p LockoutPolicy) starts(count int) bool {
	return count == p.HardLimit || (count < p.HardLimit && count%p.Threshold == 0)
}

// ErrLocked is matched (errors.Is) by every *LockedError.
var ErrLocked = errors.New("twofactor: too many failed attempts; locked")

// LockedError says the subscriber is locked out and until when. It reveals nothing about
// codes, and an unknown subscriber is locked by failures just like a known one.
type LockedError struct {
	// Until is when the timed lockout ends; zero for a hard lock.
	Until time.Time
	// Hard is true when only support can lift the lock (Service.Unlock).
	Hard bool
}

func (e *LockedError) Error() string {
	if e.Hard {
		return ErrLocked.Error() + " until support lifts it"
	}
	return fmt.Sprintf("%v until %s", ErrLocked, e.Until.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }
