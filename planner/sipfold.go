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

// sipFinish is phase 2: it aggregates each range of every worker's
// buffers in its own table, ranges in parallel, and returns the partial.
func (e *execution) sipFinish(ctx context.Context, workers []*worker) (*Partial, error) {
	p := e.p
	np := e.sp.parts()
	tables := make([]*groupTable, np)
	// Fold the largest ranges first, so no large one is left for last
	// while the other goroutines idle.
	size := make([]int, np)
	for _, b := range e.spBufs {
		for j, segs := range b.segs {
			for _, sg := range segs {
				size[j] += len(sg.keys)
			}
		}
	}
	order := make([]int, np)
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(x, y int) int { return size[y] - size[x] })
	var next atomic.Int64
	var done sipDone
	var failed atomic.Bool
	var wg sync.WaitGroup
	par := max(1, min(p.opts.Parallelism, np))
	errs := make([]error, par)
	for g := range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var gids []uint32
			for {
				k := int(next.Add(1) - 1)
				if k >= np {
					return
				}
				j := order[k]
				t := newGroupTable(p.layout.nk, p.states, e.bud)
				tables[j] = t
				if failed.Load() {
					continue
				}
				if err := ctx.Err(); err != nil {
					errs[g] = err
					failed.Store(true)
					continue
				}
				if err := e.sipFold(t, j, &gids, &done); err != nil {
					errs[g] = err
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	e.releaseSipBufs()
	for _, w := range workers {
		w.release()
	}
	a := &aggTable{nk: p.layout.nk, specs: p.states, bud: e.bud, parts: tables, splitAt: p.splitAt, bySip: true}
	for _, err := range errs {
		if err != nil {
			a.release()
			e.addrs.t.release()
			return nil, err
		}
	}
	return &Partial{p: p, strs: e.strs, bud: e.bud, addrs: e.addrs.t, table: a}, nil
}

// sipFold aggregates range j of the workers' buffers into t, presized
// from the groups per row of the ranges done so far (ranges differ, but
// less than a doubling).
func (e *execution) sipFold(t *groupTable, j int, gids *[]uint32, done *sipDone) error {
	var rows int64
	for _, b := range e.spBufs {
		for _, sg := range b.segs[j] {
			rows += int64(len(sg.keys) / max(t.nk, 1))
		}
	}
	if r, g := done.rows.Load(), done.groups.Load(); r >= 1<<16 {
		est := int(rows * g / r * 5 / 4)
		if err := t.presize(est); err != nil {
			return err
		}
		if err := t.growGroupsTo(est); err != nil {
			return err
		}
	}
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
		// Free the range's buffers as soon as they are folded.
		e.bud.release(b.free(j))
	}
	done.rows.Add(rows)
	done.groups.Add(int64(t.n))
	return nil
}

// sipDone counts the rows and groups of the ranges folded.
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
