package planner

import (
	"cmp"
	"container/heap"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowsql/flowsql/sql"
)

// Finish turns a partial (of this plan, possibly merged from many stores)
// into the result: final aggregate values (avg = sum/count, distinct =
// sketch estimate), ORDER BY with ties broken by every group key, and
// LIMIT (a heap when LIMIT is smaller than the groups, a full sort only
// without it). Without ORDER BY, an aggregate's rows come in no particular
// order unless LIMIT is given: then the first groups by key are returned.
// A query with aggregates and no GROUP BY always returns one row, with
// null min, max and avg when no row matched. The partial is not released.
func (p *Plan) Finish(part *Partial) (*Result, error) {
	if part == nil {
		return nil, fmt.Errorf("%w: nil partial", ErrPartial)
	}
	if s := part.p.signature(); s != p.signature() {
		return nil, fmt.Errorf("%w: %q and %q", ErrPlanMismatch, p.signature(), s)
	}
	res := &Result{Stats: part.Stats}
	if !p.agg {
		rows := part.rows.ordered()
		res.Columns = p.projectRows(part, rows)
		return res, nil
	}
	empty := part.table.len() == 0 && len(p.keys) == 0
	if empty {
		// An aggregate of no rows: one row of empty states.
		if _, _, err := part.table.find(nil); err != nil {
			return nil, err
		}
	}
	o := newGroupOrder(p, part)
	idx := o.pick()
	res.Columns = p.projectGroups(part, o.refs, idx, empty)
	res.Stats.Groups = part.Stats.Groups
	return res, nil
}

// groupOrder orders the groups of a finished partial.
type groupOrder struct {
	p    *Plan
	x    *Partial
	by   []orderSpec
	fin  map[int][]float64 // final values of ordered avg and distinct aggregates
	refs []groupRef        // every group; the order works on indexes into it
	idx  []int32
}

func newGroupOrder(p *Plan, x *Partial) *groupOrder {
	o := &groupOrder{p: p, x: x, by: slices.Clone(p.order), fin: map[int][]float64{}, refs: x.table.groups()}
	if len(o.by) == 0 && p.limit < 0 {
		return o // any order
	}
	for k := range p.keys {
		if !slices.ContainsFunc(o.by, func(s orderSpec) bool { return s.ref.key == k }) {
			o.by = append(o.by, orderSpec{ref: ref{key: k, agg: -1}})
		}
	}
	for _, s := range o.by {
		if a := s.ref.agg; a >= 0 && o.fin[a] == nil {
			switch p.aggs[a].fn {
			case sql.AggAvg, sql.AggCountDistinct:
				v := make([]float64, len(o.refs))
				for i, r := range o.refs {
					v[i] = o.final(a, r)
				}
				o.fin[a] = v
			}
		}
	}
	return o
}

// final returns the value of aggregate a for group r as a float64.
func (o *groupOrder) final(a int, r groupRef) float64 {
	ag, t, g := &o.p.aggs[a], r.t, r.g
	switch ag.fn {
	case sql.AggAvg:
		c := t.vals[ag.cnt][g]
		if c == 0 {
			return math.NaN()
		}
		return float64(t.vals[ag.st][g]) / float64(c)
	case sql.AggCountDistinct:
		return float64(t.sk[ag.st][g].estimate())
	}
	return float64(t.vals[ag.st][g])
}

// cmp compares groups refs[a] and refs[b] in result order.
func (o *groupOrder) cmp(a, b int32) int {
	ra, rb := o.refs[a], o.refs[b]
	l := &o.p.layout
	for _, s := range o.by {
		var r int
		if k := s.ref.key; k >= 0 {
			ka, kb := ra.t.key(int(ra.g)), rb.t.key(int(rb.g))
			switch o.p.keys[k].typ {
			case TypeAddr:
				r = cmpU128(o.x.addrs.at(uint32(l.get(ka, k))), o.x.addrs.at(uint32(l.get(kb, k))))
			case TypeString:
				r = strings.Compare(o.x.strs.at(uint32(l.get(ka, k))), o.x.strs.at(uint32(l.get(kb, k))))
			default:
				r = cmp.Compare(l.get(ka, k), l.get(kb, k))
			}
		} else if f := o.fin[s.ref.agg]; f != nil {
			r = cmp.Compare(f[a], f[b])
		} else {
			st := o.p.aggs[s.ref.agg].st
			r = cmp.Compare(ra.t.vals[st][ra.g], rb.t.vals[st][rb.g])
		}
		if r != 0 {
			if s.desc {
				return -r
			}
			return r
		}
	}
	return 0
}

