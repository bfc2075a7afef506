package columnar_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/columnar"
)

// row is one flow, for comparing what was written with what is read.
type row struct {
	sip, dip [16]byte
	dport    uint16
	proto    uint8
	bi, bo   uint64
	pi, po   uint64
}

func rowsOf(b *columnar.Block) []row {
	rs := make([]row, b.Len())
	for i := range rs {
		rs[i] = row{b.SIP[i], b.DIP[i], b.DPort[i], b.Proto[i], b.BytesIn[i], b.BytesOut[i], b.PacketsIn[i], b.PacketsOut[i]}
	}
	return rs
}

// storeOrder sorts rows as the store keeps them: by (sip, dip), stable.
func storeOrder(rs []row) []row {
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b row) int {
		if c := bytes.Compare(a.sip[:], b.sip[:]); c != 0 {
			return c
		}
		return bytes.Compare(a.dip[:], b.dip[:])
	})
	return rs
}

// readRows reads every column of a block.
func readRows(t testing.TB, db *columnar.DB, m *columnar.BlockMeta, mem memory.Allocator) []row {
	t.Helper()
	cols := make(map[columnar.ColumnID]*columnar.Column)
	for _, id := range columnar.Columns() {
		c, err := db.ReadColumn(context.Background(), m, id, mem)
		if err != nil {
			t.Fatalf("read %s of %s@%d: %v", id, m.Iface, m.Start, err)
		}
		defer c.Release()
		if c.Len() != m.Rows {
			t.Fatalf("%s has %d rows, meta says %d", id, c.Len(), m.Rows)
		}
		cols[id] = c
	}
	rs := make([]row, m.Rows)
	for i := range rs {
		rs[i] = row{
			sip: cols[columnar.ColSIP].Addr(i), dip: cols[columnar.ColDIP].Addr(i),
			dport: uint16(cols[columnar.ColDPort].Value(i)), proto: uint8(cols[columnar.ColProto].Value(i)),
			bi: cols[columnar.ColBytesIn].Value(i), bo: cols[columnar.ColBytesOut].Value(i),
			pi: cols[columnar.ColPacketsIn].Value(i), po: cols[columnar.ColPacketsOut].Value(i),
		}
	}
	return rs
}

// checkedMem returns an allocator that fails the test if memory leaks.
func checkedMem(t testing.TB) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// randomBlock makes n rows mixing IPv4 and IPv6 from small address pools (so
// dictionaries repeat) and counters of every width, up to 2^64-1.
func randomBlock(r *rand.Rand, iface string, start int64, n int) *columnar.Block {
	b := &columnar.Block{Iface: iface, Start: start, End: start + 300, NonIP: r.Uint64N(100), ParseErrors: r.Uint64N(10)}
	pool := make([][16]byte, 1+r.IntN(300))
	for i := range pool {
		if r.IntN(2) == 0 {
			pool[i] = v4(byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(4)), byte(r.IntN(256)))
		} else {
			pool[i] = v6(0x20010db8<<32|r.Uint64N(4), r.Uint64())
		}
	}
	counter := func() uint64 {
		switch r.IntN(5) {
		case 0:
			return r.Uint64N(256)
		case 1:
			return r.Uint64N(1 << 16)
		case 2:
			return r.Uint64N(1 << 32)
		case 3:
			return 1<<32 + r.Uint64N(1<<40)
		}
		return r.Uint64()
	}
	for range n {
		b.Append(pool[r.IntN(len(pool))], pool[r.IntN(len(pool))], uint16(r.IntN(65536)), uint8(r.IntN(256)),
			counter(), counter(), counter(), counter())
	}
	return b
}

func mustWrite(t testing.TB, db *columnar.DB, b *columnar.Block) {
	t.Helper()
	if err := db.Write(context.Background(), b); err != nil {
		t.Fatalf("write %s@%d: %v", b.Iface, b.Start, err)
	}
}

func mustBlocks(t testing.TB, db *columnar.DB, sel columnar.Selector) []columnar.BlockMeta {
	t.Helper()
	ms, err := db.Blocks(context.Background(), sel)
	if err != nil {
		t.Fatalf("blocks: %v", err)
	}
	return ms
}
