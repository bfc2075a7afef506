package pktbuild

import (
	"fmt"
	"net/netip"
)

// TCP flags.
const (
	FIN uint8 = 0x01
	SYN uint8 = 0x02
	RST uint8 = 0x04
	PSH uint8 = 0x08
	ACK uint8 = 0x10
	URG uint8 = 0x20
	ECE uint8 = 0x40
	CWR uint8 = 0x80
)

// ICMP and ICMPv6 message types used in tests.
const (
	ICMPEchoReply     uint8 = 0
	ICMPUnreachable   uint8 = 3
	ICMPEchoRequest   uint8 = 8
	ICMPv6Unreachable uint8 = 1
	ICMPv6EchoRequest uint8 = 128
	ICMPv6EchoReply   uint8 = 129
	ICMPv6NeighSolic  uint8 = 135
)

// TCP is a TCP header. Its checksum covers the pseudo-header of the
// nearest IP layer before it (0 when there is none).
type TCP struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            uint8  // FIN, SYN, ... ORed
	Window           uint16 // 0 means 65535
	Options          []byte // zero-padded to a multiple of 4, at most 40 bytes
}

func (TCP) ipProto() uint8 { return ProtoTCP }

func (t TCP) encode(c *context, payload []byte) ([]byte, error) {
	if len(t.Options) > 40 {
		return nil, fmt.Errorf("TCP options of %d bytes (max 40): %w", len(t.Options), ErrInvalid)
	}
	hl := 20 + (len(t.Options)+3)/4*4
	h := make([]byte, hl)
	be16(h, t.SrcPort)
	be16(h[2:], t.DstPort)
	be32(h[4:], t.Seq)
	be32(h[8:], t.Ack)
	h[12] = byte(hl/4) << 4
	h[13] = t.Flags
	be16(h[14:], cmp0(t.Window, 0xffff))
	copy(h[20:], t.Options)
	out := prepend(h, payload)
	be16(out[16:], transportChecksum(c, ProtoTCP, out))
	return out, nil
}

// UDP is a UDP header; length and checksum are computed.
type UDP struct{ SrcPort, DstPort uint16 }

func (UDP) ipProto() uint8 { return ProtoUDP }

func (u UDP) encode(c *context, payload []byte) ([]byte, error) {
	if 8+len(payload) > 0xffff {
		return nil, fmt.Errorf("UDP datagram of %d bytes (max 65535): %w", 8+len(payload), ErrInvalid)
	}
	h := make([]byte, 8)
	be16(h, u.SrcPort)
	be16(h[2:], u.DstPort)
	be16(h[4:], uint16(8+len(payload)))
	out := prepend(h, payload)
	if c.ipVersion != 0 {
		be16(out[6:], cmp0(transportChecksum(c, ProtoUDP, out), 0xffff))
	}
	return out, nil
}

// ICMP is an ICMP (IPv4) header: type, code, checksum and the 4 bytes of
// "rest of header", written as ID and Seq (echo messages).
type ICMP struct {
	Type, Code uint8
	ID, Seq    uint16
}

func (ICMP) ipProto() uint8 { return ProtoICMP }

func (m ICMP) encode(_ *context, payload []byte) ([]byte, error) {
	out := prepend(icmpHeader(m.Type, m.Code, m.ID, m.Seq), payload)
	be16(out[2:], checksum(0, out))
	return out, nil
}

// ICMPv6 is an ICMPv6 header, laid out like ICMP; its checksum covers the
// IPv6 pseudo-header of the nearest IP layer before it.
type ICMPv6 struct {
	Type, Code uint8
	ID, Seq    uint16
}

func (ICMPv6) ipProto() uint8 { return ProtoICMPv6 }

func (m ICMPv6) encode(c *context, payload []byte) ([]byte, error) {
	out := prepend(icmpHeader(m.Type, m.Code, m.ID, m.Seq), payload)
	be16(out[2:], transportChecksum(c, ProtoICMPv6, out))
	return out, nil
}

func icmpHeader(typ, code uint8, id, seq uint16) []byte {
	h := make([]byte, 8)
	h[0], h[1] = typ, code
	be16(h[4:], id)
	be16(h[6:], seq)
	return h
}

// checksum returns the Internet checksum (RFC 1071) of b, starting from
// the partial sum sum.
func checksum(sum uint32, b []byte) uint16 {
	return ^fold(sum32(sum, b))
}

func sum32(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

// transportChecksum is the checksum of seg (with its checksum field zero)
// under the pseudo-header of the IP layer before it; 0 when there is none.
func transportChecksum(c *context, proto uint8, seg []byte) uint16 {
	var sum uint32
	switch c.ipVersion {
	case 4:
		s, d := as4(c.src), as4(c.dst)
		sum = sum32(sum32(0, s[:]), d[:])
		sum += uint32(proto) + uint32(len(seg))
	case 6:
		s, d := as16(c.src), as16(c.dst)
		sum = sum32(sum32(0, s[:]), d[:])
		sum += uint32(len(seg)>>16) + uint32(len(seg)&0xffff) + uint32(proto)
	default:
		return 0
	}
	return checksum(sum, seg)
}

func as4(a netip.Addr) [4]byte {
	if a.Is4() {
		return a.As4()
	}
	return [4]byte{}
}

func as16(a netip.Addr) [16]byte {
	if a.IsValid() {
		return a.As16()
	}
	return [16]byte{}
}
