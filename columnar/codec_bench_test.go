package columnar_test

import (
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
// version 2 parts *_dict4 (IPv4 entries) plus *_dict (the others).
//
//	go test -run='^$' -bench=ChunkCodec -count=6 ./columnar/ > new.txt
//	benchstat -col /codec new.txt
func BenchmarkChunkCodec(b *testing.B) {
	blk := newFlowGen(1).block("eth0", 1_700_000_100, 100_000)
	x := columnar.NewChunkCodecBench(blk, memory.DefaultAllocator)
	defer x.Close()
	type part struct {
		c  columnar.ColumnID
		p  columnar.Part
		v1 bool // the whole dictionary, as format version 1 stored it
	}
	var parts []part
	for _, c := range []columnar.ColumnID{columnar.ColSIP, columnar.ColDIP} {
		parts = append(parts, part{c, columnar.PartDict, true}, part{c, columnar.PartDict4, false}, part{c, columnar.PartDict, false})
	}
	for _, c := range columnar.Columns() {
		parts = append(parts, part{c, columnar.PartValues, false})
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
		}
		for _, codec := range []columnar.Codec{columnar.CodecNone, columnar.CodecLZ4, columnar.CodecZstd} {
			for _, reader := range []string{"flowsql", "arrow"} {
				b.Run(fmt.Sprintf("col=%s/codec=%s/reader=%s", name, codec, reader), func(b *testing.B) {
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
