package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/line"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
)

// account is the example's own subscriber record: what a carrier's CRM already holds.
// carrierguard does not own it; the packages are keyed by the subscriber ID.
type account struct {
	ID    string
	Email string
	Name  string
	// Phone is the number given at sign-up (E.164): a claim, until it is proved.
	Phone string
	// Line is the account's proved line: Phone once an SMS code to it was read back or
	// the carrier's provisioning said so (package line decides; this mirrors it for the
	// CRM's lookups). Empty until then: no SIM change, port-out or SMS notice for it.
	Line    string
	Created time.Time
	// SIMChanged is when the line last moved to another SIM (or eSIM), as the CRM
	// records it when it provisions one.
	SIMChanged time.Time
	// Former are trusted contacts removed recently, so notify's old-address rule can
	// tell them of the removal.
	Former []notify.FormerAddress
}

var errAccountExists = errors.New("account exists")

// directory is an in-memory CRM: accounts by ID, email and proved line, and the
// carrier's provisioning records (which subscriber holds which line).
type directory struct {
	mu      sync.RWMutex
	byID    map[string]account
	byEmail map[string]string
	byPhone map[string]string // proved lines only
	// provisioned is the carrier's own record of the lines it provisioned, by number:
	// line.Provisioning reads it (OwnsLine).
	provisioned map[string]string
}

func newDirectory() *directory {
	return &directory{byID: map[string]account{}, byEmail: map[string]string{}, byPhone: map[string]string{},
		provisioned: map[string]string{}}
}

// create adds a; the email must be new, and the phone number must not be another
// account's proved line. A number only claimed by another account (never proved) does
// not block it: otherwise whoever typed a number first would squat on it.
func (d *directory) create(a account) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.byEmail[a.Email]; ok {
		return errAccountExists
	}
	if _, ok := d.byPhone[a.Phone]; ok {
		return errAccountExists
	}
	a.Line = ""
	d.byID[a.ID] = a
	d.byEmail[a.Email] = a.ID
	return nil
}

// lineProved records that number is the proved line of account id (package line has
// decided it).
func (d *directory) lineProved(id, number string) {
	d.mu.RLock()
	same := d.byID[id].Line == number
	d.mu.RUnlock()
	if same { // already recorded: every SIM change lands here, so no write lock
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.byID[id]
	if !ok {
		return
	}
	if a.Line != "" && a.Line != number {
		delete(d.byPhone, a.Line)
	}
	a.Line = number
	d.byID[id] = a
	d.byPhone[number] = id
}

// provision records that the carrier provisioned number for account id.
func (d *directory) provision(id, number string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.provisioned[number] = id
}

// OwnsLine implements line.Provisioning over the provisioning records.
func (d *directory) OwnsLine(_ context.Context, subscriber, number string) (bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.provisioned[number] == subscriber, nil
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

// byNumber returns the account whose proved line is phone.
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

// portedOut records that number left the carrier (a completed port-out): it is no
// longer account id's line, nor one the carrier provisions.
func (d *directory) portedOut(id, number string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byPhone[number] == id {
		delete(d.byPhone, number)
	}
	if d.provisioned[number] == id {
		delete(d.provisioned, number)
	}
	if a, ok := d.byID[id]; ok && a.Line == number {
		a.Line = ""
		d.byID[id] = a
	}
}

// lineHolder returns the account whose proved line number is or, failing that, to which
// the carrier provisioned it: the one account that could own it (package line decides
// whether it does).
func (d *directory) lineHolder(number string) (account, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	id, ok := d.byPhone[number]
	if !ok {
		id, ok = d.provisioned[number]
	}
	a, found := d.byID[id]
	return a, ok && found
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

// wireLines builds the line service: a number becomes an account's line only once an
// SMS code to it is read back, or the carrier's provisioning (the directory's records)
// says so. Its codes have their own store and key: a line-proof code proves possession
// of the number and nothing else.
func (s *Server) wireLines() error {
	key, err := s.codeKey("line")
	if err != nil {
		return err
	}
	st := s.stores.LineCodes
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: key, Budgets: s.smsBudgets(), Now: s.now}, st, st, s.pub)
	if err != nil {
		return err
	}
	s.lines, err = line.New(line.Config{Now: s.now}, line.Deps{Store: s.stores.Lines, Codes: codes,
		Sender: line.SenderFunc(s.sendLineCode), SIMChanges: s.protect, Provisioning: s.dir, Publisher: s.pub})
	return err
}

// sendLineCode is the line service's Sender: the SMS goes straight to the courier.
func (s *Server) sendLineCode(ctx context.Context, m line.Message) error {
	err := s.courier.deliver(ctx, message{ID: notify.NewID(), Time: s.now(), Channel: "sms", To: m.Number,
		Subject: "Your security code",
		Body: fmt.Sprintf("Your code is %s. It is to prove this number is the line of your account and expires at %s UTC. If you did not ask for it, ignore it: we never move a number without its owner's proof.",
			m.Code, m.ExpiresAt.UTC().Format("15:04"))})
	if err != nil {
		return fmt.Errorf("%w: %w", errCodeNotSent, err)
	}
	return nil
}

// requireLine refuses a SIM change or port-out of a number that is not a proved line of
// the subscriber (package line: an SMS proof or the carrier's provisioning). Every SIM
// change goes through it: self-service, agent and partner.
func (s *Server) requireLine(ctx context.Context, subscriber, number string) error {
	if number == "" {
		return errorf(http.StatusForbidden, codeLineUnproved, "the account has no proved line: prove the number first (POST /v1/line/verify/send)")
	}
	b, err := s.lines.Check(ctx, subscriber, number)
	switch {
	case errors.Is(err, line.ErrUnproved):
		return errorf(http.StatusForbidden, codeLineUnproved, "the number is not a proved line of this account: prove it first (POST /v1/line/verify/send)")
	case err != nil:
		return err
	}
	s.dir.lineProved(subscriber, b.Number) // provisioning may have proved it just now
	return nil
}

// carryOut completes an approved SIM change or port-out in protection (which decides
// once more, atomically with the completion) and records it in the CRM: a port-out
// releases the line, a SIM change marks the account's SIM as changed.
func (s *Server) carryOut(ctx context.Context, requestID, subscriber, number string, kind protection.ChangeKind, actor notify.Actor) error {
	if err := s.protect.CompleteSIMChange(ctx, requestID, actor); err != nil {
		return err
	}
	if kind == protection.ChangePortOut {
		return s.portedOut(ctx, subscriber, number)
	}
	s.dir.simChanged(subscriber, s.now())
	return nil
}

// portedOut ends the account's line after a completed port-out: the number now belongs
// to another carrier, so it is no longer a line here (package line releases it, the
// CRM forgets it) and can be neither swapped, ported nor sent notices. A failure to
// release is returned: the port-out is done, but a binding left behind must be seen.
func (s *Server) portedOut(ctx context.Context, subscriber, number string) error {
	s.dir.portedOut(subscriber, number)
	if err := s.lines.Release(ctx, subscriber, number); err != nil && !errors.Is(err, line.ErrNotFound) {
		s.log.ErrorContext(ctx, "port-out completed but the line could not be released", "subscriber", subscriber, "error", err.Error())
		return err
	}
	return nil
}

// codeLineUnproved is the error code of a request about a number not proved to be the
// account's line.
const codeLineUnproved = "line_unproved"
