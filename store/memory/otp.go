package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/otp"
)

// OTP implements otp.ChallengeStore, otp.RateStore (with otp.BudgetStore) and
// otp.AuthenticatorStore in memory. One mutex serialises every operation, which is what
// makes BeginAttempt, ConsumeChallenge, ReserveIssue, ReleaseIssue, ReserveBudget,
// ReleaseBudget and AdvanceAuthenticator atomic.
type OTP struct {
	now func() time.Time

	mu         sync.Mutex
	challenges map[string]*challenge
	creates    int
	rates      map[otp.RateKey]*rate
	dests      map[string]*sendLog // by destination key
	reserved   map[string]issueRef // by reservation ID, for ReleaseIssue
	reserves   int
	auths      map[string]otp.Authenticator

	budgets       map[string]*budgetLog // by counter key
	budgetSends   map[string]budgetSend // by reservation ID, for ReleaseBudget
	budgetReserve int
}

// budgetLog is the sends recorded under one budget key, oldest first, and the window
// its latest counter asked about (At minus Since), which says when they stop counting.
type budgetLog struct {
	sends  []sent
	window time.Duration
}

// budgetSend is where one budget reservation is recorded (the logs of its counters, the
// first four inline so that recording one allocates nothing), and until when it can
// count.
type budgetSend struct {
	logs  [4]*budgetLog
	more  []*budgetLog
	until time.Time
}

type challenge struct {
	c        otp.Challenge
	consumed bool
}

type rate struct {
	issued      sendLog
	failures    int
	lastFailure time.Time
}

// issueRef says where a reservation is recorded (dest is nil if nowhere).
type issueRef struct {
	rate *rate
	dest *sendLog
	at   time.Time
}

var (
	_ otp.ChallengeStore     = (*OTP)(nil)
	_ otp.RateStore          = (*OTP)(nil)
	_ otp.BudgetStore        = (*OTP)(nil)
	_ otp.AuthenticatorStore = (*OTP)(nil)
)

// NewOTP returns an empty store.
func NewOTP(opts Options) *OTP {
	return &OTP{
		now:        opts.clock(),
		challenges: make(map[string]*challenge),
		rates:      make(map[otp.RateKey]*rate),
		dests:      make(map[string]*sendLog),
		reserved:   make(map[string]issueRef),
		auths:      make(map[string]otp.Authenticator),

		budgets:     make(map[string]*budgetLog),
		budgetSends: make(map[string]budgetSend),
	}
}

// otpSweepEvery is how many creations pass between sweeps of expired challenges.
const otpSweepEvery = 256

// CreateChallenge implements otp.ChallengeStore.
func (s *OTP) CreateChallenge(ctx context.Context, c otp.Challenge) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.creates++; s.creates%otpSweepEvery == 0 {
		for id, ch := range s.challenges {
			if !now.Before(ch.c.ExpiresAt) {
				delete(s.challenges, id)
			}
		}
	}
	if _, dup := s.challenges[c.ID]; dup {
		return errDuplicate
	}
	c.Hash = slices.Clone(c.Hash)
	c.Attempts = 0
	s.challenges[c.ID] = &challenge{c: c}
	return nil
}

type memError string

func (e memError) Error() string { return string(e) }

const errDuplicate = memError("memory: challenge ID already exists")

// live returns the challenge if it exists, is not consumed and has not expired.
func (s *OTP) live(id string) (*challenge, error) {
	ch, ok := s.challenges[id]
	switch {
	case !ok:
		return nil, otp.ErrNotFound
	case ch.consumed:
		return nil, otp.ErrReplay
	case !s.now().Before(ch.c.ExpiresAt):
		return nil, otp.ErrExpired
	}
	return ch, nil
}