// pick returns the groups of the result, in order.
func (o *groupOrder) pick() []int32 {
	n := len(o.refs)
	lim := o.p.limit
	if len(o.by) == 0 {
		idx := make([]int32, n)
		for i := range idx {
			idx[i] = int32(i)
		}
		if lim >= 0 && lim < int64(n) {
			idx = idx[:lim]
		}
		return idx
	}
	if lim >= 0 && lim < int64(n) {
		o.idx = make([]int32, 0, lim)
		for g := range n {
			if int64(len(o.idx)) < lim {
				heap.Push(o, int32(g))
			} else if lim > 0 && o.cmp(int32(g), o.idx[0]) < 0 {
				o.idx[0] = int32(g)
				heap.Fix(o, 0)
			}
		}
		slices.SortFunc(o.idx, o.cmp)
		return o.idx
	}
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, o.cmp)
	return idx
}

// Len, Less, Swap, Push and Pop make groupOrder a heap of group ids with
// the worst kept group at the root.
func (o *groupOrder) Len() int           { return len(o.idx) }
func (o *groupOrder) Less(i, j int) bool { return o.cmp(o.idx[i], o.idx[j]) > 0 }
func (o *groupOrder) Swap(i, j int)      { o.idx[i], o.idx[j] = o.idx[j], o.idx[i] }
func (o *groupOrder) Push(x any)         { o.idx = append(o.idx, x.(int32)) }
func (o *groupOrder) Pop() any {
	x := o.idx[len(o.idx)-1]
	o.idx = o.idx[:len(o.idx)-1]
	return x
}

// projectGroups builds the result columns of the groups refs[idx[i]].
func (p *Plan) projectGroups(x *Partial, refs []groupRef, idx []int32, empty bool) []Column {
	cols := make([]Column, len(p.items))
	for i, it := range p.items {
		c := Column{Name: it.name, Type: it.typ}
		c.reserve(len(idx))
		if k := it.ref.key; k >= 0 {
			for _, j := range idx {
				r := refs[j]
				c.appendKey(p, x, r.t.key(int(r.g)), k)
			}
			cols[i] = c
			continue
		}
		ag := &p.aggs[it.ref.agg]
		for _, j := range idx {
			t, g := refs[j].t, refs[j].g
			switch ag.fn {
			case sql.AggAvg:
				n := t.vals[ag.cnt][g]
				c.Floats = append(c.Floats, float64(t.vals[ag.st][g])/float64(max(n, 1)))
				c.setNull(len(c.Floats)-1, n == 0)
			case sql.AggCountDistinct:
				c.Uints = append(c.Uints, t.sk[ag.st][g].estimate())
			case sql.AggMin, sql.AggMax:
				v := t.vals[ag.st][g]
				if c.Type == TypeTime {
					c.Times = append(c.Times, int64(v))
				} else {
					c.Uints = append(c.Uints, v)
				}
				c.setNull(c.Len()-1, empty)
				if empty {
					c.zeroLast()
				}
			default:
				c.Uints = append(c.Uints, t.vals[ag.st][g])
			}
		}
		cols[i] = c
	}
	return cols
}

// reserve makes room for n values in the slice of the column's type, so
// a projection of millions of groups allocates each slice once.
func (c *Column) reserve(n int) {
	switch c.Type {
	case TypeTime:
		c.Times = make([]int64, 0, n)
	case TypeString:
		c.Strings = make([]string, 0, n)
	case TypeAddr:
		c.Addrs = make([]netip.Addr, 0, n)
	case TypeFloat:
		c.Floats = make([]float64, 0, n)
	default:
		c.Uints = make([]uint64, 0, n)
	}
}

// appendKey appends key k of a packed key (or listed row).
func (c *Column) appendKey(p *Plan, x *Partial, words []uint64, k int) {
	l := &p.layout
	switch c.Type {
	case TypeTime:
		c.Times = append(c.Times, int64(l.get(words, k)))
	case TypeString:
		c.Strings = append(c.Strings, x.strs.at(uint32(l.get(words, k))))
	case TypeAddr:
		var a u128
		if p.agg {
			a = x.addrs.at(uint32(l.get(words, k)))
		} else {
			a = l.get128(words, k)
		}
		c.Addrs = append(c.Addrs, netip.AddrFrom16(a.bytes()).Unmap())
	default:
		c.Uints = append(c.Uints, l.get(words, k))
	}
}

func (c *Column) setNull(i int, null bool) {
	if !null {
		if c.Null != nil {
			c.Null = append(c.Null, false)
		}
		return
	}
	if c.Null == nil {
		c.Null = make([]bool, i, i+1)
	}
	c.Null = append(c.Null, true)
}

func (c *Column) zeroLast() {
	switch c.Type {
	case TypeTime:
		c.Times[len(c.Times)-1] = 0
	default:
		c.Uints[len(c.Uints)-1] = 0
	}
}

// projectRows builds the result columns of listed rows.
func (p *Plan) projectRows(x *Partial, rows [][]uint64) []Column {
	cols := make([]Column, len(p.items))
	for i, it := range p.items {
		c := Column{Name: it.name, Type: it.typ}
		for _, r := range rows {
			c.appendKey(p, x, r, it.ref.key)
		}
		cols[i] = c
	}
	return cols
}
