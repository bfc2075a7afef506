package planner

import (
	"cmp"
	"context"
	"math"
	"math/bits"
	"slices"
	"time"
	"unsafe"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/sql"
)

// Threshold top-N. "The N largest flows by sum(bytes)" over a day is the
// most common question and, done plainly, the most expensive: every one
// of millions of flows gets a group only for all but N to be thrown away.
// When each block holds a flow at most once (columnar.FlagDistinct) and
// the query groups by the flow, a flow's total is the sum of at most one
// row per block, which bounds it from a short list per block:
//
//  1. Scout: each block keeps its R rows with the largest values (R =
//     topkKeep(N)) and its cutoff c_b, the R-th value (0 when it had no
//     more than R rows, all kept). A flow's row in b that was not kept is
//     at most c_b.
//  2. For every flow g kept somewhere, P_g (its kept rows) is a lower
//     bound of its total and U_g = P_g + sum of c_b over the blocks that
//     did not keep it an upper bound; a flow kept nowhere has at most
//     S = sum of all c_b. With L the N-th largest P_g, the true N-th
//     total is at least L, so flows with U_g < L cannot be in the answer,
//     and if S < L neither can any flow kept nowhere.
//  3. Exact: the flows left (often N to 3N) are looked up in every block
//     by binary search on the sorted sip and dip codes, and aggregated
//     with all of the query's aggregates, so the answer and its ties are
//     what the general path gives.
//
// Both passes read the same chunks, but neither builds a table of all
// flows. When the bound does not hold (S >= L, as when values are even)
// or leaves too many flows, the query takes the general path. Only
// Execute uses it: a partial for a fan-out must hold every group.

const (
	topkMaxLimit  = 1000 // LIMIT beyond which the general path is used
	topkMinBlocks = 8    // fewer blocks: the general path is cheap anyway
	topkMaxFlows  = 4096 // more flows left by the bound: the general path
)

// topkKeep is the number of rows a block keeps for a LIMIT of n: enough
// that the cutoffs of a day of blocks sum to less than the N-th total on
// realistic traffic (heavy tails), few enough to cost nothing to keep.
func topkKeep(n int64) int { return int(max(128, 8*n)) }

// topkSpec says how a plan qualifies for the threshold top-N.
type topkSpec struct {
	st   int   // the state the first ORDER BY term is (sum or count)
	n    int64 // LIMIT
	keep int   // rows kept per block by the scout
	// key indexes of the flow's columns
	sip, dip, port, proto int
}

// topkOf reports whether p can run as a threshold top-N: an aggregate
// grouped by exactly (sip, dip, dport, proto), ordered first by a sum or
// count descending, with a LIMIT of at most topkMaxLimit.
func (p *Plan) topkOf() (topkSpec, bool) {
	s := topkSpec{sip: -1, dip: -1, port: -1, proto: -1}
	if !p.agg || p.noTopK || p.limit < 1 || p.limit > topkMaxLimit || len(p.order) == 0 || len(p.keys) != 4 {
		return s, false
	}
	o := p.order[0]
	if !o.desc || o.ref.agg < 0 {
		return s, false
	}
	a := p.aggs[o.ref.agg]
	if a.fn != sql.AggSum && a.fn != sql.AggCount {
		return s, false
	}
	if k := p.states[a.st].kind; k != stSum && k != stCount {
		return s, false
	}
	for i, k := range p.keys {
		if k.width != 0 {
			return s, false
		}
		switch k.col {
		case sql.ColSIP:
			s.sip = i
		case sql.ColDIP:
			s.dip = i
		case sql.ColDPort:
			s.port = i
		case sql.ColProto:
			s.proto = i
		}
	}
	if s.sip < 0 || s.dip < 0 || s.port < 0 || s.proto < 0 {
		return s, false
	}
	s.st, s.n, s.keep = a.st, p.limit, topkKeep(p.limit)
	if p.topkKeep > 0 {
		s.keep = p.topkKeep
	}
	return s, true
}

// flowKey identifies a flow across blocks.
type flowKey struct {
	sip, dip [16]byte
	port     uint16
	proto    uint8
}

func cmpFlowKey(a, b flowKey) int {
	if c := cmpAddr16(&a.sip, &b.sip); c != 0 {
		return c
	}
	if c := cmpAddr16(&a.dip, &b.dip); c != 0 {
		return c
	}
	if c := cmp.Compare(a.port, b.port); c != 0 {
		return c
	}
	return cmp.Compare(a.proto, b.proto)
}

func cmpAddr16(a, b *[16]byte) int {
	return cmpU128(u128{be64(a[:]), be64(a[8:])}, u128{be64(b[:]), be64(b[8:])})
}

// keptRow is a row a block kept in the scout.
type keptRow struct {
	flow  flowKey
	v     uint64
	block int32
}

// topkRun is the state of a threshold top-N shared by the workers.
type topkRun struct {
	spec  topkSpec
	exact bool      // second pass: look up flows; otherwise scouting
	cut   []uint64  // per candidate block: its cutoff (scout)
	flows []flowKey // the flows left, sorted (exact pass)
}

