package columnar_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
)

// randomStore writes four random blocks of up to 3000 rows to a test
// store and returns it with the random source, seeded by seed, that made
// them.
func randomStore(t *testing.T, seed uint64) (*columnar.DB, *rand.Rand) {
	db := columnartest.Open(t, nil)
	r := rand.New(rand.NewPCG(seed, seed))
	const start = 1741564800
	for i := range 4 {
		mustWrite(t, db, randomBlock(r, "eth0", start+int64(300*i), 1+r.IntN(3000)))
	}
	return db, r
}

// TestReadColumnRows reads runs of rows of every column of blocks with
// counters of every width: inside the run the values equal ReadColumn's;
// a run outside the block is an error.
func TestReadColumnRows(t *testing.T) {
	db, r := randomStore(t, 8)
	ctx := context.Background()
	mem := checkedMem(t)
	for _, m := range mustBlocks(t, db, columnar.Selector{}) {
		for _, id := range columnar.Columns() {
			full, err := db.ReadColumn(ctx, &m, id, mem)
			if err != nil {
				t.Fatal(err)
			}
			for range 5 {
				lo := r.IntN(m.Rows + 1)
				hi := lo + r.IntN(m.Rows-lo+1)
				part, err := db.ReadColumnRows(ctx, &m, id, lo, hi, mem)
				if err != nil {
					t.Fatalf("%s rows [%d, %d) of %d: %v", id, lo, hi, m.Rows, err)
				}
				if part.Len() != m.Rows {
					t.Fatalf("%s rows [%d, %d): %d values, want the block's %d", id, lo, hi, part.Len(), m.Rows)
				}
				for i := lo; i < hi; i++ {
					if part.Value(i) != full.Value(i) {
						t.Fatalf("%s rows [%d, %d): row %d = %d, want %d", id, lo, hi, i, part.Value(i), full.Value(i))
					}
				}
				part.Release()
			}
			full.Release()
			for _, bad := range [][2]int{{-1, 1}, {2, 1}, {0, m.Rows + 1}} {
				if c, err := db.ReadColumnRows(ctx, &m, id, bad[0], bad[1], mem); err == nil {
					c.Release()
					t.Fatalf("%s rows [%d, %d) of %d: no error", id, bad[0], bad[1], m.Rows)
				}
			}
		}
	}
}

// TestReadSorted reads the sip column of sorted blocks as runs: the rows
// CodeRows gives for any codes are exactly those holding them, and the
// codes ExpandRows writes, range after range, equal ReadColumn's.
func TestReadSorted(t *testing.T) {
	db, r := randomStore(t, 9)
	ctx := context.Background()
	mem := checkedMem(t)
	for _, m := range mustBlocks(t, db, columnar.Selector{}) {
		full, err := db.ReadColumn(ctx, &m, columnar.ColSIP, mem)
		if err != nil {
			t.Fatal(err)
		}
		runs, err := db.ReadSorted(ctx, &m, columnar.ColSIP, false, mem)
		if err != nil {
			t.Fatal(err)
		}
		if runs.Dict.Len() != m.SIPDistinct || runs.Len() != m.Rows {
			t.Fatalf("dictionary of %d, %d rows; want %d, %d", runs.Dict.Len(), runs.Len(), m.SIPDistinct, m.Rows)
		}
		for range 20 {
			from := r.IntN(m.SIPDistinct + 2)
			to := from + r.IntN(4)
			lo, hi, ok := runs.CodeRows(from, to)
			if !ok {
				t.Fatal("a v3 sip column has no runs")
			}
			for i := range m.Rows {
				c := int(full.Value(i))
				if in := c >= from && c < to; in != (i >= lo && i < hi) {
					t.Fatalf("codes [%d, %d): rows [%d, %d), but row %d holds %d", from, to, lo, hi, i, c)
				}
			}
			runs.ExpandRows(lo, hi)
			for i := lo; i < hi; i++ {
				if runs.Value(i) != full.Value(i) {
					t.Fatalf("codes [%d, %d): row %d = %d, want %d", from, to, i, runs.Value(i), full.Value(i))
				}
			}
		}
		runs.ExpandRows(0, m.Rows)
		for i := range m.Rows {
			if runs.Value(i) != full.Value(i) {
				t.Fatalf("row %d = %d, want %d", i, runs.Value(i), full.Value(i))
			}
		}
		runs.Release()
		full.Release()
		dip, err := db.ReadColumn(ctx, &m, columnar.ColDIP, mem)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := dip.CodeRows(0, 1); ok {
			t.Error("dip column has runs")
		}
		dip.Release()
	}
}
