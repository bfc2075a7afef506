package planner

import (
	"math/rand/v2"
	"testing"

	"github.com/flowsql/flowsql/sql"
)

// TestNoAllocs requires the group-by inner loop — key lookup and every
// accumulate kernel — not to allocate once the groups exist.
func TestNoAllocs(t *testing.T) {
	specs := []stateSpec{{kind: stCount}, {kind: stSum, col: sql.ColBytes}, {kind: stMin, col: sql.ColDPort},
		{kind: stMax, col: sql.ColDPort}, {kind: stDistinct, col: sql.ColDIP}}
	r := rand.New(rand.NewPCG(1, 2))
	for _, nk := range []int{0, 1, 2, 3} {
		tbl := newGroupTable(nk, specs, newBudget(0))
		const n = batchRows
		keys := make([]uint64, n*nk)
		for i := range keys {
			keys[i] = uint64(r.IntN(500))
		}
		vals := make([]uint64, n)
		hashes := make([]uint64, n)
		for i := range vals {
			vals[i] = uint64(r.IntN(1 << 20))
			hashes[i] = hashValue(uint64(r.IntN(20)))
		}
		gids := make([]uint32, n)
		step := func() {
			var g []uint32
			if nk > 0 {
				if err := tbl.lookup(keys, gids); err != nil {
					t.Fatal(err)
				}
				g = gids
			} else if _, err := tbl.find(nil); err != nil {
				t.Fatal(err)
			}
			for i, s := range specs {
				v := vals
				if s.kind == stDistinct {
					v = hashes
				}
				if err := tbl.accumulate(i, g, 0, n, v); err != nil {
					t.Fatal(err)
				}
			}
		}
		step() // creates the groups and grows the sketches
		if a := testing.AllocsPerRun(100, step); a != 0 {
			t.Errorf("%d key words: %v allocations per batch on existing groups, want 0", nk, a)
		}
	}
	var keys [4]uint64
	l := newKeyLayout([]keySpec{{col: sql.ColSIP, typ: TypeAddr}, {col: sql.ColDPort, typ: TypePort}}, true)
	codes, ids := []uint64{0, 1, 2, 1}, []uint32{7, 8, 9}
	if a := testing.AllocsPerRun(100, func() {
		keys = [4]uint64{}
		l.orCodes(keys[:], 0, codes, ids)
		l.orColumn(keys[:], 1, codes)
	}); a != 0 {
		t.Errorf("key packing allocates %v times", a)
	}
}
