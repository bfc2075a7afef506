package ingest

import (
	"time"

	"github.com/flowsql/flowsql/capture"
)

// Decoding: frame -> Packet (DESIGN §2).
//
// The decoder walks the link layer (Ethernet with any stack of 802.1Q /
// 802.1ad / 0x9100 tags, PPPoE session, MPLS; Linux SLL and SLL2; BSD NULL
// and LOOP; raw IP) to the outermost IP header and reads the addresses, the
// protocol (IPv6: after the extension-header chain) and the first bytes of
// TCP/UDP/ICMP. It never unwraps tunnels and never retains the frame.
//
// What counts as "transport header read" (Packet.HasTransport): the bytes of
// every field Packet carries were captured and lie inside the IP length:
// 14 bytes of TCP (ports and flags), 4 bytes of UDP (ports), 1 byte of ICMP
// or ICMPv6 (type). With fewer bytes the ports stay 0.

// DecoderOptions configures a Decoder. The zero value means defaults.
type DecoderOptions struct {
	// FragmentTableSize is the number of first-fragment entries remembered
	// so that later fragments of the same datagram get its ports. It is
	// rounded up to a multiple of the table's associativity and a power of
	// two. 0 means DefaultFragmentTableSize; a negative value disables the
	// table (non-first fragments then always get port 0).
	FragmentTableSize int
	// FragmentTimeout is how long a first fragment's ports are remembered,
	// measured with the packets' timestamps. 0 means
	// DefaultFragmentTimeout (Linux's ipfrag_time); negative means forever.
	FragmentTimeout time.Duration
}

// Defaults for DecoderOptions.
const (
	DefaultFragmentTableSize = 1024
	DefaultFragmentTimeout   = 30 * time.Second
)

// Decoder turns captured frames into Packets. It keeps a bounded table of
// recently seen first fragments and is therefore not safe for concurrent
// use: give every capture goroutine its own Decoder.
//
// The zero Decoder is usable and decodes like one built with a disabled
// fragment table.
type Decoder struct {
	frags fragTable
}

// NewDecoder returns a Decoder with its fragment table allocated up front;
// Decode itself never allocates.
func NewDecoder(opts DecoderOptions) *Decoder {
	d := &Decoder{}
	d.frags.init(opts.FragmentTableSize, opts.FragmentTimeout)
	return d
}

// Decode parses one frame. data is the captured bytes; it is read only
// during the call and never retained. info is the source's description of
// the frame (Link, OrigLen, VLANOffloaded, Dir, Timestamp are used).
//
// Decode overwrites every field of *p and returns the classification:
// ResultIP when an outer IPv4/IPv6 header was read (p is a flow packet),
// ResultNonIP for well-formed frames of another protocol, ResultParseError
// for frames too short or malformed to reach an IP header and for unknown
// link types. p.Len and p.Dir are filled for every result.
//
// Non-first fragments carry the ports (and, for IPv6, the protocol found
// after the extension headers) of their datagram's first fragment when it
// was seen recently by this Decoder; HasTransport stays false for them. It
// allocates nothing and never panics, whatever the bytes.
func (d *Decoder) Decode(data []byte, info capture.PacketInfo, p *Packet) Result {
	// OrigLen already counts a VLAN tag the kernel moved into metadata
	// (capture.PacketInfo), so Len is OrigLen as it stands.
	*p = Packet{Dir: info.Dir, Len: info.OrigLen}
	ts := info.Timestamp
	switch info.Link {
	case capture.LinkEthernet:
		if len(data) < 14 {
			return ResultParseError
		}
		et := uint16(data[12])<<8 | uint16(data[13])
		if et == etherTypeIPv4 { // fast path: untagged IPv4
			return d.decodeIPv4(data[14:], ts, p)
		}
		return d.decodeEtherType(et, data[14:], ts, p)
	case capture.LinkSLL:
		return d.decodeSLL(data, ts, p)
	case capture.LinkSLL2:
		return d.decodeSLL2(data, ts, p)
	case capture.LinkRaw, capture.LinkRawBSD:
		return d.decodeIP(data, ts, p)
	case capture.LinkIPv4:
		return d.decodeIPv4(data, ts, p)
	case capture.LinkIPv6:
		return d.decodeIPv6(data, ts, p)
	case capture.LinkNull:
		return d.decodeNull(data, false, ts, p)
	case capture.LinkLoop:
		return d.decodeNull(data, true, ts, p)
	}
	return ResultParseError
}