// topkScratch is a worker's own part of a threshold top-N.
type topkScratch struct {
	heap []heapRow // the block's largest rows so far: a min-heap by v
	kept []keptRow // rows kept by the worker's blocks
	rows []int32   // exact pass: the block's rows of the flows left
}

type heapRow struct {
	v   uint64
	row int32
}

// executeTopK runs p as a threshold top-N. It reports ok false, having
// read nothing or only the scout, when the blocks or the bound do not
// allow it; the caller then runs the general path.
func (p *Plan) executeTopK(ctx context.Context, db *columnar.DB, spec topkSpec) (res *Result, ok bool, err error) {
	start := time.Now()
	if db == nil {
		return nil, false, ErrNilDB
	}
	e := p.newExecution(db)
	defer func() {
		if !ok {
			e.addrs.t.release()
		}
	}()
	st, err := e.prune(ctx)
	if err != nil {
		return nil, false, err
	}
	if len(e.cands) < topkMinBlocks {
		return nil, false, nil
	}
	for i := range e.cands {
		if f := e.cands[i].Flags; f&columnar.FlagDistinct == 0 || f&columnar.FlagSorted == 0 {
			return nil, false, nil
		}
	}

	// The rows the blocks keep are accounted to the budget; when they
	// would take more than a quarter of it (a long time range, a large
	// LIMIT), the general path is the better use of the memory.
	keptBytes := int64(len(e.cands)) * int64(spec.keep) * int64(unsafe.Sizeof(keptRow{}))
	if e.bud.limit > 0 && keptBytes > e.bud.limit/4 {
		return nil, false, nil
	}
	if err := e.bud.reserve(keptBytes, "the rows a threshold top-N keeps"); err != nil {
		return nil, false, err
	}
	defer e.bud.release(keptBytes)

	e.tk = &topkRun{spec: spec, cut: make([]uint64, len(e.cands))}
	workers, err := e.run(ctx)
	var kept []keptRow
	var scout Stats
	for _, w := range workers {
		kept = append(kept, w.tk.kept...)
		scout.add(&w.st)
		w.release()
	}
	if err != nil {
		return nil, false, err
	}
	flows, bounded := topkBound(kept, e.tk.cut, spec.n)
	if !bounded || len(flows) > topkMaxFlows {
		return nil, false, nil
	}

	e.tk.exact, e.tk.flows = true, flows
	workers, err = e.run(ctx)
	for _, w := range workers {
		w.releaseScratch()
	}
	if err != nil {
		for _, w := range workers {
			w.release()
		}
		return nil, false, err
	}
	var exact Stats
	var cols colSet
	for _, w := range workers {
		exact.add(&w.st)
		cols |= w.colsRead
	}
	part, err := e.mergeWorkers(workers)
	if err != nil {
		return nil, true, err // mergeWorkers released the tables and the addresses
	}
	defer part.Release()
	// The scout read every block the exact pass read, and looked at all
	// of their rows: its counts are the query's, plus the exact pass's
	// reads, and the groups are the flows the bound left.
	st.add(&scout)
	st.ChunksRead += exact.ChunksRead
	st.BytesRead += exact.BytesRead
	for _, w := range exact.Warnings {
		// A block damaged in both passes is reported once; one damaged
		// since the scout (a day removed by retention meanwhile) is
		// reported too, as its rows are missing from the answer.
		if !slices.ContainsFunc(st.Warnings, func(s Warning) bool { return s.Iface == w.Iface && s.Start.Equal(w.Start) }) {
			st.Warnings = append(st.Warnings, w)
			st.BlocksDamaged++
		}
	}
	for _, id := range cols.ids() {
		st.ColumnsRead = append(st.ColumnsRead, id.String())
	}
	st.ColumnsRead = mergeColumnNames(st.ColumnsRead, scout.ColumnsRead)
	st.PeakMemory = e.bud.peak.Load()
	st.Groups = part.len()
	st.TopN = true
	st.Elapsed = time.Since(start)
	part.Stats = st
	part.dropSlots()
	res, err = p.Finish(part)
	return res, true, err
}

// topkBound applies the bound to the rows the blocks kept and their
// cutoffs: it returns the flows that may be among the n largest, sorted,
// and whether the bound holds (no flow kept nowhere can be).
func topkBound(kept []keptRow, cut []uint64, n int64) ([]flowKey, bool) {
	type bound struct{ lower, cutKept uint64 }
	var total uint64 // S: the sum of all cutoffs
	for _, c := range cut {
		total = addSat(total, c)
	}
	byFlow := make(map[flowKey]*bound, len(kept))
	for _, r := range kept {
		b := byFlow[r.flow]
		if b == nil {
			b = &bound{}
			byFlow[r.flow] = b
		}
		b.lower = addSat(b.lower, r.v)
		b.cutKept += cut[r.block] // at most total: no overflow
	}
	if int64(len(byFlow)) < n {
		return nil, false
	}
	lowers := make([]uint64, 0, len(byFlow))
	for _, b := range byFlow {
		lowers = append(lowers, b.lower)
	}
	slices.SortFunc(lowers, func(a, b uint64) int { return cmp.Compare(b, a) })
	l := lowers[n-1] // L: the n-th total is at least this
	if total >= l {
		return nil, false
	}
	var flows []flowKey
	for f, b := range byFlow {
		if addSat(b.lower, total-b.cutKept) >= l {
			flows = append(flows, f)
		}
	}
	slices.SortFunc(flows, cmpFlowKey)
	return flows, true
}

