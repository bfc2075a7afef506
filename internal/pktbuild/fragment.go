package pktbuild

import "fmt"

// Datagram is an IP datagram to be cut into fragments.
type Datagram struct {
	Link []Layer // layers in front of the IP header (none for raw IP)
	// IP is the header template, an IPv4 or IPv6 value. Its fragment
	// fields (IPv4 ID, MF, FragOffset; IPv6 NextHeader) are set per
	// fragment; IPv4's Proto, when zero, comes from Upper.
	IP Layer
	// Unfragmentable are IPv6 extension headers (hop-by-hop, routing)
	// repeated in every fragment in front of the Fragment header.
	Unfragmentable []Layer
	ID             uint32  // identification; IPv4 uses the low 16 bits
	Upper          []Layer // what the datagram carries: transport header, payload
}

// Fragments builds one frame per fragment, in offset order, each carrying
// at most size bytes of the datagram's payload (size is rounded down to a
// multiple of 8, and at least 8). The transport checksum is computed over
// the whole datagram, as a real sender does. A payload that fits in size
// still yields one frame with a Fragment header (IPv6) or the fragment
// fields clear (IPv4). Tests reorder or drop the frames as they need.
func (d Datagram) Fragments(size int) ([][]byte, error) {
	size = max(size/8*8, 8)
	var outer context
	switch ip := d.IP.(type) {
	case IPv4:
		outer = context{ipVersion: 4, src: ip.Src, dst: ip.Dst}
	case IPv6:
		outer = context{ipVersion: 6, src: ip.Src, dst: ip.Dst}
	default:
		return nil, fmt.Errorf("pktbuild: Datagram.IP is %T, want IPv4 or IPv6: %w", d.IP, ErrInvalid)
	}
	body, err := build(d.Upper, outer)
	if err != nil {
		return nil, err
	}
	var proto uint8
	if len(d.Upper) > 0 {
		if p, ok := d.Upper[0].(ipProtoer); ok {
			proto = p.ipProto()
		}
	}
	var frames [][]byte
	for off := 0; off < len(body) || off == 0; off += size {
		end := min(off+size, len(body))
		more := end < len(body)
		layers := append([]Layer(nil), d.Link...)
		switch ip := d.IP.(type) {
		case IPv4:
			ip.ID, ip.FragOffset, ip.MF = uint16(d.ID), uint16(off/8), more
			if ip.Proto == 0 {
				ip.Proto = proto
			}
			layers = append(layers, ip)
		case IPv6:
			ip.NextHeader = 0
			layers = append(layers, ip)
			layers = append(layers, d.Unfragmentable...)
			layers = append(layers, IPv6Frag{NextHeader: cmp0(proto, ProtoNoNext), Offset: uint16(off / 8), More: more, ID: d.ID})
		}
		layers = append(layers, Payload(body[off:end]))
		f, err := Build(layers...)
		if err != nil {
			return nil, err
		}
		frames = append(frames, f)
		if end == len(body) {
			break
		}
	}
	return frames, nil
}
