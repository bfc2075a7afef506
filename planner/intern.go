package planner

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/flowsql/flowsql/columnar"
)

// addrInterner gives addresses dense ids, so group keys hold a 32-bit id
// instead of 16 bytes. Blocks map their dictionary codes to ids once per
// block (dictionary-sized work); rows then use the code as an index. Each
// worker and each partial has its own interner: ids are local to it.
type addrInterner struct {
	vals  []u128
	slots []uint32 // id+1; 0 is empty
	mask  uint64
	bud   *budget
	held  int64 // bytes reserved
}

const internerMinSlots = 1024

func newAddrInterner(bud *budget) *addrInterner { return &addrInterner{bud: bud} }

// len returns the number of distinct addresses.
func (t *addrInterner) len() int { return len(t.vals) }

// at returns the address of id.
func (t *addrInterner) at(id uint32) u128 { return t.vals[id] }

// intern returns the id of a, adding it when new.
func (t *addrInterner) intern(a u128) (uint32, error) {
	if 2*(len(t.vals)+1) > len(t.slots) {
		if err := t.grow(); err != nil {
			return 0, err
		}
	}
	i := hash2(a.hi, a.lo) & t.mask
	for {
		s := t.slots[i]
		if s == 0 {
			id := uint32(len(t.vals))
			t.vals = append(t.vals, a)
			t.slots[i] = id + 1
			return id, nil
		}
		if t.vals[s-1] == a {
			return s - 1, nil
		}
		i = (i + 1) & t.mask
	}
}

func (t *addrInterner) grow() error {
	n := max(2*len(t.slots), internerMinSlots)
	// slots, plus the values slice doubling alongside.
	need := int64(n)*4 + int64(n/2)*16
	if err := t.bud.reserve(need-t.held, "the address table"); err != nil {
		return err
	}
	t.held = need
	t.slots = zeroed[uint32](n)
	t.mask = uint64(n - 1)
	if cap(t.vals) < n/2 {
		v := make([]u128, len(t.vals), n/2)
		copy(v, t.vals)
		t.vals = v
	}
	for id, a := range t.vals {
		i := hash2(a.hi, a.lo) & t.mask
		for t.slots[i] != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = uint32(id) + 1
	}
	return nil
}

// noID marks a dictionary code not yet mapped to an id.
const noID = ^uint32(0)

// fillIDs returns ids of length n, every entry noID.
func fillIDs(ids []uint32, n int) []uint32 {
	ids = resize(ids, n)
	for i := range ids {
		ids[i] = noID
	}
	return ids
}

// dictView is a block's dictionary as ensureIDs reads it: 16-byte
// entries, or a partial (IPv4) dictionary read entry by entry.
type dictView struct {
	b    []byte
	part *columnar.Dict
}

// at returns the address of code c.
func (v dictView) at(c uint64) u128 {
	if v.part != nil {
		return u128{0, 0xffff<<32 | uint64(v.part.AtV4(int(c)))}
	}
	return u128{be64(v.b[16*c:]), be64(v.b[16*c+8:])}
}

// ensureIDs maps the dictionary codes of a batch that have no id yet.
func (t *addrInterner) ensureIDs(ids []uint32, dict dictView, codes []uint64) error {
	for _, c := range codes {
		if ids[c] == noID {
			id, err := t.intern(dict.at(c))
			if err != nil {
				return err
			}
			ids[c] = id
		}
	}
	return nil
}

// lookup returns the id of a, if interned.
func (t *addrInterner) lookup(a u128) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	for i := hash2(a.hi, a.lo) & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if t.vals[s-1] == a {
			return s - 1, true
		}
	}
}

// sharedInterner lets the workers of one execution share address ids, so
// their group keys agree and their tables merge partition by partition.
// Workers reach it through their own addrCache, so only addresses new to
// a worker take the lock.
type sharedInterner struct {
	mu sync.Mutex
	t  *addrInterner
}

