package planner

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// TestSipPartitionMatchesSlow forces the sip range partitioning on the
// small store (every block a candidate) for random grouped queries with
// sip among the keys, and compares with the slow evaluator.
func TestSipPartitionMatchesSlow(t *testing.T) {
	db := openSmall(t)
	rows := slowRows(t, db, testHost)
	g := &qgen{r: rand.New(rand.NewPCG(3, 5))}
	seen := map[netip.Addr]bool{}
	for _, r := range rows {
		for _, a := range []netip.Addr{r.sip, r.dip} {
			if !seen[a] {
				seen[a] = true
				g.sips, g.dips = append(g.sips, a), append(g.dips, a)
			}
		}
	}
	fixed := []string{
		"SELECT sip, dip, dport, proto, sum(bytes) AS b GROUP BY sip, dip, dport, proto ORDER BY b DESC, sip, dip, dport, proto LIMIT 10",
		"SELECT sip, dip, dport, proto, sum(bytes), sum(packets) GROUP BY sip, dip, dport, proto",
		"SELECT sip, count(*), count(DISTINCT dip), min(dport), max(bytes) WHERE dport != 53 GROUP BY sip",
		"SELECT bucket(time, 1h) AS t, sip, avg(bytes) WHERE sip IN (10.0.0.0/8, 2001:db8::/32) GROUP BY t, sip",
	}
	n, tried := 300, 0
	if testing.Short() {
		n = 80
	}
	for i := 0; tried < n && i < 50*n; i++ {
		q := ""
		if i < len(fixed) {
			q = fixed[i]
		} else {
			q = g.query()
		}
		opts := testOptions(t)
		opts.Parallelism = 1 + i%3
		p := prepare(t, q, opts)
		if !p.agg || !slices.ContainsFunc(p.varKeys, func(k int) bool { return p.keys[k].col.String() == "sip" }) {
			continue
		}
		p.sipFewGroups = 0 // partition even the store's few talkers
		tried++
		// Waves of one block, of a few blocks, and one wave.
		part, err := p.executePartial(t.Context(), db, 1, []int{1, 3000, sipWaveRows}[i%3])
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if part.Stats.BlocksRead > 0 && !part.table.bySip {
			t.Errorf("%s: not partitioned by sip", q)
		}
		res, err := p.Finish(part)
		part.Release()
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		stmt := p.Statement()
		want := slowQuery(stmt, rows, testNow)
		compareRows(t, q, rowsOf(res), want, distinctItems(stmt), len(stmt.OrderBy) == 0 && stmt.Limit == nil)
	}
	if tried < n/2 {
		t.Fatalf("only %d queries grouped by sip", tried)
	}
}

// TestSipPartitionMerge merges a partial partitioned by sip range with a
// plain one and with its Arrow records: the sip ranges are repartitioned
// by hash before the lookups.
func TestSipPartitionMerge(t *testing.T) {
	db := openSmall(t)
	rows := slowRows(t, db, testHost)
	q := "SELECT sip, dip, sum(bytes), count(*) GROUP BY sip, dip ORDER BY sip, dip"
	opts := testOptions(t)
	p := prepare(t, q, opts)
	a, err := p.executePartial(t.Context(), db, 1, sipWaveRows)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.executePartial(t.Context(), db, 1<<30, sipWaveRows)
	if err != nil {
		t.Fatal(err)
	}
	if !a.table.bySip || b.table.bySip {
		t.Fatalf("partitioning: %v %v", a.table.bySip, b.table.bySip)
	}
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Release()
	res, err := p.Finish(m)
	if err != nil {
		t.Fatal(err)
	}
	want := slowQuery(p.Statement(), rows, testNow)
	for _, r := range want {
		r[2], r[3] = 2*r[2].(uint64), 2*r[3].(uint64)
	}
	compareRows(t, q, rowsOf(res), want, distinctItems(p.Statement()), false)
}

// TestSipPartitionBudget stops a query partitioned by sip range at its
// memory budget (the range buffers count) with ErrMemoryBudget, leaking
// nothing.
func TestSipPartitionBudget(t *testing.T) {
	db := openSmall(t)
	opts := testOptions(t)
	opts.MemoryBudget = 600 << 10
	p := prepare(t, "SELECT sip, dip, dport, proto, sum(bytes), count(*) GROUP BY sip, dip, dport, proto", opts)
	part, err := p.executePartial(t.Context(), db, 1, sipWaveRows)
	if err == nil {
		part.Release()
		t.Fatal("no error under a tiny budget")
	}
	if !errors.Is(err, ErrMemoryBudget) {
		t.Fatalf("error %v, want ErrMemoryBudget", err)
	}
}

// TestSipFewTalkers: grouped by sip alone over a store of few talkers,
// the execution keeps the plain path (one small table per worker) unless
// told to partition; both give the slow evaluator's rows.
func TestSipFewTalkers(t *testing.T) {
	db := openSmall(t)
	rows := slowRows(t, db, testHost)
	q := "SELECT sip, sum(bytes) AS b, count(*) WHERE dport != 53 GROUP BY sip ORDER BY b DESC LIMIT 20"
	for _, few := range []int{splitGroups / 4, 0} {
		p := prepare(t, q, testOptions(t))
		if p.sipFewGroups != splitGroups/4 {
			t.Fatalf("default sipFewGroups %d, want %d", p.sipFewGroups, splitGroups/4)
		}
		p.sipFewGroups = few
		part, err := p.executePartial(t.Context(), db, 1, sipWaveRows)
		if err != nil {
			t.Fatal(err)
		}
		if part.table.bySip != (few == 0) {
			t.Errorf("sipFewGroups %d: partitioned by sip %v", few, part.table.bySip)
		}
		res, err := p.Finish(part)
		part.Release()
		if err != nil {
			t.Fatal(err)
		}
		compareRows(t, q, rowsOf(res), slowQuery(p.Statement(), rows, testNow), distinctItems(p.Statement()), false)
	}
}
