package planner

import (
	"fmt"
	"math"
	"unsafe"
)

// groupTable is a hash table from packed group keys to dense group ids,
// with the aggregate states stored column-wise by group id. Open
// addressing with linear probing; each slot holds the key words inline
// followed by a meta word (high 32 bits: a tag from the hash, low 32 bits:
// group id + 1, 0 when empty), so a probe touches one cache line. Slots
// are stride = nk+1 words. The load factor stays at or below one half. Keys are
// also kept by group id, for iteration.
type groupTable struct {
	nk      int      // words per key
	stride  int      // words per slot
	compact bool     // slots hold only the meta word; keys are read from keys
	keys    []uint64 // nk words per group
	slots   []uint64
	mask    uint64   // slot count - 1
	n       int      // groups
	hs      []uint64 // hashes of a batch
	// sinkWord keeps the prefetching loads of lookups alive.
	sinkWord uint64

	specs []stateSpec
	vals  [][]uint64 // per state; nil for distinct states
	sk    [][]sketch // per state; nil for other states

	bud  *budget
	held int64 // bytes reserved for slots, keys and states
	skb  int64 // bytes reserved for sketch contents
	capG int   // groups the keys and states have room for

	// unindexed says groups were added by appendGroup and are not in the
	// slots yet: the next find or lookup puts them all there (index).
	unindexed bool
}

const (
	tableMinSlots = 1024
	tagMask       = ^uint64(math.MaxUint32)
	maxGroups     = math.MaxUint32 - 1
	// prefetchDist is how many rows ahead a batch lookup touches its slot,
	// so the cache misses of several rows overlap.
	prefetchDist = 16
)

func newGroupTable(nk int, specs []stateSpec, bud *budget) *groupTable {
	t := &groupTable{nk: nk, stride: nk + 1, specs: specs, bud: bud}
	t.vals = make([][]uint64, len(specs))
	t.sk = make([][]sketch, len(specs))
	return t
}

// groupBytes is the memory of one group's keys and states.
func (t *groupTable) groupBytes() int64 {
	n := int64(8 * t.nk)
	for _, s := range t.specs {
		if s.kind == stDistinct {
			n += int64(unsafe.Sizeof(sketch{}))
		} else {
			n += 8
		}
	}
	return n
}

// hash returns the hash of a packed key.
func (t *groupTable) hash(k []uint64) uint64 {
	switch t.nk {
	case 0:
		return 0
	case 1:
		return hash1(k[0])
	case 2:
		return hash2(k[0], k[1])
	}
	return hashWords(k)
}

// find returns the group of key k, adding it when new.
func (t *groupTable) find(k []uint64) (uint32, error) {
	return t.findHashed(t.hash(k), k)
}

// findHashed is find with the key's hash already computed.
func (t *groupTable) findHashed(h uint64, k []uint64) (uint32, error) {
	if t.unindexed {
		if err := t.index(); err != nil {
			return 0, err
		}
	}
	if t.nk == 0 {
		if t.n == 0 {
			return t.insert(0, k)
		}
		return 0, nil
	}
	if t.compact {
		return t.findCompact(h, k)
	}
	if len(t.slots) > 0 {
		tag, st, nk := h&tagMask, uint64(t.stride), t.nk
		for i := h & t.mask; ; i = (i + 1) & t.mask {
			sl := t.slots[i*st : i*st+st]
			m := sl[nk]
			if m == 0 {
				break
			}
			if m&tagMask == tag && slicesEqual(sl[:nk], k) {
				return uint32(m) - 1, nil
			}
		}
	}
	return t.insert(h, k)
}

func slicesEqual(a, b []uint64) bool {
	for i, x := range a {
		if b[i] != x {
			return false
		}
	}
	return true
}

// lookup sets gids[i] to the group of key i of keys (nk words each),
// adding new groups.
func (t *groupTable) lookup(keys []uint64, gids []uint32) error {
	n, nk := len(gids), t.nk
	t.hs = resize(t.hs, n)
	hs := t.hs
	switch nk {
	case 1:
		for i, a := range keys[:n] {
			hs[i] = hash1(a)
		}
	case 2:
		for i := range hs {
			hs[i] = hash2(keys[2*i], keys[2*i+1])
		}
	default:
		for i := range hs {
			hs[i] = t.hash(keys[nk*i : nk*i+nk])
		}
	}
	return t.lookupHashed(keys, hs, gids)
}

