package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/status"
)

// message is one email, SMS or push message the server would send.
type message struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Channel string    `json:"channel"` // email, sms, push
	To      string    `json:"to"`
	Subject string    `json:"subject,omitempty"`
	Body    string    `json:"body"`
	// Event is the account event type the message tells of, if any.
	Event string `json:"event,omitempty"`
}

// courier delivers messages. In demo mode it is the dev mailbox; otherwise a stand-in
// that logs the masked recipient only (plug in your SMTP and SMS gateways here).
type courier interface {
	deliver(ctx context.Context, m message) error
}

// mailbox is the dev mailbox: it keeps the last max messages in memory so a developer
// can read the verification links and codes. It exists only in demo mode.
type mailbox struct {
	mu   sync.Mutex
	ring []message // the last len(ring) messages; next is where the next one goes
	next int
	n    int
	// fail, if set, makes deliveries fail (to show that requests do not).
	fail error
}

func newMailbox(size int) *mailbox { return &mailbox{ring: make([]message, size)} }

func (m *mailbox) deliver(_ context.Context, msg message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.ring[m.next] = msg
	m.next = (m.next + 1) % len(m.ring)
	m.n = min(m.n+1, len(m.ring))
	return nil
}

// list returns the messages to an address (all if to is empty), newest first.
func (m *mailbox) list(to string) []message {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []message{}
	for i := 1; i <= m.n; i++ {
		msg := m.ring[(m.next-i+len(m.ring))%len(m.ring)]
		if to == "" || strings.EqualFold(msg.To, to) {
			out = append(out, msg)
		}
	}
	return out
}

func (m *mailbox) clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.ring)
	m.next, m.n = 0, 0
}

// logCourier stands in for real gateways outside demo mode: it logs that a message
// went out, to a masked address, and never the body (which may hold a link or code).
type logCourier struct{ log *slog.Logger }

func (c logCourier) deliver(ctx context.Context, m message) error {
	to := m.To
	if m.Channel == "email" {
		to = status.MaskEmail(to)
	} else if len(to) > 4 {
		to = "•••• " + to[len(to)-4:]
	}
	c.log.InfoContext(ctx, "message sent", "channel", m.Channel, "to", to, "event", m.Event)
	return nil
}

// courierSender delivers the outbox's messages through the courier: notify's
// Dispatcher calls it with every rendered message, and retries it when it fails.
func courierSender(c courier, now func() time.Time) notify.Sender {
	return notify.SenderFunc(func(ctx context.Context, d notify.Delivery) error {
		return c.deliver(ctx, message{ID: d.IdempotencyKey, Time: now(), Channel: string(d.Recipient.Channel),
			To: d.Recipient.Address, Subject: d.Content.Subject, Body: d.Content.Text, Event: string(d.Type)})
	})
}

// lookupProfile is the notify.Directory over the example's CRM: the account email,
// and the line itself by SMS once it is proved (package line: a number only claimed at
// sign-up may be anyone's), plus the verified trusted contacts once two-factor is set up. A stand-in ID
// (an unknown email at sign-in) has nowhere to go, which is not an error.
func (s *Server) lookupProfile(ctx context.Context, sub string) (notify.Profile, error) {
	a, ok := s.dir.get(sub)
	if !ok {
		if strings.HasPrefix(sub, "unknown_") {
			return notify.Profile{}, nil
		}
		return notify.Profile{}, notify.ErrNotFound
	}
	p := notify.Profile{Email: a.Email, Former: a.Former}
	if a.Line != "" { // a number given at sign-up gets messages only once it is proved
		p.Contacts = []notify.Recipient{{Channel: notify.ChannelSMS, Address: a.Line}}
	}
	return s.addContacts(ctx, sub, p)
}

// handleMailbox lists the dev mailbox: GET /dev/mailbox[?to=address].
func (s *Server) handleMailbox(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"messages": s.mail.list(r.URL.Query().Get("to"))})
	return nil
}

// handleMailboxClear empties the dev mailbox: DELETE /dev/mailbox.
func (s *Server) handleMailboxClear(w http.ResponseWriter, _ *http.Request) error {
	s.mail.clear()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
