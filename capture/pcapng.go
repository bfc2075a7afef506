package capture

// pcapng (draft-ietf-opsawg-pcapng), as read by this file. Every block:
//
//	+--------+----------+---------------------------+----------+
//	| type 4 | length 4 | body (length-12 bytes)    | length 4 |
//	+--------+----------+---------------------------+----------+
//
// length counts the whole block, is a multiple of 4 and is repeated at the
// end. Byte order is set per section by the SHB's byte-order magic.
//
//	SHB 0x0a0d0d0a: bom 4 | major 2 | minor 2 | section length 8 | options
//	IDB 1:          link 2 | reserved 2 | snaplen 4 | options
//	EPB 6:          ifid 4 | ts_hi 4 | ts_lo 4 | caplen 4 | origlen 4 | data pad4 | options
//	OPB 2:          ifid 2 | drops 2 | ts_hi 4 | ts_lo 4 | caplen 4 | origlen 4 | data pad4 | options
//	SPB 3:          origlen 4 | data pad4
//	option:         code 2 | length 2 | value pad4   (code 0 ends the list)

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// Format constants of pcapng.
const (
	ngBlockSHB = 0x0a0d0d0a
	ngBlockIDB = 1
	ngBlockOPB = 2
	ngBlockSPB = 3
	ngBlockEPB = 6

	ngByteOrderMagic   uint32 = 0x1a2b3c4d
	ngMajor                   = 1
	ngBlockHdrLen             = 8 // type and length
	ngMinBlockLen             = 12
	ngMinSHBLen               = 28
	ngMinIDBLen               = 20
	ngMinSPBLen               = 16
	ngMinPktBlockLen          = 32 // EPB and OPB
	ngPktFixed                = 20 // EPB/OPB fields before the packet data
	ngMaxBlockLen             = capLenHard + 64<<10
	ngMaxInterfaces           = 1 << 16
	ngOptEnd                  = 0
	ngOptIfName               = 2
	ngOptIfTsresol            = 9
	ngOptIfTsoffset           = 14
	ngOptFlags                = 2 // epb_flags and pack_flags
	ngDefaultTsresol          = 6 // microseconds, when an IDB has no if_tsresol
	ngMaxTsresolBase2         = 63
	ngMaxTsresolBase10        = 19
)

// nextPcapng reads blocks until a packet block, the end of the input or an
// error.
func (s *FileSource) nextPcapng() ([]byte, PacketInfo, error) {
	for {
		h, err := s.br.Peek(ngBlockHdrLen)
		if atEOF(h, err) {
			s.err = io.EOF
			return nil, PacketInfo{}, io.EOF
		}
		s.rec++
		if err != nil {
			return nil, PacketInfo{}, s.ioFail(err, "pcapng block header", len(h), ngBlockHdrLen)
		}
		typ, blen := s.u32(h), s.u32(h[4:])
		var data []byte
		var info PacketInfo
		ok := false
		switch typ {
		case ngBlockSHB:
			if err := s.readSHB(); err != nil {
				return nil, PacketInfo{}, err
			}
			continue
		case ngBlockEPB, ngBlockOPB:
			data, info, err = s.readPacketBlock(typ, blen)
			ok = true
		case ngBlockSPB:
			data, info, err = s.readSPB(blen)
			ok = true
		case ngBlockIDB:
			err = s.readIDB(blen)
		default:
			_, err = s.readBlock(typ, blen, ngMinBlockLen)
		}
		if err != nil {
			return nil, PacketInfo{}, err
		}
		s.off += int64(blen)
		if ok {
			return data, info, nil
		}
	}
}

// readBlock validates the length of the block of type typ, reads it and
// checks its trailer. It returns the body between length and trailer.
func (s *FileSource) readBlock(typ, blen uint32, minLen uint32) ([]byte, error) {
	switch {
	case blen < minLen:
		return nil, s.corruptf("pcapng %s: length %d below minimum %d", ngBlockName(typ), blen, minLen)
	case blen%4 != 0:
		return nil, s.corruptf("pcapng %s: length %d not a multiple of 4", ngBlockName(typ), blen)
	case blen > ngMaxBlockLen:
		return nil, s.corruptf("pcapng %s: length %d exceeds limit %d", ngBlockName(typ), blen, ngMaxBlockLen)
	}
	b, err := s.readRecord(int(blen))
	if err != nil {
		return nil, s.ioFail(err, "pcapng block", len(b), int(blen))
	}
	if t := s.u32(b[blen-4:]); t != blen {
		return nil, s.corruptf("pcapng %s: trailing length %d != leading length %d", ngBlockName(typ), t, blen)
	}
	return b[ngBlockHdrLen : blen-4], nil
}

