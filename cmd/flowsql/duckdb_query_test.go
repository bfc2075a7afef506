package main

import (
	"fmt"
	"strings"
)

// Whole random queries for the DuckDB differential test, from the
// predicates of duckdb_gen_test.go: select items, GROUP BY, ORDER BY with
// flowsql's tie-breaks written out for DuckDB, and LIMIT.

// diffKey is a group key or listed column in both dialects.
type diffKey struct {
	fs    string   // flowsql expression
	disp  string   // DuckDB expression of the value
	sort  string   // DuckDB expression that orders like flowsql
	group []string // DuckDB GROUP BY expressions
	kind  colKind
}

func keyOf(name string) diffKey {
	switch name {
	case "sip", "dip":
		return diffKey{fs: name, disp: name, sort: name + "_x", group: []string{name, name + "_x"}}
	case "time":
		return diffKey{fs: "time", disp: "t", sort: "t", group: []string{"t"}, kind: kindTime}
	}
	if strings.HasPrefix(name, "bucket:") {
		var w int64
		fmt.Sscan(name[len("bucket:"):], &w)
		e := fmt.Sprintf("(t // %d * %d)", w, w)
		return diffKey{fs: fmt.Sprintf("bucket(time, %s)", formatWidth(w)), disp: e, sort: e, group: []string{e}, kind: kindTime}
	}
	return diffKey{fs: name, disp: name, sort: name, group: []string{name}}
}

func formatWidth(sec int64) string {
	if sec%3600 == 0 {
		return fmt.Sprintf("%dh", sec/3600)
	}
	return fmt.Sprintf("%dm", sec/60)
}

// diffAgg is an aggregate in both dialects.
type diffAgg struct {
	fs, dd    string
	kind      colKind
	orderable bool
}

func (g *queryGen) agg() diffAgg {
	switch g.r.IntN(7) {
	case 0:
		return diffAgg{"count(*)", "count(*)", kindExact, true}
	case 1, 2:
		c := pick(g.r, counters)
		return diffAgg{"sum(" + c + ")", "coalesce(sum(" + c + "), 0)", kindExact, true}
	case 3:
		c := pick(g.r, counters)
		return diffAgg{"avg(" + c + ")", "avg(" + c + ")", kindFloat, false}
	case 4, 5:
		c := pick(g.r, append([]string{"dport", "proto", "time"}, counters...))
		f := pick(g.r, []string{"min", "max"})
		if c == "time" {
			return diffAgg{f + "(time)", f + "(t)", kindTime, true}
		}
		return diffAgg{f + "(" + c + ")", f + "(" + c + ")", kindExact, true}
	default:
		c := pick(g.r, []string{"sip", "dip", "dport"})
		return diffAgg{"count(DISTINCT " + c + ")", "count(DISTINCT " + c + ")", kindDistinct, false}
	}
}

var keyNames = []string{"sip", "dip", "dport", "proto", "iface", "time", "bucket:600", "bucket:1800", "bucket:3600", "bucket:7200"}

