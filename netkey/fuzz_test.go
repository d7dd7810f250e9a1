package netkey_test

import (
	"net/netip"
	"testing"

	"github.com/carrierguard/carrierguard/netkey"
)

// FuzzParse checks that Parse never panics, that what it returns is well formed (masked
// prefixes of the right lengths that contain the address), that keying a key again
// changes nothing, and that an IPv4 address and its IPv4-mapped IPv6 form are one
// client.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"192.0.2.1", "192.0.2.1:80", "::ffff:192.0.2.1", "[::ffff:10.0.0.1]:1", "2001:db8::1",
		"[2001:db8:1:2::3]:443", "fe80::1%eth0", "::", "0.0.0.0", "255.255.255.255", "", "x", "::ffff:",
		"2001:db8::/64", "1.2.3.4/32", "[::1]", "[::1]:", "1:2:3:4:5:6:7:8",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := netkey.Parse(s)
		if err != nil {
			if k != (netkey.Keys{}) {
				t.Fatalf("Parse(%q) failed with keys %v", s, k)
			}
			return
		}
		if !k.Client.IsValid() || !k.Network.IsValid() || k.Client != k.Client.Masked() || k.Network != k.Network.Masked() {
			t.Fatalf("Parse(%q) = %v: not masked prefixes", s, k)
		}
		if k.Client.Addr().Zone() != "" || k.Client.Addr().Is4In6() {
			t.Fatalf("Parse(%q) = %v: zone or mapped form kept", s, k)
		}
		switch {
		case k.Client.Addr().Is4():
			if k.Client.Bits() != 32 || k.Network != k.Client || k.Tiered() {
				t.Fatalf("Parse(%q) = %v: IPv4 must be its own /32 at both tiers", s, k)
			}
		default:
			if k.Client.Bits() != netkey.ClientBits || k.Network.Bits() != netkey.NetworkBits || !k.Network.Contains(k.Client.Addr()) || !k.Tiered() {
				t.Fatalf("Parse(%q) = %v: IPv6 tiers wrong", s, k)
			}
		}
		// The address itself is inside its client key.
		a, perr := netip.ParseAddr(s)
		if perr != nil {
			ap, _ := netip.ParseAddrPort(s)
			a = ap.Addr()
		}
		if !k.Client.Contains(a.Unmap().WithZone("")) {
			t.Fatalf("Parse(%q) = %v does not contain the address", s, k)
		}
		// Idempotent: the key's own address, in any written form, keys the same.
		for _, again := range []string{k.Client.Addr().String(), netip.AddrPortFrom(k.Client.Addr(), 1).String()} {
			if k2, err := netkey.Parse(again); err != nil || k2 != k {
				t.Fatalf("Parse(%q) = %v but Parse(%q) = %v, %v", s, k, again, k2, err)
			}
		}
		if key, err := netkey.ClientKey(s); err != nil || key != k.ClientString() {
			t.Fatalf("ClientKey(%q) = %q, %v; want %q", s, key, err, k.ClientString())
		}
		// IPv4-mapped equivalence, both ways.
		if k.Client.Addr().Is4() {
			mapped := netip.AddrFrom16(k.Client.Addr().As16()).String()
			if k2, err := netkey.Parse(mapped); err != nil || k2 != k {
				t.Fatalf("Parse(%q) = %v but its mapped form %q gives %v, %v", s, k, mapped, k2, err)
			}
		}
	})
}
