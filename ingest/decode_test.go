package ingest

import (
	"net/netip"
	"testing"

	"github.com/flowsql/flowsql/capture"
	pb "github.com/flowsql/flowsql/internal/pktbuild"
)

// Addresses used by the decoder tests.
var (
	decA4 = netip.MustParseAddr("192.0.2.1")
	decB4 = netip.MustParseAddr("198.51.100.7")
	decA6 = netip.MustParseAddr("2001:db8::1")
	decB6 = netip.MustParseAddr("2001:db8:ffff::2")
)

// decIPv4 and decIPv6 are IP layers between the test addresses.
var (
	decIPv4 = pb.IPv4{Src: decA4, Dst: decB4}
	decIPv6 = pb.IPv6{Src: decA6, Dst: decB6}
)

// decWant is the Packet expected from a frame between src and dst.
func decWant(src, dst netip.Addr, proto uint8) Packet {
	return Packet{Src: src.As16(), Dst: dst.As16(), Proto: proto, IPv4: src.Is4()}
}

// ports, tcp, icmp fill in the transport part of an expected Packet.
func (p Packet) ports(s, d uint16) Packet {
	p.SrcPort, p.DstPort, p.HasTransport = s, d, true
	return p
}

func (p Packet) tcp(s, d uint16, flags uint8) Packet {
	p = p.ports(s, d)
	p.TCPFlags = flags
	return p
}

func (p Packet) icmp(typ uint8) Packet {
	p.ICMPType, p.HasTransport = typ, true
	return p
}

func (p Packet) dir(d capture.Direction) Packet {
	p.Dir = d
	return p
}

// decCase is one frame and what Decode must make of it. Len is expected
// to be len(frame) unless info says otherwise.
type decCase struct {
	name  string
	link  capture.LinkType
	frame []byte
	info  capture.PacketInfo // Link and OrigLen are filled in when zero
	res   Result
	want  Packet // checked for ResultIP; Len and Dir filled in as expected
}

func (c *decCase) packetInfo() capture.PacketInfo {
	info := c.info
	info.Link = c.link
	if info.OrigLen == 0 {
		info.OrigLen = uint32(len(c.frame))
	}
	info.CapLen = uint32(len(c.frame))
	return info
}

func runDecCases(t *testing.T, cases []decCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info := c.packetInfo()
			d := NewDecoder(DecoderOptions{})
			p := Packet{SrcPort: 99, Proto: 99, Len: 1} // must be overwritten
			res := d.Decode(c.frame, info, &p)
			if res != c.res {
				t.Fatalf("Decode(% x) = %v, want %v (packet %+v)", c.frame, res, c.res, p)
			}
			wantLen := info.OrigLen
			if p.Len != wantLen {
				t.Errorf("Len = %d, want %d", p.Len, wantLen)
			}
			if res != ResultIP {
				return
			}
			want := c.want
			want.Len = wantLen
			if want.Dir == capture.DirUnknown {
				want.Dir = info.Dir
			}
			if p != want {
				t.Errorf("packet\n got %+v\nwant %+v", p, want)
			}
		})
	}
}