// query returns one random query.
func (g *queryGen) query() diffQuery {
	var where, dwhere []string
	from := ""
	if g.r.IntN(7) == 0 {
		i := pick(g.r, g.s.ifaces)
		from, dwhere = " FROM "+i, append(dwhere, "iface = '"+i+"'")
	}
	if g.r.IntN(5) > 0 {
		f, d := g.cond(3)
		where, dwhere = append(where, f), append(dwhere, d)
	}
	q := diffQuery{}
	var fsItems, ddItems, fsOrder, ddOrder []string
	type orderable struct{ fs, dd string }
	var ords []orderable
	var ties []string // DuckDB tie-break, in flowsql's order
	var groups []string
	var fsGroup []string
	agg := g.r.IntN(5) > 0
	// flowTop draws the threshold top-N's shape (planner/topk.go):
	// grouped by sip, by sip and dip or by the flow, ordered first by a
	// sum or count descending, limited.
	flowTop := agg && g.r.IntN(6) == 0
	var top orderable
	if agg {
		perm := g.r.Perm(len(keyNames))
		nk := g.r.IntN(5)
		if flowTop {
			// keyNames[:nk]: sip; sip, dip; sip, dip, dport, proto
			nk = []int{1, 2, 4}[g.r.IntN(3)]
			perm = g.r.Perm(nk)
		}
		timeKey := false
		var keys []diffKey
		for _, i := range perm[:nk] {
			k := keyOf(keyNames[i])
			if k.kind == kindTime {
				if timeKey {
					continue
				}
				timeKey = true
			}
			keys = append(keys, k)
		}
		for _, k := range keys {
			fsGroup = append(fsGroup, k.fs)
			groups = append(groups, k.group...)
			ties = append(ties, k.sort)
			if g.r.IntN(6) > 0 { // sometimes a key is grouped but not selected
				fsItems, ddItems = append(fsItems, k.fs), append(ddItems, k.disp)
				q.kinds = append(q.kinds, k.kind)
				ords = append(ords, orderable{k.fs, k.sort})
			}
		}
		for i := range 1 + g.r.IntN(3) {
			a := g.agg()
			for flowTop && i == 0 && !strings.HasPrefix(a.fs, "sum(") && a.fs != "count(*)" {
				a = g.agg()
			}
			alias := fmt.Sprintf("a%d", i)
			if flowTop && i == 0 {
				top = orderable{alias, a.dd}
			}
			fsItems, ddItems = append(fsItems, a.fs+" AS "+alias), append(ddItems, a.dd)
			q.kinds = append(q.kinds, a.kind)
			if a.orderable {
				ords = append(ords, orderable{alias, a.dd})
			}
		}
	} else {
		cols := append([]string{"time", "iface", "sip", "dip", "dport", "proto"}, counters...)
		perm := g.r.Perm(len(cols))
		for _, i := range perm[:1+g.r.IntN(5)] {
			k := keyOf(cols[i])
			fsItems, ddItems = append(fsItems, k.fs), append(ddItems, k.disp)
			q.kinds = append(q.kinds, k.kind)
			ords = append(ords, orderable{k.fs, k.sort})
			ties = append(ties, k.sort)
		}
		if len(where) == 0 || g.r.IntN(2) == 0 { // keep listings small: order and limit
			f, d := g.cond(2)
			where, dwhere = append(where, f), append(dwhere, d)
		}
	}
	limit := -1
	if flowTop {
		fsOrder, ddOrder = append(fsOrder, top.fs+" DESC"), append(ddOrder, top.dd+" DESC")
		if o := pick(g.r, ords); g.r.IntN(3) == 0 && o != top {
			fsOrder, ddOrder = append(fsOrder, o.fs), append(ddOrder, o.dd)
		}
	} else if len(ords) > 0 && g.r.IntN(2) == 0 || !agg && g.r.IntN(3) > 0 {
		for range 1 + g.r.IntN(2) {
			if len(ords) == 0 {
				break
			}
			o := pick(g.r, ords)
			dir := pick(g.r, []string{"", " DESC", " ASC"})
			fsOrder, ddOrder = append(fsOrder, o.fs+dir), append(ddOrder, o.dd+dir)
		}
	}
	if len(fsOrder) > 0 {
		q.ordered = true
		if flowTop {
			limit = 1 + g.r.IntN(30)
		} else if g.r.IntN(3) > 0 {
			limit = g.r.IntN(30)
		}
	} else if agg && len(fsGroup) > 0 && g.r.IntN(6) == 0 {
		limit = 1 + g.r.IntN(20) // the first groups by key
	}

	var fb, db strings.Builder
	fmt.Fprintf(&fb, "SELECT %s%s", strings.Join(fsItems, ", "), from)
	fmt.Fprintf(&db, "SELECT %s FROM flows", strings.Join(ddItems, ", "))
	if len(where) > 0 {
		fb.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	if len(dwhere) > 0 {
		db.WriteString(" WHERE " + strings.Join(dwhere, " AND "))
	}
	if len(fsGroup) > 0 {
		fb.WriteString(" GROUP BY " + strings.Join(fsGroup, ", "))
		db.WriteString(" GROUP BY " + strings.Join(groups, ", "))
	}
	if len(fsOrder) > 0 {
		fb.WriteString(" ORDER BY " + strings.Join(fsOrder, ", "))
	}
	if len(ddOrder) > 0 || limit >= 0 && len(ties) > 0 {
		db.WriteString(" ORDER BY " + strings.Join(append(ddOrder, ties...), ", "))
	}
	if limit >= 0 {
		fmt.Fprintf(&fb, " LIMIT %d", limit)
		fmt.Fprintf(&db, " LIMIT %d", limit)
	}
	q.flowsql, q.duck, q.flowTop = fb.String(), db.String(), flowTop
	return q
}
