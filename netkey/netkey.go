// Package netkey turns a client's network address into the keys that per-client limits
// count under, so that a client cannot slip past a limit by changing its address.
//
// An IPv4 address is one client: it is its own key. IPv6 is different: an ISP hands each
// subscriber at least a /64 (RFC 6177 suggests up to a /48 per site), and every host
// picks new addresses inside it freely, for privacy (RFC 8981) or on purpose. A limit
// keyed by the full IPv6 address gives such a client 2^64 fresh budgets, and a map of
// limiters one new entry per request. So an IPv6 address is keyed by its /64
// ([ClientBits]), and a second, wider tier by its /48 ([NetworkBits]) catches a client
// that rotates through the /64s of its site. Give the wider tier a larger budget than
// the first: a /48 may hold a whole office.
//
// An IPv4-mapped IPv6 address (::ffff:192.0.2.1, as a dual-stack listener reports IPv4
// peers) is the IPv4 client it maps, so one client has one key whichever socket it came
// in on. A zone (fe80::1%eth0) is dropped: it names the server's interface, not the
// client.
//
//	keys, err := netkey.Parse(r.RemoteAddr) // "192.0.2.1:5555", "[2001:db8::1]:443", "2001:db8::1"
//	if err != nil { ... }                   // not an address: refuse, never "allow"
//	perClient.Allow(keys.Client.String())
//	if keys.Tiered() {
//		perNetwork.Allow(keys.Network.String())
//	}
//
// [ClientKey] is the one-string form for stores that count per client (a sign-in
// lockout, an SMS budget): "192.0.2.1" or "2001:db8:1:2::/64".
//
// The package is pure: no state, no clock, no I/O. It does not decide which address is
// the client's: behind a proxy, that is the address the proxy vouches for, never a
// header the client wrote.
package netkey

import (
	"errors"
	"fmt"
	"net/netip"
)

// Prefix lengths of the IPv6 tiers.
const (
	// ClientBits is how much of an IPv6 address names one client: the /64 that one
	// subscriber line or LAN gets.
	ClientBits = 64
	// NetworkBits is the wider tier: the /48 that one site may get.
	NetworkBits = 48
)

// ErrInvalidAddress is wrapped by every error of Parse and ClientKey.
var ErrInvalidAddress = errors.New("netkey: invalid client address")

// Keys are the limiter keys of one client address. Both are masked prefixes (the host
// bits zero), so every address of one client gives equal Keys, usable as map keys.
type Keys struct {
	// Client is what one client counts as: an IPv4 address as its /32, or the /64
	// that an IPv6 address is in.
	Client netip.Prefix
	// Network is the wider tier: the /48 of an IPv6 address. For IPv4 it equals
	// Client: IPv4 has no tier of its own, since neighbours in a /24 are often strangers
	// (and behind carrier-grade NAT one address is already many subscribers).
	Network netip.Prefix
}

// Tiered reports whether Network is a tier of its own (IPv6), so a limiter needs to
// count it besides Client.
func (k Keys) Tiered() bool { return k.Network != k.Client }

// Of returns the keys of a. An invalid (zero) netip.Addr is an error.
func Of(a netip.Addr) (Keys, error) {
	if !a.IsValid() {
		return Keys{}, fmt.Errorf("%w: no address", ErrInvalidAddress)
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		p := netip.PrefixFrom(a, 32)
		return Keys{Client: p, Network: p}, nil
	}
	// Masking a valid IPv6 address to 64 or 48 bits cannot fail.
	c, _ := a.Prefix(ClientBits)
	n, _ := a.Prefix(NetworkBits)
	return Keys{Client: c, Network: n}, nil
}

// Parse returns the keys of a client address written as an IP address ("192.0.2.1",
// "2001:db8::1", "fe80::1%eth0") or as an address and port, the form of
// http.Request.RemoteAddr ("192.0.2.1:5555", "[2001:db8::1]:443"). Anything else
// (empty, a host name, a prefix, surrounding spaces) is an error that wraps
// ErrInvalidAddress; a caller must treat it as a refusal, never as "no limit".
func Parse(s string) (Keys, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return Of(a)
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return Keys{}, fmt.Errorf("%w: %q is not an IP address or address:port", ErrInvalidAddress, clip(s))
	}
	return Of(ap.Addr())
}

// ClientKey is Parse's Client key as one string: the IPv4 address itself
// ("192.0.2.1"), or the IPv6 /64 in prefix form ("2001:db8:1:2::/64"). Two addresses
// of one client give the same string, and an IPv4 address and its IPv4-mapped IPv6 form
// give the same string. It is what stores that count failures or sends per client should
// key by.
func ClientKey(s string) (string, error) {
	k, err := Parse(s)
	if err != nil {
		return "", err
	}
	return k.ClientString(), nil
}

// ClientString is Client as ClientKey writes it.
func (k Keys) ClientString() string { return prefixString(k.Client) }

// NetworkString is Network written the same way: "192.0.2.1" or "2001:db8:1::/48".
func (k Keys) NetworkString() string { return prefixString(k.Network) }

func prefixString(p netip.Prefix) string {
	if p.Addr().Is4() {
		return p.Addr().String()
	}
	return p.String()
}

// clip keeps an error message short whatever the input.
func clip(s string) string {
	const maxQuoted = 64
	if len(s) > maxQuoted {
		return s[:maxQuoted] + "…"
	}
	return s
}
