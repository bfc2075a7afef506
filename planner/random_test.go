package planner

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// qgen writes random queries over the small store: random conditions
// (AND/OR/NOT, IN, BETWEEN, prefixes, time), groupings, aggregates,
// orders with every key as tie-break (so LIMIT is deterministic) and
// limits.
type qgen struct {
	r    *rand.Rand
	sips []netip.Addr
	dips []netip.Addr
}

func (g *qgen) pick(s ...string) string { return s[g.r.IntN(len(s))] }

func (g *qgen) addr(pool []netip.Addr) string {
	if g.r.IntN(8) == 0 {
		return g.pick("1.2.3.4", "2001:db8::dead", "10.9.9.9")
	}
	return pool[g.r.IntN(len(pool))].String()
}

// sameFamilyPair returns two addresses of one family, ascending.
func (g *qgen) sameFamilyPair(pool []netip.Addr) (string, string) {
	a := pool[g.r.IntN(len(pool))]
	for range 50 {
		b := pool[g.r.IntN(len(pool))]
		if b.Is4() == a.Is4() {
			if b.Less(a) {
				a, b = b, a
			}
			return a.String(), b.String()
		}
	}
	return a.String(), a.String()
}

func (g *qgen) prefix(pool []netip.Addr) string {
	if g.r.IntN(8) == 0 {
		// Prefixes of either family that cover the other's stored form
		// (IPv4 is kept IPv4-mapped): they match their own family only.
		return g.pick("::/0", "::/1", "::/64", "::ffff:0:0/96", "0.0.0.0/0", "0.0.0.0/1")
	}
	a := pool[g.r.IntN(len(pool))]
	bits := []int{8, 12, 16, 24, 32}
	if !a.Is4() {
		bits = []int{32, 48, 64, 100, 128}
	}
	p, _ := a.Prefix(bits[g.r.IntN(len(bits))])
	return p.String()
}

func (g *qgen) timeLit() string {
	t := testStart.Add(time.Duration(g.r.IntN(7*60)) * time.Minute)
	if g.r.IntN(4) == 0 {
		t = t.Add(30 * time.Second)
	}
	return "'" + t.Format("2006-01-02 15:04:05") + "'"
}

func (g *qgen) leaf() string {
	switch g.r.IntN(22) {
	case 0:
		return "sip = " + g.addr(g.sips)
	case 1:
		return fmt.Sprintf("sip IN (%s, %s)", g.prefix(g.sips), g.addr(g.sips))
	case 2:
		return "dip IN 10.0.0.0/8"
	case 3:
		return fmt.Sprintf("dip NOT IN (%s, %s)", g.prefix(g.dips), g.addr(g.dips))
	case 4:
		return g.pick("sip", "dip") + " " + g.pick("<", "<=", ">", ">=") + " " + g.addr(g.sips)
	case 5:
		a, b := g.sameFamilyPair(g.dips)
		return fmt.Sprintf("dip %sBETWEEN %s AND %s", g.pick("", "NOT "), a, b)
	case 6:
		return "dport = " + g.pick("53", "443", "80", "22", "0", "9999")
	case 7:
		return "dport IN (53, 443, 8080)"
	case 8:
		lo := g.r.IntN(2000)
		return fmt.Sprintf("dport BETWEEN %d AND %d", lo, lo+g.r.IntN(60000))
	case 9:
		return "dport " + g.pick(">", "<", ">=") + fmt.Sprintf(" %d", g.r.IntN(2000))
	case 10:
		return "proto " + g.pick("=", "!=") + " " + g.pick("tcp", "udp", "icmp", "6", "gre")
	case 11:
		return fmt.Sprintf("bytes %s %d", g.pick(">", "<", ">="), g.r.IntN(200000))
	case 12:
		return "packets_in = 0"
	case 13:
		return g.pick("bytes_in < bytes_out", "packets_in >= packets_out", "sip = dip", "bytes != packets")
	case 14:
		return fmt.Sprintf("packets >= %d", g.r.IntN(40))
	case 15:
		return fmt.Sprintf("time >= -%dm", g.r.IntN(400))
	case 16:
		return "time " + g.pick("<", "<=", ">", "=", "!=") + " " + g.timeLit()
	case 17:
		a, b := g.timeLit(), g.timeLit()
		if a > b {
			a, b = b, a
		}
		return "time BETWEEN " + a + " AND " + b
	case 18:
		return "iface " + g.pick("=", "!=", "<") + " " + g.pick("eth0", "eth1", "eth9")
	case 19:
		return "host " + g.pick("=", "!=") + " " + g.pick("'probe-1'", "'other'")
	case 20:
		return "sip IN (" + g.prefix(g.sips) + ")"
	}
	return "time IN (" + g.timeLit() + ", " + g.timeLit() + ")"
}

