package planner

import (
	"math/rand/v2"
	"testing"
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
