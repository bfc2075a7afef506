package ingest

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
)

func ipPacket(src, dst string, proto uint8, sport, dport uint16) Packet {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	return Packet{Src: s.As16(), Dst: d.As16(), IPv4: s.Is4(), Proto: proto,
		SrcPort: sport, DstPort: dport, HasTransport: true, Len: 100}
}

func tcp4(src, dst string, sport, dport uint16, flags uint8) Packet {
	p := ipPacket(src, dst, protoTCP, sport, dport)
	p.TCPFlags = flags
	return p
}

func tcp6(src, dst string, sport, dport uint16, flags uint8) Packet {
	return tcp4(src, dst, sport, dport, flags)
}

func udp4(src, dst string, sport, dport uint16) Packet {
	return ipPacket(src, dst, protoUDP, sport, dport)
}
func udp6(src, dst string, sport, dport uint16) Packet {
	return ipPacket(src, dst, protoUDP, sport, dport)
}

func icmpPacket(src, dst string, typ uint8) Packet {
	proto := uint8(protoICMP)
	if !netip.MustParseAddr(src).Is4() {
		proto = protoICMPv6
	}
	p := ipPacket(src, dst, proto, 0, 0)
	p.ICMPType = typ
	return p
}

func withDir(p Packet, d capture.Direction) Packet { p.Dir = d; return p }
func withLen(p Packet, n uint32) Packet            { p.Len = n; return p }

// tp is a packet at a time (seconds).
type tp struct {
	sec int64
	p   Packet
}

// aggregate runs packets through an Aggregator with a 60 s interval and
// returns the blocks written.
func aggregate(t *testing.T, local string, pkts ...tp) []*columnar.Block {
	t.Helper()
	ln, err := ParseLocalNets(local)
	if err != nil {
		t.Fatal(err)
	}
	sink := &blockSink{}
	a, err := NewAggregator(context.Background(), "eth0", sink, Options{Interval: time.Minute, Local: ln})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		if err := a.Add(pkts[i].sec*1e9, &pkts[i].p); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	return sink.got()
}

// rowsOf renders a block's rows as "sip dip dport proto in=P/B out=P/B".
func rowsOf(b *columnar.Block) []string {
	var r []string
	for _, x := range sortedRows(b) {
		r = append(r, fmt.Sprintf("%v %v %d %d in=%d/%d out=%d/%d", modelAddr(x.sip), modelAddr(x.dip), x.dport, x.proto,
			x.pktsIn, x.bytesIn, x.pktsOut, x.bytesOut))
	}
	return r
}

func checkRows(t *testing.T, name string, blocks []*columnar.Block, want ...[]string) {
	t.Helper()
	if len(blocks) != len(want) {
		t.Errorf("%s: %d blocks, want %d", name, len(blocks), len(want))
		return
	}
	for i, b := range blocks {
		got := rowsOf(b)
		if fmt.Sprint(got) != fmt.Sprint(want[i]) {
			t.Errorf("%s: block %d rows\n got  %q\n want %q", name, i, got, want[i])
		}
	}
}

func rows(r ...string) []string { return r }