func addSat(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return math.MaxUint64
	}
	return s
}

// topkBlock runs the current pass of a threshold top-N over rows [r0, r1)
// of the worker's block, whose columns are read and prepared.
func (w *worker) topkBlock(root tri, r0, r1 int) error {
	if w.e.tk.exact {
		return w.topkExact(root, r0, r1)
	}
	return w.topkScout(root, r0, r1)
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

// topkScout keeps the block's rows with the largest values and records
// its cutoff.
func (w *worker) topkScout(root tri, r0, r1 int) error {
	t, s := w.e.tk, &w.tk
	keep := t.spec.keep
	h := s.heap[:0]
	passed := 0
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
		passed += cnt
		w.stamp++
		vals := w.stateValues(t.spec.st, lo, n, sel, cnt) // nil for count(*)
		for i := range cnt {
			v := uint64(1)
			if vals != nil {
				v = vals[i]
			}
			if len(h) == keep && v <= h[0].v {
				continue
			}
			row := int32(lo + i)
			if sel != nil {
				row = sel[i]
			}
			if len(h) < keep {
				h = append(h, heapRow{v, row})
				siftUp(h, len(h)-1)
			} else {
				h[0] = heapRow{v, row}
				siftDown(h, 0)
			}
		}
	}
	s.heap = h
	if passed > keep {
		t.cut[w.block] = h[0].v
	}
	sip, dip := &w.cols[columnar.ColSIP], &w.cols[columnar.ColDIP]
	port, proto := &w.cols[columnar.ColDPort], &w.cols[columnar.ColProto]
	for _, r := range h {
		i := int(r.row)
		s.kept = append(s.kept, keptRow{v: r.v, block: int32(w.block), flow: flowKey{
			sip: sip.col.Dict.At(int(sip.at(i))), dip: dip.col.Dict.At(int(dip.at(i))),
			port: uint16(port.at(i)), proto: uint8(proto.at(i)),
		}})
	}
	return nil
}

func siftUp(h []heapRow, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].v <= h[i].v {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func siftDown(h []heapRow, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		if r := l + 1; r < len(h) && h[r].v < h[l].v {
			l = r
		}
		if h[i].v <= h[l].v {
			return
		}
		h[i], h[l] = h[l], h[i]
		i = l
	}
}

// topkExact finds the rows of the flows left in the block, by binary
// search (rows are sorted by sip then dip code, and a flagged block holds
// a flow once), and aggregates those that pass the condition.
func (w *worker) topkExact(root tri, r0, r1 int) error {
	t, s := w.e.tk, &w.tk
	sip, dip := &w.cols[columnar.ColSIP], &w.cols[columnar.ColDIP]
	port, proto := &w.cols[columnar.ColDPort], &w.cols[columnar.ColProto]
	rows := s.rows[:0]
	for i := 0; i < len(t.flows); {
		f := &t.flows[i]
		j := i + 1
		for j < len(t.flows) && t.flows[j].sip == f.sip {
			j++
		}
		sc, ok := sip.col.Dict.Lookup(f.sip)
		if ok {
			lo, hi := searchCodes(sip, r0, r1, uint64(sc)), searchCodes(sip, r0, r1, uint64(sc)+1)
			for _, g := range t.flows[i:j] {
				dc, ok := dip.col.Dict.Lookup(g.dip)
				if !ok {
					continue
				}
				for r := searchCodes(dip, lo, hi, uint64(dc)); r < hi && dip.at(r) == uint64(dc); r++ {
					if port.at(r) == uint64(g.port) && proto.at(r) == uint64(g.proto) {
						rows = append(rows, int32(r))
						break
					}
				}
			}
		}
		i = j
	}
	slices.Sort(rows)
	s.rows = rows
	for i := 0; i < len(rows); {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		lo := int(rows[i])
		n := min(batchRows, r1-lo)
		j := i
		for j < len(rows) && int(rows[j]) < lo+n {
			j++
		}
		sel := append(w.sel[:0], rows[i:j]...)
		if root == tUnknown {
			bm := w.eval(w.p.where, lo, n)
			sel = slices.DeleteFunc(sel, func(r int32) bool { return bm[(int(r)-lo)/64]&(1<<((int(r)-lo)%64)) == 0 })
		}
		w.sel = sel
		i = j
		if len(sel) == 0 {
			continue
		}
		w.stamp++
		if err := w.aggBatch(lo, n, sel, len(sel)); err != nil {
			return err
		}
	}
	return nil
}

// searchCodes returns the first row in [lo, hi) whose code is >= code,
// for codes sorted ascending over that range.
func searchCodes(c *colData, lo, hi int, code uint64) int {
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.at(m) < code {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
