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
}

const (
	partBits    = 8
	numParts    = 1 << partBits
	partShift   = 64 - partBits
	splitGroups = 1 << 16 // groups past which a table is partitioned
	flushRows   = 1024    // rows buffered per partition before a flush
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

// partBufs buffers one worker's rows per partition between flushes.
type partBufs struct {
	nk   int
	keys [numParts][]uint64
	hs   [numParts][]uint64
	vals [numParts][][]uint64 // per state; nil for count
	gids []uint32
	held int64
}

func newPartBufs(nk int, specs []stateSpec, bud *budget) (*partBufs, error) {
	b := &partBufs{nk: nk, gids: make([]uint32, flushRows)}
	words := nk + 1
	for _, s := range specs {
		if s.kind != stCount {
			words++
		}
	}
	b.held = int64(numParts * flushRows * words * 8)
	if err := bud.reserve(b.held, "the partition buffers"); err != nil {
		return nil, err
	}
	for p := range numParts {
		b.keys[p] = make([]uint64, 0, flushRows*nk)
		b.hs[p] = make([]uint64, 0, flushRows)
		b.vals[p] = make([][]uint64, len(specs))
		for i, s := range specs {
			if s.kind != stCount {
				b.vals[p][i] = make([]uint64, 0, flushRows)
			}
		}
	}
	return b, nil
}

// scatter appends rows (packed keys, hashes, state values) to their
// partitions, flushing each partition that fills.
func (b *partBufs) scatter(a *aggTable, keys, hs []uint64, vals [][]uint64) error {
	nk := b.nk
	for i, h := range hs {
		p := h >> partShift
		b.keys[p] = append(b.keys[p], keys[nk*i:nk*i+nk]...)
		b.hs[p] = append(b.hs[p], h)
		for s, v := range vals {
			if v != nil {
				b.vals[p][s] = append(b.vals[p][s], v[i])
			}
		}
		if len(b.hs[p]) == flushRows {
			if err := b.flush(a, int(p)); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush folds the buffered rows of partition p into its table.
func (b *partBufs) flush(a *aggTable, p int) error {
	n := len(b.hs[p])
	if n == 0 {
		return nil
	}
	t := a.parts[p]
	gids := b.gids[:n]
	if err := t.lookupHashed(b.keys[p], b.hs[p], gids); err != nil {
		return err
	}
	for i := range t.specs {
		if err := t.accumulate(i, gids, 0, n, b.vals[p][i]); err != nil {
			return err
		}
	}
	b.keys[p], b.hs[p] = b.keys[p][:0], b.hs[p][:0]
	for i := range b.vals[p] {
		if b.vals[p][i] != nil {
			b.vals[p][i] = b.vals[p][i][:0]
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
