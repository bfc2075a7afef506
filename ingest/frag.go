package ingest

import (
	"math/bits"
	"math/rand/v2"
	"time"
)

// The fragment table remembers the ports of recently seen first fragments
// so that the datagram's later fragments count in the same flow (DESIGN §2).
//
// It is a fixed array of sets of fragWays entries, allocated once. A key
// (src, dst, protocol, fragment id) hashes to one set; an insert overwrites
// the same key, else an empty or expired entry, else the set's oldest
// entry. Nothing is ever allocated per packet and memory stays bounded
// whatever the traffic; under pressure the oldest datagrams lose their
// ports (their later fragments count with port 0), which is also what
// happens when fragments arrive before their first fragment: the decoder
// does no reassembly and never holds packets back.
//
// The protocol in the key is the one every fragment carries: IPv4's
// protocol field, or the Next Header of the IPv6 Fragment header. The value
// keeps the ports and the protocol found after walking the first
// fragment's remaining IPv6 extension headers.
//
// Compared with tshark, which does no reassembly and always gives
// non-first fragments port 0, the per-5-tuple counts of fragmented
// datagrams differ (their later fragments are in the datagram's row here,
// in a port-0 row there) while the sums per address pair and protocol
// agree; decode_oracle_test.go checks both, and that with the table
// disabled the 5-tuples agree exactly.
//
// The hash is seeded per table, so crafted fragment ids cannot target one
// set across runs.

const fragWays = 4 // entries per set

// fragIDv6 is ORed into IPv6 fragment ids so that an IPv6 datagram between
// IPv4-mapped addresses never matches an IPv4 one.
const fragIDv6 = 1 << 32

// fragEntry is one remembered first fragment.
type fragEntry struct {
	src, dst         [16]byte
	id               uint64 // fragment id, | fragIDv6 for IPv6
	keyProto         uint8  // protocol carried by every fragment
	proto            uint8  // protocol of the datagram (IPv6: after ext headers)
	used             bool
	srcPort, dstPort uint16
	seen             int64  // timestamp of the first fragment, Unix ns
	stamp            uint64 // insertion order, for replacing the oldest
}

// fragTable is a bounded set-associative table of fragEntry.
type fragTable struct {
	entries []fragEntry // len is a power of two, multiple of fragWays
	mask    uint64      // number of sets - 1
	timeout int64       // ns; <= 0 means entries never expire
	seed0   uint64
	seed1   uint64
	clock   uint64 // insertions so far
}

// init sizes the table; size <= 0 means the default, < 0 disables it.
func (t *fragTable) init(size int, timeout time.Duration) {
	if size < 0 {
		return
	}
	if size == 0 {
		size = DefaultFragmentTableSize
	}
	sets := (size + fragWays - 1) / fragWays
	sets = 1 << bits.Len(uint(sets-1)) // round up to a power of two
	t.entries = make([]fragEntry, sets*fragWays)
	t.mask = uint64(sets - 1)
	switch {
	case timeout == 0:
		t.timeout = int64(DefaultFragmentTimeout)
	case timeout > 0:
		t.timeout = int64(timeout)
	}
	t.seed0, t.seed1 = rand.Uint64(), rand.Uint64()
}

// set returns the entries of the set that key (src, dst, proto, id) maps to.
func (t *fragTable) set(src, dst *[16]byte, proto uint8, id uint64) []fragEntry {
	a := leUint64(src[:8]) ^ leUint64(dst[8:])
	b := leUint64(src[8:]) ^ bits.RotateLeft64(leUint64(dst[:8]), 32)
	c := id<<8 | uint64(proto)
	h1, l1 := bits.Mul64(a^t.seed0, b^0x9e3779b97f4a7c15)
	h2, l2 := bits.Mul64(c^t.seed1, h1^l1^0xbf58476d1ce4e5b9)
	h := h2 ^ l2
	h ^= h >> 33 // finalizer: the low bits used below depend on every input bit
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	s := (h & t.mask) * fragWays
	return t.entries[s : s+fragWays : s+fragWays]
}

func leUint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// matches reports whether e holds key (src, dst, proto, id).
func (e *fragEntry) matches(p *Packet, proto uint8, id uint64) bool {
	return e.used && e.id == id && e.keyProto == proto && e.src == p.Src && e.dst == p.Dst
}

// expired reports whether e is too old to be used at time now.
func (t *fragTable) expired(e *fragEntry, now int64) bool {
	return t.timeout > 0 && now-e.seen > t.timeout
}

// remember stores the ports of a first fragment just decoded into p, keyed
// by its addresses, keyProto (the protocol every fragment carries) and id
// (with fragIDv6 for IPv6).
// It stores nothing when p has no ports (not TCP/UDP, or header cut).
func (t *fragTable) remember(p *Packet, keyProto uint8, id uint64, now int64) {
	if len(t.entries) == 0 || !p.HasTransport || (p.Proto != protoTCP && p.Proto != protoUDP) {
		return
	}
	set := t.set(&p.Src, &p.Dst, keyProto, id)
	victim := -1
	for i := range set { // the same datagram again (a duplicate first fragment)
		if set[i].matches(p, keyProto, id) {
			victim = i
			break
		}
	}
	if victim < 0 {
		victim = 0
		for i := range set { // a free or expired entry, else the oldest one
			e := &set[i]
			if !e.used || t.expired(e, now) {
				victim = i
				break
			}
			if e.stamp < set[victim].stamp {
				victim = i
			}
		}
	}
	t.clock++
	set[victim] = fragEntry{
		src: p.Src, dst: p.Dst, id: id, keyProto: keyProto, proto: p.Proto, used: true,
		srcPort: p.SrcPort, dstPort: p.DstPort, seen: now, stamp: t.clock,
	}
}

// lookup gives p, a non-first fragment already holding its addresses and
// keyProto as p.Proto, the ports and protocol of its first fragment when
// the table has it; otherwise p is left with port 0.
func (t *fragTable) lookup(p *Packet, keyProto uint8, id uint64, now int64) {
	if len(t.entries) == 0 {
		return
	}
	set := t.set(&p.Src, &p.Dst, keyProto, id)
	for i := range set {
		e := &set[i]
		if e.matches(p, keyProto, id) {
			if t.expired(e, now) {
				return
			}
			p.Proto, p.SrcPort, p.DstPort = e.proto, e.srcPort, e.dstPort
			return
		}
	}
}
