package pktbuild

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

var (
	tA4 = netip.MustParseAddr("192.168.0.1")
	tB4 = netip.MustParseAddr("192.168.0.199")
	tA6 = netip.MustParseAddr("2001:db8::1")
	tB6 = netip.MustParseAddr("2001:db8::2")
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIPv4HeaderGolden rebuilds the classic worked example of the IPv4
// header checksum (checksum 0xb861).
func TestIPv4HeaderGolden(t *testing.T) {
	got := MustBuild(IPv4{Src: tA4, Dst: tB4, DF: true, Proto: ProtoUDP}, Payload(make([]byte, 0x73-20)))
	want := unhex(t, "4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7")
	if !bytes.Equal(got[:20], want) {
		t.Errorf("header\n got % x\nwant % x", got[:20], want)
	}
}

func TestEthernetVLANGolden(t *testing.T) {
	got := MustBuild(Ethernet{Dst: [6]byte{1, 2, 3, 4, 5, 6}}, VLAN{TPID: EtherTypeQinQ, ID: 100, PCP: 5},
		VLAN{ID: 4095, DEI: true}, ARP{SenderIP: tA4, TargetIP: tB4})
	want := unhex(t, `010203040506 020000000001 88a8
		a064 8100  1fff 0806
		0001 0800 0604 0001 000000000000 c0a80001 000000000000 c0a800c7`)
	if !bytes.Equal(got, want) {
		t.Errorf("frame\n got % x\nwant % x", got, want)
	}
}

func TestLinkHeadersGolden(t *testing.T) {
	udp := UDP{SrcPort: 1, DstPort: 2}
	cases := []struct {
		name   string
		layers []Layer
		want   string // hex of the bytes in front of the IP header
	}{
		{"sll", []Layer{SLL{PacketType: SLLOutgoing, Addr: [8]byte{1, 2, 3, 4, 5, 6}}, IPv4{}, udp},
			"0004 0001 0006 0102030405060000 0800"},
		{"sll2", []Layer{SLL2{IfIndex: 3, PacketType: 4}, IPv6{}, udp},
			"86dd 0000 00000003 0001 04 06 0000000000000000"},
		{"null le", []Layer{Null{}, IPv4{}, udp}, "02000000"},
		{"null be v6", []Layer{Null{BigEndian: true}, IPv6{}, udp}, "0000001e"},
		{"loop v6", []Layer{Loop{}, IPv6{}, udp}, "00000018"},
		{"pppoe", []Layer{Ethernet{}, PPPoE{SessionID: 0x1234}, IPv4{}, udp},
			"020000000002 020000000001 8864 1100 1234 001e 0021"}, // 2 + 20 + 8
		{"mpls", []Layer{Ethernet{}, MPLS{Label: 0xabcde, TC: 1, TTL: 9}, MPLS{Label: 1, Multicast: true}, IPv6{}, udp},
			"020000000002 020000000001 8847 abcde209 00001140"},
	}
	for _, c := range cases {
		got := MustBuild(c.layers...)
		want := unhex(t, c.want)
		if !bytes.HasPrefix(got, want) {
			t.Errorf("%s:\n got % x\nwant % x...", c.name, got, want)
		}
	}
}

// TestIPv4ParsesWithXNet cross-checks IPv4 headers with x/net/ipv4.
func TestIPv4ParsesWithXNet(t *testing.T) {
	b := MustBuild(IPv4{Src: tA4, Dst: tB4, ID: 0xbeef, MF: true, FragOffset: 3, TTL: 9, TOS: 0x10,
		Options: []byte{0x94, 0x04, 0, 0, 1}}, TCP{SrcPort: 1, DstPort: 2})
	h, err := ipv4.ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != 4 || h.Len != 28 || h.TotalLen != len(b) || h.ID != 0xbeef || h.Flags != ipv4.MoreFragments ||
		h.FragOff != 3 || h.TTL != 9 || h.TOS != 0x10 || h.Protocol != 6 ||
		!h.Src.Equal(tA4.AsSlice()) || !h.Dst.Equal(tB4.AsSlice()) || len(h.Options) != 8 {
		t.Errorf("x/net parsed %+v", h)
	}
	if fold(sum32(0, b[:28])) != 0xffff {
		t.Errorf("IPv4 header checksum does not verify")
	}
}

// TestIPv6ParsesWithXNet cross-checks the IPv6 fixed header.
func TestIPv6ParsesWithXNet(t *testing.T) {
	b := MustBuild(IPv6{Src: tA6, Dst: tB6, TrafficClass: 0xb8, FlowLabel: 0x12345, HopLimit: 3}, UDP{SrcPort: 1, DstPort: 2}, Payload("abc"))
	h, err := ipv6.ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != 6 || h.TrafficClass != 0xb8 || h.FlowLabel != 0x12345 || h.PayloadLen != 11 ||
		h.NextHeader != 17 || h.HopLimit != 3 || !h.Src.Equal(tA6.AsSlice()) || !h.Dst.Equal(tB6.AsSlice()) {
		t.Errorf("x/net parsed %+v", h)
	}
}

// verifyPseudo checks a transport checksum under the pseudo-header.
func verifyPseudo(t *testing.T, what string, v6 bool, src, dst netip.Addr, proto uint8, seg []byte) {
	t.Helper()
	var sum uint32
	if v6 {
		s, d := src.As16(), dst.As16()
		sum = sum32(sum32(0, s[:]), d[:]) + uint32(len(seg)) + uint32(proto)
	} else {
		s, d := src.As4(), dst.As4()
		sum = sum32(sum32(0, s[:]), d[:]) + uint32(len(seg)) + uint32(proto)
	}
	if got := fold(sum32(sum, seg)); got != 0xffff {
		t.Errorf("%s: checksum does not verify (sum %#x)", what, got)
	}
}

func TestTransportChecksums(t *testing.T) {
	tcp := TCP{SrcPort: 40000, DstPort: 80, Seq: 7, Flags: SYN, Options: []byte{2, 4, 5, 0xb4, 1}}
	b := MustBuild(IPv4{Src: tA4, Dst: tB4}, tcp, Payload("odd"))
	verifyPseudo(t, "tcp/ipv4", false, tA4, tB4, 6, b[20:])
	if b[20+12] != 0x70 { // 28-byte header with padded options
		t.Errorf("TCP data offset byte %#x, want 0x70", b[32])
	}
	b = MustBuild(IPv6{Src: tA6, Dst: tB6}, IPv6Ext{Type: ProtoDstOpts}, UDP{SrcPort: 5, DstPort: 6}, Payload("xyz"))
	verifyPseudo(t, "udp/ipv6 behind dstopts", true, tA6, tB6, 17, b[48:])
	b = MustBuild(IPv6{Src: tA6, Dst: tB6}, ICMPv6{Type: ICMPv6EchoRequest, ID: 1, Seq: 2}, Payload("ping"))
	verifyPseudo(t, "icmpv6", true, tA6, tB6, 58, b[40:])
	m, err := icmp.ParseMessage(58, b[40:])
	if err != nil || m.Type != ipv6.ICMPTypeEchoRequest {
		t.Errorf("x/net icmp: %v %+v", err, m)
	} else if e, ok := m.Body.(*icmp.Echo); !ok || e.ID != 1 || e.Seq != 2 || string(e.Data) != "ping" {
		t.Errorf("x/net icmp body %+v", m.Body)
	}
	b = MustBuild(IPv4{Src: tA4, Dst: tB4}, ICMP{Type: ICMPEchoRequest, ID: 3, Seq: 4}, Payload("pong!"))
	if fold(sum32(0, b[20:])) != 0xffff {
		t.Errorf("icmp checksum does not verify")
	}
	if m, err := icmp.ParseMessage(1, b[20:]); err != nil || m.Type != ipv4.ICMPTypeEcho {
		t.Errorf("x/net icmp: %v %+v", err, m)
	}
}

func TestIPv6ExtensionHeaders(t *testing.T) {
	b := MustBuild(IPv6{}, IPv6Ext{Type: ProtoHopByHop, Data: []byte{5, 2, 0, 0}}, IPv6Ext{Type: ProtoRouting, Data: make([]byte, 22)},
		IPv6Frag{Offset: 5, More: true, ID: 0xdeadbeef}, AH{}, IPv6Ext{Type: ProtoDstOpts, Data: make([]byte, 7)}, TCP{})
	want := unhex(t, `2b00 0502 0000 0100
		2c02 0000000000000000000000000000000000000000 0000
		3300 0029 deadbeef
		3c04 0000 00000000 00000000 000000000000000000000000
		0601 00000000000000 0105 0000000000`)
	if b[6] != 0 || !bytes.Equal(b[40:40+len(want)], want) {
		t.Errorf("chain\n got % x\nwant % x", b[40:40+len(want)], want)
	}
	if b := MustBuild(IPv6{}); b[6] != ProtoNoNext {
		t.Errorf("IPv6 without payload: next header %d, want 59", b[6])
	}
}

func TestFragments(t *testing.T) {
	body := make([]byte, 300)
	for i := range body {
		body[i] = byte(i)
	}
	for _, ip := range []Layer{IPv4{Src: tA4, Dst: tB4}, IPv6{Src: tA6, Dst: tB6}} {
		frames, err := Datagram{Link: []Layer{Ethernet{}}, IP: ip, ID: 0x12345,
			Unfragmentable: nil, Upper: []Layer{UDP{SrcPort: 9, DstPort: 10}, Payload(body)}}.Fragments(100)
		if err != nil {
			t.Fatal(err)
		}
		if len(frames) != 4 { // 308 bytes in 96-byte pieces
			t.Fatalf("%T: %d fragments, want 4", ip, len(frames))
		}
		var whole []byte
		for i, f := range frames {
			var off int
			var more bool
			var piece []byte
			if _, v4 := ip.(IPv4); v4 {
				h, err := ipv4.ParseHeader(f[14:])
				if err != nil {
					t.Fatal(err)
				}
				if h.ID != 0x2345 || h.Protocol != 17 {
					t.Errorf("fragment %d: id %#x proto %d", i, h.ID, h.Protocol)
				}
				off, more, piece = h.FragOff*8, h.Flags&ipv4.MoreFragments != 0, f[14+20:]
			} else {
				fh := f[14+40:]
				if f[14+6] != ProtoFragment || fh[0] != 17 || fh[4] != 0 || fh[5] != 1 || fh[6] != 0x23 || fh[7] != 0x45 {
					t.Errorf("fragment %d: header % x", i, fh[:8])
				}
				off, more, piece = int(fh[2])<<8|int(fh[3])&^7, fh[3]&1 != 0, fh[8:]
			}
			if off != len(whole) || more != (i < len(frames)-1) {
				t.Errorf("fragment %d: offset %d more %v, want %d %v", i, off, more, len(whole), i < len(frames)-1)
			}
			whole = append(whole, piece...)
		}
		if !bytes.Equal(whole[8:], body) {
			t.Errorf("%T: reassembled payload differs", ip)
		}
		v6 := false
		if _, ok := ip.(IPv6); ok {
			v6 = true
		}
		src, dst := tA4, tB4
		if v6 {
			src, dst = tA6, tB6
		}
		verifyPseudo(t, "reassembled udp", v6, src, dst, 17, whole)
	}
}

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		name   string
		layers []Layer
	}{
		{"ipv6 address in ipv4", []Layer{IPv4{Src: tA6}}},
		{"ipv4 options too long", []Layer{IPv4{Options: make([]byte, 41)}}},
		{"ipv4 offset", []Layer{IPv4{FragOffset: 8192}}},
		{"ipv4 proto from payload", []Layer{IPv4{}, Payload{1}}},
		{"ethernet type from payload", []Layer{Ethernet{}, Payload{1}}},
		{"ethernet type from nothing", []Layer{Ethernet{}}},
		{"vlan id", []Layer{Ethernet{}, VLAN{ID: 4096}, IPv4{}}},
		{"mpls label", []Layer{Ethernet{}, MPLS{Label: 1 << 20}, IPv4{}}},
		{"pppoe proto", []Layer{Ethernet{}, PPPoE{}, ARP{}}},
		{"null family", []Layer{Null{}, ARP{}}},
		{"tcp options", []Layer{IPv4{}, TCP{Options: make([]byte, 44)}}},
		{"flow label", []Layer{IPv6{FlowLabel: 1 << 20}}},
		{"ext too long", []Layer{IPv6{}, IPv6Ext{Data: make([]byte, 2047)}}},
		{"ah icv", []Layer{IPv6{}, AH{ICV: make([]byte, 5)}}},
		{"nil layer", []Layer{Ethernet{}, nil}},
		{"ipv4 too big", []Layer{IPv4{}, UDP{}, Payload(make([]byte, 65535-28+1))}},
	}
	for _, c := range cases {
		if _, err := Build(c.layers...); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", c.name, err)
		}
	}
	if _, err := (Datagram{IP: Ethernet{}}).Fragments(8); !errors.Is(err, ErrInvalid) {
		t.Errorf("Datagram with Ethernet as IP: err = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustBuild did not panic on an invalid layer")
		}
	}()
	MustBuild(IPv4{Src: tA6})
}

func TestMalformedOverrides(t *testing.T) {
	b := MustBuild(IPv4{IHL: 4, TotalLength: 3}, UDP{})
	if b[0] != 0x44 || b[2] != 0 || b[3] != 3 {
		t.Errorf("IPv4 overrides: % x", b[:4])
	}
	b = MustBuild(IPv6{PayloadLength: 1}, UDP{})
	if b[4] != 0 || b[5] != 1 {
		t.Errorf("IPv6 payload length override: % x", b[4:6])
	}
	if b := MustBuild(); len(b) != 0 || b == nil {
		t.Errorf("empty Build = %v", b)
	}
}
