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

// Threshold top-N. "The N largest flows (or talkers, or host pairs) by
// sum(bytes)" over a day is the most common question and, done plainly,
// among the most expensive: every one of millions of groups is built only
// for all but N to be thrown away. When a group's part in each block is
// known from the block alone, its total is a sum of one value per block,
// which bounds it from a short list per block. That holds for groups by
// sip, or by sip and dip (rows are sorted by them, so a group is a run of
// rows in every block), and for the flow (sip, dip, dport, proto) where
// each block holds a flow at most once (columnar.FlagDistinct):
//
//  1. Scout: each block keeps its R groups with the largest values (R =
//     topkKeep(N)) and its cutoff c_b, the R-th value (0 when it had no
//     more than R groups, all kept). A group's value in b that was not
//     kept is at most c_b.
//  2. For every group g kept somewhere, P_g (its kept values) is a lower
//     bound of its total and U_g = P_g + sum of c_b over the blocks that
//     did not keep it an upper bound; a group kept nowhere has at most
//     S = sum of all c_b. With L the N-th largest P_g, the true N-th
//     total is at least L, so groups with U_g < L cannot be in the
//     answer, and if S < L neither can any group kept nowhere.
//  3. Exact: the groups left (often N to 3N) are found in every block by
//     binary search on the sorted sip and dip codes, and their rows
//     aggregated with all of the query's aggregates, so the answer and
//     its ties are what the general path gives.
//
// Both passes read the same chunks, but neither builds a table of all
// groups. When the bound does not hold (S >= L, as when values are even)
// or leaves too many groups, the query takes the general path. Only
// Execute uses it: a partial for a fan-out must hold every group.

const (
	topkMaxLimit  = 1000 // LIMIT beyond which the general path is used
	topkMinBlocks = 8    // fewer blocks: the general path is cheap anyway
	topkMaxFlows  = 4096 // more groups left by the bound: the general path
)

// topkKeep is the number of groups a block keeps for a LIMIT of n: enough
// that the cutoffs of a day of blocks sum to less than the N-th total on
// realistic traffic (heavy tails), few enough to cost nothing to keep.
func topkKeep(n int64) int { return int(max(128, 8*n)) }

// topkGrouping is what a threshold top-N groups by: a prefix of the row
// order (sip; sip and dip), whose groups are runs of rows in every
// sorted block, or the flow, one row per block where flows are distinct.
type topkGrouping uint8

const (
	bySip topkGrouping = iota + 1
	bySipDip
	byFlow
)

// topkSpec says how a plan qualifies for the threshold top-N.
type topkSpec struct {
	st    int   // the state the first ORDER BY term is (sum or count)
	n     int64 // LIMIT
	keep  int   // groups kept per block by the scout
	group topkGrouping
}

