package columnar_test

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/columnar"
)

// BenchmarkReadDictStore reads the sip and the dip dictionary of every
// block of an existing store, named by FLOWSQL_BENCH_DB (as the planner's
// benchmarks; bench/read.sh KEEP=DIR leaves one), and reports the time per
// block and dictionary (ns/dict) and the dictionary chunks' bytes on disk per
// row. Run it on a version 1 and a version 2 store of the same data to
// compare the formats:
//
//	FLOWSQL_BENCH_DB=/path/db go test -run='^$' -bench=ReadDictStore ./columnar/
func BenchmarkReadDictStore(b *testing.B) {
	db, ms := benchStoreDB(b)
	ctx := context.Background()
	for _, id := range []columnar.ColumnID{columnar.ColSIP, columnar.ColDIP} {
		b.Run("col="+id.String(), func(b *testing.B) {
			var disk, rows, entries int64
			for _, m := range ms {
				rows += int64(m.Rows)
				for _, c := range m.Chunks {
					if c.Column == id && c.Part.IsDict() {
						disk += c.Length
						entries += int64(c.Rows)
					}
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				for i := range ms {
					d, err := db.ReadDict(ctx, &ms[i], id, memory.DefaultAllocator)
					if err != nil {
						b.Fatal(err)
					}
					d.Release()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ms)), "ns/dict")
			b.ReportMetric(float64(disk)/float64(rows), "B/row")
			b.ReportMetric(float64(entries)/float64(len(ms)), "entries/dict")
		})
	}
}