// readSHB reads a Section Header Block, which sets the byte order and starts
// a new set of interfaces. Its offset is s.off and its number s.rec.
func (s *FileSource) readSHB() error {
	h, err := s.br.Peek(12)
	if err != nil {
		return s.ioFail(err, "pcapng section header", len(h), 12)
	}
	switch ngByteOrderMagic {
	case binary.LittleEndian.Uint32(h[8:]):
		s.be = false
	case binary.BigEndian.Uint32(h[8:]):
		s.be = true
	default:
		return s.corruptf("pcapng section header: byte-order magic %#08x", binary.BigEndian.Uint32(h[8:]))
	}
	blen := s.u32(h[4:])
	body, err := s.readBlock(ngBlockSHB, blen, ngMinSHBLen)
	if err != nil {
		return err
	}
	if major, minor := s.u16(body[4:]), s.u16(body[6:]); major != ngMajor {
		return s.unsupportedf("pcapng version %d.%d (want 1.x)", major, minor)
	}
	for opts := body[16:]; ; {
		code, _, rest, err := s.nextOption(opts, ngBlockSHB)
		if err != nil {
			return err
		}
		if code == ngOptEnd {
			break
		}
		opts = rest
	}
	s.secBase = len(s.ifaces)
	s.off += int64(blen)
	return nil
}

// readIDB reads an Interface Description Block.
func (s *FileSource) readIDB(blen uint32) error {
	body, err := s.readBlock(ngBlockIDB, blen, ngMinIDBLen)
	if err != nil {
		return err
	}
	if len(s.ifaces) >= ngMaxInterfaces {
		return s.unsupportedf("more than %d interfaces", ngMaxInterfaces)
	}
	ifc := Interface{Link: LinkType(s.u16(body)), SnapLen: s.u32(body[4:])}
	tsresol, offNs := byte(ngDefaultTsresol), int64(0)
	for opts := body[8:]; ; {
		code, val, rest, err := s.nextOption(opts, ngBlockIDB)
		if err != nil {
			return err
		}
		switch code {
		case ngOptEnd:
			units, ok := ngTsresolUnits(tsresol)
			if !ok {
				return s.unsupportedf("pcapng if_tsresol %#02x: finer than 2^-63 or 10^-19 s", tsresol)
			}
			ifc.TsResolution = units
			s.ifaces = append(s.ifaces, ifc)
			s.conv = append(s.conv, newIfaceConv(ifc.SnapLen, units, offNs))
			return nil
		case ngOptIfName:
			ifc.Name = string(trimNUL(val))
		case ngOptIfTsresol:
			if len(val) >= 1 {
				tsresol = val[0]
			}
		case ngOptIfTsoffset:
			if len(val) >= 8 {
				offNs = int64(s.u64(val)) * 1e9
			}
		}
		opts = rest
	}
}

// ngTsresolUnits converts an if_tsresol byte to units per second.
func ngTsresolUnits(v byte) (uint64, bool) {
	if v&0x80 != 0 {
		e := v & 0x7f
		return 1 << e, e <= ngMaxTsresolBase2
	}
	if v > ngMaxTsresolBase10 {
		return 0, false
	}
	u := uint64(1)
	for range v {
		u *= 10
	}
	return u, true
}

// trimNUL drops trailing NUL bytes some writers put after option strings.
func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// nextOption splits the first option off opts. At the end of the list (an
// opt_endofopt or fewer than 4 bytes left) code is ngOptEnd. An option
// whose padded value overruns the block is ErrCorrupt.
func (s *FileSource) nextOption(opts []byte, typ uint32) (code uint16, val, rest []byte, err error) {
	if len(opts) < 4 {
		return ngOptEnd, nil, nil, nil
	}
	code, n := s.u16(opts), int(s.u16(opts[2:]))
	if code == ngOptEnd {
		return ngOptEnd, nil, nil, nil
	}
	padded := 4 + (n+3)&^3
	if padded > len(opts) {
		return 0, nil, nil, s.corruptf("pcapng %s: option %d of length %d overruns the %d bytes left",
			ngBlockName(typ), code, n, len(opts)-4)
	}
	return code, opts[4 : 4+n], opts[padded:], nil
}

