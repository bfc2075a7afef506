package planner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
)

// topkQuery draws a query the threshold top-N may answer: grouped by the
// flow, by sip or by sip and dip, ordered first by a sum or count descending, with a LIMIT; other
// aggregates, further order terms and a condition vary.
func (g *qgen) topkQuery() string {
	keys := [][]string{{"sip", "dip", "dport", "proto"}, {"sip"}, {"sip", "dip"}}[g.r.IntN(3)]
	keys = slices.Clone(keys)
	g.r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	by := g.pick("sum(bytes)", "sum(packets)", "sum(bytes_in)", "sum(packets_out)", "count(*)", "sum(bytes_out)")
	if len(keys) == 4 && by == "count(*)" {
		by = "sum(packets)" // flows ordered by count(*) do not qualify (TestTopKCountOfFlows)
	}
	items := append(slices.Clone(keys), by)
	extra := []string{"count(*)", "min(dport)", "max(bytes)", "avg(bytes_out)", "count(DISTINCT dip)", "min(time)", "sum(packets)"}
	g.r.Shuffle(len(extra), func(i, j int) { extra[i], extra[j] = extra[j], extra[i] })
	for _, x := range extra[:g.r.IntN(3)] {
		if x != by {
			items = append(items, x)
		}
	}
	g.r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	var b strings.Builder
	b.WriteString("SELECT " + strings.Join(items, ", "))
	if g.r.IntN(4) == 0 {
		b.WriteString(" FROM " + g.pick("eth0", "eth1", "eth0, eth1"))
	}
	if g.r.IntN(2) == 0 {
		b.WriteString(" WHERE " + g.cond(2))
	}
	b.WriteString(" GROUP BY " + strings.Join(keys, ", "))
	b.WriteString(" ORDER BY " + by + " DESC")
	if g.r.IntN(3) == 0 {
		b.WriteString(", " + g.pick(keys...) + g.pick("", " DESC"))
	}
	fmt.Fprintf(&b, " LIMIT %d", 1+g.r.IntN(40))
	return b.String()
}

// TestTopKRandom: queries the threshold top-N may answer give the slow
// evaluator's rows, whether the bound held (and the top-N ran) or not,
// with the scout keeping from very few rows per block to all of them.
func TestTopKRandom(t *testing.T) {
	db := openSmall(t)
	rows := slowRows(t, db, testHost)
	g := &qgen{r: rand.New(rand.NewPCG(17, 5))}
	seen := map[netip.Addr]bool{}
	for _, r := range rows {
		for _, a := range []netip.Addr{r.sip, r.dip} {
			if !seen[a] {
				seen[a] = true
				if a == r.sip {
					g.sips = append(g.sips, a)
				} else {
					g.dips = append(g.dips, a)
				}
			}
		}
	}
	n := 300
	if testing.Short() {
		n = 80
	}
	var ran int
	for i := range n {
		q := g.topkQuery()
		opts := testOptions(t)
		opts.Parallelism = 1 + i%3
		p := prepare(t, q, opts)
		if _, ok := p.topkOf(); !ok {
			t.Fatalf("query %d: %s: does not qualify for the threshold top-N", i, q)
		}
		p.topkKeep = []int{1, 3, 8, 30, 0}[i%5]
		res, err := p.Execute(t.Context(), db)
		if err != nil {
			t.Fatalf("query %d: %s: %v", i, q, err)
		}
		if res.Stats.TopN {
			ran++
		}
		stmt := p.Statement()
		compareRows(t, fmt.Sprintf("%s (keep %d, top-N %v)", q, p.topkKeep, res.Stats.TopN),
			rowsOf(res), slowQuery(stmt, rows, testNow), distinctItems(stmt), false)
	}
	t.Logf("%d of %d queries ran as a threshold top-N", ran, n)
	if ran < n/4 || ran == n {
		t.Errorf("%d of %d queries ran as a threshold top-N: want both paths exercised, the top-N in a quarter at least", ran, n)
	}
}