func TestDecodeLinkTypes(t *testing.T) {
	tcp := pb.TCP{SrcPort: 40000, DstPort: 443, Flags: pb.SYN}
	udp := pb.UDP{SrcPort: 5353, DstPort: 53}
	w4 := decWant(decA4, decB4, 6).tcp(40000, 443, pb.SYN)
	w6 := decWant(decA6, decB6, 17).ports(5353, 53)
	in, out := capture.DirInbound, capture.DirOutbound
	cases := []decCase{
		{name: "ethernet/ipv4/tcp", link: capture.LinkEthernet, res: ResultIP, want: w4,
			frame: pb.MustBuild(pb.Ethernet{}, decIPv4, tcp, pb.Payload("GET /"))},
		{name: "ethernet/ipv6/udp", link: capture.LinkEthernet, res: ResultIP, want: w6,
			frame: pb.MustBuild(pb.Ethernet{}, decIPv6, udp, pb.Payload("q"))},
		{name: "ethernet keeps source dir", link: capture.LinkEthernet, res: ResultIP, want: w4.dir(out),
			info:  capture.PacketInfo{Dir: out},
			frame: pb.MustBuild(pb.Ethernet{}, decIPv4, tcp)},
		{name: "sll/outgoing", link: capture.LinkSLL, res: ResultIP, want: w4.dir(out),
			frame: pb.MustBuild(pb.SLL{PacketType: pb.SLLOutgoing}, decIPv4, tcp)},
		{name: "sll/host overrides source dir", link: capture.LinkSLL, res: ResultIP, want: w4.dir(in),
			info:  capture.PacketInfo{Dir: out},
			frame: pb.MustBuild(pb.SLL{PacketType: pb.SLLHost}, decIPv4, tcp)},
		{name: "sll/otherhost", link: capture.LinkSLL, res: ResultIP, want: w6.dir(in),
			frame: pb.MustBuild(pb.SLL{PacketType: pb.SLLOtherHost}, decIPv6, udp)},
		{name: "sll/loopback type keeps source dir", link: capture.LinkSLL, res: ResultIP, want: w4.dir(out),
			info:  capture.PacketInfo{Dir: out},
			frame: pb.MustBuild(pb.SLL{PacketType: 5}, decIPv4, tcp)},
		{name: "sll/vlan", link: capture.LinkSLL, res: ResultIP, want: w4.dir(in),
			frame: pb.MustBuild(pb.SLL{}, pb.VLAN{ID: 3}, decIPv4, tcp)},
		{name: "sll/arp", link: capture.LinkSLL, res: ResultNonIP,
			frame: pb.MustBuild(pb.SLL{}, pb.ARP{})},
		{name: "sll/llc pseudo protocol", link: capture.LinkSLL, res: ResultNonIP,
			frame: pb.MustBuild(pb.SLL{Proto: 0x0004}, pb.Payload{0x42, 0x42, 0x03})},
		{name: "sll/short", link: capture.LinkSLL, res: ResultParseError,
			frame: pb.MustBuild(pb.SLL{}, decIPv4, tcp)[:15]},
		{name: "sll2/outgoing", link: capture.LinkSLL2, res: ResultIP, want: w6.dir(out),
			frame: pb.MustBuild(pb.SLL2{PacketType: uint8(pb.SLLOutgoing), IfIndex: 2}, decIPv6, udp)},
		{name: "sll2/broadcast", link: capture.LinkSLL2, res: ResultIP, want: w4.dir(in),
			frame: pb.MustBuild(pb.SLL2{PacketType: uint8(pb.SLLBroadcast)}, decIPv4, tcp)},
		{name: "sll2/short", link: capture.LinkSLL2, res: ResultParseError,
			frame: pb.MustBuild(pb.SLL2{}, decIPv4, tcp)[:19]},
		{name: "null/le/ipv4", link: capture.LinkNull, res: ResultIP, want: w4,
			frame: pb.MustBuild(pb.Null{}, decIPv4, tcp)},
		{name: "null/be/ipv4", link: capture.LinkNull, res: ResultIP, want: w4,
			frame: pb.MustBuild(pb.Null{BigEndian: true}, decIPv4, tcp)},
		{name: "null/24/ipv6", link: capture.LinkNull, res: ResultIP, want: w6,
			frame: pb.MustBuild(pb.Null{Family: 24}, decIPv6, udp)},
		{name: "null/28/ipv6/be", link: capture.LinkNull, res: ResultIP, want: w6,
			frame: pb.MustBuild(pb.Null{Family: 28, BigEndian: true}, decIPv6, udp)},
		{name: "null/30/ipv6", link: capture.LinkNull, res: ResultIP, want: w6,
			frame: pb.MustBuild(pb.Null{Family: 30}, decIPv6, udp)},
		{name: "null/unknown family", link: capture.LinkNull, res: ResultNonIP,
			frame: pb.MustBuild(pb.Null{Family: 7}, decIPv4, tcp)},
		{name: "null/ethertype-like family", link: capture.LinkNull, res: ResultNonIP,
			frame: append([]byte{0x0f, 0x00, 0x08, 0x00}, pb.MustBuild(decIPv4, udp)...)},
		{name: "null/short", link: capture.LinkNull, res: ResultParseError, frame: []byte{2, 0, 0}},
		{name: "loop/ipv4", link: capture.LinkLoop, res: ResultIP, want: w4,
			frame: pb.MustBuild(pb.Loop{}, decIPv4, tcp)},
		{name: "loop/ipv6", link: capture.LinkLoop, res: ResultIP, want: w6,
			frame: pb.MustBuild(pb.Loop{}, decIPv6, udp)},
		{name: "loop/host order is not accepted", link: capture.LinkLoop, res: ResultNonIP,
			frame: pb.MustBuild(pb.Null{}, decIPv4, tcp)},
		{name: "raw101/ipv4", link: capture.LinkRaw, res: ResultIP, want: w4,
			frame: pb.MustBuild(decIPv4, tcp)},
		{name: "raw101/ipv6", link: capture.LinkRaw, res: ResultIP, want: w6,
			frame: pb.MustBuild(decIPv6, udp)},
		{name: "raw12/ipv6", link: capture.LinkRawBSD, res: ResultIP, want: w6,
			frame: pb.MustBuild(decIPv6, udp)},
		{name: "raw/bad version", link: capture.LinkRaw, res: ResultParseError,
			frame: append([]byte{0x55}, make([]byte, 40)...)},
		{name: "raw/empty", link: capture.LinkRaw, res: ResultParseError, frame: nil},
		{name: "ipv4 link", link: capture.LinkIPv4, res: ResultIP, want: w4,
			frame: pb.MustBuild(decIPv4, tcp)},
		{name: "ipv4 link/ipv6 packet", link: capture.LinkIPv4, res: ResultParseError,
			frame: pb.MustBuild(decIPv6, udp)},
		{name: "ipv6 link", link: capture.LinkIPv6, res: ResultIP, want: w6,
			frame: pb.MustBuild(decIPv6, udp)},
		{name: "ipv6 link/ipv4 packet", link: capture.LinkIPv6, res: ResultParseError,
			frame: pb.MustBuild(decIPv4, tcp, pb.Payload(make([]byte, 40)))},
		{name: "unknown link type", link: capture.LinkType(147), res: ResultParseError,
			frame: pb.MustBuild(decIPv4, tcp)},
		{name: "vlan offloaded: Len is OrigLen, which counts the tag", link: capture.LinkEthernet, res: ResultIP, want: w4,
			info:  capture.PacketInfo{VLANOffloaded: true},
			frame: pb.MustBuild(pb.Ethernet{}, decIPv4, tcp)},
		{name: "snaplen: Len is the original length", link: capture.LinkEthernet, res: ResultIP, want: w4,
			info:  capture.PacketInfo{OrigLen: 1514},
			frame: pb.MustBuild(pb.Ethernet{}, decIPv4, tcp)},
	}
	runDecCases(t, cases)
}

