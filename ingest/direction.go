package ingest

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/flowsql/flowsql/capture"
)

// Direction counters (DESIGN §2): `out` = sent by this host, `in` =
// received. For each packet, in order:
//
//  1. the packet's own direction (Packet.Dir: live capture's packet type,
//     SLL/SLL2 packet type) when known;
//  2. else the local networks (--local) when configured: a packet from a
//     local address to a non-local one is out, the reverse is in;
//  3. else — and when both or neither address is local — the client's
//     view: packets from sip to dip are out.

// outbound reports whether a packet counts as sent by this host, given its
// direction, whether its sender is the flow's client and what the local
// networks say (side: +1 only the source is local, -1 only the destination,
// 0 neither or both or no local networks).
func outbound(dir capture.Direction, fromClient bool, side int8) bool {
	switch dir {
	case capture.DirOutbound:
		return true
	case capture.DirInbound:
		return false
	}
	if side != 0 {
		return side > 0
	}
	return fromClient
}

// LocalNets is a set of address prefixes that belong to the capturing host
// (the --local option). It is immutable once parsed and safe for concurrent
// use. A nil *LocalNets, like the zero value, is the empty set: no address
// is local. Matching allocates nothing.
type LocalNets struct {
	v4 []net4
	v6 []net6
}

type net4 struct{ addr, mask uint32 }

// net6 holds a prefix as the two little-endian words of its 16 bytes, the
// layout key6 uses.
type net6 struct{ a0, a1, m0, m1 uint64 }

// ParseLocalNets parses a comma-separated list of CIDR prefixes or single
// addresses, IPv4 or IPv6, e.g. "10.0.0.0/8,192.168.1.7,2001:db8::/32".
// Spaces around entries are ignored; host bits of a prefix are cleared
// (10.1.2.3/8 is 10.0.0.0/8); IPv4-mapped IPv6 prefixes of length 96 and up
// are taken as IPv4. An empty or blank string gives the empty set. Errors
// wrap ErrBadLocalNet and name the entry and its position.
func ParseLocalNets(s string) (*LocalNets, error) {
	l := &LocalNets{}
	if strings.TrimSpace(s) == "" {
		return l, nil
	}
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		p, err := parseLocalNet(item)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d %q: %v", ErrBadLocalNet, i+1, item, err)
		}
		l.add(p)
	}
	return l, nil
}

func parseLocalNet(item string) (netip.Prefix, error) {
	if item == "" {
		return netip.Prefix{}, fmt.Errorf("empty entry")
	}
	if strings.Contains(item, "/") {
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(item)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("zone %q not allowed", a.Zone())
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (l *LocalNets) add(p netip.Prefix) {
	a, bits := p.Addr(), p.Bits()
	if a.Is4In6() && bits >= 96 {
		a, bits = a.Unmap(), bits-96
	}
	if a.Is4() {
		b := a.As4()
		mask := uint32(0)
		if bits > 0 {
			mask = ^uint32(0) << (32 - bits)
		}
		l.v4 = append(l.v4, net4{addr: binary.BigEndian.Uint32(b[:]) & mask, mask: mask})
		return
	}
	var m [16]byte
	for i := 0; i < bits; i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	b := a.As16()
	a0, a1 := words(&b)
	m0, m1 := words(&m)
	l.v6 = append(l.v6, net6{a0: a0 & m0, a1: a1 & m1, m0: m0, m1: m1})
}

// Contains reports whether the address, in 16-byte form with IPv4
// IPv4-mapped (as Packet.Src), is in one of the prefixes.
func (l *LocalNets) Contains(a [16]byte) bool {
	if l == nil {
		return false
	}
	if isMapped4(&a) {
		return l.contains4(binary.BigEndian.Uint32(a[12:]))
	}
	w0, w1 := words(&a)
	return l.contains6(w0, w1)
}

// Empty reports whether the set has no prefix.
func (l *LocalNets) Empty() bool { return l == nil || len(l.v4)+len(l.v6) == 0 }

// String lists the prefixes in canonical form, in the order given, as
// ParseLocalNets reads them back.
func (l *LocalNets) String() string {
	if l == nil {
		return ""
	}
	var sb strings.Builder
	for _, n := range l.v4 {
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], n.addr)
		fmt.Fprintf(&sb, "%s/%d", netip.AddrFrom4(b), ones32(n.mask))
	}
	for _, n := range l.v6 {
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "%s/%d", netip.AddrFrom16(addr6(n.a0, n.a1)), ones64(n.m0)+ones64(n.m1))
	}
	return sb.String()
}

func ones32(m uint32) int {
	n := 0
	for ; m != 0; m <<= 1 {
		n++
	}
	return n
}

func ones64(m uint64) int {
	n := 0
	for ; m != 0; m &= m - 1 {
		n++
	}
	return n
}

func (l *LocalNets) contains4(a uint32) bool {
	for _, n := range l.v4 {
		if a&n.mask == n.addr {
			return true
		}
	}
	return false
}

func (l *LocalNets) contains6(w0, w1 uint64) bool {
	for _, n := range l.v6 {
		if w0&n.m0 == n.a0 && w1&n.m1 == n.a1 {
			return true
		}
	}
	return false
}

// side4 says which end of an IPv4 packet is local: +1 only the source, -1
// only the destination, 0 neither, both, or no local networks.
func (l *LocalNets) side4(src, dst uint32) int8 {
	if l == nil || len(l.v4) == 0 {
		return 0
	}
	return side(l.contains4(src), l.contains4(dst))
}

// side6 is side4 for IPv6 keys.
func (l *LocalNets) side6(k *key6) int8 {
	if l == nil || len(l.v6) == 0 {
		return 0
	}
	return side(l.contains6(k.s0, k.s1), l.contains6(k.d0, k.d1))
}

func side(srcLocal, dstLocal bool) int8 {
	switch {
	case srcLocal && !dstLocal:
		return 1
	case dstLocal && !srcLocal:
		return -1
	}
	return 0
}

// isMapped4 reports whether a is an IPv4-mapped IPv6 address.
func isMapped4(a *[16]byte) bool {
	return binary.LittleEndian.Uint64(a[:8]) == 0 &&
		binary.LittleEndian.Uint32(a[8:12]) == 0xffff0000
}