// lookupHashed is lookup with the keys' hashes already computed.
func (t *groupTable) lookupHashed(keys, hs []uint64, gids []uint32) error {
	if t.unindexed {
		if err := t.index(); err != nil {
			return err
		}
	}
	switch {
	case t.compact && t.nk == 2:
		return t.lookupCompact2(keys, hs, gids)
	case !t.compact && t.nk == 1:
		return t.lookup1(keys, hs, gids)
	case !t.compact && t.nk == 2:
		return t.lookup2(keys, hs, gids)
	}
	// Other widths and layouts: one findHashed per key.
	nk := t.nk
	for i := range gids {
		g, err := t.findHashed(hs[i], keys[nk*i:nk*i+nk])
		if err != nil {
			return err
		}
		gids[i] = g
	}
	return nil
}

// lookup1 is lookup for one-word keys: slots are [key, meta].
func (t *groupTable) lookup1(keys, hs []uint64, gids []uint32) error {
	n := len(gids)
	keys, hs = keys[:n], hs[:n]
	var sink uint64
	for i, a := range keys {
		h := hs[i]
		if len(t.slots) > 0 {
			sl, mask := t.slots, t.mask
			if i+prefetchDist < n {
				sink += sl[2*(hs[i+prefetchDist]&mask)+1]
			}
			tag := h & tagMask
			for j := h & mask; ; j = (j + 1) & mask {
				m := sl[2*j+1]
				if m == 0 {
					break
				}
				if m&tagMask == tag && sl[2*j] == a {
					gids[i] = uint32(m) - 1
					goto next
				}
			}
		}
		{
			g, err := t.insert(h, keys[i:i+1])
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

// lookup2 is lookup for two-word keys: slots are [key0, key1, meta].
func (t *groupTable) lookup2(keys, hs []uint64, gids []uint32) error {
	n := len(gids)
	keys, hs = keys[:2*n], hs[:n]
	var sink uint64
	for i := range n {
		a, b, h := keys[2*i], keys[2*i+1], hs[i]
		if len(t.slots) > 0 {
			sl, mask := t.slots, t.mask
			if i+prefetchDist < n {
				sink += sl[3*(hs[i+prefetchDist]&mask)+2]
			}
			tag := h & tagMask
			for j := h & mask; ; j = (j + 1) & mask {
				s := sl[3*j : 3*j+3]
				m := s[2]
				if m == 0 {
					break
				}
				if m&tagMask == tag && s[0] == a && s[1] == b {
					gids[i] = uint32(m) - 1
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

// insert adds a new group with key k of hash h.
func (t *groupTable) insert(h uint64, k []uint64) (uint32, error) {
	if t.nk > 0 && t.n < maxGroups && 2*(t.n+1) > len(t.slots)/t.stride {
		if err := t.growSlots(); err != nil {
			return 0, err
		}
	}
	g, err := t.addGroup(k)
	if err == nil && t.nk > 0 {
		t.place(h, g)
	}
	return g, err
}

// appendGroup adds a new group with key k without putting it in the
// slots, for a caller that knows k is not in the table and finds its
// groups by other means (worker.groupsByID): the next find or lookup puts
// every group there at once, in slots sized for them, where inserting
// each would grow the slots by doubling (half the time of a one-address
// group-by's table on two cores).
func (t *groupTable) appendGroup(k []uint64) (uint32, error) {
	g, err := t.addGroup(k)
	if err == nil {
		t.unindexed = true
	}
	return g, err
}

// index puts every group in slots sized for them (appendGroup).
func (t *groupTable) index() error {
	t.unindexed = false
	if t.nk == 0 {
		return nil
	}
	n := tableMinSlots
	for n < 2*(t.n+1) {
		n *= 2
	}
	if old := len(t.slots) / t.stride; n > old {
		if err := t.reserve(int64(8*t.stride*(n-old)), n/2); err != nil {
			t.unindexed = true
			return err
		}
		t.slots = zeroed[uint64](n * t.stride)
		t.mask = uint64(n - 1)
	} else {
		clear(t.slots)
	}
	for g := 0; g < t.n; g++ {
		t.place(t.hash(t.key(g)), uint32(g))
	}
	return nil
}

// addGroup adds group t.n with key k and initial states, outside the
// slots.
func (t *groupTable) addGroup(k []uint64) (uint32, error) {
	if t.n >= maxGroups {
		return 0, fmt.Errorf("planner: more than %d groups", maxGroups)
	}
	if t.n == t.capG {
		if err := t.growGroups(); err != nil {
			return 0, err
		}
	}
	g := uint32(t.n)
	t.n++
	t.keys = append(t.keys, k...)
	for i, s := range t.specs {
		switch s.kind {
		case stDistinct:
			t.sk[i] = append(t.sk[i], sketch{})
		case stMin:
			t.vals[i] = append(t.vals[i], math.MaxUint64)
		default:
			t.vals[i] = append(t.vals[i], 0)
		}
	}
	return g, nil
}

func (t *groupTable) place(h uint64, g uint32) {
	if t.compact {
		i := h & t.mask
		for t.slots[i] != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = h&tagMask | uint64(g+1)
		return
	}
	st, nk := uint64(t.stride), t.nk
	i := h & t.mask
	for t.slots[i*st+uint64(nk)] != 0 {
		i = (i + 1) & t.mask
	}
	sl := t.slots[i*st : i*st+st]
	k := t.keys[int(g)*nk : int(g+1)*nk]
	for j, w := range k {
		sl[j] = w
	}
	sl[nk] = h&tagMask | uint64(g+1)
}

// growSlots doubles the slot array and re-places every group.
func (t *groupTable) growSlots() error {
	old := len(t.slots) / t.stride
	n := max(2*old, tableMinSlots)
	if err := t.reserve(int64(8*t.stride*(n-old)), n/2); err != nil {
		return err
	}
	t.slots = zeroed[uint64](n * t.stride)
	t.mask = uint64(n - 1)
	for g := 0; g < t.n; g++ {
		t.place(t.hash(t.keys[g*t.nk:(g+1)*t.nk]), uint32(g))
	}
	return nil
}

// presize makes an empty table's slots room for groups groups without
// growing. (Presizing keys and states as well measured no faster and
// held more memory.)
func (t *groupTable) presize(groups int) error {
	if t.n != 0 || t.nk == 0 {
		return nil
	}
	n := tableMinSlots
	for n < 2*groups {
		n *= 2
	}
	if n <= len(t.slots)/t.stride {
		return nil
	}
	old := len(t.slots) / t.stride
	if err := t.reserve(int64(8*t.stride*(n-old)), n/2); err != nil {
		return err
	}
	t.slots = zeroed[uint64](n * t.stride)
	t.mask = uint64(n - 1)
	return nil
}

// growGroups makes room for more groups in keys and states.
func (t *groupTable) growGroups() error {
	return t.growGroupsTo(max(2*t.capG, 256))
}

// growGroupsTo makes room for n groups in keys and states.
func (t *groupTable) growGroupsTo(n int) error {
	if n <= t.capG {
		return nil
	}
	if err := t.reserve(int64(n-t.capG)*t.groupBytes(), n); err != nil {
		return err
	}
	t.capG = n
	t.keys = growCap(t.keys, n*t.nk)
	for i := range t.specs {
		if t.sk[i] != nil || t.specs[i].kind == stDistinct {
			t.sk[i] = growCap(t.sk[i], n)
		} else {
			t.vals[i] = growCap(t.vals[i], n)
		}
	}
	return nil
}

func (t *groupTable) reserve(n int64, groups int) error {
	if err := t.bud.reserve(n, fmt.Sprintf("the hash table growing to %d groups", groups)); err != nil {
		return err
	}
	t.held += n
	return nil
}

// reserveSketches accounts sketch memory grown by n bytes.
func (t *groupTable) reserveSketches(n int64) error {
	if n <= 0 {
		return nil
	}
	if err := t.bud.reserve(n, "count(DISTINCT) sketches"); err != nil {
		return err
	}
	t.skb += n
	return nil
}

// release returns the table's memory to the budget and drops it.
func (t *groupTable) release() {
	t.bud.release(t.held + t.skb)
	t.held, t.skb = 0, 0
	t.keys, t.slots, t.vals, t.sk = nil, nil, nil, nil
	t.n, t.capG = 0, 0
}

// dropSlots frees the slots (see Partial.dropSlots).
func (t *groupTable) dropSlots() {
	if t.nk == 0 || len(t.slots) == 0 {
		return
	}
	n := int64(8 * len(t.slots))
	t.bud.release(n)
	t.held -= n
	t.slots, t.mask = nil, 0
}

// key returns the packed key of group g.
func (t *groupTable) key(g int) []uint64 { return t.keys[g*t.nk : (g+1)*t.nk] }

func growCap[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s
	}
	out := make([]T, len(s), n)
	copy(out, s)
	return out
}