// addrCache is one worker's view of the shared interner: the addresses
// the worker has met, with their shared ids, in a table of its own. A
// known address costs a lookup and no lock; the lock is taken once per
// batch that meets new addresses, and held only to intern those. With a
// read lock held over every batch's lookups instead, two workers spent a
// quarter of a talker query (Q2) waiting on each other.
type addrCache struct {
	shared *sharedInterner
	local  *addrInterner // local id -> address
	sid    []uint32      // local id -> shared id
	miss   []uint64      // scratch: codes of the batch new to the worker
	bud    *budget
	held   int64 // bytes of sid reserved
}

func newAddrCache(shared *sharedInterner, bud *budget) *addrCache {
	return &addrCache{shared: shared, local: newAddrInterner(bud), bud: bud}
}

// ensureIDs maps the dictionary codes of a batch that have no id yet to
// their shared ids.
func (c *addrCache) ensureIDs(ids []uint32, dict dictView, codes []uint64) error {
	c.miss = c.miss[:0]
	if dict.part != nil {
		for _, code := range codes {
			if ids[code] != noID {
				continue
			}
			if lid, ok := c.local.lookup(dict.at(code)); ok {
				ids[code] = c.sid[lid]
			} else {
				c.miss = append(c.miss, code)
			}
		}
	} else {
		// The usual case of whole dictionaries, without the branch.
		b := dict.b
		for _, code := range codes {
			if ids[code] != noID {
				continue
			}
			if lid, ok := c.local.lookup(u128{be64(b[16*code:]), be64(b[16*code+8:])}); ok {
				ids[code] = c.sid[lid]
			} else {
				c.miss = append(c.miss, code)
			}
		}
	}
	if len(c.miss) == 0 {
		return nil
	}
	if err := c.internShared(ids, dict); err != nil {
		return err
	}
	for _, code := range c.miss {
		lid, err := c.local.intern(dict.at(code))
		if err != nil {
			return err
		}
		if int(lid) < len(c.sid) {
			continue // a code met twice in the batch
		}
		if len(c.sid) == cap(c.sid) {
			n := max(2*cap(c.sid), internerMinSlots/2)
			if err := c.bud.reserve(int64(n-cap(c.sid))*4, "the address table"); err != nil {
				return err
			}
			c.held += int64(n-cap(c.sid)) * 4
			c.sid = append(make([]uint32, 0, n), c.sid...)
		}
		c.sid = append(c.sid, ids[code])
	}
	return nil
}

// internShared gives the codes in c.miss their shared ids, under the lock.
func (c *addrCache) internShared(ids []uint32, dict dictView) error {
	c.shared.mu.Lock()
	defer c.shared.mu.Unlock()
	for _, code := range c.miss {
		if ids[code] != noID {
			continue
		}
		id, err := c.shared.t.intern(dict.at(code))
		if err != nil {
			return err
		}
		ids[code] = id
	}
	return nil
}

// release returns the cache's memory to the budget.
func (c *addrCache) release() {
	c.local.release()
	c.bud.release(c.held)
	c.held = 0
	c.sid, c.miss = nil, nil
}

// release returns the interner's memory to the budget.
func (t *addrInterner) release() {
	t.bud.release(t.held)
	t.held = 0
	t.vals, t.slots = nil, nil
}

// dictBytes returns the 16-byte values of a dictionary array, contiguous.
func dictBytes(a *array.FixedSizeBinary) []byte {
	d := a.Data()
	bufs := d.Buffers()
	if len(bufs) < 2 || bufs[1] == nil || d.Len() == 0 {
		return nil
	}
	return bufs[1].Bytes()[16*d.Offset() : 16*(d.Offset()+d.Len())]
}

// strInterner gives interface and host names dense ids. Execution fills it
// before the workers start (every interface of the selected blocks, then
// the host), so all workers share it read-only and their ids agree.
type strInterner struct {
	ids  map[string]uint32
	vals []string
}

func newStrInterner() *strInterner { return &strInterner{ids: map[string]uint32{}} }

func (t *strInterner) intern(s string) uint32 {
	if id, ok := t.ids[s]; ok {
		return id
	}
	id := uint32(len(t.vals))
	t.ids[s] = id
	t.vals = append(t.vals, s)
	return id
}

func (t *strInterner) at(id uint32) string { return t.vals[id] }

// resize returns s with length n, reusing its array when large enough.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n, n+n/4)
}
