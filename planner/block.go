package planner

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/sql"
)

const (
	// batchRows is the number of rows filtered and aggregated at a time:
	// the vectors of one batch stay in the CPU cache.
	batchRows = 4096
	// ctxCheckBatches is how many batches run between checks of the
	// context (65536 rows).
	ctxCheckBatches = 16
)

// worker reads whole blocks and folds their rows into its own partial
// hash table (aggregates) or row set (listings). Workers share nothing
// mutable but the budget and the execution's counters.
type worker struct {
	e   *execution
	p   *Plan
	ctx context.Context

	table *aggTable // aggregates
	bufs  *partBufs // aggregates, once the table is partitioned
	// shared is set once table is the execution's shared partitioned
	// table (execution.shared) instead of the worker's own.
	shared bool
	rows   *rowSet // listings

	vals  []tri      // per node, current block
	codes [][]span64 // per leaf, current block
	f     filterScratch
	cols  [columnar.NumColumns + 1]colData
	held  int64 // budget bytes of the current block's chunks

	meta     *columnar.BlockMeta
	block    int               // index of meta in the execution's candidates
	group    uint32            // the group of every row, when no key varies in a block
	hasGroup bool              // group is set for the current block
	groupT   *groupTable       // the table of group
	constKey []uint64          // key words of the block-constant keys
	gidMap   [2][]uint32       // sip, dip: dictionary code -> interned id, or noID
	gidDict  [2][]byte         // sip, dip: the dictionaries gidMap maps, as 16-byte entries
	gidPart  [2]*columnar.Dict // or, for a partial (IPv4) dictionary, the dictionary
	dictHash [2][]uint64       // sip, dip: dictionary code -> sketch hash
	idGroup  []uint32          // Plan.oneAddr: interned id -> group+1 in table, 0 none yet
	idHeld   int64             // budget bytes of idGroup
	addrs    *addrCache        // the shared address ids this worker has met
	own      *addrInterner     // Plan.oneAddr: the worker's own address ids, until it goes shared (toSharedIDs)

	keys   []uint64
	gids   []uint32
	sel    []int32
	stamp  int
	vstamp [sql.ColPackets + 1]int
	vcache [sql.ColPackets + 1][]uint64
	hcache [][]uint64 // per state: sketch hashes of the batch
	hs     []uint64   // key hashes of the batch
	svals  [][]uint64 // per state: the batch's inputs, for scatter

	tk topkScratch // a threshold top-N's pass (topk.go)

	st       Stats
	colsRead colSet
	pool     *chunkPool // buffers of the chunks read
}

func newWorker(ctx context.Context, e *execution) *worker {
	p := e.p
	w := &worker{e: e, p: p, ctx: ctx, vals: make([]tri, p.nodes), codes: make([][]span64, len(p.leaves))}
	w.f = newFilterScratch(p.nodes)
	w.pool = newChunkPool(e.mem)
	w.constKey = make([]uint64, p.layout.nk)
	w.addrs = newAddrCache(e.addrs, e.bud)
	if p.oneAddr && e.sp == nil {
		w.own = newAddrInterner(e.bud)
	}
	if p.agg {
		w.table = newAggTable(p.layout.nk, p.states, e.bud, p.splitAt)
		w.hcache = make([][]uint64, len(p.states))
	} else {
		w.rows = newRowSet(p, e.bud, e.strs)
	}
	return w
}

// errDamaged marks a block skipped for a damaged chunk.
var errDamaged = errors.New("damaged block")