func TestDecodeEncapsulations(t *testing.T) {
	tcp := pb.TCP{SrcPort: 1025, DstPort: 80, Flags: pb.ACK | pb.PSH}
	udp := pb.UDP{SrcPort: 68, DstPort: 67}
	w4 := decWant(decA4, decB4, 6).tcp(1025, 80, pb.ACK|pb.PSH)
	w6 := decWant(decA6, decB6, 17).ports(68, 67)
	eth := capture.LinkEthernet
	cases := []decCase{
		{name: "802.1q", link: eth, res: ResultIP, want: w4,
			frame: pb.MustBuild(pb.Ethernet{}, pb.VLAN{ID: 100}, decIPv4, tcp)},
		{name: "802.1ad+802.1q", link: eth, res: ResultIP, want: w6,
			frame: pb.MustBuild(pb.Ethernet{}, pb.VLAN{TPID: pb.EtherTypeQinQ, ID: 7}, pb.VLAN{ID: 100}, decIPv6, udp)},
		{name: "0x9100+802.1q", link: eth, res: ResultIP, want: w4,
			frame: pb.MustBuild(pb.Ethernet{}, pb.VLAN{TPID: pb.EtherTypeQinQOld, ID: 7}, pb.VLAN{ID: 100}, decIPv4, tcp)},
		{name: "three tags", link: eth, res: ResultIP, want: w4,
			frame: pb.MustBuild(pb.Ethernet{}, pb.VLAN{TPID: pb.EtherTypeQinQ}, pb.VLAN{ID: 1}, pb.VLAN{ID: 2}, decIPv4, tcp)},
		{name: "vlan cut", link: eth, res: ResultParseError,
			frame: pb.MustBuild(pb.Ethernet{}, pb.VLAN{ID: 100}, decIPv4, tcp)[:16]},
		{name: "vlan/arp", link: eth, res: ResultNonIP,
			frame: pb.MustBuild(pb.Ethernet{}, pb.VLAN{TPID: pb.EtherTypeQinQ}, pb.VLAN{}, pb.ARP{})},
		{name: "pppoe/ipv4", link: eth, res: ResultIP, want: w4,
			frame: pb.MustBuild(pb.Ethernet{}, pb.PPPoE{SessionID: 9}, decIPv4, tcp)},
		{name: "pppoe/ipv6", link: eth, res: ResultIP, want: w6,
			frame: pb.MustBuild(pb.Ethernet{}, pb.PPPoE{SessionID: 9}, decIPv6, udp)},
		{name: "qinq/pppoe/ipv4", link: eth, res: ResultIP, want: w4,
			frame: pb.MustBuild(pb.Ethernet{}, pb.VLAN{TPID: pb.EtherTypeQinQ}, pb.VLAN{ID: 2}, pb.PPPoE{}, decIPv4, tcp)},
		{name: "pppoe/lcp", link: eth, res: ResultNonIP,
			frame: pb.MustBuild(pb.Ethernet{}, pb.PPPoE{Proto: 0xc021}, pb.Payload{1, 1, 0, 4})},
		{name: "pppoe cut", link: eth, res: ResultParseError,
			frame: pb.MustBuild(pb.Ethernet{}, pb.PPPoE{}, decIPv4, tcp)[:21]},
		{name: "mpls/ipv4", link: eth, res: ResultIP, want: w4,
			frame: pb.MustBuild(pb.Ethernet{}, pb.MPLS{Label: 16}, decIPv4, tcp)},
		{name: "mpls two labels/ipv6", link: eth, res: ResultIP, want: w6,
			frame: pb.MustBuild(pb.Ethernet{}, pb.MPLS{Label: 16}, pb.MPLS{Label: 1000}, decIPv6, udp)},
		{name: "mpls multicast", link: eth, res: ResultIP, want: w4,
			frame: pb.MustBuild(pb.Ethernet{}, pb.MPLS{Label: 16, Multicast: true}, decIPv4, tcp)},
		{name: "vlan/mpls/ipv4", link: eth, res: ResultIP, want: w4,
			frame: pb.MustBuild(pb.Ethernet{}, pb.VLAN{ID: 4}, pb.MPLS{Label: 16}, pb.MPLS{Label: 17}, pb.MPLS{Label: 18}, decIPv4, tcp)},
		{name: "mpls/ethernet pseudowire", link: eth, res: ResultNonIP,
			frame: pb.MustBuild(pb.Ethernet{}, pb.MPLS{Label: 16}, pb.Payload{0, 0, 0, 0}, pb.Ethernet{}, decIPv4, tcp)},
		{name: "mpls stack cut", link: eth, res: ResultParseError,
			frame: pb.MustBuild(pb.Ethernet{}, pb.MPLS{Label: 16}, pb.MPLS{Label: 17}, decIPv4, tcp)[:20]},
		{name: "mpls nothing after bottom", link: eth, res: ResultParseError,
			frame: pb.MustBuild(pb.Ethernet{Type: pb.EtherTypeMPLS}, pb.MPLS{Label: 16})},
		{name: "arp", link: eth, res: ResultNonIP,
			frame: pb.MustBuild(pb.Ethernet{}, pb.ARP{SenderIP: decA4, TargetIP: decB4})},
		{name: "lldp", link: eth, res: ResultNonIP,
			frame: pb.MustBuild(pb.Ethernet{Type: pb.EtherTypeLLDP}, pb.Payload(make([]byte, 40)))},
		{name: "802.3 llc", link: eth, res: ResultNonIP,
			frame: pb.MustBuild(pb.Ethernet{Type: 38}, pb.Payload{0x42, 0x42, 0x03, 0, 0, 0})},
		{name: "ethernet short", link: eth, res: ResultParseError, frame: make([]byte, 13)},
		{name: "ethernet only", link: eth, res: ResultParseError,
			frame: pb.MustBuild(pb.Ethernet{Type: pb.EtherTypeIPv4})},
	}
	runDecCases(t, cases)
}

