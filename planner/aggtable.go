package planner

import (
	"sync"
	"sync/atomic"
)

// aggTable is the partial aggregate of a grouped query: one groupTable
// while small, then numParts of them, radix-partitioned by the top bits of
// the key hash. Past splitGroups groups the table no longer fits the CPU
// caches and every lookup would miss; from then on workers buffer each
// batch's rows per partition and flush a partition's rows together, so a
// flush works in one small, cache-resident table. Partitions also make the
// merge of worker tables parallel: partition p of every worker merges
// into partition p, independently.
type aggTable struct {
	nk      int
	specs   []stateSpec
	bud     *budget
	parts   []*groupTable // 1, or numParts
	splitAt int           // groups past which the table is partitioned
	// locks guard the partitions of a table shared by the workers (nil
	// for a worker's own table): partBufs.flush and absorbLocked hold
	// the partition's lock.
	locks []sync.Mutex
	// bySip is set while parts are sip ranges (sippart.go) instead of
	// hash partitions; byHash repartitions before any lookup.
	bySip bool
}

const (
	partBits    = 8
	numParts    = 1 << partBits
	partShift   = 64 - partBits
	splitGroups = 1 << 16 // groups past which a table is partitioned
	flushRows   = 4096    // rows buffered per partition before a flush
)

func newAggTable(nk int, specs []stateSpec, bud *budget, splitAt int) *aggTable {
	return &aggTable{nk: nk, specs: specs, bud: bud, parts: []*groupTable{newGroupTable(nk, specs, bud)}, splitAt: splitAt}
}

func (a *aggTable) partitioned() bool { return len(a.parts) > 1 }

// part returns the table of the key with hash h.
func (a *aggTable) part(h uint64) *groupTable {
	if len(a.parts) == 1 {
		return a.parts[0]
	}
	return a.parts[h>>partShift]
}

// find returns the table and group of key k, adding it when new.
func (a *aggTable) find(k []uint64) (*groupTable, uint32, error) {
	if err := a.byHash(); err != nil {
		return nil, 0, err
	}
	h := a.parts[0].hash(k)
	t := a.part(h)
	g, err := t.findHashed(h, k)
	return t, g, err
}

// len returns the number of groups.
func (a *aggTable) len() int {
	n := 0
	for _, t := range a.parts {
		n += t.n
	}
	return n
}

// split partitions a single table.
func (a *aggTable) split() error {
	if err := a.byHash(); err != nil {
		return err
	}
	if a.partitioned() || a.nk == 0 {
		return nil
	}
	old := a.parts[0]
	parts := make([]*groupTable, numParts)
	for i := range parts {
		parts[i] = newGroupTable(a.nk, a.specs, a.bud)
	}
	a.parts = parts
	for g := 0; g < old.n; g++ {
		k := old.key(g)
		h := old.hash(k)
		t := a.part(h)
		ng, err := t.findHashed(h, k)
		if err != nil {
			old.release()
			return err
		}
		if err := t.mergeGroup(ng, old, g); err != nil {
			old.release()
			return err
		}
	}
	old.release()
	return nil
}

// release returns the tables' memory.
func (a *aggTable) release() {
	for _, t := range a.parts {
		t.release()
	}
}

// groupRef names one group of an aggTable.
type groupRef struct {
	t *groupTable
	g uint32
}

// groups lists every group.
func (a *aggTable) groups() []groupRef {
	out := make([]groupRef, 0, a.len())
	for _, t := range a.parts {
		for g := 0; g < t.n; g++ {
			out = append(out, groupRef{t, uint32(g)})
		}
	}
	return out
}

// absorb merges o into a, rewriting interned ids with tr.
func (a *aggTable) absorb(o *aggTable, tr *translator) error {
	key := make([]uint64, a.nk)
	for _, t := range o.parts {
		for g := 0; g < t.n; g++ {
			dt, dg, err := a.find(tr.key(t.key(g), key))
			if err != nil {
				return err
			}
			if err := dt.mergeGroup(dg, t, g); err != nil {
				return err
			}
		}
	}
	if a.parts[0].n > a.splitAt {
		return a.split()
	}
	return nil
}

