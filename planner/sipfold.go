package planner

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Phase 2 of the sip range partitioning (sippart.go): each range folded
// alone into its own table.

// foldWave is phase 2 for the rows buffered so far (one wave of
// blocks): it folds each range of every worker's buffers into that
// range's table (e.spTables, kept across waves), ranges in parallel, and
// empties the buffers for the next wave.
func (e *execution) foldWave(ctx context.Context) error {
	p := e.p
	np := e.sp.parts()
	if e.spTables == nil {
		e.spTables = make([]*groupTable, np)
		for j := range e.spTables {
			e.spTables[j] = newCompactGroupTable(p.layout.nk, p.states, e.bud)
		}
	}
	// Fold the largest ranges first, so no large one is left for last
	// while the other goroutines idle.
	size := make([]int, np)
	for _, b := range e.spBufs {
		for j := range b.segs {
			size[j] += b.rangeRows(j)
		}
	}
	order := make([]int, 0, np)
	for j := range np {
		if size[j] > 0 {
			order = append(order, j)
		}
	}
	slices.SortStableFunc(order, func(x, y int) int { return size[y] - size[x] })
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	par := max(1, min(p.opts.Parallelism, len(order)))
	errs := make([]error, par)
	for g := range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var gids []uint32
			for {
				k := int(next.Add(1) - 1)
				if k >= len(order) || failed.Load() {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[g] = err
					failed.Store(true)
					return
				}
				if err := e.sipFold(e.spTables[order[k]], order[k], size[order[k]], &gids); err != nil {
					errs[g] = err
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, b := range e.spBufs {
		b.collect()
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// sipFinish ends the sip range partitioning: the range tables become the
// partial's table.
func (e *execution) sipFinish(workers []*worker) *Partial {
	e.releaseSipBufs()
	for _, w := range workers {
		w.release()
	}
	tables := e.spTables
	if tables == nil { // no wave ran: no candidate rows
		tables = make([]*groupTable, e.sp.parts())
		for j := range tables {
			tables[j] = newCompactGroupTable(e.p.layout.nk, e.p.states, e.bud)
		}
	}
	e.spTables = nil
	a := &aggTable{nk: e.p.layout.nk, specs: e.p.states, bud: e.bud, parts: tables, splitAt: e.p.splitAt, bySip: true}
	return &Partial{p: e.p, strs: e.strs, bud: e.bud, addrs: e.addrs.t, table: a}
}

// releaseSipTables drops the range tables of a failed execution.
func (e *execution) releaseSipTables() {
	for _, t := range e.spTables {
		t.release()
	}
	e.spTables = nil
}

// sipFold aggregates the rows rows of range j in the workers' buffers
// into t. A table folded for the first time is presized from the groups
// per row of the ranges folded so far and the rows left in the query
// (execution.spScale).
func (e *execution) sipFold(t *groupTable, j, rows int, gids *[]uint32) error {
	if t.n == 0 {
		if r, g := e.spDone.rows.Load(), e.spDone.groups.Load(); r >= 1<<16 {
			// Groups per row only fall as rows repeat conversations, so
			// the estimate errs high; the slots are dropped before the
			// result is built (Partial.dropSlots).
			est := int(float64(rows) * e.spScale * float64(g) / float64(r))
			if err := t.presize(est); err != nil {
				return err
			}
			if err := t.growGroupsTo(int(float64(rows) * float64(g) / float64(r) * 5 / 4)); err != nil {
				return err
			}
		}
	}
	before := t.n
	for _, b := range e.spBufs {
		for _, sg := range b.segs[j] {
			n := len(sg.keys) / max(t.nk, 1)
			g := resize(*gids, n)
			*gids = g
			if err := t.lookup(sg.keys, g); err != nil {
				return err
			}
			for i := range t.specs {
				if err := t.accumulate(i, g, 0, n, sg.vals[i]); err != nil {
					return err
				}
			}
		}
	}
	e.spDone.rows.Add(int64(rows))
	e.spDone.groups.Add(int64(t.n - before))
	return nil
}

// sipDone counts the rows folded and the groups they added.
type sipDone struct{ rows, groups atomic.Int64 }

// byHash repartitions a table partitioned by sip range into the hash
// partitions that lookups expect.
func (a *aggTable) byHash() error {
	if !a.bySip {
		return nil
	}
	old := a.parts
	a.bySip = false
	a.parts = make([]*groupTable, numParts)
	for i := range a.parts {
		a.parts[i] = newGroupTable(a.nk, a.specs, a.bud)
	}
	defer func() {
		for _, t := range old {
			t.release()
		}
	}()
	for _, t := range old {
		for g := 0; g < t.n; g++ {
			k := t.key(g)
			h := t.hash(k)
			d := a.part(h)
			ng, err := d.findHashed(h, k)
			if err == nil {
				err = d.mergeGroup(ng, t, g)
			}
			if err != nil {
				return fmt.Errorf("planner: repartitioning groups: %w", err)
			}
		}
	}
	return nil
}
