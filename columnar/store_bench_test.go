package columnar_test

import (
	"context"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/columnar"
)

// benchStoreDB opens the existing store named by FLOWSQL_BENCH_DB
// read-only (bench/read.sh KEEP=DIR leaves one in DIR/db) and lists its
// blocks; the benchmark is skipped when the variable is unset. The store
// closes when the benchmark ends.
func benchStoreDB(b *testing.B) (*columnar.DB, []columnar.BlockMeta) {
	b.Helper()
	dir := os.Getenv("FLOWSQL_BENCH_DB")
	if dir == "" {
		b.Skip("FLOWSQL_BENCH_DB names no store")
	}
	db, err := columnar.Open(context.Background(), dir, &columnar.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ms, err := db.Blocks(context.Background(), columnar.Selector{})
	if err != nil {
		b.Fatal(err)
	}
	return db, ms
}

// BenchmarkReadCounterStore reads each counter column of every block of
// the store named by FLOWSQL_BENCH_DB with ReadColumn, as a query does, and
// reports the time per block (ns/block) and the column's bytes on disk per
// row. Run it on stores of the same data written with and without
// byte-stream-split counters (flowsql gen with each build) to compare:
//
//	FLOWSQL_BENCH_DB=/path/db go test -run='^$' -bench=ReadCounterStore ./columnar/
func BenchmarkReadCounterStore(b *testing.B) {
	db, ms := benchStoreDB(b)
	ctx := context.Background()
	for _, id := range []columnar.ColumnID{columnar.ColBytesIn, columnar.ColBytesOut, columnar.ColPacketsIn, columnar.ColPacketsOut} {
		b.Run("col="+id.String(), func(b *testing.B) {
			var disk, rows int64
			for _, m := range ms {
				rows += int64(m.Rows)
				if c, ok := m.Chunk(id, columnar.PartValues); ok {
					disk += c.Length
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				for i := range ms {
					c, err := db.ReadColumn(ctx, &ms[i], id, memory.DefaultAllocator)
					if err != nil {
						b.Fatal(err)
					}
					c.Release()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ms)), "ns/block")
			b.ReportMetric(float64(disk)/float64(rows), "B/row")
		})
	}
}