func TestDecodeIPv4Header(t *testing.T) {
	udp := pb.UDP{SrcPort: 1000, DstPort: 2000}
	w := decWant(decA4, decB4, 17).ports(1000, 2000)
	eth := capture.LinkEthernet
	patch := func(b []byte, off int, v ...byte) []byte { copy(b[off:], v); return b }
	cases := []decCase{
		{name: "options", link: eth, res: ResultIP, want: w,
			frame: pb.MustBuild(pb.Ethernet{}, pb.IPv4{Src: decA4, Dst: decB4, Options: []byte{0x94, 4, 0, 0, 1}}, udp)},
		{name: "ihl 4", link: eth, res: ResultParseError,
			frame: pb.MustBuild(pb.Ethernet{}, pb.IPv4{Src: decA4, Dst: decB4, IHL: 4}, udp)},
		{name: "ihl 15 beyond capture", link: eth, res: ResultParseError,
			frame: pb.MustBuild(pb.Ethernet{}, pb.IPv4{Src: decA4, Dst: decB4, IHL: 15}, udp)},
		{name: "header cut", link: eth, res: ResultParseError,
			frame: pb.MustBuild(pb.Ethernet{}, decIPv4, udp)[:14+19]},
		{name: "version 6 under ethertype ipv4", link: eth, res: ResultParseError,
			frame: patch(pb.MustBuild(pb.Ethernet{}, decIPv4, udp), 14, 0x65)},
		{name: "total length below header", link: eth, res: ResultParseError,
			frame: pb.MustBuild(pb.Ethernet{}, pb.IPv4{Src: decA4, Dst: decB4, TotalLength: 19}, udp)},
		{name: "total length 0 (tso)", link: eth, res: ResultIP, want: w,
			frame: patch(pb.MustBuild(pb.Ethernet{}, decIPv4, udp), 16, 0, 0)},
		{name: "padding is not transport", link: eth, res: ResultIP, want: decWant(decA4, decB4, 6),
			frame: pb.MustBuild(pb.Ethernet{}, pb.IPv4{Src: decA4, Dst: decB4, Proto: 6, TotalLength: 20}, pb.Payload(make([]byte, 26)))},
		{name: "total length beyond capture", link: eth, res: ResultIP, want: w,
			frame: pb.MustBuild(pb.Ethernet{}, pb.IPv4{Src: decA4, Dst: decB4, TotalLength: 1500}, udp)},
		{name: "ah", link: eth, res: ResultIP, want: decWant(decA4, decB4, 51),
			frame: pb.MustBuild(pb.Ethernet{}, decIPv4, pb.AH{SPI: 1}, udp)},
		{name: "esp", link: eth, res: ResultIP, want: decWant(decA4, decB4, 50),
			frame: pb.MustBuild(pb.Ethernet{}, decIPv4, pb.ESP{SPI: 1}, pb.Payload(make([]byte, 32)))},
		{name: "ip-in-ip keeps outer", link: eth, res: ResultIP, want: decWant(decA4, decB4, 4),
			frame: pb.MustBuild(pb.Ethernet{}, decIPv4, pb.IPv4{Src: decB4, Dst: decA4}, udp)},
		{name: "6in4 keeps outer", link: eth, res: ResultIP, want: decWant(decA4, decB4, 41),
			frame: pb.MustBuild(pb.Ethernet{}, decIPv4, decIPv6, udp)},
		{name: "gre has no ports", link: eth, res: ResultIP, want: decWant(decA4, decB4, 47),
			frame: pb.MustBuild(pb.Ethernet{}, pb.IPv4{Src: decA4, Dst: decB4, Proto: pb.ProtoGRE}, pb.Payload{0, 0, 8, 0, 1, 2, 3, 4})},
		{name: "sctp has no ports", link: eth, res: ResultIP, want: decWant(decA4, decB4, 132),
			frame: pb.MustBuild(pb.Ethernet{}, pb.IPv4{Src: decA4, Dst: decB4, Proto: pb.ProtoSCTP}, pb.Payload(make([]byte, 16)))},
	}
	runDecCases(t, cases)
}

