package ingest

import (
	"encoding/binary"
	"unsafe"

	"github.com/flowsql/flowsql/columnar"
)

// key4 is an IPv4 flow key after orientation: 11 bytes of data, 12 in
// memory. The zero value is the key 0.0.0.0 -> 0.0.0.0 port 0, protocol 0.
type key4 struct {
	sip, dip uint32 // big-endian address values
	dport    uint16
	proto    uint8
}

// entry4 is 48 bytes: key (12, padded to 16) and counters (32).
type entry4 struct {
	k key4
	c counters
}

func hash4(k key4, seed uint64) uint64 {
	a := uint64(k.sip)<<32 | uint64(k.dip)
	b := uint64(k.dport)<<8 | uint64(k.proto)
	return mix(a^seed^hk0, b^hk1)
}

// table4 holds the IPv4 flows of one block.
type table4 struct {
	index
	chunks []*[chunkLen]entry4 // chunks beyond the used ones are kept for reuse
}

func (t *table4) entry(j int) *entry4 {
	return &t.chunks[j>>chunkShift][j&chunkMask]
}

// find returns the entry of k, whose hash is h, or nil and the empty slot
// where k would be inserted. REQUIRES: the index is allocated.
func (t *table4) find(k key4, h uint64) (*entry4, uint32) {
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
			if e.k == k {
				return e, 0
			}
		}
		i = (i + 1) & m
	}
}

// lookup is find for tables that may be empty (the previous block's).
func (t *table4) lookup(k key4, h uint64) *entry4 {
	if t.n == 0 {
		return nil
	}
	e, _ := t.find(k, h)
	return e
}

// insert adds k at slot pos, returned by find with no index change since.
// It returns nil when the table holds maxFlows entries.
func (t *table4) insert(pos uint32, k key4, h uint64) *entry4 {
	j := t.n
	if j >= maxFlows {
		return nil
	}
	if j>>chunkShift == len(t.chunks) {
		t.chunks = append(t.chunks, new([chunkLen]entry4))
	}
	e := t.entry(j)
	*e = entry4{k: k}
	t.set(pos, h, j)
	t.n++
	return e
}

// grow doubles the index (or allocates the first one) and re-places every
// entry. The entries themselves do not move.
func (t *table4) grow() {
	b := t.bits() + 1
	if b < minIndexBits {
		b = minIndexBits
	}
	if b > maxIndexBits {
		return // at maxFlows; insert refuses from here on
	}
	t.alloc(b)
	for j := 0; j < t.n; j++ {
		t.place(hash4(t.entry(j).k, t.seed), j)
	}
}

// reset empties the table for reuse, keeping (or shrinking) its memory.
func (t *table4) reset() {
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

// memBytes is the memory the table holds: index, entry chunks and the
// chunk pointer array.
func (t *table4) memBytes() int {
	return t.index.memBytes() + len(t.chunks)*int(unsafe.Sizeof([chunkLen]entry4{})) +
		cap(t.chunks)*int(unsafe.Sizeof((*[chunkLen]entry4)(nil)))
}

// appendTo appends the table's flows to b in insertion order.
func (t *table4) appendTo(b *columnar.Block) {
	for j := 0; j < t.n; j++ {
		e := t.entry(j)
		b.Append(mapped4(e.k.sip), mapped4(e.k.dip), e.k.dport, e.k.proto,
			e.c.bytesIn, e.c.bytesOut, e.c.packetsIn, e.c.packetsOut)
	}
}

// mapped4 returns the IPv4-mapped IPv6 form (::ffff:a.b.c.d) of a.
func mapped4(a uint32) [16]byte {
	var r [16]byte
	r[10], r[11] = 0xff, 0xff
	binary.BigEndian.PutUint32(r[12:], a)
	return r
}
