package planner

import (
	"context"
	"fmt"
	"github.com/flowsql/flowsql/internal/units"
	"math"
	"strings"
	"time"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/sql"
)

// Explain describes how the plan runs on db: the time range and
// interfaces, where each condition is evaluated (per block, statistics,
// dictionary, rows), the columns read, the grouping, aggregates, order and
// limit, and how many blocks the index holds and which of them would be
// pruned for which reason. It reads the index and the dictionaries of
// blocks the address conditions could prune (so the counts are those of a
// real run), never other chunks.
func (p *Plan) Explain(ctx context.Context, db *columnar.DB) (string, error) {
	if db == nil {
		return "", ErrNilDB
	}
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-11s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	q := *p.stmt
	q.Explain = false
	line("query", "%s", q.String())
	line("now", "%s", p.now.UTC().Format(time.RFC3339))
	if spec, ok := p.topkOf(); ok {
		line("mode", "aggregate as a threshold top-N: each block keeps its %d groups with the largest %s; the groups whose bound "+
			"can still place them in the top %d are looked up in every block (reading its chunks a second time) and aggregated. "+
			"Unsorted blocks, blocks that may hold a flow twice (grouped by flow), or a bound that rules out too little "+
			"take the general path: vectorized filter, hash group-by into per-worker partial aggregates, merged",
			spec.keep, p.states[spec.st], spec.n)
	} else if p.agg {
		line("mode", "aggregate: vectorized filter, hash group-by into per-worker partial aggregates, merged")
	} else {
		line("mode", "row listing")
	}
	line("time", "%s", p.timeText())
	if len(p.ifaces) == 0 {
		line("interfaces", "all")
	} else {
		line("interfaces", "%s (FROM)", strings.Join(p.ifaces, ", "))
	}
	if p.where == nil {
		line("filter", "none")
	} else {
		line("filter", "%s", p.where.text)
		p.explainNode(&b, p.where, 1)
	}
	line("columns", "%s", p.columnsText())
	p.explainGrouping(line)

	st, blockLen, err := p.explainBlocks(ctx, db)
	if err != nil {
		return "", err
	}
	line("blocks", "%d stored, %d candidates (FROM and time range)", st.stored, st.BlocksTotal)
	line("pruned", "time %d, interface %d, statistics %d, dictionary %d (%d dictionary chunks probed)",
		st.PrunedTime, st.PrunedIface, st.PrunedStats, st.PrunedDict, st.dictProbes)
	twice := ""
	if _, ok := p.topkOf(); ok {
		twice = " (each read twice by a threshold top-N)"
	}
	line("read", "%d blocks, %d answered from statistics; %d chunks, %s on disk%s", st.BlocksRead, st.BlocksFromStats, st.ChunksRead, units.Bytes(uint64(st.BytesRead)), twice)
	for _, n := range p.notes(blockLen) {
		line("note", "%s", n)
	}
	return b.String(), nil
}

// timeText describes the time hull.
func (p *Plan) timeText() string {
	if len(p.hull) == 0 {
		return "empty: the condition excludes every time"
	}
	if len(p.hull) == 1 && p.hull[0].lo.lo == 0 && p.hull[0].hi.lo == math.MaxInt64 {
		return "all stored data"
	}
	var parts []string
	for i, s := range p.hull {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("... (%d ranges)", len(p.hull)))
			break
		}
		from := time.Unix(int64(s.lo.lo), 0).UTC().Format(time.RFC3339)
		to := "∞"
		if s.hi.lo < math.MaxInt64 {
			to = time.Unix(int64(s.hi.lo)+1, 0).UTC().Format(time.RFC3339)
		}
		parts = append(parts, "["+from+", "+to+")")
	}
	return "block starts in " + strings.Join(parts, " ∪ ")
}

// explainNode prints the condition tree with where each leaf is decided.
func (p *Plan) explainNode(b *strings.Builder, n *pnode, depth int) {
	ind := strings.Repeat("  ", depth)
	switch n.kind {
	case nAnd, nOr, nNot:
		fmt.Fprintf(b, "%s%s\n", ind, [...]string{nAnd: "AND", nOr: "OR", nNot: "NOT"}[n.kind])
		for _, k := range n.kids {
			p.explainNode(b, k, depth+1)
		}
		return
	}
	fmt.Fprintf(b, "%s%-*s %s\n", ind, max(1, 36-len(ind)), n.text, p.leafText(n))
}

func (p *Plan) leafText(n *pnode) string {
	l := n.leaf
	switch l.kind {
	case lkTime:
		return "per block: block start"
	case lkString:
		if l.col == sql.ColHost {
			return "per block: host"
		}
		return "per block: interface"
	case lkCols:
		if l.level < levelRows {
			return "per block: constant columns"
		}
		return "per row"
	case lkNum:
		what := "counter total"
		if l.col == sql.ColDPort || l.col == sql.ColProto {
			what = l.col.Name() + " range"
		}
		return "per block statistics (" + what + "), then per row"
	}
	s := "per block dictionary (binary search), then per row on codes"
	if l.col == sql.ColSIP && (p.where == n || p.where.kind == nAnd && containsNode(p.where.kids, n)) {
		s += "; sorted blocks: sip row range by binary search"
	}
	return s
}

