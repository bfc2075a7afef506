package ingest

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/capture"
)

func TestParseLocalNets(t *testing.T) {
	cases := []struct {
		in, canon string
		local     []string
		remote    []string
	}{
		{"", "", nil, []string{"10.0.0.1", "::1"}},
		{"  ", "", nil, []string{"10.0.0.1"}},
		{"10.0.0.0/8", "10.0.0.0/8", []string{"10.0.0.0", "10.255.255.255"}, []string{"11.0.0.0", "9.255.255.255", "::ffff:b00:1", "a00::1"}},
		{"10.1.2.3/8, 192.168.1.7", "10.0.0.0/8,192.168.1.7/32", []string{"10.9.9.9", "192.168.1.7", "::ffff:10.0.0.1"}, []string{"192.168.1.8"}},
		{"2001:db8::/32", "2001:db8::/32", []string{"2001:db8::1", "2001:db8:ffff:ffff::"}, []string{"2001:db9::", "10.0.0.1", "::ffff:2001:db8"}},
		{"0.0.0.0/0", "0.0.0.0/0", []string{"1.2.3.4", "255.255.255.255"}, []string{"::1"}},
		{"::/0", "::/0", []string{"::1", "ff02::1"}, []string{"1.2.3.4"}},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", []string{"10.1.1.1"}, []string{"11.1.1.1"}},
		{"2001:db8::1,fe80::/10", "2001:db8::1/128,fe80::/10", []string{"2001:db8::1", "fe80::1234"}, []string{"2001:db8::2"}},
		{"2001:db8:0:1::/63", "2001:db8::/63", []string{"2001:db8::1:0:0:1"}, []string{"2001:db8:0:2::1"}},
	}
	for _, c := range cases {
		l, err := ParseLocalNets(c.in)
		if err != nil {
			t.Errorf("ParseLocalNets(%q): %v", c.in, err)
			continue
		}
		if got := l.String(); got != c.canon {
			t.Errorf("ParseLocalNets(%q).String() = %q, want %q", c.in, got, c.canon)
		}
		if l.Empty() != (c.canon == "") {
			t.Errorf("ParseLocalNets(%q).Empty() = %v", c.in, l.Empty())
		}
		for _, a := range c.local {
			if !l.Contains(netip.MustParseAddr(a).As16()) {
				t.Errorf("%q: %s not local", c.in, a)
			}
		}
		for _, a := range c.remote {
			if l.Contains(netip.MustParseAddr(a).As16()) {
				t.Errorf("%q: %s local", c.in, a)
			}
		}
	}
	var nilNets *LocalNets
	if nilNets.Contains(netip.MustParseAddr("10.0.0.1").As16()) || !nilNets.Empty() || nilNets.String() != "" {
		t.Errorf("nil LocalNets is not the empty set")
	}
}

func TestParseLocalNetsErrors(t *testing.T) {
	cases := []struct{ in, mention string }{
		{"10.0.0.0/33", `entry 1 "10.0.0.0/33"`},
		{"10.0.0.0/8,,192.168.0.0/16", "entry 2"},
		{"10.0.0.0/8,", "entry 2"},
		{"10.0.0", `"10.0.0"`},
		{"eth0", `"eth0"`},
		{"fe80::1%eth0", "zone"},
		{"2001:db8::/129", "2001:db8::/129"},
		{"10.0.0.0/-1", "entry 1"},
		{"1.2.3.4/8/8", "entry 1"},
	}
	for _, c := range cases {
		l, err := ParseLocalNets(c.in)
		if !errors.Is(err, ErrBadLocalNet) || l != nil {
			t.Errorf("ParseLocalNets(%q) = %v, %v; want ErrBadLocalNet", c.in, l, err)
			continue
		}
		if !strings.Contains(err.Error(), c.mention) {
			t.Errorf("ParseLocalNets(%q): error %q does not mention %q", c.in, err, c.mention)
		}
	}
}

// TestDirection covers the three sources of in/out, in order: the packet's
// own direction, the local networks, the client's view.
func TestDirection(t *testing.T) {
	const syn = tcpSYN
	c2s := tcp4("10.0.0.1", "192.0.2.1", 40000, 443, syn) // client 10.0.0.1
	s2c := tcp4("192.0.2.1", "10.0.0.1", 443, 40000, tcpACK)
	cases := []struct {
		name  string
		local string
		pkts  []Packet
		want  string
	}{
		{"client's view", "", []Packet{c2s, s2c, s2c}, "10.0.0.1 192.0.2.1 443 6 in=2/200 out=1/100"},
		{"sll outgoing/incoming", "", []Packet{
			withDir(c2s, capture.DirInbound), // e.g. a router interface seeing the client pass by
			withDir(s2c, capture.DirOutbound),
			withDir(s2c, capture.DirOutbound),
		}, "10.0.0.1 192.0.2.1 443 6 in=1/100 out=2/200"},
		{"packet direction beats local nets", "192.0.2.0/24", []Packet{
			withDir(c2s, capture.DirOutbound), withDir(s2c, capture.DirInbound),
		}, "10.0.0.1 192.0.2.1 443 6 in=1/100 out=1/100"},
		{"local server", "192.0.2.0/24", []Packet{c2s, s2c, s2c}, "10.0.0.1 192.0.2.1 443 6 in=1/100 out=2/200"},
		{"local client", "10.0.0.0/8", []Packet{c2s, s2c, s2c}, "10.0.0.1 192.0.2.1 443 6 in=2/200 out=1/100"},
		{"both local: client's view", "10.0.0.0/8,192.0.2.0/24", []Packet{c2s, s2c, s2c}, "10.0.0.1 192.0.2.1 443 6 in=2/200 out=1/100"},
		{"neither local: client's view", "172.16.0.0/12,2001:db8::/32", []Packet{c2s, s2c, s2c}, "10.0.0.1 192.0.2.1 443 6 in=2/200 out=1/100"},
		{"ipv6 local server", "2001:db8:1::/48", []Packet{
			tcp6("2001:db8::1", "2001:db8:1::1", 40000, 22, syn),
			tcp6("2001:db8:1::1", "2001:db8::1", 22, 40000, tcpACK),
		}, "2001:db8::1 2001:db8:1::1 22 6 in=1/100 out=1/100"},
		{"ipv6 local nets do not match ipv4", "::/0", []Packet{c2s, s2c, s2c}, "10.0.0.1 192.0.2.1 443 6 in=2/200 out=1/100"},
		{"bytes are Packet.Len", "", []Packet{withLen(c2s, 1514), withLen(s2c, 60)}, "10.0.0.1 192.0.2.1 443 6 in=1/60 out=1/1514"},
	}
	for _, c := range cases {
		var in []tp
		for _, p := range c.pkts {
			in = append(in, tp{sec: 0, p: p})
		}
		checkRows(t, c.name, aggregate(t, c.local, in...), rows(c.want))
	}
}

func TestLocalNetsNoAllocs(t *testing.T) {
	l, err := ParseLocalNets("10.0.0.0/8,192.168.0.0/16,2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	a4 := netip.MustParseAddr("192.168.3.4").As16()
	a6 := netip.MustParseAddr("2001:db8::77").As16()
	allocs := testing.AllocsPerRun(1000, func() {
		if !l.Contains(a4) || !l.Contains(a6) {
			t.Fatal("not local")
		}
	})
	if allocs != 0 {
		t.Errorf("LocalNets.Contains: %v allocs, want 0", allocs)
	}
}
