package planner

import (
	"github.com/flowsql/flowsql/sql"
)

// timeSpans returns the block starts s (whole seconds >= 0) for which
// "s op t" holds, t possibly fractional or before the epoch.
func timeSpans(op sql.CmpOp, t litValue, dom span) spanSet {
	floor, ceil := t.sec, t.sec
	if t.frac {
		ceil++
	}
	between := func(lo, hi int64) spanSet {
		lo = max(lo, 0)
		if hi < lo {
			return nil
		}
		return spanSet{{u128{0, uint64(lo)}, u128{0, uint64(hi)}}}
	}
	top := int64(dom.hi.lo)
	switch op {
	case sql.OpEq:
		if t.frac {
			return nil
		}
		return between(floor, floor)
	case sql.OpNe:
		if t.frac {
			return between(0, top)
		}
		return normalize(append(between(0, floor-1), between(floor+1, top)...))
	case sql.OpLt:
		return between(0, ceil-1)
	case sql.OpLe:
		return between(0, floor)
	case sql.OpGt:
		if floor == top {
			return nil
		}
		return between(floor+1, top)
	}
	return between(ceil, top)
}

// timeHull returns time spans outside which n is false for every block:
// time leaves give their spans, other leaves everything, AND intersects,
// OR unites, and NOT complements only a subtree of time leaves alone.
func timeHull(n *pnode) spanSet {
	all := spanSet{domain(sql.ColTime)}
	if n == nil {
		return all
	}
	switch n.kind {
	case nLeaf:
		if n.leaf.kind == lkTime {
			return slicesToSet(n.leaf.nums)
		}
		return all
	case nAnd:
		s := all
		for _, k := range n.kids {
			s = s.intersect(timeHull(k))
		}
		return s
	case nOr:
		var s spanSet
		for _, k := range n.kids {
			s = s.union(timeHull(k))
		}
		return s
	}
	if pureTime(n.kids[0]) {
		return timeHull(n.kids[0]).complement(domain(sql.ColTime))
	}
	return all
}

func slicesToSet(s []span64) spanSet {
	out := make(spanSet, len(s))
	for i, x := range s {
		out[i] = span{u128{0, x.lo}, u128{0, x.hi}}
	}
	return out
}

// pureTime reports whether every leaf under n tests time alone.
func pureTime(n *pnode) bool {
	if n.kind == nLeaf {
		return n.leaf.kind == lkTime
	}
	for _, k := range n.kids {
		if !pureTime(k) {
			return false
		}
	}
	return true
}
