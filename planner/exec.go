package planner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/columnar"
)

// execution is one run of a plan on one store.
type execution struct {
	p      *Plan
	db     *columnar.DB
	mem    memory.Allocator
	bud    *budget
	host   string
	hostID uint32
	strs   *strInterner // filled before workers start; read-only after
	addrs  *sharedInterner
	cands  []columnar.BlockMeta
	limit  *limitTracker
	dict   dictStats

	sharedMu sync.Mutex
	shared   *aggTable            // the workers' common partitioned table, once one outgrows the caches
	workers  int                  // workers running
	sp       *sipPlan             // the sip ranges, when partitioning by sip (sippart.go)
	spBufs   map[*worker]*sipBufs // the workers' range buffers; read-only while they run
	spTables []*groupTable        // per sip range: its groups, folded wave by wave
	spDone   sipDone              // rows folded into spTables and groups they made
	spScale  float64              // rows left in the query / rows of the current wave
	waveRows int                  // rows per wave (sipWaveRows but in tests)
	tk       *topkRun             // a threshold top-N's pass (topk.go)
}

// Execute runs the plan on db and returns the final result: it is
// ExecutePartial followed by Finish.
func (p *Plan) Execute(ctx context.Context, db *columnar.DB) (*Result, error) {
	var scout *Stats // a threshold top-N's scout that found no bound
	if spec, ok := p.topkOf(); ok {
		res, ok, err := p.executeTopK(ctx, db, spec)
		if ok || err != nil {
			return res, err
		}
		if res != nil {
			scout = &res.Stats
		}
	}
	part, err := p.ExecutePartial(ctx, db)
	if err != nil {
		return nil, err
	}
	defer part.Release()
	// Execute owns the partial and only finishes it: the hash slots are
	// not needed to order and project the groups, so their memory goes
	// before the result's is allocated.
	part.dropSlots()
	res, err := p.Finish(part)
	if err == nil && scout != nil {
		res.Stats.ChunksRead += scout.ChunksRead
		res.Stats.BytesRead += scout.BytesRead
	}
	return res, err
}

// ExecutePartial runs the plan on db up to mergeable partial aggregates
// (or, for listings, the candidate rows). Blocks are spread over
// Options.Parallelism workers, each with its own hash table; their tables
// are merged before returning. The context is checked for every block and
// every 65536 rows. A damaged chunk skips its block with a warning in the
// partial's Stats; other failures stop the query. The caller releases the
// partial (Release) or hands it to Merge or Finish. When sip is a group
// key of a query over many blocks sorted by sip, rows are instead
// partitioned by sip address range and each range aggregated alone
// (sippart.go).
func (p *Plan) ExecutePartial(ctx context.Context, db *columnar.DB) (*Partial, error) {
	return p.executePartial(ctx, db, sipMinBlocks, sipWaveRows)
}

// executePartial is ExecutePartial, partitioning by sip range from
// sipMin candidate blocks on, in waves of about waveRows rows.
func (p *Plan) executePartial(ctx context.Context, db *columnar.DB, sipMin, waveRows int) (*Partial, error) {
	start := time.Now()
	if db == nil {
		return nil, ErrNilDB
	}
	e := p.newExecution(db)
	e.waveRows = waveRows
	st, err := e.prune(ctx)
	if err != nil {
		return nil, err
	}
	if e.sp, err = e.sipPartition(ctx, sipMin); err != nil {
		e.addrs.t.release()
		return nil, err
	}

	workers, err := e.run(ctx)
	for _, w := range workers {
		w.releaseScratch()
	}
	if err != nil {
		e.releaseSipBufs()
		e.releaseSipTables()
		for _, w := range workers {
			w.release()
		}
		if e.shared != nil {
			e.shared.release()
		}
		e.addrs.t.release()
		return nil, err
	}
	var cols colSet
	for _, w := range workers {
		st.add(&w.st)
		cols |= w.colsRead
	}
	var part *Partial
	if e.sp != nil {
		part = e.sipFinish(workers)
	} else {
		part, err = e.mergeWorkers(workers)
	}
	if err != nil {
		return nil, err
	}
	for _, id := range cols.ids() {
		st.ColumnsRead = append(st.ColumnsRead, id.String())
	}
	st.Groups = part.len()
	st.PeakMemory = e.bud.peak.Load()
	st.Elapsed = time.Since(start)
	part.Stats = st
	return part, nil
}

