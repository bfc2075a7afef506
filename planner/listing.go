package planner

import (
	"slices"
	"sync"
)

// Row listings (queries without aggregates) pack each row's columns into
// words like group keys, with whole 128-bit addresses. Without ORDER BY
// rows keep storage order: interface, block start, row. With ORDER BY and
// LIMIT each worker keeps only its best LIMIT rows in a heap; without
// LIMIT all rows are kept (within the memory budget) and sorted at the end.

// rowSet holds listed rows.
type rowSet struct {
	p      *Plan
	nk     int
	chunks []rowChunk // storage order; unused with top
	top    *topRows   // ORDER BY with LIMIT
	bud    *budget
	held   int64
	strs   *strInterner
	n      int // rows held
}

// rowChunk holds consecutive rows of one block.
type rowChunk struct {
	block int
	words []uint64
}

func newRowSet(p *Plan, bud *budget, strs *strInterner) *rowSet {
	s := &rowSet{p: p, nk: p.layout.nk, bud: bud, strs: strs}
	if len(p.order) > 0 && p.limit >= 0 {
		s.top = newTopRows(s.nk, p.limit, p.rowOrder(strs).cmp)
	}
	return s
}

// add appends the batch's selected rows.
func (s *rowSet) add(w *worker, lo, n int, sel []int32, cnt int) error {
	p, nk := s.p, s.nk
	w.keys = fillKeys(w.keys, cnt, w.constKey)
	keys := w.keys
	for _, k := range p.varKeys {
		ks := &p.keys[k]
		v := w.values(ks.col, lo, n, sel)
		if ks.typ == TypeAddr {
			c := &w.cols[storedOf(ks.col)[0]]
			putAddrs(&p.layout, keys, k, v, dictBytes(c.col.Dict.Array()))
		} else {
			p.layout.orColumn(keys, k, v)
		}
	}
	if s.top != nil {
		for i := range cnt {
			grew := s.top.offer(keys[i*nk : (i+1)*nk])
			if grew {
				if err := s.reserve(int64(8*nk + 4)); err != nil {
					return err
				}
			}
		}
		s.n = len(s.top.idx)
		return nil
	}
	c := s.chunkFor(w.block)
	if p.limit >= 0 {
		cnt = min(cnt, int(p.limit)-len(c.words)/max(nk, 1))
		if cnt <= 0 {
			return nil
		}
	}
	if err := s.reserve(int64(8 * nk * cnt)); err != nil {
		return err
	}
	c.words = append(c.words, keys[:cnt*nk]...)
	s.n += cnt
	return nil
}

func (s *rowSet) reserve(n int64) error {
	if err := s.bud.reserve(n, "listed rows"); err != nil {
		return err
	}
	s.held += n
	return nil
}

// chunkFor returns the chunk of block b, adding it when b is new.
func (s *rowSet) chunkFor(b int) *rowChunk {
	if n := len(s.chunks); n > 0 && s.chunks[n-1].block == b {
		return &s.chunks[n-1]
	}
	s.chunks = append(s.chunks, rowChunk{block: b})
	return &s.chunks[len(s.chunks)-1]
}

// blockRows returns the rows held for block b (the last block added).
func (s *rowSet) blockRows(b int) int64 {
	if n := len(s.chunks); n > 0 && s.chunks[n-1].block == b && s.nk > 0 {
		return int64(len(s.chunks[n-1].words) / s.nk)
	}
	return 0
}

// putAddrs stores the 128-bit addresses of dictionary codes into key
// column k of each row.
func putAddrs(l *keyLayout, keys []uint64, k int, codes []uint64, dict []byte) {
	f := l.fields[k]
	nk := l.nk
	for i, c := range codes {
		keys[nk*i+f.word] = be64(dict[16*c:])
		keys[nk*i+f.word+1] = be64(dict[16*c+8:])
	}
}

// ordered returns every row in result order.
func (s *rowSet) ordered() [][]uint64 {
	nk := s.nk
	var out [][]uint64
	if s.top != nil {
		return s.top.sorted()
	}
	chunks := slices.Clone(s.chunks)
	slices.SortStableFunc(chunks, func(a, b rowChunk) int { return a.block - b.block })
	for _, c := range chunks {
		for i := 0; i+nk <= len(c.words); i += nk {
			out = append(out, c.words[i:i+nk])
		}
	}
	if len(s.p.order) > 0 {
		cmp := s.p.rowOrder(s.strs).cmp
		slices.SortStableFunc(out, cmp)
	}
	if s.p.limit >= 0 && int64(len(out)) > s.p.limit {
		out = out[:s.p.limit]
	}
	return out
}

// release returns the rows' memory.
func (s *rowSet) release() {
	s.bud.release(s.held)
	s.held = 0
	s.chunks, s.top = nil, nil
}

// limitTracker lets workers skip blocks of a listing with LIMIT and no
// ORDER BY: block i cannot hold any of the first LIMIT rows (in storage
// order) once the finished blocks before it hold LIMIT rows, whether or
// not every block before it has finished; a slow block does not keep the
// others reading. The finished rows are summed in a Fenwick tree, so each
// call is O(log blocks).
type limitTracker struct {
	on    bool
	limit int64
	mu    struct {
		sync.Mutex
		tree []int64 // Fenwick tree of the rows of finished blocks, 1-based
	}
}

func newLimitTracker(p *Plan, blocks int) *limitTracker {
	l := &limitTracker{on: !p.agg && len(p.order) == 0 && p.limit >= 0, limit: p.limit}
	if l.on {
		l.mu.tree = make([]int64, blocks+1)
	}
	return l
}

// skip reports whether block i cannot contribute to the first LIMIT rows.
func (l *limitTracker) skip(i int) bool {
	if !l.on {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var before int64 // rows of the finished blocks [0, i)
	for j := i; j > 0; j -= j & -j {
		before += l.mu.tree[j]
	}
	return before >= l.limit
}

// done records that block i gave rows rows.
func (l *limitTracker) done(i int, rows int64) {
	if !l.on || rows == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for j := i + 1; j < len(l.mu.tree); j += j & -j {
		l.mu.tree[j] += rows
	}
}