// BeginAttempt implements otp.ChallengeStore.
func (s *OTP) BeginAttempt(ctx context.Context, id string) (otp.Challenge, error) {
	if err := ctx.Err(); err != nil {
		return otp.Challenge{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.live(id)
	if err != nil {
		return otp.Challenge{}, err
	}
	if ch.c.Attempts >= ch.c.MaxAttempts {
		return otp.Challenge{}, otp.ErrAttemptsExhausted
	}
	ch.c.Attempts++
	out := ch.c
	out.Hash = slices.Clone(ch.c.Hash)
	return out, nil
}

// ConsumeChallenge implements otp.ChallengeStore.
func (s *OTP) ConsumeChallenge(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.live(id)
	if err != nil {
		return err
	}
	ch.consumed = true
	return nil
}

// DeleteChallenge implements otp.ChallengeStore.
func (s *OTP) DeleteChallenge(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.challenges[id]; !ok {
		return otp.ErrNotFound
	}
	delete(s.challenges, id)
	return nil
}

// ReserveIssue implements otp.RateStore.
func (s *OTP) ReserveIssue(ctx context.Context, res otp.Reservation, lim otp.RateLimits) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.reserves++; s.reserves%otpSweepEvery == 0 {
		s.sweepIssues(now)
	}
	if _, dup := s.reserved[res.ID]; dup {
		return errDuplicateIssue
	}
	r := s.rates[res.Key]
	if r == nil {
		r = &rate{}
		s.rates[res.Key] = r
	}
	if lim.MaxFailures > 0 && r.failures >= lim.MaxFailures {
		until := r.lastFailure.Add(lim.FailureCooldown)
		if now.Before(until) {
			return throttle(otp.ThrottleFailures, until.Sub(now))
		}
		r.failures = 0
	}
	switch wait, hourly := r.issued.check(now, lim.MinInterval, lim.PerHour); {
	case wait == 0:
	case hourly:
		return throttle(otp.ThrottleHourly, wait)
	default:
		return throttle(otp.ThrottleInterval, wait)
	}
	var d *sendLog
	if res.Destination != "" {
		if d = s.dests[res.Destination]; d == nil {
			d = &sendLog{}
			s.dests[res.Destination] = d
		}
		if wait, _ := d.check(now, 0, lim.DestinationPerHour); wait > 0 {
			return throttle(otp.ThrottleDestination, wait)
		}
		d.record(now, res.ID)
	}
	r.issued.record(now, res.ID)
	s.reserved[res.ID] = issueRef{rate: r, dest: d, at: now}
	return nil
}

const errDuplicateIssue = memError("memory: reservation ID already exists")

// sweepIssues forgets reservations that no longer count toward any limit, so that
// neither the index nor the destinations grow without bound.
func (s *OTP) sweepIssues(now time.Time) {
	for id, ref := range s.reserved {
		if !ref.at.After(now.Add(-time.Hour)) {
			delete(s.reserved, id)
		}
	}
	for key, d := range s.dests {
		if d.forget(now) {
			delete(s.dests, key)
		}
	}
}

// ReleaseIssue implements otp.RateStore.
func (s *OTP) ReleaseIssue(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, ok := s.reserved[id]
	if !ok {
		return nil
	}
	delete(s.reserved, id)
	ref.rate.issued.release(id)
	if ref.dest != nil {
		ref.dest.release(id)
	}
	return nil
}

func throttle(reason otp.ThrottleReason, d time.Duration) error {
	return &otp.ThrottleError{Reason: reason, RetryAfter: retryAfter(d)}
}

// RecordFailure implements otp.RateStore.
func (s *OTP) RecordFailure(ctx context.Context, key otp.RateKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rates[key]
	if r == nil {
		r = &rate{}
		s.rates[key] = r
	}
	r.failures++
	r.lastFailure = s.now()
	return nil
}

// ResetFailures implements otp.RateStore.
func (s *OTP) ResetFailures(ctx context.Context, key otp.RateKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rates[key]; r != nil {
		r.failures = 0
	}
	return nil
}

// ReserveBudget implements otp.BudgetStore. It reads no clock: what counts is decided
// by each counter's Since, and old sends are forgotten relative to r.At.
func (s *OTP) ReserveBudget(ctx context.Context, r otp.BudgetReservation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.budgetReserve++; s.budgetReserve%otpSweepEvery == 0 {
		s.sweepBudgets(r.At)
	}
	if _, dup := s.budgetSends[r.ID]; dup {
		return errDuplicateIssue
	}
	send := budgetSend{until: r.At}
	if len(r.Counters) > len(send.logs) {
		send.more = make([]*budgetLog, len(r.Counters))
	}
	for i, c := range r.Counters {
		l := s.budgets[c.Key]
		if l == nil {
			l = &budgetLog{}
		}
		// Sends at or before Since count no more, for this counter or any later one.
		cut := 0
		for cut < len(l.sends) && !l.sends[cut].at.After(c.Since) {
			cut++
		}
		if cut > 0 {
			n := copy(l.sends, l.sends[cut:])
			clear(l.sends[n:])
			l.sends = l.sends[:n]
		}
		if len(l.sends) >= c.Max {
			return &otp.BudgetError{Limit: c.Limit}
		}
		send.set(i, l)
	}
	for i, c := range r.Counters {
		l := send.log(i)
		s.budgets[c.Key] = l
		l.window = max(l.window, r.At.Sub(c.Since))
		// Keep the log in time order: replicas' clocks may put a send a little
		// before the newest.
		at := len(l.sends)
		for at > 0 && l.sends[at-1].at.After(r.At) {
			at--
		}
		l.sends = slices.Insert(l.sends, at, sent{at: r.At, id: r.ID})
		send.until = latest(send.until, r.At.Add(l.window))
	}
	s.budgetSends[r.ID] = send
	return nil
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// sweepBudgets forgets the sends and keys that can no longer count toward any budget,
// so that neither grows with the clients and countries a flood cycles through.
func (s *OTP) sweepBudgets(now time.Time) {
	for id, send := range s.budgetSends {
		if !send.until.After(now) {
			delete(s.budgetSends, id)
		}
	}
	for key, l := range s.budgets {
		cut := now.Add(-l.window)
		l.sends = slices.DeleteFunc(l.sends, func(x sent) bool { return !x.at.After(cut) })
		if len(l.sends) == 0 {
			delete(s.budgets, key)
		}
	}
}

func (b *budgetSend) set(i int, l *budgetLog) {
	if b.more != nil {
		b.more[i] = l
	} else {
		b.logs[i] = l
	}
}

func (b *budgetSend) log(i int) *budgetLog {
	if b.more != nil {
		return b.more[i]
	}
	return b.logs[i]
}

// ReleaseBudget implements otp.BudgetStore.
func (s *OTP) ReleaseBudget(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	send, ok := s.budgetSends[id]
	if !ok {
		return nil
	}
	delete(s.budgetSends, id)
	for _, l := range append(send.logs[:], send.more...) {
		// A log swept from the map since holds none of this reservation's sends
		// (they had stopped counting), so releasing into it is harmless.
		if l != nil {
			l.sends = slices.DeleteFunc(l.sends, func(x sent) bool { return x.id == id })
		}
	}
	return nil
}

// PutAuthenticator implements otp.AuthenticatorStore.
func (s *OTP) PutAuthenticator(ctx context.Context, a otp.Authenticator) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.auths[a.Subscriber]; ok && cur.Confirmed() {
		return otp.ErrAlreadyEnrolled
	}
	a.SealedSecret = slices.Clone(a.SealedSecret)
	s.auths[a.Subscriber] = a
	return nil
}

// GetAuthenticator implements otp.AuthenticatorStore.
func (s *OTP) GetAuthenticator(ctx context.Context, subscriber string) (otp.Authenticator, error) {
	if err := ctx.Err(); err != nil {
		return otp.Authenticator{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.auths[subscriber]
	if !ok {
		return otp.Authenticator{}, otp.ErrNotFound
	}
	a.SealedSecret = slices.Clone(a.SealedSecret)
	return a, nil
}

// AdvanceAuthenticator implements otp.AuthenticatorStore.
func (s *OTP) AdvanceAuthenticator(ctx context.Context, subscriber, id string, step int64, confirmedAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.auths[subscriber]
	if !ok || a.ID != id {
		return otp.ErrNotFound
	}
	if !confirmedAt.IsZero() && a.Confirmed() {
		return otp.ErrAlreadyEnrolled
	}
	if step <= a.LastStep {
		return otp.ErrReplay
	}
	a.LastStep = step
	if !confirmedAt.IsZero() {
		a.ConfirmedAt = confirmedAt
	}
	s.auths[subscriber] = a
	return nil
}

// DeleteAuthenticator implements otp.AuthenticatorStore.
func (s *OTP) DeleteAuthenticator(ctx context.Context, subscriber string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.auths[subscriber]; !ok {
		return otp.ErrNotFound
	}
	delete(s.auths, subscriber)
	return nil
}
