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
// the measurement behind DefaultCodecs.
//
//	go test -run='^$' -bench=ChunkCodec -count=6 ./columnar/ > new.txt
//	benchstat -col /codec new.txt
func BenchmarkChunkCodec(b *testing.B) {
	blk := newFlowGen(1).block("eth0", 1_700_000_100, 100_000)
	x := columnar.NewChunkCodecBench(blk, memory.DefaultAllocator)
	defer x.Close()
	type part struct {
		c columnar.ColumnID
		p columnar.Part
	}
	parts := []part{{columnar.ColSIP, columnar.PartDict}, {columnar.ColDIP, columnar.PartDict}}
	for _, c := range columnar.Columns() {
		parts = append(parts, part{c, columnar.PartValues})
	}
	for _, pt := range parts {
		name := pt.c.String()
		if pt.p == columnar.PartDict {
			name += "_dict"
		}
		for _, codec := range []columnar.Codec{columnar.CodecNone, columnar.CodecLZ4, columnar.CodecZstd} {
			for _, reader := range []string{"flowsql", "arrow"} {
				b.Run(fmt.Sprintf("col=%s/codec=%s/reader=%s", name, codec, reader), func(b *testing.B) {
					frame, ref, err := x.Encode(pt.c, pt.p, codec)
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
