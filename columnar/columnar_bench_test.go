package columnar_test

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/columnar"
)

// Benchmarks of the write and read paths on realistic 100k-flow blocks
// (newFlowGen, fixed seed). Within each benchmark the codecs=none case is
// the baseline. Compare runs with:
//
//	go test -run='^$' -bench='WriteBlock|ReadColumn' -count=8 ./columnar/ > new.txt
//	benchstat -col /codecs new.txt          # codecs side by side
//	benchstat old.txt new.txt               # against a base ref

const benchRows = 100_000

var benchCodecs = []struct {
	name   string
	codecs columnar.Codecs
}{
	{"none", columnar.Codecs{}},
	{"lz4", columnar.Codecs{Dict: columnar.CodecLZ4, Dict4: columnar.CodecLZ4, Codes: columnar.CodecLZ4, Keys: columnar.CodecLZ4, Bytes: columnar.CodecLZ4, Packets: columnar.CodecLZ4}},
	{"zstd", columnar.Codecs{Dict: columnar.CodecZstd, Dict4: columnar.CodecZstd, Codes: columnar.CodecZstd, Keys: columnar.CodecZstd, Bytes: columnar.CodecZstd, Packets: columnar.CodecZstd}},
	{"default", columnar.DefaultCodecs()},
}

func openBench(b *testing.B, codecs columnar.Codecs) *columnar.DB {
	db, err := columnar.Open(context.Background(), b.TempDir(), &columnar.Options{NoSync: true, Codecs: &codecs})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkWriteBlock writes one 100k-flow block per op (fsync off) and
// reports the bytes on disk per flow. Target: <= 100 ms/op, <= 12 B/row.
func BenchmarkWriteBlock(b *testing.B) {
	blk := newFlowGen(1).block("eth0", 1_741_600_800, benchRows)
	for _, c := range benchCodecs {
		b.Run("codecs="+c.name, func(b *testing.B) {
			db := openBench(b, c.codecs)
			b.ReportAllocs()
			i := int64(0)
			for b.Loop() {
				blk.Start, blk.End = 1_741_600_800+i*300, 1_741_600_800+i*300+300
				if err := db.Write(context.Background(), blk); err != nil {
					b.Fatal(err)
				}
				i++
			}
			ms, err := db.Blocks(context.Background(), columnar.Selector{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(ms[0].DiskBytes())/benchRows, "B/row")
		})
	}
}

// BenchmarkReadColumn reads one column of a stored 100k-flow block per op,
// from the data file (page cache) into a fresh Arrow array, and reports the
// column's bytes on disk per row.
func BenchmarkReadColumn(b *testing.B) {
	blk := newFlowGen(1).block("eth0", 1_741_600_800, benchRows)
	for _, c := range benchCodecs {
		if c.name == "lz4" {
			continue
		}
		db := openBench(b, c.codecs)
		if err := db.Write(context.Background(), blk); err != nil {
			b.Fatal(err)
		}
		ms, err := db.Blocks(context.Background(), columnar.Selector{})
		if err != nil {
			b.Fatal(err)
		}
		m := ms[0]
		for _, id := range []columnar.ColumnID{columnar.ColSIP, columnar.ColDPort, columnar.ColBytesIn, columnar.ColPacketsOut} {
			b.Run("col="+id.String()+"/codecs="+c.name, func(b *testing.B) {
				var disk int64
				for _, ch := range m.Chunks {
					if ch.Column == id {
						disk += ch.Length
					}
				}
				b.ReportAllocs()
				for b.Loop() {
					col, err := db.ReadColumn(context.Background(), &m, id, memory.DefaultAllocator)
					if err != nil {
						b.Fatal(err)
					}
					col.Release()
				}
				b.ReportMetric(float64(disk)/benchRows, "B/row")
			})
		}
	}
}

// BenchmarkReadDictLookup is the pruning step of `WHERE sip = X`: read a
// block's sip dictionary and look X up.
func BenchmarkReadDictLookup(b *testing.B) {
	blk := newFlowGen(1).block("eth0", 1_741_600_800, benchRows)
	db := openBench(b, columnar.DefaultCodecs())
	if err := db.Write(context.Background(), blk); err != nil {
		b.Fatal(err)
	}
	ms, _ := db.Blocks(context.Background(), columnar.Selector{})
	probe := v4(203, 0, 113, 9)
	b.ReportAllocs()
	for b.Loop() {
		d, err := db.ReadDict(context.Background(), &ms[0], columnar.ColSIP, memory.DefaultAllocator)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := d.Lookup(probe); ok {
			b.Fatal("found")
		}
		d.Release()
	}
}

// BenchmarkLookupAddr is one binary search in a 20k-address dictionary.
func BenchmarkLookupAddr(b *testing.B) {
	blk := newFlowGen(1).block("eth0", 1_741_600_800, benchRows)
	db := openBench(b, columnar.DefaultCodecs())
	if err := db.Write(context.Background(), blk); err != nil {
		b.Fatal(err)
	}
	ms, _ := db.Blocks(context.Background(), columnar.Selector{})
	d, err := db.ReadDict(context.Background(), &ms[0], columnar.ColDIP, memory.DefaultAllocator)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Release()
	probe := blk.DIP[benchRows/2]
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := d.Lookup(probe); !ok {
			b.Fatal("not found")
		}
	}
	b.ReportMetric(float64(d.Len()), "dict")
}