// runBlock processes candidate block i.
func (w *worker) runBlock(i int) error {
	p, m := w.p, &w.e.cands[i]
	w.meta, w.block = m, i
	if w.rows != nil {
		if w.e.limit.skip(i) {
			w.st.PastLimit++
			return nil
		}
		// Every way out records the block's rows (none when pruned or
		// damaged), or the finished prefix of a LIMIT would stop there.
		defer func() { w.e.limit.done(i, w.rows.blockRows(i)) }()
	}
	env := blockEnv{meta: m, host: w.e.host, level: levelStats, codes: w.codes}
	root := tTrue
	if p.where != nil {
		root = fold(p.where, &env, w.vals)
	}
	defer w.releaseColumns()
	if root == tUnknown {
		if dc := p.dictLeaves(p.where, w.vals, 0); dc != 0 {
			// Probe the dictionaries alone while that prunes blocks; once
			// it mostly does not, read the address columns (dictionary and
			// codes) at once and decide from their dictionaries, which
			// saves reading each dictionary twice.
			var err error
			if w.e.dict.probe() {
				err = w.probeDicts(m, dc)
			} else if err = w.readSorted(m, dc); err == nil {
				if err = w.readColumns(m, dc&^(1<<columnar.ColSIP)); err == nil {
					w.codesFromColumns(dc)
				}
			}
			if err != nil {
				return w.damaged(m, err)
			}
			env.level, env.probed = levelDict, dc
			root = fold(p.where, &env, w.vals)
			w.e.dict.record(root == tFalse)
			if root == tFalse {
				w.st.PrunedDict++
				return nil
			}
		}
	}
	if root == tTrue && p.fromStats {
		w.st.BlocksFromStats++
		w.covered(m)
		return w.statsBlock(m)
	}
	need := p.static
	if root == tUnknown {
		need |= rowColumns(p.where, w.vals, 0)
	}
	r0, r1 := 0, m.Rows
	if root == tUnknown && need.has(columnar.ColSIP) && m.Flags&columnar.FlagSorted != 0 {
		// Rows sorted by sip: read the sip column first, then the others
		// for the run of rows its condition selects only (counters are
		// reassembled for those rows alone).
		if err := w.readSorted(m, 1<<columnar.ColSIP); err != nil {
			return w.damaged(m, err)
		}
		r0, r1 = w.sipRange(m)
	}
	if err := w.readColumnRows(m, need, r0, r1); err != nil {
		return w.damaged(m, err)
	}
	w.st.BlocksRead++
	w.covered(m)
	if err := w.prepareBlock(m); err != nil {
		return err
	}
	w.st.RowsScanned += int64(r1 - r0)
	if w.e.tk != nil {
		return w.topkBlock(root, r0, r1)
	}
	return w.eachBatch(root, r0, r1, func(lo, n int, sel []int32, cnt int) error {
		if p.agg {
			return w.aggBatch(lo, n, sel, cnt)
		}
		return w.rows.add(w, lo, n, sel, cnt)
	})
}

// covered widens the time span of the blocks that contributed.
func (w *worker) covered(m *columnar.BlockMeta) {
	from, to := time.Unix(m.Start, 0).UTC(), time.Unix(m.End, 0).UTC()
	if w.st.From.IsZero() || from.Before(w.st.From) {
		w.st.From = from
	}
	if to.After(w.st.To) {
		w.st.To = to
	}
}

// damaged turns a read error of a block into a warning when the data is
// corrupt, so the query goes on with the other blocks; other errors
// (cancellation, I/O, budget) stop the query.
func (w *worker) damaged(m *columnar.BlockMeta, err error) error {
	if !errors.Is(err, columnar.ErrCorrupt) {
		return err
	}
	wr := Warning{Iface: m.Iface, Start: time.Unix(m.Start, 0).UTC(), File: m.File, Offset: -1, Err: err}
	var ce *columnar.CorruptError
	if errors.As(err, &ce) {
		wr.File, wr.Offset = ce.File, ce.Offset
	}
	w.st.BlocksDamaged++
	w.st.Warnings = append(w.st.Warnings, wr)
	return nil
}

// valuesCost returns the disk bytes and number of the chunks holding a
// column's rows (its values, all their pages in a format v4 block, or the
// sip runs of a format v3 block) and the memory reserved for reading
// them: the frames plus the decoded values, and for runs the codes they
// expand to (at most 4 bytes a row). A read of a run of rows may read
// fewer pages.
func valuesCost(m *columnar.BlockMeta, id columnar.ColumnID) (disk, mem int64, chunks int, ok bool) {
	ref, ok := m.ValuesChunk(id)
	if !ok {
		return 0, 0, 0, false
	}
	if ref.Part == columnar.PartRuns {
		return ref.Length, ref.Length + int64(ref.Rows)*int64(ref.Encoding.Width()) + 4*int64(m.Rows), 1, true
	}
	pages := m.Pages(id, columnar.PartValues)
	for _, p := range pages {
		disk += p.Length
	}
	return disk, disk + int64(m.Rows)*int64(ref.Encoding.Width()), len(pages), true
}