// mergeParallel merges tables of the same execution (same interned ids)
// into a, partition by partition on up to par goroutines. Every table is
// partitioned first.
func (a *aggTable) mergeParallel(others []*aggTable, par int) error {
	if err := a.split(); err != nil {
		return err
	}
	for _, o := range others {
		if err := o.split(); err != nil {
			return err
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, par)
	for w := range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				p := int(next.Add(1) - 1)
				if p >= numParts {
					return
				}
				dst := a.parts[p]
				for _, o := range others {
					src := o.parts[p]
					for g := 0; g < src.n; g++ {
						dg, err := dst.find(src.key(g))
						if err == nil {
							err = dst.mergeGroup(dg, src, g)
						}
						if err != nil {
							errs[w] = err
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// absorbLocked moves the groups of o (same execution, same interned ids)
// into the shared partitioned table a. Groups are sorted by partition
// first, so each partition's lock is taken once; partitions another
// worker holds are left for a second pass instead of waited for.
func (a *aggTable) absorbLocked(o *aggTable) error {
	for _, t := range o.parts {
		hs := make([]uint64, t.n)
		var start [numParts + 1]int32
		for g := range hs {
			hs[g] = t.hash(t.key(g))
			start[hs[g]>>partShift+1]++
		}
		for p := range numParts {
			start[p+1] += start[p]
		}
		order := make([]int32, t.n)
		next := start
		for g, h := range hs {
			p := h >> partShift
			order[next[p]] = int32(g)
			next[p]++
		}
		fold := func(p int) error {
			defer a.locks[p].Unlock()
			dst := a.parts[p]
			for _, g := range order[start[p]:start[p+1]] {
				dg, err := dst.findHashed(hs[g], t.key(int(g)))
				if err == nil {
					err = dst.mergeGroup(dg, t, int(g))
				}
				if err != nil {
					return err
				}
			}
			return nil
		}
		var busy []int
		for p := range numParts {
			if start[p] == start[p+1] {
				continue
			}
			if !a.locks[p].TryLock() {
				busy = append(busy, p)
				continue
			}
			if err := fold(p); err != nil {
				return err
			}
		}
		for _, p := range busy {
			a.locks[p].Lock()
			if err := fold(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// partBufs buffers one worker's rows per partition between flushes. Rows
// are stored whole (key words, hash, then one word per non-count state) in
// one fixed region per partition, so scattering a row is a few sequential
// stores into one cache line; a flush splits a partition's rows back into
// columns in small scratch vectors for lookupHashed and accumulate.
type partBufs struct {
	nk    int
	words int      // words per row
	buf   []uint64 // numParts regions of flushRows rows
	cnt   [numParts]int32
	// flush scratch, flushRows rows
	keys []uint64
	hs   []uint64
	vals [][]uint64 // per state; nil for count
	gids []uint32
	held int64
}

func newPartBufs(nk int, specs []stateSpec, bud *budget) (*partBufs, error) {
	b := &partBufs{nk: nk, words: nk + 1}
	b.vals = make([][]uint64, len(specs))
	for i, s := range specs {
		if s.kind != stCount {
			b.words++
			b.vals[i] = make([]uint64, flushRows)
		}
	}
	b.held = int64((numParts+2)*flushRows*b.words*8 + 4*flushRows)
	if err := bud.reserve(b.held, "the partition buffers"); err != nil {
		return nil, err
	}
	b.buf = make([]uint64, numParts*flushRows*b.words)
	b.keys = make([]uint64, flushRows*nk)
	b.hs = make([]uint64, flushRows)
	b.gids = make([]uint32, flushRows)
	return b, nil
}

// scatter appends rows (packed keys, hashes, state values) to their
// partitions, flushing each partition that fills.
func (b *partBufs) scatter(a *aggTable, keys, hs []uint64, vals [][]uint64) error {
	nk, words := b.nk, b.words
	if nk == 2 && words == 4 {
		return b.scatter2(a, keys, hs, vals)
	}
	for i, h := range hs {
		p := int(h >> partShift)
		c := int(b.cnt[p])
		off := (p*flushRows + c) * words
		row := b.buf[off : off+words]
		copy(row, keys[nk*i:nk*i+nk])
		row[nk] = h
		j := nk + 1
		for _, v := range vals {
			if v != nil {
				row[j] = v[i]
				j++
			}
		}
		b.cnt[p] = int32(c + 1)
		if c+1 == flushRows {
			if err := b.flush(a, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// scatter2 is scatter for two-word keys and one state value (the most
// common shape: two addresses, or an address and ports, and one sum).
func (b *partBufs) scatter2(a *aggTable, keys, hs []uint64, vals [][]uint64) error {
	var v []uint64
	for _, x := range vals {
		if x != nil {
			v = x
		}
	}
	v = v[:len(hs)]
	keys = keys[:2*len(hs)]
	for i, h := range hs {
		p := int(h >> partShift)
		c := int(b.cnt[p])
		off := (p*flushRows + c) * 4
		row := b.buf[off : off+4 : off+4]
		row[0], row[1], row[2], row[3] = keys[2*i], keys[2*i+1], h, v[i]
		b.cnt[p] = int32(c + 1)
		if c+1 == flushRows {
			if err := b.flush(a, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush folds the buffered rows of partition p into its table.
func (b *partBufs) flush(a *aggTable, p int) error {
	n := int(b.cnt[p])
	if n == 0 {
		return nil
	}
	nk, words := b.nk, b.words
	rows := b.buf[p*flushRows*words : (p*flushRows+n)*words]
	keys, hs := b.keys[:n*nk], b.hs[:n]
	for i := range hs {
		row := rows[i*words : i*words+words]
		copy(keys[i*nk:i*nk+nk], row[:nk])
		hs[i] = row[nk]
	}
	j := nk + 1
	for _, v := range b.vals {
		if v != nil {
			v = v[:n]
			for i := range v {
				v[i] = rows[i*words+j]
			}
			j++
		}
	}
	b.cnt[p] = 0
	if a.locks != nil {
		a.locks[p].Lock()
		defer a.locks[p].Unlock()
	}
	t := a.parts[p]
	gids := b.gids[:n]
	if err := t.lookupHashed(keys, hs, gids); err != nil {
		return err
	}
	for i := range t.specs {
		var v []uint64
		if b.vals[i] != nil {
			v = b.vals[i][:n]
		}
		if err := t.accumulate(i, gids, 0, n, v); err != nil {
			return err
		}
	}
	return nil
}

// flushAll flushes every partition.
func (b *partBufs) flushAll(a *aggTable) error {
	for p := range numParts {
		if err := b.flush(a, p); err != nil {
			return err
		}
	}
	return nil
}
