package planner

import (
	"net/netip"
	"testing"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
)

// TestListingLimitStops: a listing with LIMIT and no ORDER BY stops
// reading blocks once finished blocks before them (in storage order) hold
// LIMIT rows, also when some of those blocks were pruned by their
// dictionary or are damaged; the rows are the first LIMIT matches in
// storage order.
func TestListingLimitStops(t *testing.T) {
	db := columnartest.Open(t, nil)
	const blocks = 40
	hit := netip.MustParseAddr("203.0.113.7").As16()
	other := netip.MustParseAddr("198.51.100.1").As16()
	for i := range blocks {
		start := testStart.Unix() + int64(300*i)
		b := &columnar.Block{Iface: "eth0", Start: start, End: start + 300}
		matches := 3
		if i == 1 || i == 2 {
			matches = 0 // pruned by the dip dictionary
		}
		for r := range 20 {
			dip := other
			if r < matches {
				dip = hit
			}
			b.Append(netip.AddrFrom4([4]byte{10, 0, byte(i), byte(r)}).As16(), dip, uint16(1000+r), 6, uint64(i), 1, 1, 1)
		}
		if err := db.Write(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	for _, par := range []int{1, 2} {
		opts := testOptions(t)
		opts.Parallelism = par
		res := run(t, db, "SELECT time, sip WHERE dip = 203.0.113.7 LIMIT 7", opts)
		st := res.Stats
		// Blocks 0, 3 and 4 hold the first 7 matches (3 + 3 + 1); each
		// worker may have started one more block by then.
		if st.BlocksRead+st.PastLimit+st.PrunedDict != blocks {
			t.Errorf("parallelism %d: read %d, past the limit %d, pruned %d: not all %d blocks counted", par, st.BlocksRead, st.PastLimit, st.PrunedDict, blocks)
		}
		if res.NumRows() != 7 || st.BlocksRead > 3+par {
			t.Errorf("parallelism %d: %d rows, read %d of %d blocks (pruned by dictionary %d)", par, res.NumRows(), st.BlocksRead, blocks, st.PrunedDict)
		}
		for i, want := range []int{0, 0, 0, 3, 3, 3, 4} {
			if got := res.Columns[0].Times[i]; got != testStart.Unix()+int64(300*want) {
				t.Errorf("parallelism %d: row %d from block start %d, want block %d", par, i, got, want)
			}
		}
	}
}

// TestLimitTrackerOutOfOrder: a block is skipped once the finished blocks
// before it hold LIMIT rows, even while an earlier block is unfinished.
func TestLimitTrackerOutOfOrder(t *testing.T) {
	l := &limitTracker{on: true, limit: 7}
	l.mu.tree = make([]int64, 41)
	l.done(3, 3)
	l.done(4, 3)
	if l.skip(5) || l.skip(9) {
		t.Fatal("skipped with 6 rows finished")
	}
	l.done(1, 0)
	l.done(5, 3)
	for i, want := range map[int]bool{0: false, 3: false, 5: false, 6: true, 39: true} {
		if got := l.skip(i); got != want {
			t.Errorf("skip(%d) = %v with blocks 3, 4, 5 finished (block 0 not), want %v", i, got, want)
		}
	}
	l.done(0, 3)
	if !l.skip(5) || l.skip(4) {
		t.Errorf("with block 0 finished: skip(4) %v, skip(5) %v; want false, true", l.skip(4), l.skip(5))
	}
}