// topkOf reports whether p can run as a threshold top-N: an aggregate
// grouped by sip, by sip and dip, or by the flow (sip, dip, dport,
// proto), ordered first by a sum or count descending, with a LIMIT of at
// most topkMaxLimit.
func (p *Plan) topkOf() (topkSpec, bool) {
	var s topkSpec
	if !p.agg || p.noTopK || p.limit < 1 || p.limit > topkMaxLimit || len(p.order) == 0 {
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
	var cols colSet
	for _, k := range p.keys {
		if k.width != 0 {
			return s, false
		}
		cols.add(k.col)
	}
	sip, dip := colSet(1)<<columnar.ColSIP, colSet(1)<<columnar.ColDIP
	flow := sip | dip | 1<<columnar.ColDPort | 1<<columnar.ColProto
	switch {
	case len(p.keys) == 1 && cols == sip:
		s.group = bySip
	case len(p.keys) == 2 && cols == sip|dip:
		s.group = bySipDip
	case len(p.keys) == 4 && cols == flow:
		s.group = byFlow
	default:
		return s, false
	}
	if s.group == byFlow && a.fn == sql.AggCount {
		// A flow's count in a block is 1: every cutoff would be 1 and the
		// bound could never hold.
		return s, false
	}
	s.st, s.n, s.keep = a.st, p.limit, topkKeep(p.limit)
	if p.topkKeep > 0 {
		s.keep = p.topkKeep
	}
	return s, true
}

// flowKey identifies a group across blocks: a flow, or with the fields
// the grouping lacks zero, a sip or a sip and dip.
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

// keptRow is a group a block kept in the scout, with its value there.
type keptRow struct {
	flow  flowKey
	v     uint64
	block int32
}

// topkRun is the state of a threshold top-N shared by the workers.
type topkRun struct {
	spec  topkSpec
	exact bool      // second pass: look up groups; otherwise scouting
	cut   []uint64  // per candidate block: its cutoff (scout)
	flows []flowKey // the groups left, sorted (exact pass)
}

// topkScratch is a worker's own part of a threshold top-N.
type topkScratch struct {
	heap []heapRow // the block's largest groups so far: a min-heap by v
	kept []keptRow // groups kept by the worker's blocks
	rows []int32   // exact pass: the block's rows of the groups left
}

type heapRow struct {
	v   uint64
	row int32
}

// executeTopK runs p as a threshold top-N. It reports ok false, having
// read nothing or only the scout, when the blocks or the bound do not
// allow it; the caller then runs the general path. After a scout, the
// result it returns with ok false holds the scout's statistics only.
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
		f := e.cands[i].Flags
		if f&columnar.FlagSorted == 0 || spec.group == byFlow && f&columnar.FlagDistinct == 0 {
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
		// The general path runs next; what the scout read is the
		// query's too (Execute adds it).
		return &Result{Stats: scout}, false, nil
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

// topkBound applies the bound to the groups the blocks kept and their
// cutoffs: it returns the groups that may be among the n largest, sorted,
// and whether the bound holds (no group kept nowhere can be).
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

// topkScout keeps the block's groups with the largest values and records
// its cutoff. A flow is a row; a sip's or a sip and dip's rows are a run,
// summed as they pass.
func (w *worker) topkScout(root tri, r0, r1 int) error {
	t, s := w.e.tk, &w.tk
	sip, dip := &w.cols[columnar.ColSIP], &w.cols[columnar.ColDIP]
	g := t.spec.group
	h := topHeap{rows: s.heap[:0], keep: t.spec.keep}
	// The open run: its first row, sum and codes.
	run, sum, runSip, runDip := int32(-1), uint64(0), uint64(0), uint64(0)
	err := w.eachBatch(root, r0, r1, func(lo, n int, sel []int32, cnt int) error {
		vals := w.stateValues(t.spec.st, lo, n, sel, cnt) // nil for count(*)
		var scodes, dcodes []uint64
		if g != byFlow {
			scodes = w.values(sql.ColSIP, lo, n, sel)
		}
		if g == bySipDip {
			dcodes = w.values(sql.ColDIP, lo, n, sel)
		}
		for i := range cnt {
			v := uint64(1)
			if vals != nil {
				v = vals[i]
			}
			row := int32(lo + i)
			if sel != nil {
				row = sel[i]
			}
			if g == byFlow {
				h.offer(v, row)
				continue
			}
			sc := scodes[i]
			var dc uint64
			if dcodes != nil {
				dc = dcodes[i]
			}
			if run >= 0 && sc == runSip && dc == runDip {
				sum = addSat(sum, v)
				continue
			}
			if run >= 0 {
				h.offer(sum, run)
			}
			run, sum, runSip, runDip = row, v, sc, dc
		}
		return nil
	})
	if err != nil {
		return err
	}
	if run >= 0 {
		h.offer(sum, run)
	}
	s.heap = h.rows
	if h.offered > h.keep {
		t.cut[w.block] = h.rows[0].v
	}
	port, proto := &w.cols[columnar.ColDPort], &w.cols[columnar.ColProto]
	for _, r := range h.rows {
		i := int(r.row)
		k := keptRow{v: r.v, block: int32(w.block)}
		k.flow.sip = sip.col.Dict.At(int(sip.at(i)))
		if g != bySip {
			k.flow.dip = dip.col.Dict.At(int(dip.at(i)))
		}
		if g == byFlow {
			k.flow.port, k.flow.proto = uint16(port.at(i)), uint8(proto.at(i))
		}
		s.kept = append(s.kept, k)
	}
	return nil
}

// topHeap keeps the keep largest values offered, with a row each: a
// min-heap, its root the cutoff once full.
type topHeap struct {
	rows    []heapRow
	keep    int
	offered int
}

func (h *topHeap) offer(v uint64, row int32) {
	h.offered++
	switch {
	case len(h.rows) < h.keep:
		h.rows = append(h.rows, heapRow{v, row})
		siftUp(h.rows, len(h.rows)-1)
	case v > h.rows[0].v:
		h.rows[0] = heapRow{v, row}
		siftDown(h.rows, 0)
	}
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

// topkExact finds the rows of the groups left in the block by binary
// search (rows are sorted by sip then dip code: a sip's or a sip and
// dip's rows are a run, and within the latter a flagged block holds a
// flow once), and aggregates those that pass the condition.
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
		if !ok {
			i = j
			continue
		}
		lo, hi := sip.searchCodesIn(r0, r1, uint64(sc)), sip.searchCodesIn(r0, r1, uint64(sc)+1)
		if t.spec.group == bySip {
			rows = appendRun(rows, lo, hi)
			i = j
			continue
		}
		for _, g := range t.flows[i:j] {
			dc, ok := dip.col.Dict.Lookup(g.dip)
			if !ok {
				continue
			}
			d0 := dip.searchCodesIn(lo, hi, uint64(dc))
			d1 := dip.searchCodesIn(d0, hi, uint64(dc)+1)
			if t.spec.group == bySipDip {
				rows = appendRun(rows, d0, d1)
				continue
			}
			for r := d0; r < d1; r++ {
				if port.at(r) == uint64(g.port) && proto.at(r) == uint64(g.proto) {
					rows = append(rows, int32(r))
					break
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

func appendRun(rows []int32, lo, hi int) []int32 {
	for r := lo; r < hi; r++ {
		rows = append(rows, int32(r))
	}
	return rows
}
