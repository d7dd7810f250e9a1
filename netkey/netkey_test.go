package netkey_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/carrierguard/carrierguard/netkey"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in              string
		client, network string
	}{
		{"192.0.2.1", "192.0.2.1", "192.0.2.1"},
		{"192.0.2.1:5555", "192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:443", "192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64", "2001:db8:1::/48"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64", "2001:db8:1::/48"},
		{"[2001:db8:1:2::9]:443", "2001:db8:1:2::/64", "2001:db8:1::/48"},
		{"2001:db8:1:ffff::1", "2001:db8:1:ffff::/64", "2001:db8:1::/48"},
		{"fe80::1%eth0", "fe80::/64", "fe80::/48"},
		{"[fe80::1%eth0]:80", "fe80::/64", "fe80::/48"},
		{"::1", "::/64", "::/48"},
		// IPv4-compatible (not mapped) addresses are IPv6.
		{"::192.0.2.1", "::/64", "::/48"},
	}
	for _, tt := range tests {
		k, err := netkey.Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := k.ClientString(); got != tt.client {
			t.Errorf("Parse(%q).Client = %s, want %s", tt.in, got, tt.client)
		}
		if got := k.NetworkString(); got != tt.network {
			t.Errorf("Parse(%q).Network = %s, want %s", tt.in, got, tt.network)
		}
		if k.Tiered() == strings.Contains(tt.client, ".") {
			t.Errorf("Parse(%q).Tiered() = %v", tt.in, k.Tiered())
		}
		key, err := netkey.ClientKey(tt.in)
		if err != nil || key != tt.client {
			t.Errorf("ClientKey(%q) = %q, %v; want %q", tt.in, key, err, tt.client)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, in := range []string{
		"", " ", "192.0.2.1 ", " 192.0.2.1", "192.0.2", "192.0.2.256", "localhost", "example.com:80",
		"2001:db8::/64", "192.0.2.0/24", "[192.0.2.1]:80", "2001:db8::1:99999", "[2001:db8::1]", "::ffff:", "\x00",
		strings.Repeat("1", 1000),
	} {
		if k, err := netkey.Parse(in); !errors.Is(err, netkey.ErrInvalidAddress) || k != (netkey.Keys{}) {
			t.Errorf("Parse(%q) = %v, %v; want ErrInvalidAddress and zero keys", in, k, err)
		}
		if key, err := netkey.ClientKey(in); !errors.Is(err, netkey.ErrInvalidAddress) || key != "" {
			t.Errorf("ClientKey(%q) = %q, %v; want ErrInvalidAddress", in, key, err)
		}
	}
	if _, err := netkey.Of(netip.Addr{}); !errors.Is(err, netkey.ErrInvalidAddress) {
		t.Errorf("Of(zero) = %v, want ErrInvalidAddress", err)
	}
	// Error messages stay short whatever the input.
	_, err := netkey.Parse(strings.Repeat("x", 10000))
	if len(err.Error()) > 200 {
		t.Errorf("error message is %d bytes", len(err.Error()))
	}
}

// Every address of one /64 is one client; a neighbouring /64 of the same /48 is another
// client in the same network; another /48 is a stranger.
func TestRotationInsideOnePrefix(t *testing.T) {
	base := netip.MustParseAddr("2001:db8:aa:bb::")
	first, err := netkey.Of(base)
	if err != nil {
		t.Fatal(err)
	}
	b := base.As16()
	for i := range 500 {
		b[15], b[14], b[9] = byte(i), byte(i>>8), byte(i*7)
		k, err := netkey.Of(netip.AddrFrom16(b))
		if err != nil || k != first {
			t.Fatalf("address %d of the /64 gave %v, %v; want %v", i, k, err, first)
		}
	}
	b = base.As16()
	b[7] = 0xcc // another /64 of the same /48
	other, _ := netkey.Of(netip.AddrFrom16(b))
	if other.Client == first.Client || other.Network != first.Network {
		t.Errorf("neighbouring /64: %v vs %v", other, first)
	}
	b[5] = 0x01 // another /48
	stranger, _ := netkey.Of(netip.AddrFrom16(b))
	if stranger.Network == first.Network {
		t.Errorf("another /48 shares the network key: %v", stranger)
	}
}