func TestDecodeIPv6Chain(t *testing.T) {
	udp := pb.UDP{SrcPort: 546, DstPort: 547}
	tcp := pb.TCP{SrcPort: 50000, DstPort: 25, Flags: pb.SYN | pb.ACK}
	wu := decWant(decA6, decB6, 17).ports(546, 547)
	wt := decWant(decA6, decB6, 6).tcp(50000, 25, pb.SYN|pb.ACK)
	hbh := pb.IPv6Ext{Type: pb.ProtoHopByHop, Data: []byte{5, 2, 0, 0}} // router alert
	rt := pb.IPv6Ext{Type: pb.ProtoRouting, Data: append([]byte{2, 1, 0, 0, 0, 0}, decA6.AsSlice()...)}
	dst := pb.IPv6Ext{Type: pb.ProtoDstOpts, Data: make([]byte, 14)}
	eth := capture.LinkEthernet
	build := func(l ...pb.Layer) []byte { return pb.MustBuild(append([]pb.Layer{pb.Ethernet{}, decIPv6}, l...)...) }
	cases := []decCase{
		{name: "hop-by-hop", link: eth, res: ResultIP, want: wu, frame: build(hbh, udp)},
		{name: "routing", link: eth, res: ResultIP, want: wt, frame: build(rt, tcp)},
		{name: "destination options/icmpv6", link: eth, res: ResultIP,
			want:  decWant(decA6, decB6, 58).icmp(pb.ICMPv6EchoRequest),
			frame: build(dst, pb.ICMPv6{Type: pb.ICMPv6EchoRequest, ID: 1})},
		{name: "hbh+routing+dstopts+tcp", link: eth, res: ResultIP, want: wt, frame: build(hbh, rt, dst, tcp)},
		{name: "long dstopts", link: eth, res: ResultIP, want: wu,
			frame: build(pb.IPv6Ext{Type: pb.ProtoDstOpts, Data: make([]byte, 300)}, udp)},
		{name: "ah ends the walk", link: eth, res: ResultIP, want: decWant(decA6, decB6, 51), frame: build(hbh, pb.AH{}, tcp)},
		{name: "esp ends the walk", link: eth, res: ResultIP, want: decWant(decA6, decB6, 50),
			frame: build(pb.ESP{SPI: 7}, pb.Payload(make([]byte, 24)))},
		{name: "mobility ends the walk", link: eth, res: ResultIP, want: decWant(decA6, decB6, 135),
			frame: build(dst, pb.IPv6Ext{Type: pb.ProtoMobility, Data: []byte{5, 0, 0, 0}})},
		{name: "no next header", link: eth, res: ResultIP, want: decWant(decA6, decB6, 59), frame: build()},
		{name: "ipv6-in-ipv6 keeps outer", link: eth, res: ResultIP, want: decWant(decA6, decB6, 41),
			frame: build(rt, pb.IPv6{Src: decB6, Dst: decA6}, udp)},
		{name: "chain cut before hbh", link: eth, res: ResultIP, want: decWant(decA6, decB6, 0),
			frame: build(hbh, udp)[:14+40]},
		{name: "chain cut after hbh next header byte", link: eth, res: ResultIP, want: decWant(decA6, decB6, 43),
			frame: build(hbh, rt, udp)[:14+41]},
		{name: "chain cut inside hbh", link: eth, res: ResultIP, want: decWant(decA6, decB6, 43),
			frame: build(hbh, rt, udp)[:14+45]},
		{name: "chain cut inside routing", link: eth, res: ResultIP, want: decWant(decA6, decB6, 17),
			frame: build(hbh, rt, udp)[:14+40+8+10]},
		{name: "chain cut by payload length", link: eth, res: ResultIP, want: decWant(decA6, decB6, 17),
			frame: pb.MustBuild(pb.Ethernet{}, pb.IPv6{Src: decA6, Dst: decB6, PayloadLength: 12}, rt, udp)},
		{name: "payload length 0 reads to the end", link: eth, res: ResultIP, want: wu,
			frame: func() []byte { b := build(hbh, udp); b[14+4], b[14+5] = 0, 0; return b }()},
		{name: "transport cut by payload length", link: eth, res: ResultIP, want: decWant(decA6, decB6, 6),
			frame: pb.MustBuild(pb.Ethernet{}, pb.IPv6{Src: decA6, Dst: decB6, PayloadLength: 13}, tcp)},
		{name: "39 bytes", link: eth, res: ResultParseError, frame: build(udp)[:14+39]},
		{name: "version 4 under ethertype ipv6", link: eth, res: ResultParseError,
			frame: func() []byte { b := build(udp); b[14] = 0x40; return b }()},
		{name: "ipv4-mapped addresses", link: eth, res: ResultIP,
			want:  Packet{Src: netip.MustParseAddr("::ffff:10.0.0.1").As16(), Dst: decB6.As16(), Proto: 17}.ports(546, 547),
			frame: pb.MustBuild(pb.Ethernet{}, pb.IPv6{Src: netip.MustParseAddr("::ffff:10.0.0.1"), Dst: decB6}, udp)},
	}
	runDecCases(t, cases)
}

