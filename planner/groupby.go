package planner

import (
	"math"
	"sync"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/sql"
)

// The hash group-by of one batch: build the packed keys of the selected
// rows (constant words of the block, then each varying key column ORed in),
// find or add their groups, then apply each aggregate state's kernel.

// aggBatch folds rows [lo, lo+n) (only sel, when not nil; cnt rows in all)
// into the worker's table.
func (w *worker) aggBatch(lo, n int, sel []int32, cnt int) error {
	p := w.p
	if len(p.varKeys) == 0 {
		g, err := w.blockGroup()
		if err != nil {
			return err
		}
		for i := range p.states {
			if err := w.groupT.accumulate(i, nil, g, cnt, w.stateValues(i, lo, n, sel, cnt)); err != nil {
				return err
			}
		}
		return nil
	}
	w.keys = fillKeys(w.keys, cnt, w.constKey)
	for _, k := range p.varKeys {
		ks := &p.keys[k]
		v := w.values(ks.col, lo, n, sel)
		if ks.typ == TypeAddr {
			a := addrIndex(ks.col)
			var err error
			if w.own != nil {
				err = w.own.ensureIDs(w.gidMap[a], dictView{w.gidDict[a], w.gidPart[a]}, v)
			} else {
				err = w.addrs.ensureIDs(w.gidMap[a], dictView{w.gidDict[a], w.gidPart[a]}, v)
			}
			if err != nil {
				return err
			}
			p.layout.orCodes(w.keys, k, v, w.gidMap[a])
		} else {
			p.layout.orColumn(w.keys, k, v)
		}
	}
	if w.e.sp != nil {
		return w.sipAppend(lo, n, sel, cnt)
	}
	if w.bufs != nil {
		return w.scatterBatch(lo, n, sel, cnt)
	}
	t := w.table.parts[0]
	w.gids = resize(w.gids, cnt)
	var err error
	if p.oneAddr {
		err = w.groupsByID(t, p.keys[0].col)
	} else {
		err = t.lookup(w.keys, w.gids)
	}
	if err != nil {
		return err
	}
	for i := range p.states {
		if err := t.accumulate(i, w.gids, 0, cnt, w.stateValues(i, lo, n, sel, cnt)); err != nil {
			return err
		}
	}
	if t.n > w.table.splitAt {
		// The table outgrew the caches: move it into the shared
		// partitioned table, and buffer rows per partition from now on.
		return w.goShared()
	}
	return nil
}

// groupsByID finds the groups of a batch whose one key is the address
// column col (Plan.oneAddr), whose codes values returned last, by the
// addresses' interned ids: w.idGroup maps an id to its group in the
// worker's own table once, where hashing each row's key costs a lookup
// per row. Top talkers repeat their peers block after block, so most rows
// find their group there.
func (w *worker) groupsByID(t *groupTable, col sql.Column) error {
	a := addrIndex(col)
	ids, codes := w.gidMap[a], w.vcache[col]
	for i, c := range codes[:len(w.gids)] {
		id := ids[c]
		if int(id) >= len(w.idGroup) {
			if err := w.growIDGroup(int(id) + 1); err != nil {
				return err
			}
		}
		g := w.idGroup[id]
		if g == 0 {
			// New to this worker's table, whose groups only come from
			// here: no lookup needed, and none indexed until a merge.
			x, err := t.appendGroup(w.keys[i : i+1])
			if err != nil {
				return err
			}
			g = x + 1
			w.idGroup[id] = g
		}
		w.gids[i] = g - 1
	}
	return nil
}

// Own address ids (Plan.oneAddr, without a sip partition): each worker
// interns the addresses of its blocks in an interner of its own, and its
// map from ids to groups finds a row's group (groupsByID). No lock is
// shared: with one interner for all workers, each worker also kept the
// ids it had met in a cache of its own, and Q2 on two cores took 16.4 ms
// instead of 14.0. The workers' ids differ, so merging translates them
// (mergeByID), and a worker whose table moves to the shared partitioned
// one rewrites its groups to shared ids first (toSharedIDs).

// mergeByID folds the other workers' groups into w's table through w's
// map from address ids to groups: a group's one key is an address id, so
// merging needs no hashing of keys, and w's table stays unindexed until
// something looks a key up. Other workers' ids are translated into w's
// when the workers have their own.
func (w *worker) mergeByID(others []*worker) error {
	t := w.table.parts[0]
	key := make([]uint64, w.p.layout.nk)
	for _, o := range others {
		if o.table.len() == 0 {
			continue
		}
		ot := o.table.parts[0]
		for g := 0; g < ot.n; g++ {
			k := ot.key(g)
			id := uint32(w.p.layout.get(k, 0))
			if o.own != nil {
				var err error
				if id, err = w.own.intern(o.own.at(id)); err != nil {
					return err
				}
				copy(key, k)
				w.p.layout.set(key, 0, uint64(id))
				k = key
			}
			if int(id) >= len(w.idGroup) {
				if err := w.growIDGroup(int(id) + 1); err != nil {
					return err
				}
			}
			dg := w.idGroup[id]
			if dg == 0 {
				x, err := t.appendGroup(k)
				if err != nil {
					return err
				}
				dg = x + 1
				w.idGroup[id] = dg
			}
			if err := t.mergeGroup(dg-1, ot, g); err != nil {
				return err
			}
		}
	}
	return nil
}

