package columnar_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/columnar"
)

// BenchmarkChunkCodec measures each column part of a realistic 100k-flow
// block under each codec: bytes on disk per row (frame included) and the
// time to decode the chunk. CodecNone is the baseline of each column. This is
// the measurement behind DefaultCodecs. The *_dict_v1 parts are the whole
// address dictionary as format version 1 stored it, the baseline of the
// version 2 parts *_dict4 (IPv4 entries) plus *_dict (the others); the
// *_plain counters are plain integers, the baseline of the byte-stream-split
// counters of version 2.
//
//	go test -run='^$' -bench=ChunkCodec -count=6 ./columnar/ > new.txt
//	benchstat -col /codec new.txt
func BenchmarkChunkCodec(b *testing.B) {
	blk := newFlowGen(1).block("eth0", 1_700_000_100, 100_000)
	x := columnar.NewChunkCodecBench(blk, memory.DefaultAllocator)
	defer x.Close()
	type part struct {
		c     columnar.ColumnID
		p     columnar.Part
		v1    bool // the whole dictionary, as format version 1 stored it
		plain bool // a counter as plain integers, not byte-stream-split
	}
	var parts []part
	for _, c := range []columnar.ColumnID{columnar.ColSIP, columnar.ColDIP} {
		parts = append(parts, part{c, columnar.PartDict, true, false}, part{c, columnar.PartDict4, false, false}, part{c, columnar.PartDict, false, false})
	}
	for _, c := range columnar.Columns() {
		if c >= columnar.ColBytesIn {
			parts = append(parts, part{c, columnar.PartValues, false, true})
		}
		parts = append(parts, part{c, columnar.PartValues, false, false})
	}
	for _, pt := range parts {
		name := pt.c.String()
		switch {
		case pt.v1:
			name += "_dict_v1"
		case pt.p == columnar.PartDict:
			name += "_dict"
		case pt.p == columnar.PartDict4:
			name += "_dict4"
		case pt.plain:
			name += "_plain"
		}
		for _, codec := range []columnar.Codec{columnar.CodecNone, columnar.CodecLZ4, columnar.CodecZstd} {
			for _, reader := range []string{"flowsql", "arrow"} {
				b.Run(fmt.Sprintf("col=%s/codec=%s/reader=%s", name, codec, reader), func(b *testing.B) {
					x.PlainCounters = pt.plain
					frame, ref, err := x.Encode(pt.c, pt.p, codec, pt.v1)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					for b.Loop() {
						arr, err := x.Decode(frame, ref, reader == "arrow", memory.DefaultAllocator)
						if err != nil {
							b.Fatal(err)
						}
						arr.Release()
					}
					b.ReportMetric(float64(len(frame))/float64(blk.Len()), "B/row")
					b.ReportMetric(float64(ref.Rows), "values")
				})
			}
		}
	}
}

// BenchmarkChunkCodecStore is BenchmarkChunkCodec on real blocks: the
// counters of every 12th block of the store named by FLOWSQL_BENCH_DB (a
// bench/gen day: 24 blocks of about 20,000 flows), re-encoded plain and
// byte-stream-split under each codec. It reports the bytes on disk per row
// (frame included) and the decode time per chunk (µs/chunk); the *_plain
// columns are the baseline.
//
//	FLOWSQL_BENCH_DB=/path/db go test -run='^$' -bench=ChunkCodecStore ./columnar/
func BenchmarkChunkCodecStore(b *testing.B) {
	db, ms := benchStoreDB(b)
	ctx := context.Background()
	var xs []*columnar.ChunkCodecBench
	rows := 0
	for i := 0; i < len(ms); i += 12 {
		blk, err := db.ReadBlock(ctx, &ms[i], memory.DefaultAllocator)
		if err != nil {
			b.Fatal(err)
		}
		x := columnar.NewChunkCodecBench(blk, memory.DefaultAllocator)
		defer x.Close()
		xs = append(xs, x)
		rows += blk.Len()
	}
	for _, c := range []columnar.ColumnID{columnar.ColBytesIn, columnar.ColBytesOut, columnar.ColPacketsIn, columnar.ColPacketsOut} {
		for _, plain := range []bool{true, false} {
			name := c.String()
			if plain {
				name += "_plain"
			}
			for _, codec := range []columnar.Codec{columnar.CodecNone, columnar.CodecLZ4, columnar.CodecZstd} {
				b.Run(fmt.Sprintf("col=%s/codec=%s", name, codec), func(b *testing.B) {
					frames := make([][]byte, len(xs))
					refs := make([]columnar.ChunkRef, len(xs))
					disk := 0
					for i, x := range xs {
						x.PlainCounters = plain
						var err error
						if frames[i], refs[i], err = x.Encode(c, columnar.PartValues, codec, false); err != nil {
							b.Fatal(err)
						}
						frames[i] = bytes.Clone(frames[i])
						disk += len(frames[i])
					}
					b.ReportAllocs()
					for b.Loop() {
						for i, x := range xs {
							arr, err := x.Decode(frames[i], refs[i], false, memory.DefaultAllocator)
							if err != nil {
								b.Fatal(err)
							}
							arr.Release()
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(xs)), "µs/chunk")
					b.ReportMetric(float64(disk)/float64(rows), "B/row")
				})
			}
		}
	}
}