func TestDecodeTransport(t *testing.T) {
	eth := capture.LinkEthernet
	tcp := pb.MustBuild(pb.Ethernet{}, decIPv4, pb.TCP{SrcPort: 1, DstPort: 2, Flags: pb.FIN | pb.ACK})
	udp := pb.MustBuild(pb.Ethernet{}, decIPv6, pb.UDP{SrcPort: 3, DstPort: 4})
	icmp := pb.MustBuild(pb.Ethernet{}, decIPv4, pb.ICMP{Type: pb.ICMPEchoRequest, ID: 9})
	w := decWant(decA4, decB4, 6)
	cases := []decCase{
		{name: "tcp full", link: eth, res: ResultIP, want: w.tcp(1, 2, pb.FIN|pb.ACK), frame: tcp},
		{name: "tcp 14 bytes", link: eth, res: ResultIP, want: w.tcp(1, 2, pb.FIN|pb.ACK), frame: tcp[:14+20+14]},
		{name: "tcp 13 bytes", link: eth, res: ResultIP, want: w, frame: tcp[:14+20+13]},
		{name: "tcp 0 bytes", link: eth, res: ResultIP, want: w, frame: tcp[:14+20]},
		{name: "udp 4 bytes", link: eth, res: ResultIP, want: decWant(decA6, decB6, 17).ports(3, 4), frame: udp[:14+40+4]},
		{name: "udp 3 bytes", link: eth, res: ResultIP, want: decWant(decA6, decB6, 17), frame: udp[:14+40+3]},
		{name: "icmp echo", link: eth, res: ResultIP, want: decWant(decA4, decB4, 1).icmp(8), frame: icmp},
		{name: "icmp cut", link: eth, res: ResultIP, want: decWant(decA4, decB4, 1), frame: icmp[:14+20]},
		{name: "icmpv6 reply", link: eth, res: ResultIP, want: decWant(decA6, decB6, 58).icmp(129),
			frame: pb.MustBuild(pb.Ethernet{}, decIPv6, pb.ICMPv6{Type: pb.ICMPv6EchoReply})},
	}
	runDecCases(t, cases)
}

