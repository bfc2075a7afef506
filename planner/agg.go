package planner

// Accumulate kernels: each applies one batch of dense vectors to the
// states of a group table. gids[i] is the group of row i; v[i] its value
// (widened to uint64 once per batch, see vec.go); h[i] its sketch hash.
// They run on existing groups without allocating (TestNoAllocs).

func addCount(c []uint64, gids []uint32) {
	for _, g := range gids {
		c[g]++
	}
}

func addSum(s []uint64, gids []uint32, v []uint64) {
	v = v[:len(gids)]
	for i, g := range gids {
		s[g] += v[i]
	}
}

func addMin(s []uint64, gids []uint32, v []uint64) {
	v = v[:len(gids)]
	for i, g := range gids {
		if v[i] < s[g] {
			s[g] = v[i]
		}
	}
}

func addMax(s []uint64, gids []uint32, v []uint64) {
	v = v[:len(gids)]
	for i, g := range gids {
		if v[i] > s[g] {
			s[g] = v[i]
		}
	}
}

func addDistinct(s []sketch, gids []uint32, h []uint64) int64 {
	h = h[:len(gids)]
	var grown int64
	for i, g := range gids {
		grown += s[g].add(h[i])
	}
	return grown
}

// Single-group kernels: every row of the batch is in group g.

func sumVec(v []uint64) uint64 {
	var a, b, c, d uint64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		a += v[i]
		b += v[i+1]
		c += v[i+2]
		d += v[i+3]
	}
	for ; i < len(v); i++ {
		a += v[i]
	}
	return a + b + c + d
}

func minVec(v []uint64, m uint64) uint64 {
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func maxVec(v []uint64, m uint64) uint64 {
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func distinctVec(s *sketch, h []uint64) int64 {
	var grown int64
	for _, x := range h {
		grown += s.add(x)
	}
	return grown
}

// accumulate applies a batch to state i: vals are the values of the
// state's column (nil for count), one per row; gids nil means every row is
// in group g.
func (t *groupTable) accumulate(i int, gids []uint32, g uint32, n int, vals []uint64) error {
	s := t.specs[i]
	if gids == nil {
		switch s.kind {
		case stCount:
			t.vals[i][g] += uint64(n)
		case stSum:
			t.vals[i][g] += sumVec(vals)
		case stMin:
			t.vals[i][g] = minVec(vals, t.vals[i][g])
		case stMax:
			t.vals[i][g] = maxVec(vals, t.vals[i][g])
		case stDistinct:
			return t.reserveSketches(distinctVec(&t.sk[i][g], vals))
		}
		return nil
	}
	switch s.kind {
	case stCount:
		addCount(t.vals[i], gids)
	case stSum:
		addSum(t.vals[i], gids, vals)
	case stMin:
		addMin(t.vals[i], gids, vals)
	case stMax:
		addMax(t.vals[i], gids, vals)
	case stDistinct:
		return t.reserveSketches(addDistinct(t.sk[i], gids, vals))
	}
	return nil
}

// mergeGroup folds state values of another table's group og into group g.
func (t *groupTable) mergeGroup(g uint32, o *groupTable, og int) error {
	for i, s := range t.specs {
		switch s.kind {
		case stCount, stSum:
			t.vals[i][g] += o.vals[i][og]
		case stMin:
			t.vals[i][g] = min(t.vals[i][g], o.vals[i][og])
		case stMax:
			t.vals[i][g] = max(t.vals[i][g], o.vals[i][og])
		case stDistinct:
			if err := t.reserveSketches(t.sk[i][g].merge(&o.sk[i][og])); err != nil {
				return err
			}
		}
	}
	return nil
}
