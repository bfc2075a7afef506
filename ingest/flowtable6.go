package ingest

import (
	"encoding/binary"
	"unsafe"

	"github.com/flowsql/flowsql/columnar"
)

// key6 is an IPv6 flow key after orientation. Addresses are held as two
// little-endian loads of their 16 bytes each, which the hash and the
// comparison use directly; appendTo turns them back into bytes.
type key6 struct {
	s0, s1, d0, d1 uint64
	dport          uint16
	proto          uint8
}

// entry6 is 72 bytes: key (35, padded to 40) and counters (32).
type entry6 struct {
	k key6
	c counters
}

func words(a *[16]byte) (uint64, uint64) {
	return binary.LittleEndian.Uint64(a[:8]), binary.LittleEndian.Uint64(a[8:])
}

func hash6(k *key6, seed uint64) uint64 {
	h1 := mix(k.s0^seed^hk0, k.s1^hk1)
	h2 := mix(k.d0^seed^hk2, k.d1^hk3)
	return mix(h1^hk1^(uint64(k.dport)<<8|uint64(k.proto)), h2^hk0)
}

func (k *key6) equal(o *key6) bool {
	return k.s0 == o.s0 && k.s1 == o.s1 && k.d0 == o.d0 && k.d1 == o.d1 &&
		k.dport == o.dport && k.proto == o.proto
}

// table6 holds the IPv6 flows of one block; see table4.
type table6 struct {
	index
	chunks []*[chunkLen]entry6
}

func (t *table6) entry(j int) *entry6 {
	return &t.chunks[j>>chunkShift][j&chunkMask]
}

// find returns the entry of k, whose hash is h, or nil and the empty slot
// where k would be inserted. REQUIRES: the index is allocated.
func (t *table6) find(k *key6, h uint64) (*entry6, uint32) {
	m := t.mask
	tag := uint32(h) &^ m
	i := t.home(h)
	for {
		s := t.slots[i]
		if s == 0 {
			return nil, i
		}
		if s&^m == tag {
			e := t.entry(int(s&m) - 1)
			if e.k.equal(k) {
				return e, 0
			}
		}
		i = (i + 1) & m
	}
}

// lookup is find for tables that may be empty (the previous block's).
func (t *table6) lookup(k *key6, h uint64) *entry6 {
	if t.n == 0 {
		return nil
	}
	e, _ := t.find(k, h)
	return e
}

// insert adds k at slot pos, returned by find with no index change since.
// It returns nil when the table holds maxFlows entries.
func (t *table6) insert(pos uint32, k *key6, h uint64) *entry6 {
	j := t.n
	if j >= maxFlows {
		return nil
	}
	if j>>chunkShift == len(t.chunks) {
		t.chunks = append(t.chunks, new([chunkLen]entry6))
	}
	e := t.entry(j)
	*e = entry6{k: *k}
	t.set(pos, h, j)
	t.n++
	return e
}

// grow doubles the index (or allocates the first one) and re-places every
// entry.
func (t *table6) grow() {
	b := t.bits() + 1
	if b < minIndexBits {
		b = minIndexBits
	}
	if b > maxIndexBits {
		return
	}
	t.alloc(b)
	for j := 0; j < t.n; j++ {
		t.place(hash6(&t.entry(j).k, t.seed), j)
	}
}

// reset empties the table for reuse, keeping (or shrinking) its memory.
func (t *table6) reset() {
	b := t.resetBits()
	if b > 0 {
		t.alloc(b)
		keep := (loadLimit(b) + chunkMask) >> chunkShift
		if len(t.chunks) > keep {
			clear(t.chunks[keep:])
			t.chunks = t.chunks[:keep]
		}
	}
	t.n = 0
}

func (t *table6) memBytes() int {
	return t.index.memBytes() + len(t.chunks)*int(unsafe.Sizeof([chunkLen]entry6{})) +
		cap(t.chunks)*int(unsafe.Sizeof((*[chunkLen]entry6)(nil)))
}

// appendTo appends the table's flows to b in insertion order.
func (t *table6) appendTo(b *columnar.Block) {
	for j := 0; j < t.n; j++ {
		e := t.entry(j)
		b.Append(addr6(e.k.s0, e.k.s1), addr6(e.k.d0, e.k.d1), e.k.dport, e.k.proto,
			e.c.bytesIn, e.c.bytesOut, e.c.packetsIn, e.c.packetsOut)
	}
}

func addr6(w0, w1 uint64) [16]byte {
	var r [16]byte
	binary.LittleEndian.PutUint64(r[:8], w0)
	binary.LittleEndian.PutUint64(r[8:], w1)
	return r
}