func (g *qgen) cond(depth int) string {
	if depth == 0 || g.r.IntN(3) == 0 {
		return g.leaf()
	}
	switch g.r.IntN(3) {
	case 0:
		return "NOT (" + g.cond(depth-1) + ")"
	case 1:
		return "(" + g.cond(depth-1) + " AND " + g.cond(depth-1) + ")"
	}
	return "(" + g.cond(depth-1) + " OR " + g.cond(depth-1) + ")"
}

// query returns a random query and whether its rows are unordered.
func (g *qgen) query() string {
	var b strings.Builder
	var items, keys []string
	orderable := map[string]bool{}
	agg := g.r.IntN(5) != 0
	if agg {
		pool := []string{"sip", "dip", "dport", "proto", "iface", "host", "time", "bucket(time, 1h)", "bucket(time, 20m)", "bucket(time, 1m)", "bytes_out"}
		g.r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		keys = pool[:g.r.IntN(4)]
		aggs := []string{"count(*)", "sum(bytes)", "sum(packets_in)", "min(dport)", "max(bytes)", "avg(bytes_out)",
			"count(DISTINCT dip)", "count(DISTINCT sip)", "min(time)", "max(proto)", "count(DISTINCT dport)", "max(time)"}
		g.r.Shuffle(len(aggs), func(i, j int) { aggs[i], aggs[j] = aggs[j], aggs[i] })
		aggs = aggs[:1+g.r.IntN(3)]
		items = append(append(items, keys...), aggs...)
		for _, a := range aggs {
			orderable[a] = !strings.Contains(a, "DISTINCT")
		}
	} else {
		pool := []string{"time", "iface", "sip", "dip", "dport", "proto", "bytes", "packets_out", "bucket(time, 1h)"}
		g.r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		items = pool[:1+g.r.IntN(4)]
		keys = items
	}
	for _, k := range keys {
		orderable[k] = true
	}
	g.r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	b.WriteString("SELECT " + strings.Join(items, ", "))
	if g.r.IntN(4) == 0 {
		b.WriteString(" FROM " + g.pick("eth0", "eth1", "eth0, eth1", "any"))
	}
	if g.r.IntN(10) < 7 || !agg {
		b.WriteString(" WHERE " + g.cond(3))
	}
	if len(keys) > 0 && agg {
		b.WriteString(" GROUP BY " + strings.Join(keys, ", "))
	}
	if g.r.IntN(10) < 6 {
		var ord []string
		used := map[string]bool{}
		for range g.r.IntN(3) {
			x := items[g.r.IntN(len(items))]
			if !orderable[x] || used[x] {
				continue
			}
			used[x] = true
			ord = append(ord, x+g.pick("", " DESC", " ASC"))
		}
		for _, k := range keys {
			if !used[k] {
				ord = append(ord, k+g.pick("", " DESC"))
			}
		}
		if len(ord) > 0 {
			b.WriteString(" ORDER BY " + strings.Join(ord, ", "))
		}
	}
	if g.r.IntN(2) == 0 {
		fmt.Fprintf(&b, " LIMIT %d", g.r.IntN(30))
	}
	return b.String()
}

// TestRandomQueries compares the engine with the slow evaluator on random
// queries, with random parallelism.
func TestRandomQueries(t *testing.T) {
	db := openSmall(t)
	rows := slowRows(t, db, testHost)
	g := &qgen{r: rand.New(rand.NewPCG(7, 11))}
	seen := map[netip.Addr]bool{}
	for _, r := range rows {
		if !seen[r.sip] {
			g.sips = append(g.sips, r.sip)
			seen[r.sip] = true
		}
		if !seen[r.dip] {
			g.dips = append(g.dips, r.dip)
			seen[r.dip] = true
		}
	}
	n := 400
	if testing.Short() {
		n = 100
	}
	v4 := 0 // queries that read an IPv4 dictionary part alone
	for i := range n {
		q := g.query()
		opts := testOptions(t)
		opts.Parallelism = 1 + i%3
		p := prepare(t, q, opts)
		if p.v4 != 0 {
			v4++
		}
		if i%2 == 1 {
			p.splitAt = 1 + i%40 // exercise partitioned tables and buffered flushes
		}
		stmt := p.Statement()
		res, err := p.Execute(t.Context(), db)
		if err != nil {
			t.Fatalf("query %d: %s: %v", i, q, err)
		}
		want := slowQuery(stmt, rows, testNow)
		unordered := isAggQuery(stmt) && len(stmt.OrderBy) == 0 && stmt.Limit == nil
		compareRows(t, q, rowsOf(res), want, distinctItems(stmt), unordered)
	}
	t.Logf("%d of %d queries read IPv4 dictionary parts alone", v4, n)
	if v4 < n/20 {
		t.Errorf("only %d of %d queries read IPv4 dictionary parts alone", v4, n)
	}
}