// toSharedIDs rewrites the worker's groups from its own address ids to
// the execution's shared ones and drops its own: from then on it maps
// dictionary codes through the shared interner. The block's codes mapped
// so far are forgotten, and the id map, keyed by the old ids, released.
func (w *worker) toSharedIDs() error {
	own := w.own
	if own == nil {
		return nil
	}
	w.own = nil
	defer own.release()
	w.releaseIDs()
	for a := range w.gidMap {
		if w.gidMap[a] != nil {
			w.gidMap[a] = fillIDs(w.gidMap[a], len(w.gidMap[a]))
		}
	}
	sh := w.e.addrs
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, t := range w.table.parts {
		for g := 0; g < t.n; g++ {
			k := t.key(g)
			id, err := sh.t.intern(own.at(uint32(w.p.layout.get(k, 0))))
			if err != nil {
				return err
			}
			w.p.layout.set(k, 0, uint64(id))
		}
	}
	return nil
}

// growIDGroup makes w.idGroup hold at least n ids, within the budget.
func (w *worker) growIDGroup(n int) error {
	n = max(n, 2*len(w.idGroup), 1024)
	need := 4 * int64(n)
	if err := w.e.bud.reserve(need-w.idHeld, "the group of each address"); err != nil {
		return err
	}
	w.idHeld = need
	g := zeroed[uint32](n)
	copy(g, w.idGroup)
	w.idGroup = g
	return nil
}

// goShared moves the worker's groups into the execution's shared
// partitioned table (created by the first worker to need it) and makes it
// the worker's table. Sharing one table, rather than partitioning each
// worker's own, adds every group once instead of once per worker and
// leaves nothing to merge at the end.
func (w *worker) goShared() error {
	if err := w.toSharedIDs(); err != nil {
		return err
	}
	s, err := w.e.sharedTable(w.table.len(), w.st.RowsScanned)
	if err != nil {
		return err
	}
	b, err := newPartBufs(w.p.layout.nk, w.p.states, w.e.bud)
	if err != nil {
		return err
	}
	own := w.table
	err = s.absorbLocked(own)
	own.release()
	w.table, w.shared, w.bufs, w.hasGroup = s, true, b, false
	return err
}

// sharedTable returns the execution's shared partitioned table, creating
// it on first use, sized for the groups the query will likely reach
// (estimateGroups) given that a worker found groups of them in rows rows.
func (e *execution) sharedTable(groups int, rows int64) (*aggTable, error) {
	e.sharedMu.Lock()
	defer e.sharedMu.Unlock()
	if e.shared == nil {
		a := newAggTable(e.p.layout.nk, e.p.states, e.bud, e.p.splitAt)
		if err := a.split(); err != nil {
			return nil, err
		}
		per := e.estimateGroups(groups, rows) / numParts
		for _, t := range a.parts {
			if err := t.presize(per); err != nil {
				a.release()
				return nil, err
			}
		}
		a.locks = make([]sync.Mutex, numParts)
		e.shared = a
	}
	return e.shared, nil
}

// scatterBatch hands a batch with packed keys to the partition buffers.
func (w *worker) scatterBatch(lo, n int, sel []int32, cnt int) error {
	p, nk := w.p, w.p.layout.nk
	w.hs = resize(w.hs, cnt)
	hs, keys := w.hs, w.keys
	switch nk {
	case 1:
		for i := range hs {
			hs[i] = hash1(keys[i])
		}
	case 2:
		for i := range hs {
			hs[i] = hash2(keys[2*i], keys[2*i+1])
		}
	default:
		for i := range hs {
			hs[i] = hashWords(keys[nk*i : nk*i+nk])
		}
	}
	vals := w.svals[:0]
	for i, s := range p.states {
		var v []uint64
		if s.kind != stCount {
			v = w.stateValues(i, lo, n, sel, cnt)
		}
		vals = append(vals, v)
	}
	w.svals = vals
	return w.bufs.scatter(w.table, keys[:cnt*nk], hs, vals)
}