func containsNode(ns []*pnode, n *pnode) bool {
	for _, x := range ns {
		if x == n {
			return true
		}
	}
	return false
}

// columnsText lists the stored columns the plan can read.
func (p *Plan) columnsText() string {
	var parts []string
	filter := rowColumnsAll(p.where, 0)
	for _, id := range (p.static | filter).ids() {
		s := id.String()
		switch {
		case p.v4.has(id):
			s += " (IPv4 dict+codes)"
		case id.IsAddr():
			s += " (dict+codes)"
		}
		if !p.static.has(id) {
			s += " [filter only]"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "none: answered from block metadata"
	}
	return strings.Join(parts, ", ")
}

// rowColumnsAll returns the columns of every leaf that may need rows.
func rowColumnsAll(n *pnode, out colSet) colSet {
	if n == nil {
		return out
	}
	if n.kind == nLeaf {
		if n.leaf.level >= levelStats {
			out.add(n.leaf.col)
			if n.leaf.kind == lkCols {
				out.add(n.leaf.col2)
			}
		}
		return out
	}
	for _, k := range n.kids {
		out = rowColumnsAll(k, out)
	}
	return out
}

func (p *Plan) explainGrouping(line func(label, format string, args ...any)) {
	if p.agg {
		var keys []string
		for _, k := range p.keys {
			s := k.expr
			switch {
			case k.typ == TypeAddr:
				s += " (per-block codes mapped to query ids once per block)"
			case k.constant():
				s += " (constant per block)"
			}
			keys = append(keys, s)
		}
		if len(keys) == 0 {
			keys = []string{"none: one group"}
		}
		line("group by", "%s", strings.Join(keys, ", "))
		var aggs []string
		for _, a := range p.aggs {
			aggs = append(aggs, a.expr)
		}
		var states []string
		for _, s := range p.states {
			states = append(states, s.String())
		}
		line("aggregates", "%s; states %s", strings.Join(aggs, ", "), strings.Join(states, ", "))
		if p.fromStats {
			line("statistics", "blocks without a row filter are answered from the index (row count, totals, ranges)")
		}
	} else {
		var cols []string
		for _, k := range p.keys {
			cols = append(cols, k.expr)
		}
		line("row columns", "%s", strings.Join(cols, ", "))
	}
	var ord []string
	for _, o := range p.order {
		ord = append(ord, o.text)
	}
	switch {
	case len(ord) > 0 && p.limit >= 0:
		line("order", "%s, ties by every key ascending; top-%d heap", strings.Join(ord, ", "), p.limit)
	case len(ord) > 0:
		line("order", "%s, ties by every key ascending; full sort", strings.Join(ord, ", "))
	case !p.agg:
		line("order", "storage order (interface, block start, row)")
	case p.limit >= 0:
		line("order", "none given: the first groups by key; top-%d heap", p.limit)
	default:
		line("order", "none: groups come in no particular order")
	}
	if p.limit >= 0 {
		line("limit", "%d", p.limit)
	} else {
		line("limit", "none")
	}
}

// notes returns remarks on the semantics of the plan.
func (p *Plan) notes(blockLen int64) []string {
	var out []string
	if blockLen > 0 {
		bl := fmtSeconds(blockLen)
		for _, k := range p.keys {
			if k.width == 0 {
				continue
			}
			w := fmtSeconds(k.width)
			switch {
			case k.width <= blockLen:
				out = append(out, fmt.Sprintf("%s is not wider than the %s blocks: every bucket is a block start", k.expr, bl))
			case k.width%blockLen != 0:
				out = append(out, fmt.Sprintf("%s is not a multiple of the %s blocks: each block counts wholly in the %s bucket holding its start", k.expr, bl, w))
			}
		}
	}
	for _, s := range p.states {
		if s.kind == stDistinct {
			out = append(out, fmt.Sprintf("count(DISTINCT %s) is exact up to %d values per group, then a HyperLogLog estimate (%d registers, about 1.6%% error)", s.col, sketchSparseMax, sketchM))
		}
	}
	if p.where != nil && usesTime(p.where) {
		out = append(out, "rows carry their block start as time: time conditions select whole blocks")
	}
	return out
}

func usesTime(n *pnode) bool {
	if n.kind == nLeaf {
		return n.leaf.kind == lkTime
	}
	for _, k := range n.kids {
		if usesTime(k) {
			return true
		}
	}
	return false
}

// fmtSeconds prints a number of seconds in the largest whole unit.
func fmtSeconds(s int64) string {
	for _, u := range []struct {
		n    int64
		unit string
	}{{7 * 86400, "w"}, {86400, "d"}, {3600, "h"}, {60, "m"}} {
		if s >= u.n && s%u.n == 0 {
			return fmt.Sprintf("%d%s", s/u.n, u.unit)
		}
	}
	return fmt.Sprintf("%ds", s)
}
