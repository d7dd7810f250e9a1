package risk

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIPList(t *testing.T) {
	l := NewIPList()
	require.NoError(t, l.Load("hosting", strings.NewReader(`
# hosting ranges
192.0.2.0/24
2001:db8::/32   # documentation range
::ffff:198.51.100.0/120
`)))
	require.NoError(t, l.Load("tor", strings.NewReader("192.0.2.77\n2001:db8:1::5\n")))
	assert.Equal(t, 5, l.Len())
	tests := []struct {
		addr     string
		listed   bool
		category string
	}{
		{"192.0.2.1", true, "hosting"},
		{"192.0.2.77", true, "tor"}, // the longest prefix wins
		{"::ffff:192.0.2.1", true, "hosting"},
		{"198.51.100.200", true, "hosting"}, // listed as IPv4-mapped
		{"198.51.101.1", false, ""},
		{"2001:db8:ffff::1", true, "hosting"},
		{"2001:db8:1::5", true, "tor"},
		{"2001:db9::1", false, ""},
		{"203.0.113.9", false, ""},
	}
	for _, tt := range tests {
		cat, listed, err := l.Check(context.Background(), netip.MustParseAddr(tt.addr))
		require.NoError(t, err)
		assert.Equal(t, tt.listed, listed, tt.addr)
		assert.Equal(t, tt.category, cat, tt.addr)
	}
	_, listed, err := l.Check(context.Background(), netip.Addr{})
	assert.NoError(t, err)
	assert.False(t, listed, "the zero address is not listed")
}

func TestIPListRejectsBadLines(t *testing.T) {
	l := NewIPList()
	for _, in := range []string{"192.0.2.0/33\n", "10.0.0.1\nnot-an-ip\n", "fe80::1%eth0\n", "1.2.3.4 5.6.7.8\n"} {
		err := l.Load("x", strings.NewReader(in))
		assert.ErrorIs(t, err, ErrIPList, in)
	}
	assert.Equal(t, 0, l.Len(), "a bad list adds nothing")
	err := l.Load("x", strings.NewReader("10.0.0.1\nnot-an-ip\n"))
	assert.ErrorContains(t, err, "line 2")
}

func FuzzParseIPListLine(f *testing.F) {
	for _, s := range []string{"192.0.2.0/24", "2001:db8::/32 # c", "", "# only", "10.0.0.1", "::ffff:1.2.3.4/120", "x/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok, err := ParseIPListLine(s)
		if err != nil || !ok {
			return
		}
		// A parsed prefix is canonical (masked, IPv4 unmapped) and re-parses to itself.
		if p != p.Masked() || p.Addr().Is4In6() {
			t.Fatalf("%q parsed to non-canonical %v", s, p)
		}
		q, ok2, err := ParseIPListLine(p.String())
		if err != nil || !ok2 || q != p {
			t.Fatalf("%v does not round-trip: %v %v", p, q, err)
		}
		// Its own address is listed.
		l := NewIPList()
		l.Add("c", p)
		if _, listed, _ := l.Check(context.Background(), p.Addr()); !listed {
			t.Fatalf("%v does not contain its own address", p)
		}
	})
}
