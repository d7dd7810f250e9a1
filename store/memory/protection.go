package memory

import (
	"cmp"
	"context"
	"crypto/subtle"
	"slices"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/protection"
)

// Protection keeps package protection's flags, SIM-change history and transfer PINs in
// memory. It implements protection.FlagStore (with the DueDisables capability),
// protection.HistoryStore and protection.PINStore, and is safe for concurrent use.
//
// Options.Now is deliberately not used, unlike the other stores in this package: every
// protection store method that depends on the time (cooling-off due, PIN expiry and
// lockout, holds) takes it as an argument from the service, whose Config.Now is the one
// clock of package protection. A second clock in the store could disagree with the
// decision it serves (the service announcing a disable as due that the store then finds
// not yet due, or a PIN the service saw as live expiring in between). The conformance
// suite checks this by handing adapters a clock ten years off.
type Protection struct {
	mu      sync.Mutex
	flags   map[string][]protection.FlagState
	history simHistory
	pins    map[string]protection.TransferPIN
	probes  map[string][]protection.Probe // by partner, oldest first
}

var (
	_ protection.FlagStore    = (*Protection)(nil)
	_ protection.DueDisables  = (*Protection)(nil)
	_ protection.HistoryStore = (*Protection)(nil)
	_ protection.DueHolds     = (*Protection)(nil)
	_ protection.PINStore     = (*Protection)(nil)
	_ protection.ProbeStore   = (*Protection)(nil)
)

// NewProtection returns an empty store. Options.Now is ignored (see Protection).
func NewProtection(Options) *Protection {
	return &Protection{
		flags:   make(map[string][]protection.FlagState),
		history: newSIMHistory(),
		pins:    make(map[string]protection.TransferPIN),
		probes:  make(map[string][]protection.Probe),
	}
}

func (p *Protection) flag(subscriber string, flag protection.Flags) *protection.FlagState {
	states := p.flags[subscriber]
	for i := range states {
		if states[i].Flag == flag {
			return &states[i]
		}
	}
	return nil
}

// Flags implements protection.FlagStore.
func (p *Protection) Flags(ctx context.Context, subscriber string) ([]protection.FlagState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.flags[subscriber]), nil
}