// stateValues returns the per-row inputs of state i for the batch: nil
// for count, sketch hashes for count(DISTINCT), else column values (one
// per row; time repeated).
func (w *worker) stateValues(i, lo, n int, sel []int32, cnt int) []uint64 {
	s := w.p.states[i]
	switch s.kind {
	case stCount:
		return nil
	case stDistinct:
		return w.hashes(i, s.col, lo, n, sel, cnt)
	}
	v := w.values(s.col, lo, n, sel)
	if len(v) != cnt {
		v = fillVec(w.vcache[s.col], cnt, v[0])
		w.vcache[s.col] = v
	}
	return v
}

// values returns the values of column c for the batch's rows, widened to
// uint64, computing each column once per batch. Address columns give
// their dictionary codes; time gives one value, the block start.
func (w *worker) values(c sql.Column, lo, n int, sel []int32) []uint64 {
	if w.vstamp[c] == w.stamp {
		return w.vcache[c]
	}
	var v []uint64
	if c == sql.ColTime {
		v = append(w.vcache[c][:0], uint64(w.meta.Start))
	} else {
		ids := storedOf(c)
		v = w.cols[ids[0]].gather(w.vcache[c], lo, n, sel)
		if len(ids) == 2 {
			w.cols[ids[1]].addGather(v, lo, n, sel)
		}
	}
	w.vcache[c], w.vstamp[c] = v, w.stamp
	return v
}

// hashes returns the sketch hashes of column c for the batch's rows, in
// the buffer of state i.
func (w *worker) hashes(i int, c sql.Column, lo, n int, sel []int32, cnt int) []uint64 {
	h := resize(w.hcache[i], cnt)
	w.hcache[i] = h
	switch c.Type() {
	case sql.TypeAddr:
		dh := w.dictHash[addrIndex(c)]
		for i, code := range w.values(c, lo, n, sel)[:cnt] {
			h[i] = dh[code]
		}
	case sql.TypeString:
		x := hashString(w.meta.Iface)
		if c == sql.ColHost {
			x = hashString(w.e.host)
		}
		w.hcache[i] = fillVec(h, cnt, x)
		return w.hcache[i]
	case sql.TypeTime:
		w.hcache[i] = fillVec(h, cnt, hashValue(uint64(w.meta.Start)))
		return w.hcache[i]
	default:
		for i, x := range w.values(c, lo, n, sel)[:cnt] {
			h[i] = hashValue(x)
		}
	}
	return h
}

func fillVec(dst []uint64, n int, x uint64) []uint64 {
	dst = resize(dst, n)
	for i := range dst {
		dst[i] = x
	}
	return dst
}

// statsBlock folds a whole block into its group from the index entry
// alone (Plan.fromStats: every key is block-constant and every state
// follows from the statistics), reading no chunk.
func (w *worker) statsBlock(m *columnar.BlockMeta) error {
	if err := w.prepareBlock(m); err != nil {
		return err
	}
	g, err := w.blockGroup()
	if err != nil {
		return err
	}
	t := w.groupT
	for i, s := range w.p.states {
		switch s.kind {
		case stCount:
			t.vals[i][g] += uint64(m.Rows)
		case stSum:
			_, hi := statsRange(m, s.col)
			t.vals[i][g] += hi
		case stMin:
			lo, _ := statsConst(m, s.col)
			t.vals[i][g] = min(t.vals[i][g], lo)
		case stMax:
			_, hi := statsConst(m, s.col)
			t.vals[i][g] = max(t.vals[i][g], hi)
		case stDistinct:
			x := hashValue(uint64(m.Start))
			switch s.col {
			case sql.ColIface:
				x = hashString(m.Iface)
			case sql.ColHost:
				x = hashString(w.e.host)
			}
			if err := t.reserveSketches(t.sk[i][g].add(x)); err != nil {
				return err
			}
		}
	}
	return nil
}

// statsConst returns the exact range of dport, proto or time over a
// block's rows.
func statsConst(m *columnar.BlockMeta, c sql.Column) (lo, hi uint64) {
	if c == sql.ColTime {
		return uint64(m.Start), uint64(m.Start)
	}
	return statsRange(m, c)
}

// estimateGroups guesses the groups of the whole query from a worker that
// found groups of them in its first rows rows: growing as the rows to the
// power 0.9 (a little sublinear, as repeated keys accumulate), at most 16 times the
// groups seen and one per row of the candidate blocks. Presizing the
// shared table to it saves most of the rehashing of doubling from small
// tables; a wrong guess only costs a doubling more, or slots unused.
func (e *execution) estimateGroups(groups int, rows int64) int {
	var total int64
	for i := range e.cands {
		total += int64(e.cands[i].Rows)
	}
	seen := max(rows*int64(e.workers), 1)
	if seen >= total {
		return groups
	}
	est := float64(groups) * math.Pow(float64(total)/float64(seen), 0.9)
	return int(min(est, 16*float64(groups), float64(total)))
}
