package planner

// Compact group tables: slots of one meta word (tag | group id + 1), with
// keys compared in the table's keys array. A probe makes two loads
// instead of one, which costs nothing when the table is in the CPU
// caches, and the slots take 8 bytes instead of 8 × (nk+1): for the sip
// range tables (sipfold.go) that is most of the memory of a query with
// millions of groups.

// newCompactGroupTable returns a table whose slots are one meta word and
// whose probes compare keys in the keys array: slots take 8 bytes instead
// of 8 × (nk+1), for tables that stay in the CPU caches anyway (the sip
// range tables), where the second load is a cache hit.
func newCompactGroupTable(nk int, specs []stateSpec, bud *budget) *groupTable {
	t := newGroupTable(nk, specs, bud)
	if nk > 0 {
		t.compact, t.stride = true, 1
	}
	return t
}

// findCompact is findHashed for a compact table.
func (t *groupTable) findCompact(h uint64, k []uint64) (uint32, error) {
	if len(t.slots) > 0 {
		tag, nk := h&tagMask, t.nk
		for i := h & t.mask; ; i = (i + 1) & t.mask {
			m := t.slots[i]
			if m == 0 {
				break
			}
			if g := int(uint32(m) - 1); m&tagMask == tag && slicesEqual(t.keys[g*nk:g*nk+nk], k) {
				return uint32(g), nil
			}
		}
	}
	return t.insert(h, k)
}

// lookupCompact2 is lookup2 for a compact table.
func (t *groupTable) lookupCompact2(keys, hs []uint64, gids []uint32) error {
	n := len(gids)
	keys, hs = keys[:2*n], hs[:n]
	var sink uint64
	for i := range n {
		a, b, h := keys[2*i], keys[2*i+1], hs[i]
		if len(t.slots) > 0 {
			sl, mask, tk := t.slots, t.mask, t.keys
			if i+prefetchDist < n {
				sink += sl[hs[i+prefetchDist]&mask]
			}
			tag := h & tagMask
			for j := h & mask; ; j = (j + 1) & mask {
				m := sl[j]
				if m == 0 {
					break
				}
				if g := uint32(m) - 1; m&tagMask == tag && tk[2*g] == a && tk[2*g+1] == b {
					gids[i] = g
					goto next
				}
			}
		}
		{
			g, err := t.insert(h, keys[2*i:2*i+2])
			if err != nil {
				return err
			}
			gids[i] = g
		}
	next:
	}
	t.sinkWord ^= sink
	return nil
}
