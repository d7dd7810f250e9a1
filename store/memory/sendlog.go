package memory

import "time"

// sendLog is when something (a code, a link) was sent for one key, oldest first: the
// history behind the sliding-window resend limits of the OTP and Status stores.
type sendLog []time.Time

// reserve forgets sends an hour or more before now, then checks the limits (a zero
// limit is off): the newest send must be at least minInterval old, and fewer than
// perHour may remain. If both hold it records a send at now and returns zero.
// Otherwise it records nothing and returns how long to wait (always positive) and
// whether the hourly limit, rather than the interval, refused.
func (l *sendLog) reserve(now time.Time, minInterval time.Duration, perHour int) (wait time.Duration, hourly bool) {
	sent := *l
	cut := 0
	for cut < len(sent) && !sent[cut].After(now.Add(-time.Hour)) {
		cut++
	}
	sent = sent[cut:]
	*l = sent
	if n := len(sent); n > 0 && minInterval > 0 {
		if until := sent[n-1].Add(minInterval); now.Before(until) {
			return until.Sub(now), false
		}
	}
	if perHour > 0 && len(sent) >= perHour {
		return sent[len(sent)-perHour].Add(time.Hour).Sub(now), true
	}
	*l = append(sent, now)
	return 0, false
}
