package netkey_test

import (
	"fmt"

	"github.com/carrierguard/carrierguard/netkey"
)

// An IPv6 client that rotates its address inside its /64 stays one client; one that
// moves to another /64 of its /48 is a new client in the same network.
func ExampleParse() {
	for _, addr := range []string{"[2001:db8:7:1::a]:443", "2001:db8:7:1:dead:beef:0:1", "2001:db8:7:2::1", "198.51.100.4:5555", "::ffff:198.51.100.4"} {
		k, err := netkey.Parse(addr)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(k.ClientString(), k.NetworkString(), k.Tiered())
	}
	_, err := netkey.Parse("localhost:80")
	fmt.Println(err)
	// Output:
	// 2001:db8:7:1::/64 2001:db8:7::/48 true
	// 2001:db8:7:1::/64 2001:db8:7::/48 true
	// 2001:db8:7:2::/64 2001:db8:7::/48 true
	// 198.51.100.4 198.51.100.4 false
	// 198.51.100.4 198.51.100.4 false
	// netkey: invalid client address: "localhost:80" is not an IP address or address:port
}

// ClientKey is the string a store keys per-client counts by, such as failed sign-ins.
func ExampleClientKey() {
	a, _ := netkey.ClientKey("2001:db8:1:2::1")
	b, _ := netkey.ClientKey("2001:db8:1:2:ffff::9")
	fmt.Println(a, a == b)
	// Output:
	// 2001:db8:1:2::/64 true
}
