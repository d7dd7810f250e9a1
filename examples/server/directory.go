package main

import (
	"errors"

	"github.com/carrierguard/carrierguard/notify"
	"sync"
	"time"
)

// account is the example's own subscriber record: what a carrier's CRM already holds.
// carrierguard does not own it; the packages are keyed by the subscriber ID.
type account struct {
	ID      string
	Email   string
	Name    string
	Phone   string // the line's number, E.164
	Created time.Time
	// SIMChanged is when the line last moved to another SIM (or eSIM), as the CRM
	// records it when it provisions one.
	SIMChanged time.Time
	// Former are trusted contacts removed recently, so notify's old-address rule can
	// tell them of the removal.
	Former []notify.FormerAddress
}

var errAccountExists = errors.New("account exists")

// directory is an in-memory CRM: accounts by ID, email and phone number.
type directory struct {
	mu      sync.RWMutex
	byID    map[string]account
	byEmail map[string]string
	byPhone map[string]string
}

func newDirectory() *directory {
	return &directory{byID: map[string]account{}, byEmail: map[string]string{}, byPhone: map[string]string{}}
}

// create adds a; the email and the phone number must both be new.
func (d *directory) create(a account) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.byEmail[a.Email]; ok {
		return errAccountExists
	}
	if _, ok := d.byPhone[a.Phone]; ok {
		return errAccountExists
	}
	d.byID[a.ID] = a
	d.byEmail[a.Email] = a.ID
	d.byPhone[a.Phone] = a.ID
	return nil
}

func (d *directory) get(id string) (account, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.byID[id]
	return a, ok
}

func (d *directory) byEmailAddr(email string) (account, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.byID[d.byEmail[email]]
	return a, ok
}

func (d *directory) byNumber(phone string) (account, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.byID[d.byPhone[phone]]
	return a, ok
}

// simChanged records a completed SIM change of the account's line.
func (d *directory) simChanged(id string, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a, ok := d.byID[id]; ok {
		a.SIMChanged = at
		d.byID[id] = a
	}
}

// formerContact remembers a removed contact for notify's old-address rule, keeping
// those removed within the last keep.
func (d *directory) formerContact(id string, r notify.Recipient, at time.Time, keep time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.byID[id]
	if !ok {
		return
	}
	out := []notify.FormerAddress{}
	for _, f := range a.Former {
		if at.Sub(f.Until) < keep {
			out = append(out, f)
		}
	}
	a.Former = append(out, notify.FormerAddress{Recipient: r, Until: at})
	d.byID[id] = a
}