func TestOrientation(t *testing.T) {
	const (
		syn    = tcpSYN
		synack = tcpSYN | tcpACK
		ack    = tcpACK
	)
	cases := []struct {
		name string
		pkts []Packet
		want []string
	}{
		{"tcp handshake", []Packet{
			tcp4("192.0.2.1", "198.51.100.2", 443, 80, syn), // odd ports: the SYN decides
			tcp4("198.51.100.2", "192.0.2.1", 80, 443, synack),
			tcp4("192.0.2.1", "198.51.100.2", 443, 80, ack),
		}, rows("192.0.2.1 198.51.100.2 80 6 in=1/100 out=2/200")},
		{"syn-ack seen first", []Packet{
			tcp4("198.51.100.2", "192.0.2.1", 8080, 50000, synack),
			tcp4("192.0.2.1", "198.51.100.2", 50000, 8080, ack),
		}, rows("192.0.2.1 198.51.100.2 8080 6 in=1/100 out=1/100")},
		{"syn-ack first against the port rule", []Packet{
			tcp4("198.51.100.2", "192.0.2.1", 40000, 22, synack), // server on an ephemeral port
			tcp4("192.0.2.1", "198.51.100.2", 22, 40000, ack),
		}, rows("192.0.2.1 198.51.100.2 40000 6 in=1/100 out=1/100")},
		{"tcp ipv6 syn", []Packet{
			tcp6("2001:db8::9", "2001:db8::1", 22, 2222, syn),
		}, rows("2001:db8::9 2001:db8::1 2222 6 in=0/0 out=1/100")},
		{"icmp echo", []Packet{
			icmpPacket("192.0.2.1", "198.51.100.2", 8),
			icmpPacket("198.51.100.2", "192.0.2.1", 0),
		}, rows("192.0.2.1 198.51.100.2 0 1 in=1/100 out=1/100")},
		{"icmp echo reply first", []Packet{
			icmpPacket("198.51.100.2", "192.0.2.1", 0),
		}, rows("192.0.2.1 198.51.100.2 0 1 in=1/100 out=0/0")},
		{"icmp errors come from the server side", []Packet{
			icmpPacket("203.0.113.1", "192.0.2.1", 11), // time exceeded from a router
			icmpPacket("203.0.113.2", "192.0.2.1", 3),  // unreachable
		}, rows("192.0.2.1 203.0.113.1 0 1 in=1/100 out=0/0", "192.0.2.1 203.0.113.2 0 1 in=1/100 out=0/0")},
		{"icmpv6 echo and errors", []Packet{
			icmpPacket("2001:db8::1", "2001:db8::2", 128),
			icmpPacket("2001:db8::2", "2001:db8::1", 129),
			icmpPacket("2001:db8::fe", "2001:db8::1", 1),
			icmpPacket("2001:db8::fd", "2001:db8::1", 3),
		}, rows("2001:db8::1 2001:db8::2 0 58 in=1/100 out=1/100",
			"2001:db8::1 2001:db8::fd 0 58 in=1/100 out=0/0",
			"2001:db8::1 2001:db8::fe 0 58 in=1/100 out=0/0")},
		{"multicast and broadcast destinations", []Packet{
			udp4("192.0.2.1", "224.0.0.251", 5353, 5353),
			udp4("192.0.2.5", "255.255.255.255", 67, 68), // lower port would say the sender is a server
			udp6("2001:db8::1", "ff02::fb", 5353, 5353),
			udp4("192.0.2.6", "239.1.1.1", 40000, 1000),
		}, rows("192.0.2.1 224.0.0.251 5353 17 in=0/0 out=1/100",
			"192.0.2.5 255.255.255.255 68 17 in=0/0 out=1/100",
			"192.0.2.6 239.1.1.1 1000 17 in=0/0 out=1/100",
			"2001:db8::1 ff02::fb 5353 17 in=0/0 out=1/100")},
		{"ephemeral source port is the client's", []Packet{
			udp4("192.0.2.1", "198.51.100.2", 40000, 53),
		}, rows("192.0.2.1 198.51.100.2 53 17 in=0/0 out=1/100")},
		{"ephemeral destination port: sender is the server", []Packet{
			udp4("198.51.100.2", "192.0.2.1", 53, 40000),
		}, rows("192.0.2.1 198.51.100.2 53 17 in=1/100 out=0/0")},
		{"both ephemeral: lower port is the server's", []Packet{
			udp4("198.51.100.2", "192.0.2.1", 33000, 60000),
		}, rows("192.0.2.1 198.51.100.2 33000 17 in=1/100 out=0/0")},
		{"both low: lower port is the server's", []Packet{
			tcp4("192.0.2.1", "198.51.100.2", 1022, 22, ack),
			tcp4("198.51.100.2", "192.0.2.1", 22, 1022, ack),
		}, rows("192.0.2.1 198.51.100.2 22 6 in=1/100 out=1/100")},
		{"equal ports: sender is the client", []Packet{
			udp4("198.51.100.2", "192.0.2.1", 123, 123),
			udp4("192.0.2.1", "198.51.100.2", 123, 123),
		}, rows("198.51.100.2 192.0.2.1 123 17 in=1/100 out=1/100")},
		{"portless protocols: first sender is the client", []Packet{
			ipPacket("198.51.100.2", "192.0.2.1", 47, 0, 0), // GRE
			ipPacket("192.0.2.1", "198.51.100.2", 47, 0, 0),
			ipPacket("2001:db8::2", "2001:db8::1", 50, 0, 0), // ESP
		}, rows("198.51.100.2 192.0.2.1 0 47 in=1/100 out=1/100", "2001:db8::2 2001:db8::1 0 50 in=0/0 out=1/100")},
		{"existing flow beats a later SYN", []Packet{
			tcp4("192.0.2.1", "198.51.100.2", 40000, 80, ack),
			tcp4("198.51.100.2", "192.0.2.1", 80, 40000, syn),
		}, rows("192.0.2.1 198.51.100.2 80 6 in=1/100 out=1/100")},
		{"truncated tcp: flags unknown, ports decide", []Packet{
			func() Packet { p := tcp4("198.51.100.2", "192.0.2.1", 0, 0, synack); p.HasTransport = false; return p }(),
		}, rows("198.51.100.2 192.0.2.1 0 6 in=0/0 out=1/100")},
	}
	for _, c := range cases {
		var in []tp
		for _, p := range c.pkts {
			in = append(in, tp{sec: 1000, p: p})
		}
		checkRows(t, c.name, aggregate(t, "", in...), c.want)
	}
}

// TestOrientationKeptAcrossBlocks: a flow decided in one block keeps its
// orientation in the next, even when the next block's first packet would
// decide otherwise; after a silent interval it is decided afresh.
func TestOrientationKeptAcrossBlocks(t *testing.T) {
	client := tcp4("192.0.2.1", "198.51.100.2", 33000, 40000, tcpSYN) // SYN: 192.0.2.1 is the client of port 40000
	reply := tcp4("198.51.100.2", "192.0.2.1", 40000, 33000, tcpACK)  // alone, the ports would say the opposite
	blocks := aggregate(t, "",
		tp{1000, client},
		tp{1070, reply}, // next interval [1020,1080): orientation from the previous block
		tp{1150, reply}, // [1140,1200), after the silent [1080,1140): decided afresh by ports
	)
	checkRows(t, "across blocks", blocks,
		rows("192.0.2.1 198.51.100.2 40000 6 in=0/0 out=1/100"),
		rows("192.0.2.1 198.51.100.2 40000 6 in=1/100 out=0/0"),
		rows("198.51.100.2 192.0.2.1 33000 6 in=0/0 out=1/100"))
}

func TestPortsSayClient(t *testing.T) {
	cases := []struct {
		sport, dport uint16
		want         bool
	}{
		{40000, 80, true}, {80, 40000, false}, {32768, 32767, true}, {32767, 32768, false},
		{1023, 22, true}, {22, 1023, false}, {60000, 50000, true}, {50000, 60000, false},
		{0, 0, true}, {53, 53, true}, {65535, 65535, true},
	}
	for _, c := range cases {
		if got := portsSayClient(c.sport, c.dport); got != c.want {
			t.Errorf("portsSayClient(%d, %d) = %v, want %v", c.sport, c.dport, got, c.want)
		}
	}
}
