package ingest

// IP and transport decoding.

// IP protocol numbers the decoder treats specially.
const (
	protoICMP      = 1
	protoTCP       = 6
	protoUDP       = 17
	protoICMPv6    = 58
	ipv6HopByHop   = 0
	ipv6Routing    = 43
	ipv6Fragment   = 44
	ipv6DstOptions = 60

	ipv4MinHeaderLen = 20
	ipv6HeaderLen    = 40
	ipv6FragHdrLen   = 8
	tcpNeeded        = 14 // ports, seq, ack, data offset, flags
	udpNeeded        = 4  // ports
	icmpNeeded       = 1  // type
	ipv4FlagMF       = 0x2000
	ipv4FragOffMask  = 0x1fff
)

// decodeIPv4 decodes an IPv4 header at the start of b.
//
// The header must be complete in the captured bytes (IHL >= 5, version 4)
// and the total length, when not 0, must cover it; otherwise the frame is
// a parse error, as tshark also refuses such headers. A total length of 0
// (TSO captures) means "up to the captured end". Bytes past the total
// length (Ethernet padding) are never read as transport.
func (d *Decoder) decodeIPv4(b []byte, ts int64, p *Packet) Result {
	if len(b) < ipv4MinHeaderLen || b[0]>>4 != 4 {
		return ResultParseError
	}
	hl := int(b[0]&0x0f) << 2
	if hl < ipv4MinHeaderLen || hl > len(b) {
		return ResultParseError
	}
	end := len(b)
	if total := int(b[2])<<8 | int(b[3]); total != 0 {
		if total < hl {
			return ResultParseError
		}
		end = min(end, total)
	}
	p.IPv4 = true
	// IPv4-mapped form; Decode zeroed the first 10 bytes.
	p.Src[10], p.Src[11], p.Dst[10], p.Dst[11] = 0xff, 0xff, 0xff, 0xff
	copy(p.Src[12:], b[12:16])
	copy(p.Dst[12:], b[16:20])
	proto := b[9]
	p.Proto = proto
	frag := uint16(b[6])<<8 | uint16(b[7])
	if frag&(ipv4FlagMF|ipv4FragOffMask) == 0 { // common case: not a fragment
		p.readTransport(proto, b[hl:end])
		return ResultIP
	}
	id := uint64(b[4])<<8 | uint64(b[5])
	if frag&ipv4FragOffMask != 0 {
		d.frags.lookup(p, proto, id, ts)
		return ResultIP
	}
	p.readTransport(proto, b[hl:end]) // first fragment: offset 0, MF set
	d.frags.remember(p, proto, id, ts)
	return ResultIP
}

// decodeIPv6 decodes an IPv6 header at the start of b and walks the
// extension-header chain (hop-by-hop, routing, fragment, destination
// options) to the protocol. Any other Next Header value ends the walk and
// is the protocol (AH 51, ESP 50, mobility 135, no-next 59 included). When
// the chain is cut by the captured end or the payload length, the last Next
// Header value read is the protocol and no transport is read. A payload
// length of 0 (jumbograms, TSO) means "up to the captured end".
func (d *Decoder) decodeIPv6(b []byte, ts int64, p *Packet) Result {
	if len(b) < ipv6HeaderLen || b[0]>>4 != 6 {
		return ResultParseError
	}
	end := len(b)
	if plen := int(b[4])<<8 | int(b[5]); plen != 0 {
		end = min(end, ipv6HeaderLen+plen)
	}
	p.Src = [16]byte(b[8:24])
	p.Dst = [16]byte(b[24:40])
	nh := b[6]
	off := ipv6HeaderLen
	var (
		fragFirst bool
		fragID    uint64
		fragProto uint8
	)
walk:
	for {
		switch nh {
		case ipv6HopByHop, ipv6Routing, ipv6DstOptions:
			if off >= end {
				break walk // cut before the header: nh stands
			}
			next := b[off]
			if off+2 > end {
				nh, off = next, end
				break walk
			}
			l := (int(b[off+1]) + 1) << 3
			nh = next
			if off+l > end {
				off = end
				break walk
			}
			off += l
		case ipv6Fragment:
			if off >= end {
				break walk
			}
			if off+ipv6FragHdrLen > end {
				nh, off = b[off], end
				break walk
			}
			h := b[off : off+ipv6FragHdrLen]
			nh = h[0]
			offMF := uint16(h[2])<<8 | uint16(h[3])
			id := fragIDv6 | uint64(h[4])<<24 | uint64(h[5])<<16 | uint64(h[6])<<8 | uint64(h[7])
			off += ipv6FragHdrLen
			if offMF&^7 != 0 { // non-first fragment: nothing to read past here
				p.Proto = nh
				d.frags.lookup(p, nh, id, ts)
				return ResultIP
			}
			if offMF&1 != 0 { // first fragment; atomic fragments need no table
				fragFirst, fragID, fragProto = true, id, nh
			}
		default:
			break walk
		}
	}
	p.Proto = nh
	if off < end {
		p.readTransport(nh, b[off:end])
	}
	if fragFirst {
		d.frags.remember(p, fragProto, fragID, ts)
	}
	return ResultIP
}

// readTransport reads ports, TCP flags or the ICMP type from t, the bytes
// that follow the IP header(s) within the IP length. Ports stay 0 unless
// the protocol is TCP or UDP and enough bytes were captured.
func (p *Packet) readTransport(proto uint8, t []byte) {
	switch proto {
	case protoTCP:
		if len(t) >= tcpNeeded {
			p.SrcPort = uint16(t[0])<<8 | uint16(t[1])
			p.DstPort = uint16(t[2])<<8 | uint16(t[3])
			p.TCPFlags = t[13]
			p.HasTransport = true
		}
	case protoUDP:
		if len(t) >= udpNeeded {
			p.SrcPort = uint16(t[0])<<8 | uint16(t[1])
			p.DstPort = uint16(t[2])<<8 | uint16(t[3])
			p.HasTransport = true
		}
	case protoICMP, protoICMPv6:
		if len(t) >= icmpNeeded {
			p.ICMPType = t[0]
			p.HasTransport = true
		}
	}
}
