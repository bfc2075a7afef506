package gen_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flowsql/flowsql/bench/gen"
	"github.com/flowsql/flowsql/columnar"
)

// Generator speed, without the store. BenchmarkGenerateUniform is the
// baseline: the cheapest generator of distinct random rows (uniform
// addresses, ports and counters, the same key check), against which the
// realistic model's price is read. Compare runs with:
//
//	go test -run='^$' -bench='Generate' -count=6 ./bench/gen/ > new.txt
//	go tool benchstat new.txt                 # or: bench/compare.sh BASE ./bench/gen/

// BenchmarkGenerate makes one default block (20,000 flows at mean
// activity; the run covers the daily curve) per op and reports rows/s.
func BenchmarkGenerate(b *testing.B) {
	g, err := gen.New(gen.Config{Seed: 1, Duration: 365 * 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	blk := &columnar.Block{}
	rows := 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Next(blk); err != nil {
			b.Fatal(err)
		}
		rows += blk.Len()
	}
	reportRows(b, rows)
}

// BenchmarkGenerateDay makes the whole default dataset per op: 24 h of
// 20,000-flow blocks, 5.8 million rows. Run it with -benchtime=1x.
func BenchmarkGenerateDay(b *testing.B) {
	blk := &columnar.Block{}
	rows := 0
	b.ReportAllocs()
	for b.Loop() {
		g, err := gen.New(gen.Config{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		for {
			ok, err := g.Next(blk)
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
			rows += blk.Len()
		}
	}
	reportRows(b, rows)
}

// BenchmarkGenerateUniform is the baseline of BenchmarkGenerate: blocks of
// 20,000 distinct uniform random rows.
func BenchmarkGenerateUniform(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	seen := make(map[uint64]bool, gen.DefaultFlowsPerBlock)
	blk := &columnar.Block{}
	rows := 0
	b.ReportAllocs()
	for b.Loop() {
		blk.Reset()
		clear(seen)
		for blk.Len() < gen.DefaultFlowsPerBlock {
			c, s, port := r.IntN(gen.DefaultClients), r.IntN(gen.DefaultServers), uint16(r.Uint32())
			k := uint64(c)<<32 | uint64(s)<<16 | uint64(port)
			if seen[k] {
				continue
			}
			seen[k] = true
			sip := [16]byte{10: 0xff, 11: 0xff, 12: 10, 13: byte(c >> 16), 14: byte(c >> 8), 15: byte(c)}
			dip := [16]byte{10: 0xff, 11: 0xff, 12: 198, 13: byte(18 + s>>16), 14: byte(s >> 8), 15: byte(s)}
			pin, pout := 1+r.Uint64N(100), 1+r.Uint64N(100)
			blk.Append(sip, dip, port, 6, pin*(60+r.Uint64N(1454)), pout*(60+r.Uint64N(1454)), pin, pout)
		}
		rows += blk.Len()
	}
	reportRows(b, rows)
}

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
}
