package planner

import (
	"context"
	"errors"
	"fmt"

	"github.com/flowsql/flowsql/columnar"
)

// explainStats are the block counts EXPLAIN prints.
type explainStats struct {
	Stats
	stored     int // blocks in the store, every interface and time
	dictProbes int // dictionary chunks read to decide address conditions
}

// explainBlocks runs the pruning of a real execution over db without
// reading rows, and returns the counts and the usual block length.
func (p *Plan) explainBlocks(ctx context.Context, db *columnar.DB) (explainStats, int64, error) {
	var st explainStats
	all, err := db.Blocks(ctx, columnar.Selector{})
	if err != nil {
		return st, 0, fmt.Errorf("planner: explain: %w", err)
	}
	st.stored = len(all)
	metas, err := p.candidates(ctx, db)
	if err != nil {
		return st, 0, err
	}
	st.BlocksTotal = len(metas)
	e := p.newExecution(db)
	defer e.addrs.t.release()
	w := newWorker(ctx, e)
	defer w.release()
	lens := map[int64]int{}
	for i := range metas {
		m := &metas[i]
		lens[m.End-m.Start]++
		r, root := p.pruneMeta(m, e.host, w.vals)
		switch r {
		case byTime:
			st.PrunedTime++
			continue
		case byIface:
			st.PrunedIface++
			continue
		case byStats:
			st.PrunedStats++
			continue
		}
		env := blockEnv{meta: m, host: e.host, level: levelStats, codes: w.codes}
		if root == tUnknown {
			if dc := p.dictLeaves(p.where, w.vals, 0); dc != 0 {
				probes := w.st.ChunksRead
				err := w.probeDicts(m, dc)
				st.dictProbes += w.st.ChunksRead - probes
				if err != nil {
					if !errors.Is(err, columnar.ErrCorrupt) {
						return st, 0, err
					}
					st.BlocksDamaged++
					continue
				}
				env.level, env.probed = levelDict, dc
				if root = fold(p.where, &env, w.vals); root == tFalse {
					st.PrunedDict++
					continue
				}
			}
		}
		if root == tTrue && p.fromStats {
			st.BlocksFromStats++
			continue
		}
		need := p.static
		if root == tUnknown {
			need |= rowColumns(p.where, w.vals, 0)
		}
		st.BlocksRead++
		for _, id := range need.ids() {
			if disk, _, n, ok := valuesCost(m, id); ok {
				st.ChunksRead += n
				st.BytesRead += disk
			}
			if id.IsAddr() {
				disk, _, n := dictCost(m, id, p.v4.has(id))
				st.ChunksRead += n
				st.BytesRead += disk
			}
		}
	}
	var blockLen int64
	best := 0
	for l, n := range lens {
		if n > best || n == best && l < blockLen {
			blockLen, best = l, n
		}
	}
	return st, blockLen, nil
}