// TestDecodeOverwrites checks that a reused Packet keeps nothing from the
// previous frame.
func TestDecodeOverwrites(t *testing.T) {
	d := NewDecoder(DecoderOptions{})
	a := pb.MustBuild(pb.SLL{PacketType: pb.SLLOutgoing}, decIPv4, pb.TCP{SrcPort: 1, DstPort: 2, Flags: pb.SYN})
	b := pb.MustBuild(decIPv6, pb.ICMPv6{Type: 128})
	var p Packet
	d.Decode(a, capture.PacketInfo{Link: capture.LinkSLL, OrigLen: 100, VLANOffloaded: true}, &p)
	if res := d.Decode(b, capture.PacketInfo{Link: capture.LinkRaw, OrigLen: uint32(len(b))}, &p); res != ResultIP {
		t.Fatalf("Decode = %v", res)
	}
	want := decWant(decA6, decB6, 58).icmp(128)
	want.Len = uint32(len(b))
	if p != want {
		t.Errorf("got %+v\nwant %+v", p, want)
	}
	if res := d.Decode([]byte{1}, capture.PacketInfo{Link: capture.LinkEthernet, OrigLen: 60}, &p); res != ResultParseError || p != (Packet{Len: 60}) {
		t.Errorf("short frame: %v %+v", res, p)
	}
}

