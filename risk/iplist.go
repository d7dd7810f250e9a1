package risk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// IPReputation says whether a client IP address is untrusted: an anonymiser (Tor exit,
// VPN, open proxy), a hosting provider, or anything else a carrier lists. Implementations
// must be safe for concurrent use. An error makes the assessment fail closed.
type IPReputation interface {
	// Check returns listed true and a short non-secret category (such as "tor" or
	// "hosting") when addr is untrusted.
	Check(ctx context.Context, addr netip.Addr) (category string, listed bool, err error)
}

// ErrIPList is wrapped by errors loading an IP list.
var ErrIPList = errors.New("risk: invalid IP list")

// IPList is the built-in [IPReputation]: sets of CIDR prefixes, each under a category,
// loaded from text. Lookups cost one map probe per distinct prefix length in the list.
// Build it with [NewIPList] and [IPList.Load] before use; afterwards it is read-only and
// safe for concurrent use.
type IPList struct {
	byLen map[int]map[netip.Prefix]string // prefix length -> masked prefix -> category
	lens  []int                           // the lengths present, longest first
}

// NewIPList returns an empty list.
func NewIPList() *IPList { return &IPList{byLen: map[int]map[netip.Prefix]string{}} }

// Add lists prefix under category. A bare address is a /32 or /128 prefix; IPv4-mapped
// IPv6 prefixes are stored as IPv4.
func (l *IPList) Add(category string, p netip.Prefix) {
	p = normPrefix(p)
	m := l.byLen[p.Bits()]
	if m == nil {
		m = map[netip.Prefix]string{}
		l.byLen[p.Bits()] = m
		l.lens = append(l.lens, p.Bits())
		slices.SortFunc(l.lens, func(a, b int) int { return b - a })
	}
	m[p] = category
}

func normPrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr()
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return p.Masked()
}

// Load reads prefixes for category from r: one CIDR prefix ("192.0.2.0/24",
// "2001:db8::/32") or bare address per line; blank lines and text after '#' are ignored.
// The first malformed line is an error naming its number, and nothing from r is added.
func (l *IPList) Load(category string, r io.Reader) error {
	var add []netip.Prefix
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		p, ok, err := ParseIPListLine(sc.Text())
		if err != nil {
			return fmt.Errorf("%w: %s line %d: %v", ErrIPList, category, line, err)
		}
		if ok {
			add = append(add, p)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrIPList, category, err)
	}
	for _, p := range add {
		l.Add(category, p)
	}
	return nil
}

// ParseIPListLine parses one line of an IP list. ok is false for a blank or comment line.
func ParseIPListLine(s string) (p netip.Prefix, ok bool, err error) {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, false, nil
	}
	if strings.IndexByte(s, '/') >= 0 {
		p, err = netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false, fmt.Errorf("not a CIDR prefix: %q", s)
		}
		return normPrefix(p), true, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false, fmt.Errorf("not an IP address or prefix: %q", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true, nil
}

// Check implements [IPReputation]. The longest matching prefix decides the category.
func (l *IPList) Check(_ context.Context, addr netip.Addr) (string, bool, error) {
	if !addr.IsValid() {
		return "", false, nil
	}
	addr = addr.Unmap().WithZone("")
	for _, bits := range l.lens {
		if bits > addr.BitLen() {
			continue
		}
		p, err := addr.Prefix(bits)
		if err != nil {
			continue
		}
		if c, ok := l.byLen[bits][p]; ok {
			return c, true, nil
		}
	}
	return "", false, nil
}

// Len returns the number of prefixes listed.
func (l *IPList) Len() int {
	n := 0
	for _, m := range l.byLen {
		n += len(m)
	}
	return n
}