// prune lists the candidate blocks and keeps in e.cands those the
// index entries do not rule out, counting the others in the returned
// statistics.
func (e *execution) prune(ctx context.Context) (Stats, error) {
	p := e.p
	var st Stats
	metas, err := p.candidates(ctx, e.db)
	if err != nil {
		return st, err
	}
	st.BlocksTotal = len(metas)
	vals := make([]tri, p.nodes)
	for i := range metas {
		m := &metas[i]
		st.Interfaces = append(st.Interfaces, m.Iface)
		e.strs.intern(m.Iface)
		switch r, _ := p.pruneMeta(m, e.host, vals); r {
		case keep:
			e.cands = append(e.cands, *m)
		case byTime:
			st.PrunedTime++
		case byIface:
			st.PrunedIface++
		default:
			st.PrunedStats++
		}
	}
	st.Interfaces = slices.Compact(st.Interfaces)
	e.hostID = e.strs.intern(e.host)
	e.limit = newLimitTracker(p, len(e.cands))
	return st, nil
}

// newExecution prepares a run of p on db.
func (p *Plan) newExecution(db *columnar.DB) *execution {
	bud := newBudget(p.opts.MemoryBudget)
	return &execution{p: p, db: db, mem: p.opts.Allocator, bud: bud, host: p.opts.Host,
		strs: newStrInterner(), addrs: &sharedInterner{t: newAddrInterner(bud)}}
}

// mergeWorkers merges the workers' tables or rows into one partial, the
// largest table absorbing the others partition by partition in parallel.
func (e *execution) mergeWorkers(workers []*worker) (*Partial, error) {
	part := &Partial{p: e.p, strs: e.strs, bud: e.bud}
	if !e.p.agg {
		part.rows = workers[0].rows
		var err error
		for _, w := range workers[1:] {
			if err == nil {
				err = part.rows.absorb(w.rows, &translator{plain: true}, false)
			}
			w.rows.release()
		}
		if err != nil {
			part.Release()
			return nil, err
		}
		return part, nil
	}
	// The workers' own address ids (Plan.oneAddr) are released whatever
	// happens, but for the interner the partial takes.
	defer func() {
		for _, w := range workers {
			w.releaseIDs()
			if w.own != nil {
				w.own.release()
				w.own = nil
			}
		}
	}()
	part.addrs = e.addrs.t
	var others []*aggTable
	if e.shared != nil {
		part.table = e.shared
		// Workers that kept their own tables join the shared ids first.
		var err error
		for _, w := range workers {
			if err == nil {
				err = w.toSharedIDs()
			}
		}
		if err != nil {
			for _, w := range workers {
				if !w.shared {
					w.table.release()
				}
			}
			part.Release()
			return nil, err
		}
		for _, w := range workers {
			if !w.shared && w.table.len() > 0 {
				others = append(others, w.table)
			}
		}
	} else {
		slices.SortFunc(workers, func(a, b *worker) int { return b.table.len() - a.table.len() })
		part.table = workers[0].table
		for _, w := range workers[1:] {
			if w.table.len() > 0 {
				others = append(others, w.table)
			}
		}
	}
	var err error
	switch {
	case len(others) == 0:
	case e.shared == nil && e.p.oneAddr && !part.table.partitioned():
		err = workers[0].mergeByID(workers[1:])
	case part.table.partitioned():
		err = part.table.mergeParallel(others, e.p.opts.Parallelism)
	default:
		plain := &translator{plain: true}
		for _, o := range others {
			if err = part.table.absorb(o, plain); err != nil {
				break
			}
		}
	}
	if w := workers[0]; e.shared == nil && w.own != nil {
		// The kept table's ids are its worker's own.
		e.addrs.t.release()
		part.addrs, w.own = w.own, nil
	}
	for _, o := range others {
		o.release()
	}
	if err != nil {
		part.Release()
		return nil, err
	}
	return part, nil
}