// TestDecodeZeroDecoder checks that the zero Decoder works (without a
// fragment table).
func TestDecodeZeroDecoder(t *testing.T) {
	var d Decoder
	var p Packet
	frames, err := pb.Datagram{Link: []pb.Layer{pb.Ethernet{}}, IP: decIPv4, ID: 5,
		Upper: []pb.Layer{pb.UDP{SrcPort: 7, DstPort: 8}, pb.Payload(make([]byte, 64))}}.Fragments(32)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		if res := d.Decode(f, capture.PacketInfo{Link: capture.LinkEthernet, OrigLen: uint32(len(f))}, &p); res != ResultIP {
			t.Fatalf("fragment %d: %v", i, res)
		}
		wantS, wantD := uint16(0), uint16(0) // no table: later fragments get port 0
		if i == 0 {
			wantS, wantD = 7, 8
		}
		if p.SrcPort != wantS || p.DstPort != wantD {
			t.Errorf("fragment %d: ports %d/%d, want %d/%d", i, p.SrcPort, p.DstPort, wantS, wantD)
		}
	}
}

// TestNoAllocs checks that Decode allocates nothing, on every kind of
// frame including fragments that hit the fragment table.
func TestNoAllocs(t *testing.T) {
	frames := decBenchFrames(t)
	d := NewDecoder(DecoderOptions{})
	var p Packet
	for _, f := range frames {
		allocs := testing.AllocsPerRun(1000, func() {
			d.Decode(f.data, f.info, &p)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per Decode, want 0", f.name, allocs)
		}
	}
}
