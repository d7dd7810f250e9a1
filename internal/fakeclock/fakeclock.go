// Package fakeclock provides a manual clock for tests.
//
// Every carrierguard package reads time through a Now func() time.Time taken from its
// Config (nil means time.Now). Tests pass (*Clock).Now and move time with Advance, so
// expiry, lockouts and cooling-off periods are tested without sleeping.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a manual clock, safe for concurrent use. The zero value is not usable; call New.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock that reads t until it is moved.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's current time. Its method value is what Configs take as Now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (or back, if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}