// EnableFlag implements protection.FlagStore.
func (p *Protection) EnableFlag(ctx context.Context, subscriber string, flag protection.Flags, at time.Time) (protection.FlagState, error) {
	if err := ctx.Err(); err != nil {
		return protection.FlagState{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if st := p.flag(subscriber, flag); st != nil {
		prev := *st
		if !st.On {
			st.On, st.Since = true, at
		}
		st.DisableRequestedAt, st.DisableAt = time.Time{}, time.Time{}
		return prev, nil
	}
	p.flags[subscriber] = append(p.flags[subscriber], protection.FlagState{Flag: flag, On: true, Since: at})
	return protection.FlagState{Flag: flag}, nil
}

// ScheduleDisable implements protection.FlagStore.
func (p *Protection) ScheduleDisable(ctx context.Context, subscriber string, flag protection.Flags, requestedAt, effectiveAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.flag(subscriber, flag)
	switch {
	case st == nil || !st.On:
		return protection.ErrFlagOff
	case st.Pending():
		return protection.ErrDisablePending
	}
	st.DisableRequestedAt, st.DisableAt = requestedAt, effectiveAt
	return nil
}

// CancelDisable implements protection.FlagStore.
func (p *Protection) CancelDisable(ctx context.Context, subscriber string, flag protection.Flags) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.flag(subscriber, flag)
	if st == nil || !st.On || !st.Pending() {
		return protection.ErrNotFound
	}
	st.DisableRequestedAt, st.DisableAt = time.Time{}, time.Time{}
	return nil
}

// CompleteDisable implements protection.FlagStore.
func (p *Protection) CompleteDisable(ctx context.Context, subscriber string, flag protection.Flags, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.flag(subscriber, flag)
	if st == nil || !st.On || !st.Pending() || st.DisableAt.After(now) {
		return false, nil
	}
	p.flags[subscriber] = slices.DeleteFunc(p.flags[subscriber], func(s protection.FlagState) bool { return s.Flag == flag })
	if len(p.flags[subscriber]) == 0 {
		delete(p.flags, subscriber)
	}
	return true, nil
}

// DueDisables implements protection.DueDisables.
func (p *Protection) DueDisables(ctx context.Context, now time.Time, limit int) ([]protection.DueDisable, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []protection.DueDisable
	for sub, states := range p.flags {
		for _, st := range states {
			if st.On && st.Pending() && !st.DisableAt.After(now) {
				out = append(out, protection.DueDisable{Subscriber: sub, FlagState: st})
			}
		}
	}
	slices.SortFunc(out, func(a, b protection.DueDisable) int { return a.DisableAt.Compare(b.DisableAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// AppendSIMChange implements protection.HistoryStore: the check of the request's latest
// record and the append happen under one lock.
func (p *Protection) AppendSIMChange(ctx context.Context, rec protection.SIMChange, prev protection.ChangeStatus) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	latest, found := p.history.latest[rec.RequestID]
	switch {
	case prev == 0 && found, prev != 0 && found && latest.rec.Status != prev:
		return protection.ErrConflict
	case prev != 0 && !found:
		return protection.ErrNotFound
	}
	if found && rec.Status == protection.StatusCompleted {
		switch {
		case rec.Time.Before(latest.rec.HoldUntil):
			return protection.ErrHeld
		case !latest.rec.ExpiresAt.IsZero() && !rec.Time.Before(latest.rec.ExpiresAt):
			return protection.ErrApprovalExpired
		}
	}
	p.history.add(cloneChange(rec))
	return nil
}

// cloneChange copies the slices of rec, so the store shares no memory with its callers.
func cloneChange(rec protection.SIMChange) protection.SIMChange {
	rec.Given = slices.Clone(rec.Given)
	rec.CancelHash = slices.Clone(rec.CancelHash)
	return rec
}

// OpenSIMChanges implements protection.HistoryStore.
func (p *Protection) OpenSIMChanges(ctx context.Context, subscriber string) ([]protection.SIMChange, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []protection.SIMChange
	for _, e := range p.history.open[subscriber] {
		out = append(out, cloneChange(e.rec))
	}
	return out, nil
}

// DueHolds implements protection.DueHolds.
func (p *Protection) DueHolds(ctx context.Context, now time.Time, limit int) ([]protection.SIMChange, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []protection.SIMChange
	for _, reqs := range p.history.open {
		for _, e := range reqs {
			if !e.rec.HoldUntil.IsZero() && !e.rec.HoldUntil.After(now) {
				out = append(out, cloneChange(e.rec))
			}
		}
	}
	slices.SortFunc(out, func(a, b protection.SIMChange) int { return a.HoldUntil.Compare(b.HoldUntil) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// LatestForRequest implements protection.HistoryStore.
func (p *Protection) LatestForRequest(ctx context.Context, requestID string) (protection.SIMChange, error) {
	if err := ctx.Err(); err != nil {
		return protection.SIMChange{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.history.latest[requestID]; ok {
		return cloneChange(e.rec), nil
	}
	return protection.SIMChange{}, protection.ErrNotFound
}

// LastCompleted implements protection.HistoryStore.
func (p *Protection) LastCompleted(ctx context.Context, number string) (protection.SIMChange, error) {
	if err := ctx.Err(); err != nil {
		return protection.SIMChange{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.history.completed[number]; ok {
		return cloneChange(e.rec), nil
	}
	return protection.SIMChange{}, protection.ErrNotFound
}

// SIMChanges implements protection.HistoryStore.
func (p *Protection) SIMChanges(ctx context.Context, number string, since time.Time) ([]protection.SIMChange, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	recs := p.history.byNumber[number]
	i := firstAtOrAfter(recs, since)
	if i == len(recs) {
		return nil, nil
	}
	out := make([]protection.SIMChange, len(recs)-i)
	for j, e := range recs[i:] {
		out[j] = cloneChange(e.rec)
	}
	return out, nil
}

// PurgeSIMChanges implements protection.HistoryStore.
func (p *Protection) PurgeSIMChanges(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.history.purge(before), nil
}

// simHistory is the SIM-change history, indexed so that every query the decision path
// makes costs O(1) or O(log n) however long the history grows: the records of each
// number sorted by time (the ledger itself), and three derived indexes, the latest
// record of each request, the last completed change of each number and the open
// (approved) requests of each subscriber. Records carry their
// append sequence number, which orders records with equal times and defines "latest"
// for a request (the record appended last, as the compare-and-set in AppendSIMChange
// requires). Purging, which deletes from anywhere, rebuilds the derived indexes.
//
// The indexes share each entry by pointer, and an entry is never changed once added:
// every record is allocated once, and a number's growing history moves pointers, not
// records, when it outgrows its array.
type simHistory struct {
	seq       uint64
	byNumber  map[string][]*simEntry          // by Time, then by seq
	latest    map[string]*simEntry            // by request ID: the highest seq
	completed map[string]*simEntry            // by number: the newest StatusCompleted (Time, then seq)
	open      map[string]map[string]*simEntry // by subscriber, then request ID: latest records that are Open
}

type simEntry struct {
	seq uint64
	rec protection.SIMChange
}

func newSIMHistory() simHistory {
	return simHistory{
		byNumber:  make(map[string][]*simEntry),
		latest:    make(map[string]*simEntry),
		completed: make(map[string]*simEntry),
		open:      make(map[string]map[string]*simEntry),
	}
}

// firstAtOrAfter returns the index of the first of recs (sorted by time) at or after t,
// or len(recs) if there is none.
func firstAtOrAfter(recs []*simEntry, t time.Time) int {
	i, _ := slices.BinarySearchFunc(recs, t, func(e *simEntry, t time.Time) int {
		if e.rec.Time.Before(t) {
			return -1
		}
		return 1 // never 0: a record at exactly t is at or after it
	})
	return i
}

// add appends rec; p.mu must be held.
func (h *simHistory) add(rec protection.SIMChange) {
	h.seq++
	e := &simEntry{seq: h.seq, rec: rec}
	recs := h.byNumber[rec.Number]
	if n := len(recs); n == 0 || !rec.Time.Before(recs[n-1].rec.Time) {
		recs = append(recs, e) // the usual case: records arrive in time order
	} else {
		i, _ := slices.BinarySearchFunc(recs, rec.Time, func(x *simEntry, t time.Time) int {
			if x.rec.Time.After(t) {
				return 1
			}
			return -1 // never 0: insert after every record at the same time
		})
		recs = slices.Insert(recs, i, e)
	}
	h.byNumber[rec.Number] = recs
	h.index(e)
}

// index updates the derived indexes with e, which must be newer (by seq) than every
// entry indexed so far.
func (h *simHistory) index(e *simEntry) {
	if old, ok := h.latest[e.rec.RequestID]; ok && old.rec.Status.Open() {
		delete(h.open[old.rec.Subscriber], old.rec.RequestID)
		if len(h.open[old.rec.Subscriber]) == 0 {
			delete(h.open, old.rec.Subscriber)
		}
	}
	if e.rec.Status.Open() {
		m := h.open[e.rec.Subscriber]
		if m == nil {
			m = make(map[string]*simEntry)
			h.open[e.rec.Subscriber] = m
		}
		m[e.rec.RequestID] = e
	}
	h.latest[e.rec.RequestID] = e
	if e.rec.Status == protection.StatusCompleted {
		if c, ok := h.completed[e.rec.Number]; !ok || !e.rec.Time.Before(c.rec.Time) {
			h.completed[e.rec.Number] = e
		}
	}
}

// purge deletes the records older than before and returns how many it deleted.
func (h *simHistory) purge(before time.Time) int {
	deleted := 0
	var kept []*simEntry
	for num, recs := range h.byNumber {
		n := len(recs)
		// Sorted by time: the records to delete are a prefix.
		i := firstAtOrAfter(recs, before)
		if i == 0 {
			kept = append(kept, recs...)
			continue
		}
		deleted += i
		if i == n {
			delete(h.byNumber, num)
			continue
		}
		recs = slices.Clone(recs[i:]) // let the deleted records be collected
		h.byNumber[num] = recs
		kept = append(kept, recs...)
	}
	if deleted == 0 {
		return 0
	}
	slices.SortFunc(kept, func(a, b *simEntry) int { return cmp.Compare(a.seq, b.seq) })
	clear(h.latest)
	clear(h.completed)
	clear(h.open)
	for _, e := range kept {
		h.index(e)
	}
	return deleted
}

// PutPIN implements protection.PINStore.
func (p *Protection) PutPIN(ctx context.Context, pin protection.TransferPIN) (protection.TransferPIN, error) {
	if err := ctx.Err(); err != nil {
		return protection.TransferPIN{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.pins[pin.Subscriber]
	pin.Failures, pin.LockedUntil = old.Failures, old.LockedUntil
	pin.Hash = slices.Clone(pin.Hash)
	p.pins[pin.Subscriber] = pin
	return withoutHash(pin), nil
}

// ConsumePIN implements protection.PINStore.
func (p *Protection) ConsumePIN(ctx context.Context, subscriber string, hash []byte, now time.Time, limits protection.PINLimits) (protection.TransferPIN, error) {
	return p.matchPIN(ctx, subscriber, hash, now, limits, true)
}

// CheckPIN implements protection.PINStore.
func (p *Protection) CheckPIN(ctx context.Context, subscriber string, hash []byte, now time.Time, limits protection.PINLimits) (protection.TransferPIN, error) {
	return p.matchPIN(ctx, subscriber, hash, now, limits, false)
}

// matchPIN is ConsumePIN (consume) or CheckPIN (!consume).
func (p *Protection) matchPIN(ctx context.Context, subscriber string, hash []byte, now time.Time, limits protection.PINLimits, consume bool) (protection.TransferPIN, error) {
	if err := ctx.Err(); err != nil {
		return protection.TransferPIN{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, ok := p.pins[subscriber]
	switch {
	case !ok:
		return protection.TransferPIN{}, protection.ErrNotFound
	case now.Before(rec.LockedUntil):
		return withoutHash(rec), protection.ErrPINLocked
	case rec.Hash == nil || !now.Before(rec.ExpiresAt):
		p.dropPIN(subscriber, rec)
		return withoutHash(rec), protection.ErrNotFound
	case subtle.ConstantTimeCompare(rec.Hash, hash) != 1:
		rec.Failures++
		if limits.MaxFailures > 0 && rec.Failures%limits.MaxFailures == 0 {
			rec.Hash, rec.LockedUntil = nil, now.Add(limits.Lockout)
		}
		p.pins[subscriber] = rec
		return withoutHash(rec), protection.ErrPINMismatch
	}
	if consume {
		delete(p.pins, subscriber)
	}
	return protection.TransferPIN{}, nil
}

// RevokePIN implements protection.PINStore.
func (p *Protection) RevokePIN(ctx context.Context, subscriber string, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, ok := p.pins[subscriber]
	if !ok {
		return false, nil
	}
	live := rec.Hash != nil && now.Before(rec.ExpiresAt)
	p.dropPIN(subscriber, rec)
	return live, nil
}

// dropPIN forgets the live PIN of rec, keeping the record only while it still carries
// a failure count; p.mu must be held.
func (p *Protection) dropPIN(subscriber string, rec protection.TransferPIN) {
	if rec.Failures == 0 {
		delete(p.pins, subscriber)
		return
	}
	rec.Hash = nil
	p.pins[subscriber] = rec
}

func withoutHash(rec protection.TransferPIN) protection.TransferPIN {
	rec.Hash = nil
	return rec
}

// AddProbe implements protection.ProbeStore.
func (p *Protection) AddProbe(ctx context.Context, pr protection.Probe, since time.Time, limit int) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	probes := slices.DeleteFunc(p.probes[pr.Partner], func(q protection.Probe) bool { return q.At.Before(since) })
	defer func() {
		if len(probes) == 0 {
			delete(p.probes, pr.Partner)
		} else {
			p.probes[pr.Partner] = probes
		}
	}()
	if len(probes) >= limit {
		return false, nil
	}
	probes = append(probes, pr)
	return true, nil
}

// RemoveProbe implements protection.ProbeStore.
func (p *Protection) RemoveProbe(ctx context.Context, partner, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	probes := slices.DeleteFunc(p.probes[partner], func(q protection.Probe) bool { return q.ID == id })
	if len(probes) == 0 {
		delete(p.probes, partner)
	} else {
		p.probes[partner] = probes
	}
	return nil
}
