package capture

// Classic pcap (draft-ietf-opsawg-pcap), as read by this file:
//
//	file header, 24 bytes, in the writer's byte order:
//	+---------+-------+-------+----------+---------+---------+----------+
//	| magic 4 | maj 2 | min 2 | zone 4   | sigfig 4| snap 4  | link 4   |
//	+---------+-------+-------+----------+---------+---------+----------+
//	record header, 16 bytes, then caplen bytes of packet data:
//	+----------+-----------+-----------+-----------+
//	| ts_sec 4 | ts_frac 4 | caplen 4  | origlen 4 |
//	+----------+-----------+-----------+-----------+
//
// magic a1b2c3d4: ts_frac in microseconds; a1b23c4d: in nanoseconds.
// link: bits 0-15 link type, 16-25 reserved (must be 0), 26-31 FCS info.

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Format constants of classic pcap.
const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
	pcapVersionMaj = 2
	pcapVersionMin = 4 // written by PcapWriter
	pcapHdrLen     = 24
	pcapRecHdrLen  = 16
	// pcapLinkMask keeps the link type and reserved bits of the link-type
	// field, dropping the FCS length bits (libpcap's LT_LINKTYPE).
	pcapLinkMask = 0x03ffffff
)

// lengthSwap says whether a pcap file has caplen and origlen swapped, as
// files written by libpcap before version 2.4 of the format may.
type lengthSwap uint8

const (
	notSwapped   lengthSwap = iota
	swapped                 // versions 2.0 to 2.2
	maybeSwapped            // version 2.3: swapped when caplen > origlen
)

// readPcapHeader reads and validates the 24-byte pcap file header: magic,
// then version, then the remaining fields.
func (s *FileSource) readPcapHeader() error {
	h, err := s.br.Peek(pcapHdrLen)
	nano := false
	switch {
	case len(h) < 4:
		return s.ioFail(eofIfNil(err), "pcap file header", len(h), pcapHdrLen)
	case binary.LittleEndian.Uint32(h) == pcapMagicMicro:
	case binary.LittleEndian.Uint32(h) == pcapMagicNano:
		nano = true
	case binary.BigEndian.Uint32(h) == pcapMagicMicro:
		s.be = true
	case binary.BigEndian.Uint32(h) == pcapMagicNano:
		s.be, nano = true, true
	default:
		return s.unsupportedf("magic %#08x is not pcap, pcapng or gzip", binary.BigEndian.Uint32(h))
	}
	if len(h) < pcapHdrLen {
		return s.ioFail(eofIfNil(err), "pcap file header", len(h), pcapHdrLen)
	}
	major, minor := s.u16(h[4:]), s.u16(h[6:])
	if major != pcapVersionMaj {
		return s.unsupportedf("pcap version %d.%d (want 2.x)", major, minor)
	}
	switch {
	case minor < 3:
		s.swap = swapped
	case minor == 3:
		s.swap = maybeSwapped
	}
	snap, linkField := s.u32(h[16:]), s.u32(h[20:])
	link := linkField & pcapLinkMask
	if link > 0xffff {
		return s.unsupportedf("pcap link-type field %#08x has reserved bits set", linkField)
	}
	units := uint64(1e6)
	if nano {
		units = 1e9
	}
	s.ifaces = append(s.ifaces, Interface{Link: LinkType(link), SnapLen: snap, TsResolution: units})
	s.conv = append(s.conv, newIfaceConv(snap, units, 0))
	_, _ = s.br.Discard(pcapHdrLen) // cannot fail: the header is buffered
	s.off = pcapHdrLen
	return nil
}

// nextPcap reads one pcap record.
func (s *FileSource) nextPcap() ([]byte, PacketInfo, error) {
	h, err := s.br.Peek(pcapRecHdrLen)
	if atEOF(h, err) {
		s.err = io.EOF
		return nil, PacketInfo{}, io.EOF
	}
	s.rec++
	if err != nil {
		return nil, PacketInfo{}, s.ioFail(err, "pcap record header", len(h), pcapRecHdrLen)
	}
	// Decode everything before readRecord: it may move the buffer.
	sec, frac := s.u32(h), s.u32(h[4:])
	capLen, origLen := s.u32(h[8:]), s.u32(h[12:])
	if s.swap == swapped || (s.swap == maybeSwapped && capLen > origLen) {
		capLen, origLen = origLen, capLen
	}
	c := &s.conv[0]
	if capLen > c.maxCap {
		return nil, PacketInfo{}, s.corruptf("pcap record captured length %d exceeds limit %d (snap length %d)",
			capLen, c.maxCap, s.ifaces[0].SnapLen)
	}
	n := pcapRecHdrLen + int(capLen)
	b, err := s.readRecord(n)
	if err != nil {
		return nil, PacketInfo{}, s.ioFail(err, fmt.Sprintf("pcap record of %d bytes", n), len(b), n)
	}
	s.off += int64(n)
	info := PacketInfo{
		Timestamp: int64(sec)*1e9 + int64(frac)*c.tsMul,
		CapLen:    capLen,
		OrigLen:   origLen,
		Link:      s.ifaces[0].Link,
	}
	return b[pcapRecHdrLen:], info, nil
}
