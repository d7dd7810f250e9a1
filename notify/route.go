package notify

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Directory tells the router where a subscriber can be reached. The integrator implements
// it over its CRM or over the twofactor and status stores.
//
// Implementations must be safe for concurrent use. Lookup returns ErrNotFound (or an
// error wrapping it) for an unknown subscriber; any error makes Publish fail, so the
// change that caused the event fails too rather than happening silently.
type Directory interface {
	Lookup(ctx context.Context, subscriber string) (Profile, error)
}

// DirectoryFunc adapts a function to the Directory interface.
type DirectoryFunc func(ctx context.Context, subscriber string) (Profile, error)

// Lookup calls f(ctx, subscriber).
func (f DirectoryFunc) Lookup(ctx context.Context, subscriber string) (Profile, error) {
	return f(ctx, subscriber)
}

// Profile is where one subscriber can be reached, as of now.
type Profile struct {
	// Email is the account email address; empty if there is none.
	Email string
	// Contacts are the subscriber's verified trusted contacts (email or SMS). Unverified
	// contacts must not be listed: they may belong to anyone.
	Contacts []Recipient
	// Devices are push recipients (device tokens or installation IDs).
	Devices []Recipient
	// Former are addresses (the account email or trusted contacts) that were removed or
	// replaced. The Directory must keep each for at least the router's FormerWindow
	// after Until; older entries are ignored.
	Former []FormerAddress
	// Preferences govern non-security events only.
	Preferences Preferences
}

// FormerAddress is an address that stopped reaching the subscriber at Until.
type FormerAddress struct {
	Recipient
	Until time.Time
}

// Preferences are the subscriber's choices for non-security events. Security events
// ignore them: they cannot be muted.
type Preferences struct {
	// Muted non-security types are not sent at all.
	Muted []Type
	// Channels, if not empty, limits non-security events to these channels.
	Channels []Channel
}

// Route is one delivery the router decided on.
type Route struct {
	Recipient Recipient
	// Former marks an address that was recently removed or replaced.
	Former bool
}

// DefaultFormerWindow is how long after an address is removed or replaced it is still
// told about address changes.
const DefaultFormerWindow = 7 * 24 * time.Hour

// Routes decides who hears about event e, given the subscriber's profile p:
//
//   - Security events (e.Type.Security()) go to the account email, every verified
//     contact and every push device, whatever the preferences say.
//   - Events that change an address (e.Type.ChangesAddress()) also go to every former
//     address whose Until lies within formerWindow before e.Time (or after it, since the
//     change is usually stored just before the event is published).
//   - Other events go to the same recipients unless the type is muted, limited to
//     the preferred channels if any are set.
//
// Each address is used once per channel, in a stable order: email, contacts, devices,
// former addresses. Operator types and unknown types are errors.
func Routes(e Event, p Profile, formerWindow time.Duration) ([]Route, error) {
	if !e.Type.Known() {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, e.Type)
	}
	if e.Type.Operator() {
		return nil, fmt.Errorf("%w: %s is an operator signal and is never routed to subscribers", ErrInvalidEvent, e.Type)
	}
	security := e.Type.Security()
	if !security && slices.Contains(p.Preferences.Muted, e.Type) {
		return nil, nil
	}
	allowed := func(c Channel) bool {
		return security || len(p.Preferences.Channels) == 0 || slices.Contains(p.Preferences.Channels, c)
	}
	// Sized for every address the profile has, so neither grows while routing.
	n := 1 + len(p.Contacts) + len(p.Devices) + len(p.Former)
	out := make([]Route, 0, n)
	seen := make(map[Recipient]bool, n)
	add := func(r Recipient, former bool) {
		if r.Address == "" || !r.Channel.valid() || seen[r] || !allowed(r.Channel) {
			return
		}
		seen[r] = true
		out = append(out, Route{Recipient: r, Former: former})
	}
	add(Recipient{Channel: ChannelEmail, Address: p.Email}, false)
	for _, r := range p.Contacts {
		add(r, false)
	}
	for _, r := range p.Devices {
		add(r, false)
	}
	if e.Type.ChangesAddress() {
		for _, f := range p.Former {
			if f.Until.After(e.Time.Add(-formerWindow)) {
				add(f.Recipient, true)
			}
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
