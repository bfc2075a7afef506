// Package ingest decodes captured frames into flow keys, aggregates them into
// per-interface flow tables and hands each rotation's table to the store as a
// columnar.Block.
package ingest

import "github.com/flowsql/flowsql/capture"

// Packet is the metadata the decoder extracts from one frame: everything the
// flow table needs and nothing more. It is a plain value, filled in place by
// Decoder.Decode, so decoding allocates nothing.
type Packet struct {
	// Src and Dst are the outermost IP header's addresses in 16-byte form;
	// IPv4 addresses are IPv4-mapped (::ffff:a.b.c.d), as netip.Addr.As16.
	Src, Dst [16]byte
	// SrcPort and DstPort are the TCP/UDP ports, 0 for other protocols, for
	// non-first fragments whose first fragment was not seen, and for packets
	// whose transport header was cut by the snap length.
	SrcPort, DstPort uint16
	Proto            uint8 // IP protocol (IPv6: after walking extension headers)
	IPv4             bool  // Src and Dst are IPv4-mapped
	// HasTransport is set when the TCP/UDP/ICMP header was read, so the
	// fields below (and the ports) are meaningful.
	HasTransport bool
	TCPFlags     uint8 // TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10)
	ICMPType     uint8 // ICMP or ICMPv6 type
	// Dir is who sent the frame where the source or link header says so
	// (live capture's packet type, SLL/SLL2 packet type), else DirUnknown.
	Dir capture.Direction
	// Len is the number of bytes to count: the frame's original length at
	// the link layer (capture.PacketInfo.OrigLen, which already includes a
	// VLAN tag the kernel moved into metadata).
	Len uint32
}

// Result classifies one decoded frame.
type Result uint8

// Results of Decoder.Decode.
const (
	// ResultIP: the frame carried an IP header; the Packet is filled in and
	// must be counted in a flow.
	ResultIP Result = iota
	// ResultNonIP: a well-formed frame that is not IPv4/IPv6 (ARP, LLDP,
	// STP, ...). Counted per interface as non_ip.
	ResultNonIP
	// ResultParseError: too short or malformed to read an IP header (or an
	// unknown link type). Counted per interface as parse_errors.
	ResultParseError
)
