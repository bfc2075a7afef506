package ingest

import "github.com/flowsql/flowsql/internal/invariants"

// Consistency checks of the flow table, run at every rotation when
// invariants are enabled (-tags invariants, or -race): the index holds
// exactly one slot per entry, each entry's slot is on its key's probe path
// with the right tag, and no key is stored twice. They cost a map of all
// keys per rotation: test builds only.

// check verifies both tables; it returns nil at once in release builds.
func (t *flowTable) check() error {
	if !invariants.Enabled {
		return nil
	}
	if err := t.v4.check(); err != nil {
		return err
	}
	return t.v6.check()
}

func (t *table4) check() error {
	if err := t.index.check("IPv4", func(j int) uint64 { return hash4(t.entry(j).k, t.seed) }); err != nil {
		return err
	}
	seen := make(map[key4]int, t.n)
	for j := 0; j < t.n; j++ {
		k := t.entry(j).k
		if i, dup := seen[k]; dup {
			return invariants.AssertionFailedf("IPv4 flow table: entries %d and %d have the key %+v", i, j, k)
		}
		seen[k] = j
	}
	return nil
}

func (t *table6) check() error {
	if err := t.index.check("IPv6", func(j int) uint64 { return hash6(&t.entry(j).k, t.seed) }); err != nil {
		return err
	}
	seen := make(map[key6]int, t.n)
	for j := 0; j < t.n; j++ {
		k := t.entry(j).k
		if i, dup := seen[k]; dup {
			return invariants.AssertionFailedf("IPv6 flow table: entries %d and %d have the key %+v", i, j, k)
		}
		seen[k] = j
	}
	return nil
}

// check walks the index (hashOf returns the hash of entry number j): one
// used slot per entry, and each entry's slot, with its tag, reachable from
// its key's home slot without crossing an empty one.
func (x *index) check(family string, hashOf func(j int) uint64) error {
	if x.n == 0 {
		return nil
	}
	used := 0
	for _, s := range x.slots {
		if s != 0 {
			used++
		}
	}
	if used != x.n {
		return invariants.AssertionFailedf("%s flow table: %d slots used for %d entries", family, used, x.n)
	}
	m := x.mask
	for j := 0; j < x.n; j++ {
		h := hashOf(j)
		want := uint32(h)&^m | uint32(j+1)
		i := x.home(h)
		for steps := 0; x.slots[i] != want; steps++ {
			if x.slots[i] == 0 || steps > len(x.slots) {
				return invariants.AssertionFailedf("%s flow table: entry %d not on its probe path (home slot %d)", family, j, x.home(h))
			}
			i = (i + 1) & m
		}
	}
	return nil
}