// TestTopKBoundSound checks topkBound against brute force on random
// flows-by-blocks tables: whenever it says the bound holds, the flows it
// returns include every flow whose total reaches the n-th largest.
func TestTopKBoundSound(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	held := 0
	for trial := range 3000 {
		nFlows, nBlocks := 1+r.IntN(40), 1+r.IntN(12)
		n := int64(1 + r.IntN(5))
		keep := 1 + r.IntN(8)
		totals := make([]uint64, nFlows)
		var kept []keptRow
		cut := make([]uint64, nBlocks)
		for b := range nBlocks {
			type row struct {
				f int
				v uint64
			}
			var rs []row
			for f := range nFlows {
				if r.IntN(3) == 0 {
					continue // the flow is absent from this block
				}
				v := uint64(r.IntN(20))
				if r.IntN(4) == 0 {
					v = uint64(r.IntN(1000)) // heavy tail
				}
				if f < 3 && r.IntN(2) == 0 {
					v += 500 // elephants
				}
				rs = append(rs, row{f, v})
				totals[f] += v
			}
			slices.SortFunc(rs, func(a, b row) int { return cmp.Compare(b.v, a.v) })
			if len(rs) > keep {
				cut[b] = rs[keep-1].v
				rs = rs[:keep]
			}
			for _, x := range rs {
				kept = append(kept, keptRow{flow: flowKey{port: uint16(x.f)}, v: x.v, block: int32(b)})
			}
		}
		flows, ok := topkBound(kept, cut, n)
		if !ok {
			continue
		}
		held++
		sorted := slices.Clone(totals)
		slices.SortFunc(sorted, func(a, b uint64) int { return cmp.Compare(b, a) })
		nth := sorted[min(int(n), len(sorted))-1]
		for f, tot := range totals {
			if tot >= nth && !slices.ContainsFunc(flows, func(k flowKey) bool { return int(k.port) == f }) {
				t.Fatalf("trial %d: flow %d totals %d >= the %d-th largest %d but the bound left it out (keep %d, totals %v, cut %v)",
					trial, f, tot, n, nth, keep, totals, cut)
			}
		}
		if !slices.IsSortedFunc(flows, cmpFlowKey) {
			t.Fatalf("trial %d: flows not sorted", trial)
		}
	}
	t.Logf("bound held in %d of 3000 trials", held)
	if held < 300 {
		t.Errorf("bound held in %d of 3000 trials: the test hardly exercises it", held)
	}
}

