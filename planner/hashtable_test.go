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
