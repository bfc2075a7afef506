package planner

import (
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/sql"
)

// Row filters. The folded WHERE tree is evaluated over one batch of rows
// at a time into bitmaps, one per node: leaves test a column vector
// against spans (address leaves test dictionary codes against the code
// spans of the block), AND/OR/NOT combine words. Nodes the block's
// metadata decided are all ones or all zeros without reading anything.

// filterScratch holds the per-node bitmaps of one worker.
type filterScratch struct {
	bm  [][]uint64 // per node id, batchRows bits
	a   []uint64   // operands of column comparisons
	b   []uint64
	sum []uint64 // virtual column values
}

func newFilterScratch(nodes int) filterScratch {
	f := filterScratch{bm: make([][]uint64, nodes)}
	for i := range f.bm {
		f.bm[i] = make([]uint64, bitWords(batchRows))
	}
	return f
}

// eval returns the bitmap of node n for rows [lo, lo+cnt) of the block.
func (w *worker) eval(n *pnode, lo, cnt int) []uint64 {
	out := w.f.bm[n.id][:bitWords(cnt)]
	switch w.vals[n.id] {
	case tTrue:
		setOnes(out, cnt)
		return out
	case tFalse:
		clear(out)
		return out
	}
	switch n.kind {
	case nLeaf:
		clear(out)
		w.evalLeaf(n.leaf, lo, cnt, out)
	case nAnd:
		first := true
		for _, k := range n.kids {
			if w.vals[k.id] == tTrue {
				continue
			}
			kb := w.eval(k, lo, cnt)
			if first {
				copy(out, kb)
				first = false
				continue
			}
			zero := uint64(0)
			for i := range out {
				out[i] &= kb[i]
				zero |= out[i]
			}
			if zero == 0 {
				break
			}
		}
		if first {
			setOnes(out, cnt)
		}
	case nOr:
		clear(out)
		for _, k := range n.kids {
			if w.vals[k.id] == tFalse {
				continue
			}
			kb := w.eval(k, lo, cnt)
			for i := range out {
				out[i] |= kb[i]
			}
		}
	case nNot:
		kb := w.eval(n.kids[0], lo, cnt)
		for i := range out {
			out[i] = ^kb[i]
		}
		if r := cnt & 63; r != 0 {
			out[len(out)-1] &= 1<<uint(r) - 1
		}
	}
	return out
}

// evalLeaf ORs into out the rows of [lo, lo+cnt) where leaf l holds.
func (w *worker) evalLeaf(l *leaf, lo, cnt int, out []uint64) {
	switch l.kind {
	case lkNum:
		if l.col.Virtual() {
			v := w.virtual(l.col, w.f.sum, lo, cnt)
			w.f.sum = v
			spanBitsT(v, l.nums, out)
			return
		}
		w.cols[storedOf(l.col)[0]].spanBits(lo, cnt, l.nums, out)
	case lkAddr:
		w.cols[storedOf(l.col)[0]].spanBits(lo, cnt, w.codes[l.id], out)
	case lkCols:
		op := l.op
		holds := func(c int) bool { return cmpHolds(op, c) }
		if l.col.Type() == sql.TypeAddr {
			w.addrBits(l, lo, cnt, holds, out)
			return
		}
		w.f.a = w.virtual(l.col, w.f.a, lo, cnt)
		w.f.b = w.virtual(l.col2, w.f.b, lo, cnt)
		cmpBits(w.f.a, w.f.b, holds, out)
	}
}

// virtual gathers the values of a numeric column, stored or virtual, for
// rows [lo, lo+cnt) into dst.
func (w *worker) virtual(c sql.Column, dst []uint64, lo, cnt int) []uint64 {
	ids := storedOf(c)
	dst = w.cols[ids[0]].gather(dst, lo, cnt, nil)
	if len(ids) == 2 {
		w.cols[ids[1]].addGather(dst, lo, cnt, nil)
	}
	return dst
}

// addrBits compares two address columns row by row through their
// dictionaries (a rare query shape; not a hot path).
func (w *worker) addrBits(l *leaf, lo, cnt int, holds func(int) bool, out []uint64) {
	a, b := &w.cols[storedOf(l.col)[0]], &w.cols[storedOf(l.col2)[0]]
	da, db := dictBytes(a.col.Dict.Array()), dictBytes(b.col.Dict.Array())
	for i := range cnt {
		ca, cb := a.at(lo+i), b.at(lo+i)
		x := u128{be64(da[16*ca:]), be64(da[16*ca+8:])}
		y := u128{be64(db[16*cb:]), be64(db[16*cb+8:])}
		c := 0
		if x.less(y) {
			c = -1
		} else if y.less(x) {
			c = 1
		}
		if holds(c) {
			out[i>>6] |= 1 << uint(i&63)
		}
	}
}

// sipRange narrows the rows of a block sorted by sip to those a sip leaf
// ANDed at the top of the condition can match: the rows of one sip are
// contiguous, so the code spans bound a row range found by binary search.
func (w *worker) sipRange(m *columnar.BlockMeta) (r0, r1 int) {
	r0, r1 = 0, m.Rows
	p := w.p
	if m.Flags&columnar.FlagSorted == 0 || p.where == nil || w.cols[columnar.ColSIP].w == 0 {
		return r0, r1
	}
	terms := []*pnode{p.where}
	if p.where.kind == nAnd {
		terms = p.where.kids
	}
	for _, t := range terms {
		if t.kind != nLeaf || t.leaf.kind != lkAddr || t.leaf.col != sql.ColSIP || w.vals[t.id] != tUnknown {
			continue
		}
		cs := w.codes[t.leaf.id]
		if len(cs) == 0 {
			continue
		}
		c := &w.cols[columnar.ColSIP]
		lo, hi, ok := c.col.CodeRows(int(cs[0].lo), int(cs[len(cs)-1].hi)+1)
		if !ok {
			lo = c.searchCodes(cs[0].lo)
			hi = c.searchCodes(cs[len(cs)-1].hi + 1)
		}
		r0, r1 = max(r0, lo), min(r1, hi)
	}
	if r1 < r0 {
		r1 = r0
	}
	return r0, r1
}

// batchSel evaluates the condition over rows [lo, lo+n) and returns the
// rows that pass (nil when all do) and their count.
func (w *worker) batchSel(root tri, lo, n int) ([]int32, int) {
	if root != tUnknown {
		return nil, n
	}
	bm := w.eval(w.p.where, lo, n)
	cnt := popcount(bm)
	if cnt == 0 || cnt == n {
		return nil, cnt
	}
	w.sel = selFromBits(bm, lo, w.sel)
	return w.sel, cnt
}

// eachBatch hands fn each batch of rows [r0, r1) with rows that pass the
// condition (sel nil when all do), counting them and checking the context
// every ctxCheckBatches batches; batches without a passing row are skipped.
func (w *worker) eachBatch(root tri, r0, r1 int, fn func(lo, n int, sel []int32, cnt int) error) error {
	for lo, b := r0, 0; lo < r1; lo, b = lo+batchRows, b+1 {
		if b%ctxCheckBatches == ctxCheckBatches-1 {
			if err := w.ctx.Err(); err != nil {
				return err
			}
		}
		n := min(batchRows, r1-lo)
		sel, cnt := w.batchSel(root, lo, n)
		if cnt == 0 {
			continue
		}
		w.st.RowsMatched += int64(cnt)
		w.stamp++
		if err := fn(lo, n, sel, cnt); err != nil {
			return err
		}
	}
	return nil
}
