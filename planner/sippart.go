package planner

import (
	"context"
	"slices"
	"sort"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/sql"
)

// Range partitioning by sip. Every block written by the store has its
// rows sorted by sip code (BlockMeta.Flags&FlagSorted) over a sorted
// dictionary, so a sip address range is a contiguous run of rows in each
// block. When sip is a group key of a large query, the execution cuts the
// address space into sipParts ranges (row-weighted quantiles of a sample
// of blocks) and alternates two phases over waves of blocks of about
// sipWaveRows rows:
//
//  1. by block, in parallel: the workers pack keys and state inputs as
//     usual and append each range's run of rows to their own buffer of
//     that range (sequential copies, no per-row scatter, no table);
//  2. by range, in parallel: each range's buffered rows are folded into
//     its own small, cache-resident hash table (compact slots), without
//     locks; the emptied buffers serve the next wave.
//
// Waves bound the buffers to one wave's rows instead of the whole
// query's (Q5 of bench/read.sh: 64 MB instead of 184 MB). Ranges are disjoint in sip, so no group is in two tables and nothing is
// merged. The resulting aggTable is partitioned by sip range, not by
// hash; it is repartitioned by hash (aggTable.byHash) before anything
// looks a key up in it (Merge, MergeRecords).

const (
	// sipMinBlocks is the candidate blocks below which the plain path
	// runs: the sample and the buffers do not pay on small queries.
	sipMinBlocks = 32
	// sipRowsPerPart is the rows aimed at per range: its groups stay in
	// the CPU caches.
	sipRowsPerPart = 16384
	sipMinParts    = 16
	sipMaxParts    = 1024
	// sipSample is the blocks sampled for the range boundaries.
	sipSample = 8
	// sipChunk is the rows of a range looked up at a time in phase 2.
	sipChunk = 4096
	// sipWaveRows is the rows of the blocks read between two folds: the
	// buffers hold about this many rows' keys and states.
	sipWaveRows = 1 << 21
)

// sipPlan is the range partitioning of one execution.
type sipPlan struct {
	bounds []u128 // ascending; range j holds addresses in [bounds[j-1], bounds[j])
	key    int    // the index of the sip key in Plan.keys
}

// parts returns the number of ranges.
func (s *sipPlan) parts() int { return len(s.bounds) + 1 }

// sipPartition decides whether the execution partitions by sip range and
// prepares the boundaries from a sample of the candidate blocks; nil
// means the plain path.
func (e *execution) sipPartition(ctx context.Context, minBlocks int) (*sipPlan, error) {
	p := e.p
	if !p.agg || len(e.cands) < max(minBlocks, 1) {
		return nil, nil
	}
	key := -1
	for _, k := range p.varKeys {
		if p.keys[k].col == sql.ColSIP {
			key = k
		}
	}
	if key < 0 {
		return nil, nil
	}
	var rows int64
	for i := range e.cands {
		if e.cands[i].Flags&columnar.FlagSorted == 0 {
			return nil, nil
		}
		rows += int64(e.cands[i].Rows)
	}
	n := int(min(max(rows/sipRowsPerPart, sipMinParts), sipMaxParts))
	type weighted struct {
		a u128
		n int64
	}
	var sample []weighted
	var total int64
	step := max(1, len(e.cands)/sipSample)
	for i := step / 2; i < len(e.cands); i += step {
		m := &e.cands[i]
		_, mem, _, _ := valuesCost(m, columnar.ColSIP)
		_, dmem, _ := dictCost(m, columnar.ColSIP, false)
		if err := e.bud.reserve(mem+dmem, "the sip sample"); err != nil {
			return nil, err
		}
		col, err := e.db.ReadColumn(ctx, m, columnar.ColSIP, e.mem)
		if err != nil {
			e.bud.release(mem + dmem)
			return nil, nil // a damaged block is the plain path's to report
		}
		var cd colData
		if cd.set(col) == nil {
			dict := dictBytes(col.Dict.Array())
			for r, end := 0, cd.len(); r < end; {
				c := cd.at(r)
				next := cd.searchCodes(c + 1)
				if 16*int(c)+16 <= len(dict) {
					sample = append(sample, weighted{u128{be64(dict[16*c:]), be64(dict[16*c+8:])}, int64(next - r)})
					total += int64(next - r)
				}
				r = next
			}
		}
		cd.release()
		e.bud.release(mem + dmem)
	}
	if total == 0 {
		return nil, nil
	}
	slices.SortFunc(sample, func(x, y weighted) int {
		if x.a == y.a {
			return 0
		}
		if x.a.less(y.a) {
			return -1
		}
		return 1
	})
	if len(p.varKeys) == 1 && p.sipFewGroups > 0 {
		// Grouped by sip alone: the groups are the talkers, usually a few
		// thousand even over days. When the sample holds few, one small
		// table per worker beats buffering every row by range (top
		// talkers of a day, bench store: 80 vs 133 ms).
		distinct := 0
		for i := range sample {
			if i == 0 || sample[i].a != sample[i-1].a {
				distinct++
			}
		}
		if distinct < p.sipFewGroups {
			return nil, nil
		}
	}
	s := &sipPlan{key: key}
	var acc int64
	for _, x := range sample {
		// A boundary starts the range of the address that crosses the
		// next quantile.
		if acc*int64(n) >= int64(len(s.bounds)+1)*total && (len(s.bounds) == 0 || s.bounds[len(s.bounds)-1].less(x.a)) {
			s.bounds = append(s.bounds, x.a)
		}
		acc += x.n
	}
	return s, nil
}

