package planner

import (
	"cmp"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/sql"
)

// Pruning folds the WHERE tree over what is known of one block, in
// three-valued logic: a leaf is true or false for every row of the block,
// or unknown. Knowledge grows by level (pred.go): the block start, then
// its interface and the host, then its statistics, then its address
// dictionaries. A block whose tree folds to false at some level is
// skipped and counted under that level's reason; a tree folding to true
// needs no row filter at all.

type tri uint8

const (
	tUnknown tri = iota
	tFalse
	tTrue
)

func triOf(b bool) tri {
	if b {
		return tTrue
	}
	return tFalse
}

// blockEnv is what is known of one block.
type blockEnv struct {
	meta   *columnar.BlockMeta
	host   string
	level  int        // leaves of this level or lower are decided
	codes  [][]span64 // per leaf id: dictionary code spans (levelDict)
	probed colSet     // address columns whose dictionaries codes hold
}

// fold evaluates n over env, storing every node's value in vals (by id).
func fold(n *pnode, env *blockEnv, vals []tri) tri {
	var v tri
	switch n.kind {
	case nLeaf:
		v = foldLeaf(n.leaf, env)
	case nAnd:
		v = tTrue
		for _, k := range n.kids {
			switch fold(k, env, vals) {
			case tFalse:
				v = tFalse
			case tUnknown:
				if v == tTrue {
					v = tUnknown
				}
			}
		}
	case nOr:
		v = tFalse
		for _, k := range n.kids {
			switch fold(k, env, vals) {
			case tTrue:
				v = tTrue
			case tUnknown:
				if v == tFalse {
					v = tUnknown
				}
			}
		}
	case nNot:
		switch fold(n.kids[0], env, vals) {
		case tTrue:
			v = tFalse
		case tFalse:
			v = tTrue
		}
	}
	vals[n.id] = v
	return v
}

func foldLeaf(l *leaf, env *blockEnv) tri {
	if l.level > env.level {
		return tUnknown
	}
	m := env.meta
	switch l.kind {
	case lkTime:
		return triOf(contains64(l.nums, uint64(m.Start)))
	case lkString:
		return triOf(l.str(env.stringOf(l.col)))
	case lkCols:
		c := 0
		if l.col.Type() == sql.TypeString {
			c = cmp.Compare(env.stringOf(l.col), env.stringOf(l.col2))
		}
		return triOf(cmpHolds(l.op, c))
	case lkNum:
		if m.Rows == 0 {
			return tFalse
		}
		lo, hi := statsRange(m, l.col)
		return spansVsRange(l.nums, lo, hi)
	case lkAddr:
		if !env.probed.has(storedOf(l.col)[0]) {
			return tUnknown
		}
		n := dictSize(m, l.col)
		if m.Rows == 0 || n == 0 {
			return tFalse
		}
		return spansVsRange(env.codes[l.id], 0, uint64(n-1))
	}
	return tUnknown
}

// spansVsRange decides "value in s" for values known to lie in [lo, hi].
func spansVsRange(s []span64, lo, hi uint64) tri {
	over := false
	for _, x := range s {
		if x.lo <= lo && hi <= x.hi {
			return tTrue
		}
		if x.lo <= hi && lo <= x.hi {
			over = true
		}
	}
	if !over {
		return tFalse
	}
	return tUnknown
}

func (env *blockEnv) stringOf(c sql.Column) string {
	if c == sql.ColHost {
		return env.host
	}
	return env.meta.Iface
}

// statsRange returns bounds of a numeric column over a block's rows: the
// exact range of dport and proto, and [0, total] for counters.
func statsRange(m *columnar.BlockMeta, c sql.Column) (lo, hi uint64) {
	switch c {
	case sql.ColDPort:
		return uint64(m.MinDPort), uint64(m.MaxDPort)
	case sql.ColProto:
		return uint64(m.MinProto), uint64(m.MaxProto)
	case sql.ColBytesIn:
		return 0, m.BytesIn
	case sql.ColBytesOut:
		return 0, m.BytesOut
	case sql.ColPacketsIn:
		return 0, m.PacketsIn
	case sql.ColPacketsOut:
		return 0, m.PacketsOut
	case sql.ColBytes:
		return 0, m.Bytes()
	case sql.ColPackets:
		return 0, m.Packets()
	}
	return 0, ^uint64(0)
}

func dictSize(m *columnar.BlockMeta, c sql.Column) int {
	if c == sql.ColSIP {
		return m.SIPDistinct
	}
	return m.DIPDistinct
}

// pruneReason is why a block is skipped.
type pruneReason uint8

const (
	keep pruneReason = iota
	byTime
	byIface
	byStats
	byDict
)

// pruneMeta decides a block from its metadata alone (levels 1-3) and
// returns the value of the whole condition at the statistics level.
func (p *Plan) pruneMeta(m *columnar.BlockMeta, host string, vals []tri) (pruneReason, tri) {
	if p.where == nil {
		if m.Rows == 0 {
			return byStats, tFalse
		}
		return keep, tTrue
	}
	env := blockEnv{meta: m, host: host}
	for _, lv := range [...]struct {
		level  int
		reason pruneReason
	}{{levelTime, byTime}, {levelIface, byIface}, {levelStats, byStats}} {
		env.level = lv.level
		if fold(p.where, &env, vals) == tFalse {
			return lv.reason, tFalse
		}
	}
	if m.Rows == 0 {
		return byStats, tFalse
	}
	return keep, vals[p.where.id]
}

// dictLeaves returns the address columns whose dictionaries can decide
// leaves still unknown at the statistics level (vals from pruneMeta).
func (p *Plan) dictLeaves(n *pnode, vals []tri, out colSet) colSet {
	if n == nil || vals[n.id] != tUnknown {
		return out
	}
	if n.kind == nLeaf {
		if n.leaf.kind == lkAddr {
			out.add(n.leaf.col)
		}
		return out
	}
	for _, k := range n.kids {
		out = p.dictLeaves(k, vals, out)
	}
	return out
}

// rowColumns returns the stored columns the row filter reads: those of
// the leaves left unknown (vals from the last fold), under unknown nodes.
func rowColumns(n *pnode, vals []tri, out colSet) colSet {
	if n == nil || vals[n.id] != tUnknown {
		return out
	}
	if n.kind == nLeaf {
		out.add(n.leaf.col)
		if n.leaf.kind == lkCols {
			out.add(n.leaf.col2)
		}
		return out
	}
	for _, k := range n.kids {
		out = rowColumns(k, vals, out)
	}
	return out
}

// codeSpans translates the address spans of a leaf into the dictionary
// codes of one block: the dictionary is sorted, so each address span is a
// code range found by binary search.
func codeSpans(l *leaf, d *columnar.Dict, dst []span64) []span64 {
	dst = dst[:0]
	for _, s := range l.addrs {
		from, to := d.Range(s.lo.bytes(), s.hi.bytes())
		if from >= to {
			continue
		}
		if n := len(dst); n > 0 && dst[n-1].hi+1 == uint64(from) {
			dst[n-1].hi = uint64(to - 1)
			continue
		}
		dst = append(dst, span64{uint64(from), uint64(to - 1)})
	}
	return dst
}