// dictCost is valuesCost for the dictionary of an address column: the
// chunks of its parts (the 16-byte part, and in format v2 the IPv4 part)
// and the 16-byte entries they decode to. With v4 (the query needs IPv4
// entries only, Plan.v4) a block flagged columnar.FlagV4First is read
// for its IPv4 part alone.
func dictCost(m *columnar.BlockMeta, id columnar.ColumnID, v4 bool) (disk, mem int64, chunks int) {
	parts := []columnar.Part{columnar.PartDict, columnar.PartDict4}
	if _, ok := m.V4Codes(id); ok && v4 {
		parts = parts[1:]
	}
	for _, part := range parts {
		if ref, ok := m.Chunk(id, part); ok {
			disk += ref.Length
			mem += ref.Length + 16*int64(ref.Rows)
			chunks++
		}
	}
	return disk, mem, chunks
}

// probeDicts reads the dictionaries of the address columns in dc and
// translates the address leaves on them into code spans.
func (w *worker) probeDicts(m *columnar.BlockMeta, dc colSet) error {
	for _, id := range dc.ids() {
		_, mem, _ := dictCost(m, id, w.p.v4.has(id))
		if err := w.e.bud.reserve(mem, "a dictionary chunk"); err != nil {
			return err
		}
		read := w.e.db.ReadDict
		if w.p.v4.has(id) {
			read = w.e.db.ReadDictV4
		}
		d, err := read(w.ctx, m, id, w.pool)
		if err != nil {
			w.e.bud.release(mem)
			return fmt.Errorf("planner: block %s@%d: %w", m.Iface, m.Start, err)
		}
		w.st.ChunksRead += d.Chunks
		w.st.BytesRead += d.DiskBytes
		w.colsRead |= 1 << id
		for _, l := range w.p.leaves {
			if l.kind == lkAddr && storedOf(l.col)[0] == id {
				w.codes[l.id] = codeSpans(l, d, w.codes[l.id])
			}
		}
		d.Release()
		w.e.bud.release(mem)
	}
	return nil
}

// codesFromColumns translates the address leaves on the columns in dc
// into code spans, from the dictionaries of the columns already read.
func (w *worker) codesFromColumns(dc colSet) {
	for _, l := range w.p.leaves {
		if l.kind != lkAddr {
			continue
		}
		if id := storedOf(l.col)[0]; dc.has(id) {
			w.codes[l.id] = codeSpans(l, w.cols[id].col.Dict, w.codes[l.id])
		}
	}
}

// dictStats decides between probing dictionaries alone and reading the
// address columns whole, from how often the dictionaries pruned so far.
type dictStats struct {
	decisions, prunes atomic.Int64
}

// dictWarmup is the number of blocks always probed.
const dictWarmup = 8

// probe reports whether to read dictionaries alone: during the warm-up,
// and while at least a quarter of the blocks were pruned by them.
func (d *dictStats) probe() bool {
	n := d.decisions.Load()
	return n < dictWarmup || 4*d.prunes.Load() >= n
}

func (d *dictStats) record(pruned bool) {
	d.decisions.Add(1)
	if pruned {
		d.prunes.Add(1)
	}
}

// readSorted reads the sip column, if in need, for its dictionary and
// the runs of rows of its codes (columnar.ReadSorted): in a sorted block
// that gives the rows of the sips a condition selects without expanding
// the codes of the others, which readColumnRows then expands for the rows
// used. Other blocks read it whole.
func (w *worker) readSorted(m *columnar.BlockMeta, need colSet) error {
	id := columnar.ColSIP
	if !need.has(id) || w.cols[id].w != 0 {
		return nil
	}
	if m.Flags&columnar.FlagSorted == 0 {
		return w.readColumns(m, 1<<id)
	}
	return w.readColumn(m, id, func() (*columnar.Column, error) {
		return w.e.db.ReadSorted(w.ctx, m, id, w.p.v4.has(id), w.pool)
	})
}

// readColumns reads the columns in need, reserving their memory first.
func (w *worker) readColumns(m *columnar.BlockMeta, need colSet) error {
	return w.readColumnRows(m, need, 0, m.Rows)
}