// sipBufs is one worker's phase-1 buffers: per range, a list of
// segments of up to sipChunk rows each (appending never copies). Folded
// segments go to a free list and are reused by the next wave, so the
// buffers hold about one wave of rows, not the whole query's.
type sipBufs struct {
	segs   [][]*sipSeg // per range
	free   []*sipSeg   // emptied segments, for reuse
	held   int64       // budget bytes of all segments, used or free
	nk     int
	states []stateSpec
	block  int   // the block rows holds the boundaries of, or -1
	rows   []int // per range boundary: the first row of the current block at or above it
}

// sipSeg holds the packed keys and the state inputs (nil for count) of up
// to sipChunk rows of one range.
type sipSeg struct {
	keys []uint64
	vals [][]uint64
}

func newSipBufs(s *sipPlan, nk int, states []stateSpec) *sipBufs {
	return &sipBufs{segs: make([][]*sipSeg, s.parts()), nk: nk, states: states, block: -1}
}

// segBytes is the memory of one segment.
func (b *sipBufs) segBytes() int64 {
	words := b.nk
	for _, s := range b.states {
		if s.kind != stCount {
			words++
		}
	}
	return int64(8 * words * sipChunk)
}

// releaseSipBufs returns the memory of the workers' range buffers.
func (e *execution) releaseSipBufs() {
	for _, b := range e.spBufs {
		e.bud.release(b.held)
		b.held, b.segs, b.free = 0, nil, nil
	}
	e.spBufs = nil
}

// collect empties every range's segments into the free list, once a
// wave is folded.
func (b *sipBufs) collect() {
	for j, segs := range b.segs {
		for _, sg := range segs {
			sg.keys = sg.keys[:0]
			for i := range sg.vals {
				if sg.vals[i] != nil {
					sg.vals[i] = sg.vals[i][:0]
				}
			}
		}
		b.free = append(b.free, segs...)
		clear(segs)
		b.segs[j] = segs[:0]
	}
}

// rangeRows returns the rows buffered in range j.
func (b *sipBufs) rangeRows(j int) int {
	n := 0
	for _, sg := range b.segs[j] {
		n += len(sg.keys) / max(b.nk, 1)
	}
	return n
}

// newSeg returns an empty segment, from the free list when it has one.
func (b *sipBufs) newSeg(bud *budget) (*sipSeg, error) {
	if n := len(b.free); n > 0 {
		sg := b.free[n-1]
		b.free[n-1] = nil
		b.free = b.free[:n-1]
		return sg, nil
	}
	sz := b.segBytes()
	if err := bud.reserve(sz, "the sip range buffers"); err != nil {
		return nil, err
	}
	b.held += sz
	sg := &sipSeg{keys: make([]uint64, 0, b.nk*sipChunk), vals: make([][]uint64, len(b.states))}
	for i, s := range b.states {
		if s.kind != stCount {
			sg.vals[i] = make([]uint64, 0, sipChunk)
		}
	}
	return sg, nil
}

// add appends rows [i0, i1) of the batch (packed keys, state inputs) to
// range j.
func (b *sipBufs) add(bud *budget, j int, keys []uint64, vals [][]uint64, i0, i1 int) error {
	nk := b.nk
	for i0 < i1 {
		segs := b.segs[j]
		var sg *sipSeg
		if len(segs) > 0 && len(segs[len(segs)-1].keys) < nk*sipChunk {
			sg = segs[len(segs)-1]
		} else {
			var err error
			if sg, err = b.newSeg(bud); err != nil {
				return err
			}
			b.segs[j] = append(segs, sg)
		}
		k := min(i1-i0, sipChunk-len(sg.keys)/nk)
		sg.keys = append(sg.keys, keys[nk*i0:nk*(i0+k)]...)
		for i, v := range vals {
			if sg.vals[i] != nil {
				sg.vals[i] = append(sg.vals[i], v[i0:i0+k]...)
			}
		}
		i0 += k
	}
	return nil
}

// blockRows finds the first row of each range in the current block, by
// binary search of the boundaries in the sorted sip dictionary and of
// their codes in the sorted code column.
func (w *worker) sipBlockRows() {
	b, s := w.e.spBufs[w], w.e.sp
	b.block = w.block
	dict := dictBytes(w.cols[storedOf(sql.ColSIP)[0]].col.Dict.Array())
	codes := &w.cols[storedOf(sql.ColSIP)[0]]
	nd := len(dict) / 16
	b.rows = resize(b.rows, len(s.bounds))
	for j, x := range s.bounds {
		c := sort.Search(nd, func(i int) bool {
			return !(u128{be64(dict[16*i:]), be64(dict[16*i+8:])}).less(x)
		})
		b.rows[j] = codes.searchCodes(uint64(c))
	}
}

// sipAppend appends the batch's packed keys (w.keys) and state inputs to
// the worker's range buffers, one contiguous run per range.
func (w *worker) sipAppend(lo, n int, sel []int32, cnt int) error {
	b, p := w.e.spBufs[w], w.p
	if b.block != w.block {
		w.sipBlockRows()
	}
	vals := w.svals[:0]
	for i := range p.states {
		vals = append(vals, w.stateValues(i, lo, n, sel, cnt))
	}
	w.svals = vals
	// index returns the position in the batch of the first row at or
	// after row r.
	index := func(r int) int {
		if sel == nil {
			return min(max(r-lo, 0), cnt)
		}
		return sort.Search(cnt, func(i int) bool { return int(sel[i]) >= r })
	}
	j := sort.SearchInts(b.rows, lo+1) // the range of row lo
	for i0 := 0; i0 < cnt; j++ {
		i1 := cnt
		if j < len(b.rows) {
			i1 = index(b.rows[j])
		}
		if i1 <= i0 {
			continue
		}
		if err := b.add(w.e.bud, j, w.keys, vals, i0, i1); err != nil {
			return err
		}
		i0 = i1
	}
	return nil
}
