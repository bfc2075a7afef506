package planner

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkGroupLookup measures the hash group-by's find-or-insert over a
// day's worth of two-word keys (5.8M rows, Zipf-popular over ~800k
// distinct flows), with a sum kernel. BenchmarkGroupLookupMap is its
// baseline: a Go map from the two-word key to the group id.
// BenchmarkGroupLookupCompact is the same with compact slots (one word).
//
//	go test ./planner -run '^$' -bench GroupLookup -benchtime 3x -count 6
func BenchmarkGroupLookup(b *testing.B) { benchGroupLookup(b, newGroupTable) }

func BenchmarkGroupLookupCompact(b *testing.B) { benchGroupLookup(b, newCompactGroupTable) }

func benchGroupLookup(b *testing.B, newTable func(int, []stateSpec, *budget) *groupTable) {
	keys, vals := lookupKeys()
	b.ReportAllocs()
	b.SetBytes(0)
	for b.Loop() {
		t := newTable(2, []stateSpec{{kind: stSum}}, newBudget(0))
		gids := make([]uint32, batchRows)
		for lo := 0; lo < len(vals); lo += batchRows {
			n := min(batchRows, len(vals)-lo)
			if err := t.lookup(keys[2*lo:2*(lo+n)], gids[:n]); err != nil {
				b.Fatal(err)
			}
			addSum(t.vals[0], gids[:n], vals[lo:lo+n])
		}
		b.ReportMetric(float64(t.n), "groups")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(vals)), "ns/row")
}

func BenchmarkGroupLookupMap(b *testing.B) {
	keys, vals := lookupKeys()
	b.ReportAllocs()
	for b.Loop() {
		m := map[[2]uint64]uint32{}
		var sums []uint64
		for i, v := range vals {
			k := [2]uint64{keys[2*i], keys[2*i+1]}
			g, ok := m[k]
			if !ok {
				g = uint32(len(sums))
				m[k] = g
				sums = append(sums, 0)
			}
			sums[g] += v
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(vals)), "ns/row")
}

func lookupKeys() ([]uint64, []uint64) {
	const rows = 288 * 20000
	r := rand.New(rand.NewPCG(5, 6))
	z := rand.NewZipf(r, 1.05, 10, 3_000_000)
	keys := make([]uint64, 2*rows)
	vals := make([]uint64, rows)
	for i := range vals {
		x := z.Uint64()
		keys[2*i] = x*0x9e3779b97f4a7c15>>20 | 1<<40
		keys[2*i+1] = x & 0xffff
		vals[i] = uint64(r.IntN(5000))
	}
	return keys, vals
}