// candidates lists the blocks of the FROM interfaces whose start is in
// the time hull of the condition.
func (p *Plan) candidates(ctx context.Context, db *columnar.DB) ([]columnar.BlockMeta, error) {
	if len(p.hull) == 0 {
		return nil, nil
	}
	sel := columnar.Selector{Ifaces: p.ifaces, From: int64(p.hull[0].lo.lo)}
	if hi := p.hull[len(p.hull)-1].hi.lo; hi < math.MaxInt64 {
		sel.To = int64(hi) + 1
	}
	metas, err := db.Blocks(ctx, sel)
	if err != nil {
		return nil, fmt.Errorf("planner: listing blocks: %w", err)
	}
	return metas, nil
}

// run processes the candidate blocks with the workers and returns them;
// on error the workers are returned too, for release.
func (e *execution) run(ctx context.Context) ([]*worker, error) {
	n := max(1, min(e.p.opts.Parallelism, len(e.cands)))
	e.workers = n
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := make([]*worker, n)
	for i := range workers {
		workers[i] = newWorker(ctx, e)
	}
	if e.sp != nil {
		e.spBufs = make(map[*worker]*sipBufs, n)
		for _, w := range workers {
			e.spBufs[w] = newSipBufs(e.sp, e.p.layout.nk, e.p.states)
		}
	}
	if e.sp == nil {
		return workers, e.runBlocks(ctx, cancel, workers, 0, len(e.cands))
	}
	// Partitioned by sip range: blocks in waves of about e.waveRows rows,
	// each wave's buffered rows folded into the range tables before the
	// next, so the buffers hold one wave.
	left := 0 // rows of the blocks not yet read
	for i := range e.cands {
		left += e.cands[i].Rows
	}
	for lo := 0; lo < len(e.cands); {
		hi, rows := lo, 0
		for hi < len(e.cands) && (hi == lo || rows+e.cands[hi].Rows <= e.waveRows) {
			rows += e.cands[hi].Rows
			hi++
		}
		if err := e.runBlocks(ctx, cancel, workers, lo, hi); err != nil {
			return workers, err
		}
		// A range table folded for the first time is sized for the rows
		// of this wave and of the waves still to come.
		e.spScale = float64(left) / float64(max(rows, 1))
		if err := e.foldWave(ctx); err != nil {
			return workers, err
		}
		left -= rows
		lo = hi
	}
	return workers, nil
}

// runBlocks processes candidate blocks [lo, hi) with the workers.
func (e *execution) runBlocks(ctx context.Context, cancel context.CancelFunc, workers []*worker, lo, hi int) error {
	var next atomic.Int64
	next.Store(int64(lo))
	var wg sync.WaitGroup
	errs := make([]error, len(workers))
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1) - 1)
				if b >= hi {
					if w.bufs != nil {
						if err := w.bufs.flushAll(w.table); err != nil {
							errs[i] = err
							cancel()
						}
					}
					return
				}
				if err := ctx.Err(); err != nil {
					errs[i] = err
					return
				}
				if err := w.runBlock(b); err != nil {
					errs[i] = err
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	// Report the first real failure, not the cancellations it caused.
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = err
		}
	}
	if first != nil && errors.Is(first, context.Canceled) {
		if cerr := context.Cause(ctx); cerr != nil && !errors.Is(cerr, context.Canceled) {
			first = cerr
		}
	}
	return first
}

// release frees a worker's table or rows and its scratch memory.
func (w *worker) release() {
	if w.table != nil && !w.shared {
		w.table.release()
	}
	w.releaseIDs()
	if w.own != nil {
		w.own.release()
		w.own = nil
	}
	if w.rows != nil {
		w.rows.release()
	}
	w.releaseScratch()
}

// releaseIDs frees the worker's map from address ids to its groups.
func (w *worker) releaseIDs() {
	w.e.bud.release(w.idHeld)
	w.idGroup, w.idHeld = nil, 0
}

// releaseScratch frees the worker's chunks and pooled buffers, keeping its
// table or rows and its id map (mergeByID).
func (w *worker) releaseScratch() {
	w.releaseColumns()
	w.addrs.release()
	w.pool.close()
	if w.bufs != nil {
		w.e.bud.release(w.bufs.held)
		w.bufs = nil
	}
}
