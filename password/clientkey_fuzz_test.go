package password

import (
	"net/netip"
	"testing"
)

// FuzzClientNetwork checks the client keying. Properties: it never panics; it is
// idempotent; a key that is not an IP address is kept as is; an IPv4 address (also
// IPv4-mapped) becomes its dotted form; an IPv6 address becomes its /64, which every
// address of that /64 shares and no address outside it does.
func FuzzClientNetwork(f *testing.F) {
	for _, s := range []string{
		"", "device-1", "198.51.100.7", "::ffff:198.51.100.7", "2001:db8:1:2::1",
		"2001:db8:1:2:ffff:ffff:ffff:ffff", "fe80::1%eth0", "::", "::1", "2001:db8::/64",
		"0.0.0.0", "1.2.3.4.5", "[2001:db8::1]:443",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		got := clientNetwork(key)
		if again := clientNetwork(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", key, got, again)
		}
		ip, err := netip.ParseAddr(key)
		if err != nil {
			if got != key {
				t.Fatalf("non-address %q rewritten to %q", key, got)
			}
			return
		}
		if ip = ip.Unmap(); ip.Is4() {
			if got != ip.String() {
				t.Fatalf("IPv4 %q keyed %q", key, got)
			}
			return
		}
		p, err := netip.ParsePrefix(got)
		if err != nil || p.Bits() != 64 || !p.Contains(ip.WithZone("")) {
			t.Fatalf("IPv6 %q keyed %q, not its /64", key, got)
		}
		b := ip.WithZone("").As16()
		b[15] ^= 0xff // same /64
		if k := clientNetwork(netip.AddrFrom16(b).String()); k != got {
			t.Fatalf("%q and a neighbour in its /64 keyed apart: %q, %q", key, got, k)
		}
		b[7] ^= 0x01 // the next /64
		if k := clientNetwork(netip.AddrFrom16(b).String()); k == got {
			t.Fatalf("%q and an address of another /64 share key %q", key, got)
		}
	})
}