// sectionIface maps an interface id of the current section to an index in
// s.ifaces.
func (s *FileSource) sectionIface(id uint32, typ uint32) (int, error) {
	if n := len(s.ifaces) - s.secBase; uint64(id) >= uint64(n) {
		return 0, s.corruptf("pcapng %s: interface id %d out of range (section has %d)", ngBlockName(typ), id, n)
	}
	return s.secBase + int(id), nil
}

// readPacketBlock reads an Enhanced Packet Block or an obsolete Packet Block.
func (s *FileSource) readPacketBlock(typ, blen uint32) ([]byte, PacketInfo, error) {
	body, err := s.readBlock(typ, blen, ngMinPktBlockLen)
	if err != nil {
		return nil, PacketInfo{}, err
	}
	var id uint32
	if typ == ngBlockEPB {
		id = s.u32(body)
	} else {
		id = uint32(s.u16(body))
	}
	idx, err := s.sectionIface(id, typ)
	if err != nil {
		return nil, PacketInfo{}, err
	}
	c := &s.conv[idx]
	ts := uint64(s.u32(body[4:]))<<32 | uint64(s.u32(body[8:]))
	capLen, origLen := s.u32(body[12:]), s.u32(body[16:])
	if capLen > c.maxCap {
		return nil, PacketInfo{}, s.corruptf("pcapng %s: captured length %d exceeds limit %d (snap length %d)",
			ngBlockName(typ), capLen, c.maxCap, s.ifaces[idx].SnapLen)
	}
	padded := (int(capLen) + 3) &^ 3
	if avail := len(body) - ngPktFixed; padded > avail {
		return nil, PacketInfo{}, s.corruptf("pcapng %s: captured length %d (padded %d) exceeds the %d data bytes of the block",
			ngBlockName(typ), capLen, padded, avail)
	}
	dir := DirUnknown
	for opts := body[ngPktFixed+padded:]; ; {
		code, val, rest, err := s.nextOption(opts, typ)
		if err != nil {
			return nil, PacketInfo{}, err
		}
		if code == ngOptEnd {
			break
		}
		if code == ngOptFlags && len(val) >= 4 {
			switch s.u32(val) & 3 {
			case 1:
				dir = DirInbound
			case 2:
				dir = DirOutbound
			}
		}
		opts = rest
	}
	info := PacketInfo{
		Timestamp: c.nanos(ts),
		CapLen:    capLen,
		OrigLen:   origLen,
		Iface:     idx,
		Link:      s.ifaces[idx].Link,
		Dir:       dir,
	}
	return body[ngPktFixed : ngPktFixed+capLen], info, nil
}

// readSPB reads a Simple Packet Block: interface 0 of the section, no
// timestamp, captured length min(original length, snap length, block data).
func (s *FileSource) readSPB(blen uint32) ([]byte, PacketInfo, error) {
	body, err := s.readBlock(ngBlockSPB, blen, ngMinSPBLen)
	if err != nil {
		return nil, PacketInfo{}, err
	}
	idx, err := s.sectionIface(0, ngBlockSPB)
	if err != nil {
		return nil, PacketInfo{}, err
	}
	origLen := s.u32(body)
	capLen := origLen
	if snap := s.ifaces[idx].SnapLen; snap != 0 {
		capLen = min(capLen, snap)
	}
	capLen = min(capLen, uint32(len(body)-4), s.conv[idx].maxCap)
	info := PacketInfo{CapLen: capLen, OrigLen: origLen, Iface: idx, Link: s.ifaces[idx].Link}
	return body[4 : 4+capLen], info, nil
}

// ngBlockName names a block type in errors.
func ngBlockName(typ uint32) string {
	switch typ {
	case ngBlockSHB:
		return "section header block"
	case ngBlockIDB:
		return "interface description block"
	case ngBlockEPB:
		return "enhanced packet block"
	case ngBlockSPB:
		return "simple packet block"
	case ngBlockOPB:
		return "packet block"
	}
	return fmt.Sprintf("block of type %#x", typ)
}

// nanos converts a timestamp in the interface's units to Unix nanoseconds.
func (c *ifaceConv) nanos(units uint64) int64 {
	if c.tsMul != 0 {
		return int64(units)*c.tsMul + c.tsOff
	}
	sec, rem := units/c.tsDiv, units%c.tsDiv
	hi, lo := bits.Mul64(rem, 1e9)
	frac, _ := bits.Div64(hi, lo, c.tsDiv) // hi < tsDiv since rem < tsDiv
	return int64(sec)*1e9 + int64(frac) + c.tsOff
}
