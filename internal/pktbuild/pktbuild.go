// Package pktbuild builds network frames, byte for byte, for tests: link
// layers (Ethernet, 802.1Q/802.1ad tags, PPPoE, MPLS, Linux SLL/SLL2, BSD
// NULL/LOOP, or none for raw IP), IPv4 (options, fragments) and IPv6
// (extension headers, fragments, AH, ESP), and TCP, UDP, ICMP, ICMPv6 or
// any payload.
//
// A frame is a list of layers, outermost first:
//
//	frame, err := pktbuild.Build(
//		pktbuild.Ethernet{},
//		pktbuild.VLAN{ID: 10},
//		pktbuild.IPv4{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2")},
//		pktbuild.TCP{SrcPort: 40000, DstPort: 443, Flags: pktbuild.SYN},
//		pktbuild.Payload("hello"),
//	)
//
// Fields left zero get sensible values: type fields (EtherType, SLL
// protocol, PPP protocol, IP protocol, IPv6 Next Header, NULL family) are
// taken from the next layer, lengths and checksums (IPv4 header, TCP, UDP,
// ICMP, ICMPv6 with the pseudo-header of the nearest IP layer before them)
// are computed, TTL and hop limit are 64. Fields that exist to make
// malformed frames (IPv4.IHL, IPv4.TotalLength, IPv6.PayloadLength) are
// written as given when non-zero. Frames that need other damage are built
// and then cut or patched by the test.
//
// Build checks what it cannot encode (an IPv6 address in an IPv4 header,
// too long options, out-of-range labels or offsets) and returns an error
// wrapping ErrInvalid; MustBuild panics instead, for table-driven tests.
package pktbuild

import (
	"fmt"
	"net/netip"
)

// Layer is one protocol header (or payload) of a frame. It is implemented
// by the types of this package only.
type Layer interface {
	// encode returns the layer's bytes followed by payload, the already
	// encoded layers after it.
	encode(c *context, payload []byte) ([]byte, error)
}

// context tells a layer about its neighbours while it is encoded.
type context struct {
	next Layer // the layer after this one, nil for the last
	// ipVersion (4 or 6, 0 for none), src and dst describe the nearest IP
	// layer before this one, for pseudo-header checksums.
	ipVersion int
	src, dst  netip.Addr
}

// etherTyper is a layer that can follow an EtherType field.
type etherTyper interface{ etherType() uint16 }

// ipProtoer is a layer that can follow an IP protocol / Next Header field.
type ipProtoer interface{ ipProto() uint8 }

// Build encodes layers, outermost first, into one frame.
func Build(layers ...Layer) ([]byte, error) {
	return build(layers, context{})
}

// MustBuild is Build for tests: it panics when Build fails.
func MustBuild(layers ...Layer) []byte {
	b, err := Build(layers...)
	if err != nil {
		panic(err)
	}
	return b
}

// build encodes layers; outer describes an IP header in front of them
// (for checksums of a datagram built apart from its header).
func build(layers []Layer, outer context) ([]byte, error) {
	ctxs := make([]context, len(layers))
	for i, l := range layers {
		ctxs[i] = outer
		ctxs[i].next = nil
		if i+1 < len(layers) {
			ctxs[i].next = layers[i+1]
		}
		switch ip := l.(type) {
		case IPv4:
			outer = context{ipVersion: 4, src: ip.Src, dst: ip.Dst}
		case IPv6:
			outer = context{ipVersion: 6, src: ip.Src, dst: ip.Dst}
		}
	}
	var out []byte
	for i := len(layers) - 1; i >= 0; i-- {
		if layers[i] == nil {
			return nil, fmt.Errorf("pktbuild: layer %d is nil: %w", i, ErrInvalid)
		}
		b, err := layers[i].encode(&ctxs[i], out)
		if err != nil {
			return nil, fmt.Errorf("pktbuild: layer %d (%T): %w", i, layers[i], err)
		}
		out = b
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// nextEtherType is the EtherType of c.next, or an error naming the field
// the caller should set.
func nextEtherType(c *context, field string) (uint16, error) {
	if n, ok := c.next.(etherTyper); ok {
		return n.etherType(), nil
	}
	return 0, fmt.Errorf("cannot infer %s from next layer %T; set it: %w", field, c.next, ErrInvalid)
}

// nextIPProto is the IP protocol number of c.next.
func nextIPProto(c *context, field string) (uint8, error) {
	if n, ok := c.next.(ipProtoer); ok {
		return n.ipProto(), nil
	}
	return 0, fmt.Errorf("cannot infer %s from next layer %T; set it: %w", field, c.next, ErrInvalid)
}

// prepend returns hdr followed by payload in a new slice.
func prepend(hdr, payload []byte) []byte {
	out := make([]byte, 0, len(hdr)+len(payload))
	return append(append(out, hdr...), payload...)
}

// be16 / be32 write big-endian values.
func be16(b []byte, v uint16) { b[0], b[1] = byte(v>>8), byte(v) }
func be32(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v) }

// Payload is raw bytes: application data, or the body of a protocol this
// package has no layer for (set the type field of the layer before it).
type Payload []byte

func (p Payload) encode(_ *context, payload []byte) ([]byte, error) {
	return prepend(p, payload), nil
}
