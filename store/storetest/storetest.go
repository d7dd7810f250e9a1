// Package storetest is the conformance suite for carrierguard store adapters.
//
// Every core package declares the store interfaces it needs; this package holds one
// suite function per interface, named Test<Package><Interface>, that any implementation
// must pass: the in-memory adapter, the SQLite and PostgreSQL adapters, and an MVNO's own
// CRM-backed adapter alike. Call them from an ordinary test:
//
//	func TestOTPChallenges(t *testing.T) {
//		storetest.TestOTPChallenges(t, func(t *testing.T, now func() time.Time) otp.ChallengeStore {
//			return myadapter.NewChallenges(db, now) // a fresh, empty store
//		})
//	}
//
// Each suite passes the factory a clock it controls and moves it to test expiry, so an
// adapter must measure time-to-live with the now function it is given, never with
// time.Now. Suites check the behaviour callers rely on: sentinel not-found errors,
// expiry, isolation between subscribers, and atomicity — a single-use item consumed by
// 64 goroutines at once is consumed exactly once.
package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
)

// Clock is the manual clock suites hand to adapters.
type Clock = fakeclock.Clock

// Epoch is the time every suite's clock starts at.
var Epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// NewClock returns a clock reading Epoch.
func NewClock() *Clock { return fakeclock.New(Epoch) }

// Contenders is how many goroutines race for a single-use item.
const Contenders = 64

// Race runs fn from n goroutines released at the same moment and returns their
// errors, indexed like the goroutines.
func Race(n int, fn func(i int) error) []error {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// ExactlyOnce runs fn from n goroutines released at the same moment (see Race) and
// fails t unless exactly one call returns nil. It returns the errors of the other calls
// so a suite can check they are the expected sentinel.
func ExactlyOnce(t testing.TB, n int, fn func(i int) error) []error {
	t.Helper()
	var ok int
	failures := make([]error, 0, n)
	for _, err := range Race(n, fn) {
		if err == nil {
			ok++
		} else {
			failures = append(failures, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent consumers succeeded, want exactly 1", ok, n)
	}
	return failures
}

// wantThrottled fails t unless err is an E (by errors.As) that errors.Is sentinel,
// carrying the reason and wait that fields reads from it: the shape of every package's
// throttle error.
func wantThrottled[E error, R comparable](t *testing.T, err, sentinel error, fields func(E) (R, time.Duration), reason R, retry time.Duration, what string) {
	t.Helper()
	var te E
	if !errors.As(err, &te) || !errors.Is(err, sentinel) {
		t.Fatalf("%s: got %v, want a %T", what, err, te)
	}
	if r, d := fields(te); r != reason || d != retry {
		t.Errorf("%s: got %v after %s, want %v after %s", what, r, d, reason, retry)
	}
}
