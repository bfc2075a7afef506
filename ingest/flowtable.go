package ingest

import "math/bits"

// The flow table is the hot path of ingestion: every IP packet does one or
// two lookups in it. It is a custom open-addressing hash table, one per IP
// family and per block, in two parts:
//
//	index   []uint32                2^b slots, linear probing, load <= 3/4
//	entries []*[chunkLen]entry      dense, in insertion order, never moved
//
//	slot:  ┌────────────────────────────┬──────────────────┐
//	       │ tag: bits b..31 of hash    │ entry number + 1 │   0 = empty
//	       │ (32-b bits)                │ (b bits)         │
//	       └────────────────────────────┴──────────────────┘
//
// A key's probe sequence starts at the top b bits of its 64-bit hash. The
// tag lets most probes that meet another key go on without touching that
// key's entry (a cache miss at large sizes).
//
// Entries live in fixed-size chunks: growth never copies them (pointers to
// counters stay valid and there is no latency spike), waste is under one
// chunk, export at rotation is a linear scan in insertion order, and reset
// clears only the index. An IPv4 entry is 48 bytes and the index adds 5.3
// to 10.7 bytes per flow, so a table holds a flow in about 54 to 60 bytes.

const (
	chunkShift = 8
	chunkLen   = 1 << chunkShift // entries per chunk
	chunkMask  = chunkLen - 1

	minIndexBits = 4  // smallest index: 16 slots
	maxIndexBits = 31 // entry number+1 must fit below the tag

	// maxFlows bounds the entries of one table (one IP family, one block).
	// Packets of new flows beyond it are counted as overflow, not stored.
	maxFlows = 1 << 30
)

// counters are a flow's totals as seen from the interface (DESIGN §2).
type counters struct {
	bytesIn, bytesOut     uint64
	packetsIn, packetsOut uint64
}

// add counts one packet of n bytes, sent by this host when out is set.
func (c *counters) add(n uint64, out bool) {
	if out {
		c.bytesOut += n
		c.packetsOut++
	} else {
		c.bytesIn += n
		c.packetsIn++
	}
}

// Hash constants: odd 64-bit values with well-spread bits.
const (
	hk0 = 0xa0761d6478bd642f
	hk1 = 0xe7037ed1a0b428db
	hk2 = 0x8ebc6af09c88c6e3
	hk3 = 0x589965cc75374cc3
)

// mix folds the 128-bit product of a and b into 64 bits (the multiply-fold
// step of wyhash-style hashes): one MUL on amd64 and arm64.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// index is the slot array shared by the IPv4 and IPv6 tables.
type index struct {
	slots  []uint32
	mask   uint32 // len(slots)-1; also the entry-number field of a slot
	shift  uint8  // 64 - bits: the slot position is hash >> shift
	growAt int    // grow the index before inserting entry number growAt
	n      int    // entries in use
	seed   uint64 // per-aggregator hash seed, so flows cannot be crafted to collide
}

// indexBitsFor returns the smallest number of index bits whose table holds
// n entries below the maximum load.
func indexBitsFor(n int) uint8 {
	b := uint8(minIndexBits)
	for b < maxIndexBits && loadLimit(b) <= n {
		b++
	}
	return b
}

// loadLimit is the number of entries a 2^b-slot index holds (3/4 load), and
// never more than maxFlows.
func loadLimit(b uint8) int {
	return min(3<<b>>2, maxFlows)
}

// alloc replaces the slots with an empty array of 2^b slots.
func (x *index) alloc(b uint8) {
	if x.bits() == b && len(x.slots) > 0 {
		clear(x.slots)
	} else {
		x.slots = make([]uint32, 1<<b)
	}
	x.mask = 1<<b - 1
	x.shift = 64 - b
	x.growAt = loadLimit(b)
}

func (x *index) bits() uint8 {
	if len(x.slots) == 0 {
		return 0
	}
	return 64 - x.shift
}

// home is the first slot position of hash h's probe sequence.
func (x *index) home(h uint64) uint32 { return uint32(h>>x.shift) & x.mask }

// place records entry number j with hash h in the first empty slot of its
// probe sequence. REQUIRES: the key is not in the index and a slot is free.
func (x *index) place(h uint64, j int) {
	m := x.mask
	i := x.home(h)
	for x.slots[i] != 0 {
		i = (i + 1) & m
	}
	x.slots[i] = uint32(h)&^m | uint32(j+1)
}

// set fills slot pos, returned empty by a find, with entry number j.
func (x *index) set(pos uint32, h uint64, j int) {
	x.slots[pos&x.mask] = uint32(h)&^x.mask | uint32(j+1)
}

// full reports whether the next insertion needs a bigger index first.
func (x *index) full() bool { return x.n >= x.growAt }

// resetBits returns the index size to use when a table that held x.n
// entries is reused: the same size, unless that block used under 1/8 of it,
// in which case the index shrinks to fit twice as many entries (so one burst
// of flows does not pin memory for ever).
func (x *index) resetBits() uint8 {
	b := x.bits()
	if b > minIndexBits && x.n < x.growAt/8 {
		return indexBitsFor(2 * x.n)
	}
	return b
}

func (x *index) memBytes() int { return cap(x.slots) * 4 }
