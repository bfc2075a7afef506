package planner

import (
	"cmp"
	"container/heap"
	"slices"
	"strings"
)

// ORDER BY with LIMIT keeps the best LIMIT rows in a heap whose root is
// the worst of them: a new row either loses to the root at once or
// replaces it. Only queries without LIMIT sort everything. Ties are broken
// by every remaining key, ascending, so results are deterministic.

// topRows keeps the first limit rows (packed words) in cmp order.
type topRows struct {
	nk    int
	limit int64
	arena []uint64 // nk words per slot
	idx   []int32  // heap of slots, worst first
	cmp   func(a, b []uint64) int
}

func newTopRows(nk int, limit int64, cmp func(a, b []uint64) int) *topRows {
	return &topRows{nk: nk, limit: limit, cmp: cmp}
}

func (t *topRows) row(slot int32) []uint64 {
	return t.arena[int(slot)*t.nk : (int(slot)+1)*t.nk]
}

// Len, Less, Swap, Push and Pop implement heap.Interface (a max-heap).
func (t *topRows) Len() int           { return len(t.idx) }
func (t *topRows) Less(i, j int) bool { return t.cmp(t.row(t.idx[i]), t.row(t.idx[j])) > 0 }
func (t *topRows) Swap(i, j int)      { t.idx[i], t.idx[j] = t.idx[j], t.idx[i] }
func (t *topRows) Push(x any)         { t.idx = append(t.idx, x.(int32)) }
func (t *topRows) Pop() any {
	x := t.idx[len(t.idx)-1]
	t.idx = t.idx[:len(t.idx)-1]
	return x
}

// offer considers row r (copied when kept) and reports whether the heap
// grew.
func (t *topRows) offer(r []uint64) bool {
	if t.limit <= 0 {
		return false
	}
	if int64(len(t.idx)) < t.limit {
		slot := int32(len(t.idx))
		t.arena = append(t.arena, r...)
		heap.Push(t, slot)
		return true
	}
	worst := t.row(t.idx[0])
	if t.cmp(r, worst) >= 0 {
		return false
	}
	copy(worst, r)
	heap.Fix(t, 0)
	return false
}

// sorted returns the kept rows, best first.
func (t *topRows) sorted() [][]uint64 {
	out := make([][]uint64, len(t.idx))
	for i, s := range t.idx {
		out[i] = t.row(s)
	}
	slices.SortFunc(out, t.cmp)
	return out
}

// keyCmp orders by one key.
type keyCmp struct {
	k    int
	desc bool
}

// rowOrder compares packed listing rows: ORDER BY keys, then every key
// ascending.
type rowOrder struct {
	l    *keyLayout
	keys []keySpec
	strs *strInterner
	by   []keyCmp
}

// rowOrder returns the comparison of listed rows of p.
func (p *Plan) rowOrder(strs *strInterner) *rowOrder {
	o := &rowOrder{l: &p.layout, keys: p.keys, strs: strs}
	seen := make([]bool, len(p.keys))
	for _, s := range p.order {
		o.by = append(o.by, keyCmp{k: s.ref.key, desc: s.desc})
		seen[s.ref.key] = true
	}
	for k := range p.keys {
		if !seen[k] {
			o.by = append(o.by, keyCmp{k: k})
		}
	}
	return o
}

func (o *rowOrder) cmp(a, b []uint64) int {
	for _, c := range o.by {
		var r int
		switch o.keys[c.k].typ {
		case TypeAddr:
			r = cmpU128(o.l.get128(a, c.k), o.l.get128(b, c.k))
		case TypeString:
			r = strings.Compare(o.strs.at(uint32(o.l.get(a, c.k))), o.strs.at(uint32(o.l.get(b, c.k))))
		default:
			r = cmp.Compare(o.l.get(a, c.k), o.l.get(b, c.k))
		}
		if r != 0 {
			if c.desc {
				return -r
			}
			return r
		}
	}
	return 0
}

func cmpU128(a, b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}
