package planner

import (
	"fmt"
	"slices"
)

// Partial holds mergeable partial aggregates of one plan: the groups found
// so far with their states (aggregates), or candidate rows (listings).
// Partials of many stores (hosts) merge with Merge, travel as Arrow record
// batches (ToRecords, Plan.MergeRecords) and become a Result with
// Plan.Finish. A Partial is not safe for concurrent use.
type Partial struct {
	p     *Plan
	table *aggTable     // aggregates
	addrs *addrInterner // aggregates: ids of the table's address keys
	rows  *rowSet       // listings
	strs  *strInterner  // ids of the interface and host keys
	bud   *budget

	// Stats describes the work that produced the partial; merged partials
	// add up their stats.
	Stats Stats
}

// Plan returns the plan the partial belongs to.
func (x *Partial) Plan() *Plan { return x.p }

// len returns the number of groups or rows held.
func (x *Partial) len() int {
	switch {
	case x.table != nil:
		return x.table.len()
	case x.rows != nil:
		return x.rows.n
	}
	return 0
}

// dropSlots frees the hash slots of the partial's tables, keeping the
// groups' keys and states. The partial may then only be finished and
// released: a lookup would no longer find existing groups.
func (x *Partial) dropSlots() {
	if x.table == nil {
		return
	}
	for _, t := range x.table.parts {
		t.dropSlots()
	}
}

// Release frees the partial's memory. It must not be used after.
func (x *Partial) Release() {
	if x.table != nil {
		x.table.release()
		x.table = nil
	}
	if x.addrs != nil {
		x.addrs.release()
		x.addrs = nil
	}
	if x.rows != nil {
		x.rows.release()
		x.rows = nil
	}
}

// newPartial returns an empty partial of p.
func (p *Plan) newPartial(bud *budget) *Partial {
	x := &Partial{p: p, strs: newStrInterner(), bud: bud}
	if p.agg {
		x.table = newAggTable(p.layout.nk, p.states, bud, p.splitAt)
		x.addrs = newAddrInterner(bud)
	} else {
		x.rows = newRowSet(p, bud, x.strs)
	}
	return x
}

// Merge folds the partials into the first one and returns it; the others
// are released. All must come from plans with the same keys and states
// (the same query), else the error wraps ErrPlanMismatch.
func Merge(parts ...*Partial) (*Partial, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: nothing to merge", ErrPartial)
	}
	dst := parts[0]
	sig := dst.p.signature()
	for _, o := range parts[1:] {
		if s := o.p.signature(); s != sig {
			return nil, fmt.Errorf("%w: %q and %q", ErrPlanMismatch, sig, s)
		}
	}
	for _, o := range parts[1:] {
		if err := dst.absorb(o.table, o.addrs, o.rows, o.strs, true); err != nil {
			return nil, err
		}
		dst.Stats.add(&o.Stats)
		o.Release()
	}
	dst.Stats.Groups = dst.len()
	return dst, nil
}

// absorb merges another partial's table or rows into x, translating
// interned ids of addresses and names. after says the other rows come
// after x's in storage order (another store).
func (x *Partial) absorb(t *aggTable, addrs *addrInterner, rows *rowSet, strs *strInterner, after bool) error {
	tr, err := x.translator(addrs, strs)
	if err != nil {
		return err
	}
	if x.p.agg {
		return x.table.absorb(t, tr)
	}
	return x.rows.absorb(rows, tr, after)
}

// translator rewrites the interned ids of a packed key from another
// partial's interners to x's.
type translator struct {
	l     *keyLayout
	keys  []keySpec
	addr  []uint32 // nil: ids agree
	str   []uint32 // nil: ids agree
	plain bool     // no field needs rewriting
}

func (x *Partial) translator(addrs *addrInterner, strs *strInterner) (*translator, error) {
	tr := &translator{l: &x.p.layout, keys: x.p.keys}
	if addrs != nil && addrs != x.addrs && x.p.agg {
		tr.addr = make([]uint32, addrs.len())
		for i, a := range addrs.vals {
			id, err := x.addrs.intern(a)
			if err != nil {
				return nil, err
			}
			tr.addr[i] = id
		}
	}
	if strs != nil && strs != x.strs {
		tr.str = make([]uint32, len(strs.vals))
		for i, s := range strs.vals {
			tr.str[i] = x.strs.intern(s)
		}
	}
	tr.plain = true
	for _, k := range x.p.keys {
		if k.typ == TypeString && tr.str != nil || k.typ == TypeAddr && tr.addr != nil {
			tr.plain = false
		}
	}
	return tr, nil
}

// key returns src rewritten into dst (or src itself when nothing changes).
func (tr *translator) key(src, dst []uint64) []uint64 {
	if tr.plain {
		return src
	}
	copy(dst, src)
	for k := range tr.keys {
		var m []uint32
		switch tr.keys[k].typ {
		case TypeString:
			m = tr.str
		case TypeAddr:
			m = tr.addr
		}
		if m == nil {
			continue
		}
		f := tr.l.fields[k]
		old := tr.l.get(src, k)
		dst[f.word] &^= (1<<f.bits - 1) << f.shift
		tr.l.put(dst, k, uint64(m[old]))
	}
	return dst
}

// absorb merges the rows of o into s.
func (s *rowSet) absorb(o *rowSet, tr *translator, after bool) error {
	if o == nil {
		return nil
	}
	if s.top != nil {
		buf := make([]uint64, s.nk)
		for _, r := range o.ordered() {
			if s.top.offer(tr.key(r, buf)) {
				if err := s.reserve(int64(8*s.nk + 4)); err != nil {
					return err
				}
			}
		}
		s.n = len(s.top.idx)
		return nil
	}
	offset := 0
	if after {
		for _, c := range s.chunks {
			offset = max(offset, c.block+1)
		}
	}
	buf := make([]uint64, s.nk)
	for _, c := range o.chunks {
		if err := s.reserve(int64(8 * len(c.words))); err != nil {
			return err
		}
		words := c.words
		if !tr.plain {
			words = make([]uint64, 0, len(c.words))
			for i := 0; i+s.nk <= len(c.words); i += s.nk {
				words = append(words, tr.key(c.words[i:i+s.nk], buf)...)
			}
		}
		s.chunks = append(s.chunks, rowChunk{block: c.block + offset, words: words})
		s.n += len(words) / max(s.nk, 1)
	}
	s.trim()
	return nil
}

// trim drops rows past LIMIT of a listing without ORDER BY.
func (s *rowSet) trim() {
	lim := s.p.limit
	if lim < 0 || s.top != nil || len(s.p.order) > 0 || int64(s.n) <= lim {
		return
	}
	slices.SortStableFunc(s.chunks, func(a, b rowChunk) int { return a.block - b.block })
	left := lim * int64(s.nk)
	for i := range s.chunks {
		if int64(len(s.chunks[i].words)) > left {
			s.chunks[i].words = s.chunks[i].words[:left]
		}
		left -= int64(len(s.chunks[i].words))
	}
	s.n = int(lim)
}
