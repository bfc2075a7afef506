package planner

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/flowsql/flowsql/columnar/columnartest"
)

// TestAddrInterner: IPv4-mapped addresses and all others
// get dense ids in first-seen order that survive the tables' growth; a
// lookup finds exactly the interned ones, addresses next to the IPv4-mapped
// range included; the budget refuses growth past its limit.
func TestAddrInterner(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var addrs []u128
	for _, a := range []u128{{0, 0}, {0, 1}, {0, 0xffff << 32}, {0, 0xffff<<32 | 0xffffffff}, {0, 0xfffe<<32 | 7}, {0, 0x1_0000<<32 | 7}, {1, 0xffff<<32 | 7}} {
		addrs = append(addrs, a)
	}
	for range 5000 {
		if r.IntN(3) > 0 {
			addrs = append(addrs, u128{0, 0xffff<<32 | uint64(r.Uint32())})
		} else {
			addrs = append(addrs, u128{0x20010db8<<32 | r.Uint64N(16), r.Uint64()})
		}
	}
	in := newAddrInterner(newBudget(1 << 30))
	want := map[u128]uint32{}
	for i, a := range addrs {
		id, err := in.intern(a)
		if err != nil {
			t.Fatal(err)
		}
		if old, ok := want[a]; ok {
			if id != old {
				t.Fatalf("address %d (%x) got id %d, then %d", i, a, old, id)
			}
			continue
		}
		if int(id) != len(want) {
			t.Fatalf("address %d (%x): id %d, want the next dense id %d", i, a, id, len(want))
		}
		want[a] = id
		if i%3 == 0 { // the same address again: the same id
			if again, _ := in.intern(a); again != id {
				t.Fatalf("address %x interned twice: %d, %d", a, id, again)
			}
		}
	}
	if in.len() != len(want) {
		t.Fatalf("%d ids for %d addresses", in.len(), len(want))
	}
	for a, id := range want {
		if got, ok := in.lookup(a); !ok || got != id {
			t.Fatalf("lookup %x: %d %v, want %d", a, got, ok, id)
		}
		if in.at(id) != a {
			t.Fatalf("at(%d) = %x, want %x", id, in.at(id), a)
		}
	}
	for _, a := range []u128{{0, 0xffff<<32 | 1}, {0, 2}, {0, 0xfffe << 32}, {2, 0xffff << 32}} {
		if _, interned := want[a]; interned {
			continue
		}
		if id, ok := in.lookup(a); ok {
			t.Errorf("lookup of %x, never interned, found id %d", a, id)
		}
	}
	in.release()

	small := newAddrInterner(newBudget(64 << 10))
	var err error
	for i := 0; err == nil && i < 100000; i++ {
		_, err = small.intern(u128{0, 0xffff<<32 | uint64(i)})
	}
	if err == nil {
		t.Error("100000 addresses fit a 64 KiB budget")
	}
}