// TestTopKNeedsDistinctFlows: grouped by flow, a store whose blocks may
// repeat a flow (no FlagDistinct) is answered by the general path, which
// sums the repeats, even where the bound would otherwise leave the
// repeated flow out; grouped by sip and dip, the top-N sums the run.
func TestTopKNeedsDistinctFlows(t *testing.T) {
	db := columnartest.Open(t, nil)
	a := func(s string) [16]byte { return netip.MustParseAddr(s).As16() }
	start := testStart.Unix()
	for i := range 12 {
		b := &columnar.Block{Iface: "eth0", Start: start + int64(i)*300, End: start + int64(i+1)*300}
		b.Append(a("10.0.0.1"), a("192.0.2.1"), 443, 6, 1000, 0, 1, 0) // the elephant of each block
		for j := range 30 {
			b.Append(a("10.0.0.2"), a("192.0.2.2"), 53, 17, 90, 0, 1, 0) // one flow, repeated
			b.Append(a("10.0.0.3"), netip.AddrFrom4([4]byte{198, 51, 100, byte(j)}).As16(), 80, 6, 10, 0, 1, 0)
		}
		if err := db.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range mustBlocks(t, db) {
		if m.Flags&columnar.FlagDistinct != 0 {
			t.Fatalf("block %d flagged distinct though it repeats a flow", m.Start)
		}
	}
	q := "SELECT sip, dip, dport, proto, sum(bytes) AS b GROUP BY sip, dip, dport, proto ORDER BY b DESC LIMIT 1"
	p := prepare(t, q, testOptions(t))
	p.topkKeep = 1
	res, err := p.Execute(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.TopN {
		t.Error("ran as a threshold top-N over blocks that repeat a flow")
	}
	if got := rowsOf(res); len(got) != 1 || got[0][0] != netip.MustParseAddr("10.0.0.2") || got[0][4] != uint64(12*30*90) {
		t.Errorf("got %v, want 10.0.0.2's repeated flow with %d bytes", got, 12*30*90)
	}

	// Grouped by sip and dip, a group is a run of rows however often a
	// flow repeats in it: the top-N runs on the same blocks.
	q = "SELECT sip, dip, sum(bytes) AS b GROUP BY sip, dip ORDER BY b DESC LIMIT 1"
	p = prepare(t, q, testOptions(t))
	p.topkKeep = 2
	if res, err = p.Execute(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	if !res.Stats.TopN {
		t.Error("grouped by sip and dip: did not run as a threshold top-N")
	}
	if got := rowsOf(res); len(got) != 1 || got[0][0] != netip.MustParseAddr("10.0.0.2") || got[0][2] != uint64(12*30*90) {
		t.Errorf("got %v, want 10.0.0.2 with %d bytes", got, 12*30*90)
	}
}

func mustBlocks(t *testing.T, db *columnar.DB) []columnar.BlockMeta {
	t.Helper()
	ms, err := db.Blocks(context.Background(), columnar.Selector{})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestTopKStats: a threshold top-N reports what it read (both passes) and
// that it ran; the general path does not set TopN.
func TestTopKStats(t *testing.T) {
	db := openSmall(t)
	q := "SELECT sip, dip, dport, proto, sum(bytes) AS b GROUP BY sip, dip, dport, proto ORDER BY b DESC LIMIT 5"
	top := run(t, db, q, testOptions(t))
	p := prepare(t, q, testOptions(t))
	p.noTopK = true
	all, err := p.Execute(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if !top.Stats.TopN || all.Stats.TopN {
		t.Fatalf("TopN: %v and %v, want true for the default plan, false with noTopK", top.Stats.TopN, all.Stats.TopN)
	}
	compareRows(t, q, rowsOf(top), rowsOf(all), distinctItems(p.Statement()), false)
	ts, as := top.Stats, all.Stats
	if ts.BlocksRead != as.BlocksRead || ts.RowsScanned != as.RowsScanned || ts.BlocksTotal != as.BlocksTotal {
		t.Errorf("blocks read %d, rows %d of %d blocks; the general path: %d, %d of %d",
			ts.BlocksRead, ts.RowsScanned, ts.BlocksTotal, as.BlocksRead, as.RowsScanned, as.BlocksTotal)
	}
	if ts.BytesRead != 2*as.BytesRead || ts.ChunksRead != 2*as.ChunksRead {
		t.Errorf("read %d bytes in %d chunks, want twice the general path's %d in %d (two passes)",
			ts.BytesRead, ts.ChunksRead, as.BytesRead, as.ChunksRead)
	}
	if ts.Groups < 5 || ts.Groups >= as.Groups {
		t.Errorf("top-N left %d groups; the general path counted %d", ts.Groups, as.Groups)
	}
	if !slices.Equal(ts.ColumnsRead, as.ColumnsRead) {
		t.Errorf("columns read %v, general path %v", ts.ColumnsRead, as.ColumnsRead)
	}
}

// TestTopKCancelled: a cancelled threshold top-N returns the context's
// error, releasing what it holds (the checked allocator).
func TestTopKCancelled(t *testing.T) {
	db := openSmall(t)
	q := "SELECT sip, dip, dport, proto, sum(bytes) AS b GROUP BY sip, dip, dport, proto ORDER BY b DESC LIMIT 5"
	p := prepare(t, q, testOptions(t))
	if _, ok := p.topkOf(); !ok {
		t.Fatal("query does not qualify")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.Execute(ctx, db); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled top-N: %v, want context.Canceled", err)
	}
}

// TestTopKExplain: EXPLAIN says a query will run as a threshold top-N,
// and that it reads its chunks twice; a query that does not qualify
// (ascending order) says neither.
func TestTopKExplain(t *testing.T) {
	db := openSmall(t)
	for q, want := range map[string]bool{
		"SELECT sip, dip, sum(bytes) AS b GROUP BY sip, dip ORDER BY b DESC LIMIT 3": true,
		"SELECT sip, dip, sum(bytes) AS b GROUP BY sip, dip ORDER BY b LIMIT 3":      false,
		"SELECT dip, sum(bytes) AS b GROUP BY dip ORDER BY b DESC LIMIT 3":           false,
	} {
		text, err := prepare(t, q, testOptions(t)).Explain(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(text, "as a threshold top-N") && strings.Contains(text, "read twice"); got != want {
			t.Errorf("%s: explain mentions the threshold top-N: %v, want %v\n%s", q, got, want, text)
		}
	}
}

// TestTopKFailedBoundCounted: when the bound fails (each block keeping
// one group, whose counts sum past the 5th largest), the general path
// answers, and the scout's reads are counted with its own.
func TestTopKFailedBoundCounted(t *testing.T) {
	db := openSmall(t)
	q := "SELECT sip, dip, count(*) AS n GROUP BY sip, dip ORDER BY n DESC LIMIT 5"
	p := prepare(t, q, testOptions(t))
	p.topkKeep = 1
	res, err := p.Execute(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	p2 := prepare(t, q, testOptions(t))
	p2.noTopK = true
	all, err := p2.Execute(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.TopN {
		t.Fatal("ran as a threshold top-N: the bound held, the test needs one that fails")
	}
	compareRows(t, q, rowsOf(res), rowsOf(all), distinctItems(p.Statement()), false)
	if res.Stats.BytesRead != 2*all.Stats.BytesRead || res.Stats.ChunksRead != 2*all.Stats.ChunksRead {
		t.Errorf("read %d bytes in %d chunks, want the general path's %d in %d twice (scout, then general)",
			res.Stats.BytesRead, res.Stats.ChunksRead, all.Stats.BytesRead, all.Stats.ChunksRead)
	}
	if res.Stats.Groups != all.Stats.Groups {
		t.Errorf("groups %d, general path %d", res.Stats.Groups, all.Stats.Groups)
	}
}

// TestTopKCountOfFlows: ordering flows by count(*) cannot be bounded (a
// flow counts 1 in each block), so such a query is not taken for a
// threshold top-N; grouped by sip, count(*) varies and it is.
func TestTopKCountOfFlows(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT sip, dip, dport, proto, count(*) AS n GROUP BY sip, dip, dport, proto ORDER BY n DESC LIMIT 5":     false,
		"SELECT sip, count(*) AS n GROUP BY sip ORDER BY n DESC LIMIT 5":                                           true,
		"SELECT sip, dip, dport, proto, sum(packets) AS n GROUP BY sip, dip, dport, proto ORDER BY n DESC LIMIT 5": true,
	} {
		if _, got := prepare(t, q, testOptions(t)).topkOf(); got != want {
			t.Errorf("%s: qualifies %v, want %v", q, got, want)
		}
	}
}