// readColumnRows is readColumns for a block of which only rows [lo, hi)
// are used: values outside may be missing (columnar.ReadColumnRows).
func (w *worker) readColumnRows(m *columnar.BlockMeta, need colSet, lo, hi int) error {
	for _, id := range need.ids() {
		if c := &w.cols[id]; c.w != 0 {
			// Read for the dictionary decision or the sip range: it may
			// hold its runs alone.
			c.col.ExpandRows(lo, hi)
			continue
		}
		err := w.readColumn(m, id, func() (*columnar.Column, error) {
			if w.p.v4.has(id) {
				return w.e.db.ReadColumnV4(w.ctx, m, id, w.pool)
			}
			return w.e.db.ReadColumnRows(w.ctx, m, id, lo, hi, w.pool)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// readColumn reads column id with read, reserving its memory first.
func (w *worker) readColumn(m *columnar.BlockMeta, id columnar.ColumnID, read func() (*columnar.Column, error)) error {
	_, mem, _, _ := valuesCost(m, id)
	if id.IsAddr() {
		_, x, _ := dictCost(m, id, w.p.v4.has(id))
		mem += x
	}
	if err := w.e.bud.reserve(mem, "column chunks"); err != nil {
		return err
	}
	w.held += mem
	col, err := read()
	if err != nil {
		return fmt.Errorf("planner: block %s@%d: %w", m.Iface, m.Start, err)
	}
	w.st.ChunksRead += col.Chunks
	w.st.BytesRead += col.DiskBytes
	w.colsRead |= 1 << id
	if err := w.cols[id].set(col); err != nil {
		col.Release()
		return &columnar.CorruptError{File: m.File, Offset: -1, Reason: err.Error()}
	}
	if n := w.cols[id].len(); n != m.Rows {
		return &columnar.CorruptError{File: m.File, Offset: -1,
			Reason: fmt.Sprintf("block %s@%d: column %s has %d rows, index says %d", m.Iface, m.Start, id, n, m.Rows)}
	}
	return nil
}

func (w *worker) releaseColumns() {
	for i := range w.cols {
		w.cols[i].release()
	}
	w.e.bud.release(w.held)
	w.held = 0
}

// constValue returns the value of a block-constant key in its key field.
func (w *worker) constValue(k *keySpec, m *columnar.BlockMeta) uint64 {
	switch k.col {
	case sql.ColTime:
		if k.width > 0 {
			return uint64(m.Start / k.width * k.width)
		}
		return uint64(m.Start)
	case sql.ColIface:
		return uint64(w.e.strs.intern(m.Iface))
	}
	return uint64(w.e.hostID)
}

// prepareBlock computes what is constant over a block: the words of the
// constant keys, the interned ids and sketch hashes of the dictionaries,
// and, when no key varies, the block's single group.
func (w *worker) prepareBlock(m *columnar.BlockMeta) error {
	p := w.p
	clear(w.constKey)
	for k := range p.keys {
		if p.keys[k].constant() {
			p.layout.put(w.constKey, k, w.constValue(&p.keys[k], m))
		}
	}
	if !p.agg {
		return nil
	}
	for _, k := range p.varKeys {
		if p.keys[k].typ == TypeAddr {
			// Codes are mapped to ids on first use (see ensureIDs): a
			// selective filter touches few dictionary entries.
			a := addrIndex(p.keys[k].col)
			// A partial dictionary stays as planes: a batch maps few of
			// its codes (ensureIDs), and expanding every entry to 16
			// bytes took 5 % of the talker query.
			d := w.cols[storedOf(p.keys[k].col)[0]].col.Dict
			if d.Partial() {
				w.gidDict[a], w.gidPart[a] = nil, d
			} else {
				w.gidDict[a], w.gidPart[a] = dictBytes(d.Array()), nil
			}
			w.gidMap[a] = fillIDs(w.gidMap[a], d.Len())
		}
	}
	for _, s := range p.states {
		if s.kind == stDistinct && s.col.Type() == sql.TypeAddr {
			a := addrIndex(s.col)
			b := dictBytes(w.cols[storedOf(s.col)[0]].col.Dict.Array())
			h := resize(w.dictHash[a], len(b)/16)
			for i := range h {
				h[i] = hashAddr(u128{be64(b[16*i:]), be64(b[16*i+8:])})
			}
			w.dictHash[a] = h
		}
	}
	w.hasGroup = false
	return nil
}

// blockGroup returns the group of every row of a block without varying
// keys, adding it on the block's first matching row.
func (w *worker) blockGroup() (uint32, error) {
	if !w.hasGroup {
		t, g, err := w.table.find(w.constKey)
		if err != nil {
			return 0, err
		}
		w.groupT, w.group, w.hasGroup = t, g, true
	}
	return w.group, nil
}

func addrIndex(c sql.Column) int {
	if c == sql.ColDIP {
		return 1
	}
	return 0
}
