// Package capture provides sources of packets: capture files (pcap, pcapng,
// optionally gzip-compressed) and, later, live AF_PACKET rings and a mock ring.
//
// Every source hands out one packet at a time through a buffer it owns and
// reuses: the data slice returned by NextPacket is valid only until the next
// call to NextPacket or Close. Callers that keep bytes must copy them.
//
// # Capture files
//
// Open and OpenFile read, detected by their first bytes:
//
//   - gzip (1f 8b), decompressed on the fly; the content is one of the
//     formats below. Concatenated gzip members are read as one stream.
//   - pcap, magic a1b2c3d4 (microseconds) or a1b23c4d (nanoseconds), in
//     either byte order; major version 2 only. Versions 2.0-2.2 store the
//     two length fields swapped and are swapped back, as libpcap does
//     (2.3: swapped when the captured length exceeds the original one).
//     The link-type field's upper six bits (FCS length) are ignored; the
//     remaining reserved bits must be zero. Every record gets Iface 0 and
//     the single Interface has Name "" (callers choose, e.g. the file's
//     base name). The thiszone and sigfigs fields are ignored.
//   - pcapng 1.x, in either byte order and with any number of sections.
//     Interface Description Blocks give link type, snap length, if_name,
//     if_tsresol (base 10 or 2) and if_tsoffset; packets come from Enhanced
//     (EPB), Simple (SPB) and obsolete Packet Blocks (OPB), whose
//     epb_flags/pack_flags give the direction. Other block types are
//     skipped. Interfaces of all sections are numbered in one sequence, so
//     PacketInfo.Iface indexes Interfaces() whatever the section. An SPB
//     belongs to its section's first interface, has no timestamp (0) and
//     captures min(original length, snap length, bytes in the block).
//
// Timestamps are converted to Unix nanoseconds. A record may not capture
// more than max(snap length, 256 KiB) bytes, and never more than 16 MiB
// (tshark applies the same 256 KiB bound); a captured length above the
// original length is passed through unchanged.
package capture

// LinkType is a pcap LINKTYPE_ value: the kind of header a packet starts with.
type LinkType uint16

// Link types flowsql decodes (DESIGN §2). Values are the pcap LINKTYPE_
// numbers; LinkRawBSD is the DLT_RAW value some BSD-made files carry.
const (
	LinkNull     LinkType = 0   // BSD loopback: 4-byte host-order address family
	LinkEthernet LinkType = 1   // Ethernet II / 802.3
	LinkRawBSD   LinkType = 12  // raw IP (DLT_RAW on OpenBSD and others)
	LinkRaw      LinkType = 101 // raw IP, version from the first nibble
	LinkLoop     LinkType = 108 // OpenBSD loopback: 4-byte network-order family
	LinkSLL      LinkType = 113 // Linux cooked capture v1
	LinkIPv4     LinkType = 228 // raw IPv4
	LinkIPv6     LinkType = 229 // raw IPv6
	LinkSLL2     LinkType = 276 // Linux cooked capture v2
)

// Direction says who sent a packet, as far as the source knows.
type Direction uint8

// Directions. DirUnknown means the source carries no such information
// (plain pcap of Ethernet); decoders may still learn it from an SLL header.
const (
	DirUnknown  Direction = iota
	DirInbound            // received by this host (or seen passing by)
	DirOutbound           // sent by this host
)

// PacketInfo describes one packet handed out by a Source. It is a plain
// value: copying it allocates nothing.
type PacketInfo struct {
	Timestamp int64     // Unix nanoseconds
	CapLen    uint32    // bytes present in the data slice
	OrigLen   uint32    // length on the wire at the link layer
	Iface     int       // index into Source.Interfaces()
	Link      LinkType  // link type of Iface
	Dir       Direction // sender, where the source knows it
	// VLANOffloaded is set when the kernel moved an 802.1Q tag out of the
	// frame into metadata (TP_STATUS_VLAN_VALID); the frame is then 4 bytes
	// shorter than on the wire and OrigLen already includes those 4 bytes.
	VLANOffloaded bool
}

// Interface describes one capture interface of a source. A pcap file has
// exactly one; a pcapng file has one per Interface Description Block.
type Interface struct {
	Name    string   // if_name option, else "" (callers choose a default)
	Link    LinkType // link type of its packets
	SnapLen uint32   // 0 means unlimited
	// TsResolution is the number of timestamp units per second (1e6 for
	// classic microsecond pcap, 1e9 for nanosecond files, if_tsresol for
	// pcapng).
	TsResolution uint64
}

// Source hands out packets one at a time.
//
// NextPacket returns the next packet's bytes and description. The data slice
// is owned by the source and valid only until the next call to NextPacket or
// Close. At the end of a file it returns io.EOF. A damaged file yields every
// good record before the damage and then an error wrapping ErrCorrupt or
// ErrTruncated that names the record number and byte offset.
type Source interface {
	NextPacket() (data []byte, info PacketInfo, err error)
	// Interfaces lists the interfaces seen so far (pcapng files may add
	// interfaces as they are read).
	Interfaces() []Interface
	Close() error
}
