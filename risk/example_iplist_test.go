package risk_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/carrierguard/carrierguard/risk"
)

// Untrusted ranges are plain text, one CIDR prefix or address per line, loaded under a
// category that appears in the signal's reason.
func ExampleIPList() {
	list := risk.NewIPList()
	torExits := "# exit relays\n192.0.2.10\n192.0.2.11\n"
	hosting := "198.51.100.0/24\n2001:db8::/32 # a cloud provider\n"
	if err := list.Load("tor", strings.NewReader(torExits)); err != nil {
		panic(err)
	}
	if err := list.Load("hosting", strings.NewReader(hosting)); err != nil {
		panic(err)
	}
	for _, a := range []string{"192.0.2.10", "198.51.100.77", "2001:db8::5", "203.0.113.1"} {
		category, listed, _ := list.Check(context.Background(), netip.MustParseAddr(a))
		fmt.Println(a, listed, category)
	}
	// Pass it as Config.UntrustedIPs.
	_ = risk.Config{UntrustedIPs: list}
	// Output:
	// 192.0.2.10 true tor
	// 198.51.100.77 true hosting
	// 2001:db8::5 true hosting
	// 203.0.113.1 false
}
