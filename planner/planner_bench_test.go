package planner

import (
	"context"
	"net/netip"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/columnar"
)

// Benchmarks of the five reference queries on the generated store (24 h,
// one interface, 20,000 flows per 5-minute block: 288 blocks, ~5.8M rows;
// benchConfig), generated once per process. Each query has a baseline in
// this file: BenchmarkReadOnly reads and decodes the same chunks of the
// same blocks with the same parallelism and does nothing else, the floor
// set by the store. Compare runs with:
//
//	go test ./planner -run '^$' -bench 'Query|ReadOnly' -benchtime 2s -count 6 > new.txt
//	go tool benchstat old.txt new.txt
//
// or bench/compare.sh BASE_REF ./planner.

// benchQuery is one reference query; sip placeholders are filled from the
// data (the busiest client, and one present in few blocks).
type benchQuery struct {
	name, sql string
}

func benchQueries(b *testing.B) []benchQuery {
	db := benchDB(b)
	top, rare := benchTalkers(b, db)
	return []benchQuery{
		{"Q1-top10-flows", "SELECT sip, dip, dport, proto, sum(bytes) AS b GROUP BY sip, dip, dport, proto ORDER BY b DESC LIMIT 10"},
		{"Q2-talker-top", "SELECT dip, sum(bytes) WHERE sip = " + top + " GROUP BY dip"},
		{"Q2-talker-rare", "SELECT dip, sum(bytes) WHERE sip = " + rare + " GROUP BY dip"},
		{"Q3-dip-prefix", "SELECT dport, proto, sum(packets) WHERE dip IN 10.0.0.0/8 GROUP BY dport, proto"},
		{"Q4-hourly", "SELECT bucket(time, 1h) AS t, sum(bytes) GROUP BY t ORDER BY t"},
		{"Q5-all-flows", "SELECT sip, dip, dport, proto, sum(bytes), sum(packets) GROUP BY sip, dip, dport, proto"},
	}
}

var benchTalkerOnce struct {
	sync.Once
	top, rare string
}

// benchTalkers returns the busiest sip and one seen in about a tenth of
// the blocks.
func benchTalkers(b *testing.B, db *columnar.DB) (top, rare string) {
	t := &benchTalkerOnce
	t.Do(func() {
		p := prepare(b, "SELECT sip, count(*) AS n, count(DISTINCT time) AS blocks GROUP BY sip ORDER BY n DESC", benchOptions())
		res, err := p.Execute(context.Background(), db)
		if err != nil {
			b.Fatal(err)
		}
		t.top = res.Columns[0].Addrs[0].String()
		for i := range res.NumRows() {
			if n := res.Columns[2].Uints[i]; n >= 20 && n <= 40 {
				t.rare = res.Columns[0].Addrs[i].String()
				break
			}
		}
		if t.rare == "" {
			t.rare = netip.MustParseAddr("192.0.2.1").String()
		}
	})
	return t.top, t.rare
}

func benchOptions() *Options {
	return &Options{Now: func() time.Time { return testStart.Add(24 * time.Hour) }, Host: testHost}
}

// BenchmarkQuery runs each reference query end to end (Execute: plan
// already prepared, result materialized).
func BenchmarkQuery(b *testing.B) {
	db := benchDB(b)
	for _, q := range benchQueries(b) {
		b.Run(q.name, func(b *testing.B) {
			p := prepare(b, q.sql, benchOptions())
			var st Stats
			b.ReportAllocs()
			heap := startHeapPeak()
			cpu := processCPU()
			for b.Loop() {
				res, err := p.Execute(context.Background(), db)
				if err != nil {
					b.Fatal(err)
				}
				st = res.Stats
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(heap.stop()), "heapB")
			reportStats(b, st)
		})
	}
}

func reportStats(b *testing.B, st Stats) {
	per := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(st.BytesRead), "diskB/op")
	b.ReportMetric(float64(st.RowsScanned)/per, "rows/s")
	b.ReportMetric(float64(st.Groups), "groups")
	b.ReportMetric(float64(st.BlocksRead), "blocks")
	b.ReportMetric(float64(st.PeakMemory), "peakB")
}

// BenchmarkReadOnly is the baseline of BenchmarkQuery for the queries
// that scan every block: it reads the chunks each query reads (its
// Stats.ColumnsRead, every block, the same parallelism and buffer pool)
// and discards them.
func BenchmarkReadOnly(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	metas, err := db.Blocks(ctx, columnar.Selector{})
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range benchQueries(b) {
		if q.name == "Q2-talker-rare" || q.name == "Q4-hourly" {
			continue // they read few or no blocks: no scan to compare with
		}
		b.Run(q.name, func(b *testing.B) {
			res, err := prepare(b, q.sql, benchOptions()).Execute(ctx, db)
			if err != nil {
				b.Fatal(err)
			}
			var ids []columnar.ColumnID
			for _, name := range res.Stats.ColumnsRead {
				id, _ := columnar.ColumnByName(name)
				ids = append(ids, id)
			}
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				readAll(b, db, metas, ids)
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// readAll reads the columns of the blocks with one goroutine per CPU.
func readAll(b *testing.B, db *columnar.DB, metas []columnar.BlockMeta, ids []columnar.ColumnID) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchOptionsParallelism() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool := newChunkPool(memory.DefaultAllocator) // as the engine reads
			defer pool.close()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(metas) {
					return
				}
				for _, id := range ids {
					c, err := db.ReadColumn(context.Background(), &metas[i], id, pool)
					if err != nil {
						b.Error(err)
						return
					}
					c.Release()
				}
			}
		}()
	}
	wg.Wait()
}

func benchOptionsParallelism() int {
	o, _ := benchOptions().resolve()
	return o.Parallelism
}

// heapPeak samples the bytes of live and unswept heap objects every
// millisecond (runtime/metrics, no stop-the-world) and keeps the highest:
// the peak memory of the queries, store and result included.
type heapPeak struct {
	stopc chan struct{}
	done  chan uint64
}

func startHeapPeak() *heapPeak {
	h := &heapPeak{stopc: make(chan struct{}), done: make(chan uint64)}
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-h.stopc:
				h.done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

func (h *heapPeak) stop() uint64 {
	close(h.stopc)
	return <-h.done
}
