package memory

import (
	"slices"
	"time"
)

// sendLog is what was sent (a code, a link) for one key, oldest first: the history
// behind the sliding-window resend limits of the OTP and Status stores.
type sendLog []sent

// sent is one send. id names it for release; it is empty where sends are never released.
type sent struct {
	at time.Time
	id string
}

// check forgets sends an hour or more before now, then checks the limits (a zero limit
// is off): the newest send must be at least minInterval old, and fewer than perHour may
// remain. If both hold it returns zero; otherwise how long to wait (always positive) and
// whether the hourly limit, rather than the interval, refused. It records nothing.
func (l *sendLog) check(now time.Time, minInterval time.Duration, perHour int) (wait time.Duration, hourly bool) {
	l.forget(now)
	log := *l
	if n := len(log); n > 0 && minInterval > 0 {
		if until := log[n-1].at.Add(minInterval); now.Before(until) {
			return until.Sub(now), false
		}
	}
	if perHour > 0 && len(log) >= perHour {
		return log[len(log)-perHour].at.Add(time.Hour).Sub(now), true
	}
	return 0, false
}

// forget drops the sends an hour or more before now, which count toward no limit, and
// reports whether none is left (so a sweep can drop the whole log).
func (l *sendLog) forget(now time.Time) (empty bool) {
	log := *l
	cut := 0
	for cut < len(log) && !log[cut].at.After(now.Add(-time.Hour)) {
		cut++
	}
	if cut > 0 {
		// Move what is kept to the front rather than reslicing past the forgotten
		// sends, so the backing array keeps its capacity and record does not have to
		// grow a new one every few sends.
		n := copy(log, log[cut:])
		clear(log[n:]) // drop the moved-out entries' references to their IDs
		log = log[:n]
	}
	*l = log
	return len(log) == 0
}

// retryAfter is a wait as the stores report it: rounded up to whole seconds, at least
// one, so a client that waits that long is never refused for being early.
func retryAfter(wait time.Duration) time.Duration {
	return max(time.Second, (wait + time.Second - 1).Truncate(time.Second))
}

// record adds a send at now (which must not be before the newest) under id.
func (l *sendLog) record(now time.Time, id string) { *l = append(*l, sent{now, id}) }

// reserve is check and, if it passes, record.
func (l *sendLog) reserve(now time.Time, minInterval time.Duration, perHour int, id string) (wait time.Duration, hourly bool) {
	if wait, hourly = l.check(now, minInterval, perHour); wait == 0 {
		l.record(now, id)
	}
	return wait, hourly
}

// release forgets the send recorded under id, if it is there.
func (l *sendLog) release(id string) {
	*l = slices.DeleteFunc(*l, func(s sent) bool { return s.id == id })
}
