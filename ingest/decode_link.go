package ingest

import (
	"math/bits"

	"github.com/flowsql/flowsql/capture"
)

// Link-layer walking: Ethernet payload types, SLL/SLL2 and BSD NULL/LOOP.

// EtherType values the decoder understands.
const (
	etherTypeIPv4      = 0x0800
	etherTypeIPv6      = 0x86dd
	etherTypeVLAN      = 0x8100 // 802.1Q C-tag
	etherTypeQinQ      = 0x88a8 // 802.1ad S-tag
	etherTypeQinQOld   = 0x9100 // pre-standard QinQ S-tag
	etherTypePPPoE     = 0x8864 // PPPoE session stage
	etherTypeMPLS      = 0x8847
	etherTypeMPLSMcast = 0x8848
	etherTypeMinimum   = 0x0600 // smaller values are 802.3 lengths
	pppProtoIPv4       = 0x0021
	pppProtoIPv6       = 0x0057
	sllPacketOutgoing  = 4 // PACKET_OUTGOING
	sllLastInboundType = 3 // PACKET_HOST..PACKET_OTHERHOST
	sllHeaderLen       = 16
	sll2HeaderLen      = 20
	nullHeaderLen      = 4
	pppoeHeaderLen     = 8 // 6 bytes PPPoE + 2 bytes PPP protocol
	mplsLabelLen       = 4
	vlanTagLen         = 4
	afInet             = 2
	afInet6BSD         = 24 // NetBSD, OpenBSD, BSD/OS
	afInet6FreeBSD     = 28 // FreeBSD, DragonFly BSD
	afInet6Darwin      = 30 // macOS, iOS
)

// decodeEtherType decodes b, the payload of a header whose EtherType field
// said et: VLAN tags and PPPoE/MPLS are walked until IP or something else.
// Every step consumes bytes, so the loop ends.
func (d *Decoder) decodeEtherType(et uint16, b []byte, ts int64, p *Packet) Result {
	for {
		switch et {
		case etherTypeIPv4:
			return d.decodeIPv4(b, ts, p)
		case etherTypeIPv6:
			return d.decodeIPv6(b, ts, p)
		case etherTypeVLAN, etherTypeQinQ, etherTypeQinQOld:
			if len(b) < vlanTagLen {
				return ResultParseError
			}
			et = uint16(b[2])<<8 | uint16(b[3])
			b = b[vlanTagLen:]
		case etherTypePPPoE:
			if len(b) < pppoeHeaderLen {
				return ResultParseError
			}
			switch uint16(b[6])<<8 | uint16(b[7]) {
			case pppProtoIPv4:
				return d.decodeIPv4(b[pppoeHeaderLen:], ts, p)
			case pppProtoIPv6:
				return d.decodeIPv6(b[pppoeHeaderLen:], ts, p)
			}
			return ResultNonIP // LCP, IPCP, CHAP, ...
		case etherTypeMPLS, etherTypeMPLSMcast:
			return d.decodeMPLS(b, ts, p)
		default:
			return ResultNonIP // ARP, LLDP, 802.3/LLC, ...
		}
	}
}

// decodeMPLS walks a label stack to its bottom (S bit) and decodes what
// follows as IP by its version nibble. Anything else under the stack (an
// Ethernet pseudowire's control word, ...) is not IP.
func (d *Decoder) decodeMPLS(b []byte, ts int64, p *Packet) Result {
	for {
		if len(b) < mplsLabelLen {
			return ResultParseError
		}
		bottom := b[2]&0x01 != 0
		b = b[mplsLabelLen:]
		if bottom {
			break
		}
	}
	if len(b) == 0 {
		return ResultParseError
	}
	switch b[0] >> 4 {
	case 4:
		return d.decodeIPv4(b, ts, p)
	case 6:
		return d.decodeIPv6(b, ts, p)
	}
	return ResultNonIP
}

// sllDir maps an SLL/SLL2 packet type to a direction; ok is false for
// types that say nothing about it.
func sllDir(pktType uint16) (capture.Direction, bool) {
	switch {
	case pktType == sllPacketOutgoing:
		return capture.DirOutbound, true
	case pktType <= sllLastInboundType:
		return capture.DirInbound, true
	}
	return capture.DirUnknown, false
}

// decodeSLL decodes a Linux cooked v1 header:
//
//	+--------+--------+--------+----------------+----------+
//	| pkttype| ARPHRD | addrlen|  address (8)   | protocol |
//	|   2    |   2    |   2    |       8        |    2     |
//	+--------+--------+--------+----------------+----------+
func (d *Decoder) decodeSLL(b []byte, ts int64, p *Packet) Result {
	if len(b) < sllHeaderLen {
		return ResultParseError
	}
	if dir, ok := sllDir(uint16(b[0])<<8 | uint16(b[1])); ok {
		p.Dir = dir
	}
	return d.decodeSLLProto(uint16(b[14])<<8|uint16(b[15]), b[sllHeaderLen:], ts, p)
}

// decodeSLL2 decodes a Linux cooked v2 header:
//
//	+----------+--------+---------+--------+-------+-------+-------------+
//	| protocol | rsvd   | ifindex | ARPHRD |pkttype|addrlen| address (8) |
//	|    2     |   2    |    4    |   2    |   1   |   1   |      8      |
//	+----------+--------+---------+--------+-------+-------+-------------+
func (d *Decoder) decodeSLL2(b []byte, ts int64, p *Packet) Result {
	if len(b) < sll2HeaderLen {
		return ResultParseError
	}
	if dir, ok := sllDir(uint16(b[10])); ok {
		p.Dir = dir
	}
	return d.decodeSLLProto(uint16(b[0])<<8|uint16(b[1]), b[sll2HeaderLen:], ts, p)
}

// decodeSLLProto decodes the payload of an SLL/SLL2 header. Protocol values
// below 0x0600 are Linux's pseudo protocols (802.2 LLC, 802.3 raw, CAN, ...)
// and carry no IP.
func (d *Decoder) decodeSLLProto(proto uint16, b []byte, ts int64, p *Packet) Result {
	if proto < etherTypeMinimum {
		return ResultNonIP
	}
	return d.decodeEtherType(proto, b, ts, p)
}

// decodeNull decodes the 4-byte address family of BSD loopback headers:
// host byte order for NULL (either order is accepted, as files travel
// between machines), network byte order for LOOP. A family that is not
// IPv4 or one of the BSDs' IPv6 values is not IP.
func (d *Decoder) decodeNull(b []byte, loop bool, ts int64, p *Packet) Result {
	if len(b) < nullHeaderLen {
		return ResultParseError
	}
	fam := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if !loop && fam > 0xffff {
		fam = bits.ReverseBytes32(fam) // little-endian writer
	}
	switch fam {
	case afInet:
		return d.decodeIPv4(b[nullHeaderLen:], ts, p)
	case afInet6BSD, afInet6FreeBSD, afInet6Darwin:
		return d.decodeIPv6(b[nullHeaderLen:], ts, p)
	}
	return ResultNonIP
}

// decodeIP decodes raw IP whose version comes from the first nibble.
func (d *Decoder) decodeIP(b []byte, ts int64, p *Packet) Result {
	if len(b) == 0 {
		return ResultParseError
	}
	switch b[0] >> 4 {
	case 4:
		return d.decodeIPv4(b, ts, p)
	case 6:
		return d.decodeIPv6(b, ts, p)
	}
	return ResultParseError
}
