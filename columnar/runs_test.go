package columnar

import (
	"slices"
	"strings"
	"testing"
)

// TestExpandRuns: runs turn into their ends, and any range of rows
// expands into its codes, short runs (written as runSlack stores when the
// range reaches the last row) and long ones alike, leaving the rows
// outside the range untouched; damaged runs are refused.
func TestExpandRuns(t *testing.T) {
	runs := []uint16{1, 9, 3, 8, 1, 20, 2}
	rows := 0
	var want []uint8
	for i, r := range runs {
		rows += int(r)
		for range r {
			want = append(want, uint8(i))
		}
	}
	ends := make([]uint32, len(runs))
	if err := runEnds(runs, ends, rows); err != nil {
		t.Fatal(err)
	}
	if want := []uint32{1, 10, 13, 21, 22, 42, 44}; !slices.Equal(ends, want) {
		t.Fatalf("ends %v, want %v", ends, want)
	}
	for lo := 0; lo <= rows; lo++ {
		for hi := lo; hi <= rows; hi++ {
			codes := make([]uint8, rows+runSlack)
			for i := range codes {
				codes[i] = 0xee
			}
			expandRange(ends, codes, lo, hi, rows)
			if !slices.Equal(codes[lo:hi], want[lo:hi]) {
				t.Fatalf("rows [%d, %d): %v, want %v", lo, hi, codes[lo:hi], want[lo:hi])
			}
			for i := range lo {
				if codes[i] != 0xee {
					t.Fatalf("rows [%d, %d) wrote row %d", lo, hi, i)
				}
			}
			if hi < rows {
				for i := hi; i < rows; i++ {
					if codes[i] != 0xee {
						t.Fatalf("rows [%d, %d) wrote row %d", lo, hi, i)
					}
				}
			}
		}
	}
	r := &runIndex{ends: ends, codes: make([]byte, rows+runSlack), width: 1, rows: rows}
	for _, c := range []struct{ from, to, lo, hi int }{{0, 1, 0, 1}, {1, 3, 1, 13}, {5, 7, 22, 44}, {6, 9, 42, 44}, {3, 3, 13, 13}, {0, 0, 0, 0}, {7, 9, 44, 44}, {9, 12, 44, 44}, {-1, 1, 0, 1}} {
		if lo, hi := r.rowsOf(c.from, c.to); lo != c.lo || hi != c.hi {
			t.Errorf("rows of codes [%d, %d): [%d, %d), want [%d, %d)", c.from, c.to, lo, hi, c.lo, c.hi)
		}
	}
	r.expand(30, 43)
	r.expand(2, 12)
	r.expand(35, 40) // inside: nothing to do
	if !slices.Equal(r.codes[2:12], want[2:12]) || !slices.Equal(r.codes[30:43], want[30:43]) {
		t.Errorf("two ranges expanded: %v", r.codes[:rows])
	}
	for _, c := range []struct {
		name string
		runs []uint16
		rows int
		want string
	}{
		{"empty run", []uint16{2, 0, 1}, 3, "run 1 is empty"},
		{"past the rows", []uint16{2, 5}, 6, "runs exceed 6 rows"},
		{"short of the rows", []uint16{2, 3}, 6, "add up to 5 rows, want 6"},
	} {
		err := runEnds(c.runs, make([]uint32, len(c.runs)), c.rows)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
