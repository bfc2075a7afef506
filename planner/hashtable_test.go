package planner

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestGroupTableModel drives inline and compact group tables with one-,
// two- and three-word keys (batch lookups and single finds, through
// several slot growths, then dropSlots) and checks every group id and sum
// against a map.
func TestGroupTableModel(t *testing.T) {
	for _, compact := range []bool{false, true} {
		for nk := 1; nk <= 3; nk++ {
			t.Run(fmt.Sprintf("compact=%v/nk=%d", compact, nk), func(t *testing.T) {
				specs := []stateSpec{{kind: stSum}}
				tab := newGroupTable(nk, specs, newBudget(0))
				if compact {
					tab = newCompactGroupTable(nk, specs, newBudget(0))
				}
				r := rand.New(rand.NewPCG(uint64(nk), 9))
				model := map[string]uint32{}
				sums := map[string]uint64{}
				keyOf := func(k []uint64) string { return fmt.Sprint(k) }
				gids := make([]uint32, 512)
				for round := range 200 {
					n := 1 + r.IntN(len(gids))
					keys := make([]uint64, n*nk)
					vals := make([]uint64, n)
					for i := range n {
						x := r.Uint64N(20000) // many repeats, ~20k groups
						for w := range nk {
							keys[i*nk+w] = x*uint64(w+7) ^ uint64(w)<<40
						}
						vals[i] = r.Uint64N(1000)
					}
					if round%5 == 0 { // single finds
						for i := range n {
							g, err := tab.find(keys[i*nk : i*nk+nk])
							if err != nil {
								t.Fatal(err)
							}
							gids[i] = g
						}
					} else if err := tab.lookup(keys, gids[:n]); err != nil {
						t.Fatal(err)
					}
					for i := range n {
						k := keyOf(keys[i*nk : i*nk+nk])
						want, ok := model[k]
						if !ok {
							want = uint32(len(model))
							model[k] = want
						}
						if gids[i] != want {
							t.Fatalf("round %d row %d: group %d, want %d", round, i, gids[i], want)
						}
						sums[k] += vals[i]
					}
					addSum(tab.vals[0], gids[:n], vals)
				}
				if tab.n != len(model) {
					t.Fatalf("%d groups, want %d", tab.n, len(model))
				}
				tab.dropSlots()
				for g := range tab.n {
					k := keyOf(tab.key(g))
					if model[k] != uint32(g) || sums[k] != tab.vals[0][g] {
						t.Fatalf("group %d %s: id %d sum %d, want sum %d", g, k, model[k], tab.vals[0][g], sums[k])
					}
				}
				if tab.held != 8*int64(tab.capG)*int64(nk)+8*int64(tab.capG) {
					t.Errorf("held %d bytes after dropSlots, want only keys and states", tab.held)
				}
				tab.release()
			})
		}
	}
}

// TestGroupTableAppend: groups appended without slots (appendGroup) are
// found by their keys once a find or a batch lookup indexes them, the
// table then grows as usual, and indexing within a budget too small for
// the slots fails and leaves the groups to be indexed later.
func TestGroupTableAppend(t *testing.T) {
	for _, compact := range []bool{false, true} {
		specs := []stateSpec{{kind: stSum}}
		tab := newGroupTable(1, specs, newBudget(0))
		if compact {
			tab = newCompactGroupTable(1, specs, newBudget(0))
		}
		const n = 5000
		for i := range n {
			if g, err := tab.appendGroup([]uint64{uint64(i) * 7919}); err != nil || g != uint32(i) {
				t.Fatalf("compact=%v: append %d: group %d, %v", compact, i, g, err)
			}
		}
		if !tab.unindexed || len(tab.slots) != 0 {
			t.Fatalf("compact=%v: appended groups indexed at once (%d slot words)", compact, len(tab.slots))
		}
		for i := n - 1; i >= 0; i -= 3 {
			if g, err := tab.find([]uint64{uint64(i) * 7919}); err != nil || g != uint32(i) {
				t.Fatalf("compact=%v: find %d: group %d, %v", compact, i, g, err)
			}
		}
		if tab.unindexed || tab.n != n {
			t.Fatalf("compact=%v: after finds, unindexed %v, %d groups", compact, tab.unindexed, tab.n)
		}
		if g, _ := tab.appendGroup([]uint64{1}); g != n {
			t.Fatalf("compact=%v: appended group %d, want %d", compact, g, n)
		}
		keys := []uint64{1, 7919, 3}
		gids := make([]uint32, len(keys))
		if err := tab.lookup(keys, gids); err != nil || gids[0] != n || gids[1] != 1 || gids[2] != n+1 {
			t.Fatalf("compact=%v: lookup %v: %v, %v", compact, keys, gids, err)
		}
	}

	small := newGroupTable(1, []stateSpec{{kind: stSum}}, newBudget(64<<10))
	for i := range 3000 {
		if _, err := small.appendGroup([]uint64{uint64(i)}); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	if _, err := small.find([]uint64{5}); err == nil {
		t.Fatal("slots for 3000 groups fit a 64 KiB budget")
	}
	if !small.unindexed {
		t.Error("a failed index left the groups marked as indexed")
	}
}