// TestAddrCache: workers mapping overlapping dictionaries at once through
// their own caches get the shared interner's ids, the same for the same
// address in every worker, codes met twice in a batch included; a worker
// meeting an address again finds it in its cache without adding to the
// shared table; memory goes back to the budget, and a small budget fails
// with an error rather than a wrong id.
func TestAddrCache(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	// Random IPv4 and IPv6 addresses, each with neighbours one bit away,
	// and addresses sharing an IPv4 address's low 32 bits outside the
	// IPv4-mapped range: none may be taken for another.
	var pool []u128
	for i := range 750 {
		v := uint64(r.Uint32())
		pool = append(pool, u128{0, 0xffff<<32 | v}, u128{0, 0xffff<<32 | v ^ 1}, u128{0, 0xffff<<32 | v ^ 1<<31})
		switch i % 3 {
		case 0:
			pool = append(pool, u128{0x20010db8 << 32, uint64(i)}, u128{0x20010db8<<32 | 1, uint64(i)})
		case 1:
			pool = append(pool, u128{0, 0xfffe<<32 | v}, u128{0, v})
		default:
			pool = append(pool, u128{1, 0xffff<<32 | v})
		}
	}
	// A block: a sorted dictionary of some of the pool, and a batch of
	// codes into it with repeats.
	type block struct {
		dict  []byte
		addrs []u128
		codes []uint64
	}
	blocks := make([]block, 60)
	for i := range blocks {
		seen := map[u128]bool{}
		for range 50 + r.IntN(400) {
			seen[pool[r.IntN(len(pool))]] = true
		}
		var b block
		for a := range seen {
			b.addrs = append(b.addrs, a)
		}
		slices.SortFunc(b.addrs, cmpU128)
		for _, a := range b.addrs {
			b.dict = binary.BigEndian.AppendUint64(b.dict, a.hi)
			b.dict = binary.BigEndian.AppendUint64(b.dict, a.lo)
		}
		for range 2 * len(b.addrs) {
			b.codes = append(b.codes, uint64(r.IntN(len(b.addrs))))
		}
		blocks[i] = b
	}

	bud := newBudget(1 << 30)
	shared := &sharedInterner{t: newAddrInterner(bud)}
	const workers = 3
	got := make([][][]uint32, workers) // worker, block: code -> id
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newAddrCache(shared, bud)
			defer c.release()
			got[w] = make([][]uint32, len(blocks))
			for i := range blocks { // every worker maps every block, in its own order
				bi := (7*i + 13*w) % len(blocks) // 7 is prime to 60: a permutation
				b := &blocks[bi]
				ids := fillIDs(nil, len(b.addrs))
				for lo := 0; lo < len(b.codes); lo += 97 { // batches
					if err := c.ensureIDs(ids, dictView{b: b.dict}, b.codes[lo:min(lo+97, len(b.codes))]); err != nil {
						errs[w] = err
						return
					}
				}
				got[w][bi] = ids
			}
			// Every address this worker met is in its cache now: mapping
			// a block again misses nothing, so takes no lock.
			ids := fillIDs(nil, len(blocks[0].addrs))
			if err := c.ensureIDs(ids, dictView{b: blocks[0].dict}, blocks[0].codes); err != nil {
				errs[w] = err
				return
			}
			if len(c.miss) != 0 {
				errs[w] = fmt.Errorf("worker %d: a second pass over a block missed %d addresses in the cache", w, len(c.miss))
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for w := range workers {
		for bi, b := range blocks {
			used := map[uint64]bool{}
			for _, c := range b.codes {
				used[c] = true
			}
			for c, id := range got[w][bi] {
				if !used[uint64(c)] {
					if id != noID {
						t.Fatalf("worker %d block %d: code %d, in no batch, got id %d", w, bi, c, id)
					}
					continue
				}
				want, ok := shared.t.lookup(b.addrs[c])
				if !ok || id != want {
					t.Fatalf("worker %d block %d: code %d (%x) got id %d, shared id %d (%v)", w, bi, c, b.addrs[c], id, want, ok)
				}
			}
		}
	}
	shared.t.release()
	if n := bud.used.Load(); n != 0 {
		t.Errorf("%d bytes still reserved after release", n)
	}

	small := newBudget(32 << 10)
	c := newAddrCache(&sharedInterner{t: newAddrInterner(small)}, small)
	var err error
	for lo := 0; err == nil && lo < 100000; lo += 1000 {
		var dict []byte
		for i := lo; i < lo+1000; i++ {
			dict = binary.BigEndian.AppendUint64(dict, 0)
			dict = binary.BigEndian.AppendUint64(dict, 0xffff<<32|uint64(i))
		}
		codes := make([]uint64, 1000)
		for i := range codes {
			codes[i] = uint64(i)
		}
		err = c.ensureIDs(fillIDs(nil, 1000), dictView{b: dict}, codes)
	}
	if err == nil {
		t.Error("100000 addresses fit a 32 KiB budget")
	}
}

// TestOwnIDsGoShared: one-address group-bys over blocks of several
// batches, with tables that pass the partition threshold in the middle of
// a block, so a worker moves from its own address ids to the shared ones
// between two batches of a block (toSharedIDs), and workers that never
// move are translated at the merge. Results match the slow evaluator, and
// the memory budget is whole again once the partial is released.
func TestOwnIDsGoShared(t *testing.T) {
	db := columnartest.Open(t, nil)
	cfg := smallConfig()
	cfg.ifaces, cfg.blocks, cfg.flows, cfg.dips, cfg.pool, cfg.emptyEvery = []string{"eth0"}, 4, 3*batchRows, 20000, 0, 0
	genStore(t, db, cfg)
	rows := slowRows(t, db, testHost)
	for _, q := range []string{
		"SELECT dip, sum(bytes), count(*) GROUP BY dip",
		"SELECT sip, max(bytes_in), count(distinct dip) GROUP BY sip",
		"SELECT dip, min(packets) WHERE proto = tcp GROUP BY dip",
	} {
		var want [][]any
		for _, split := range []int{40, 9000, 1 << 30} {
			for _, par := range []int{1, 3} {
				opts := testOptions(t)
				opts.Parallelism = par
				p := prepare(t, q, opts)
				if !p.oneAddr {
					t.Fatalf("%s: not a one-address group-by", q)
				}
				p.splitAt = split
				res, err := p.Execute(t.Context(), db)
				if err != nil {
					t.Fatalf("%s (split %d, %d workers): %v", q, split, par, err)
				}
				if want == nil {
					want = slowQuery(p.Statement(), rows, testNow)
				}
				compareRows(t, fmt.Sprintf("%s (split %d, %d workers)", q, split, par), rowsOf(res), want, distinctItems(p.Statement()), true)
				// Every byte reserved for tables and ids is returned with
				// the partial.
				part, err := p.ExecutePartial(t.Context(), db)
				if err != nil {
					t.Fatal(err)
				}
				bud := part.bud
				part.Release()
				if n := bud.used.Load(); n != 0 {
					t.Errorf("%s (split %d, %d workers): %d bytes still reserved after Release", q, split, par, n)
				}
			}
		}
	}
}
