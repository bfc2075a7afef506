package columnar

import (
	"slices"
	"strings"
	"testing"
)

// TestExpandRuns: runs expand into their codes, short runs (written as
// runSlack stores) and long ones alike, and damaged runs are refused.
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
	codes := make([]uint8, rows+runSlack)
	if end, err := expandRuns(runs, codes, rows); err != nil || end != rows || !slices.Equal(codes[:rows], want) {
		t.Fatalf("expand %v: %d rows, %v: %v", runs, end, err, codes[:rows])
	}
	// Fewer rows than the runs say is left to the caller (readRuns).
	if end, err := expandRuns(runs[:3], make([]uint32, rows+runSlack), rows); err != nil || end != 13 {
		t.Errorf("runs adding up to fewer rows: %d, %v", end, err)
	}
	for _, c := range []struct {
		name string
		runs []uint16
		rows int
		want string
	}{
		{"empty run", []uint16{2, 0, 1}, 3, "run 1 is empty"},
		{"past the rows", []uint16{2, 5}, 6, "runs exceed 6 rows"},
	} {
		_, err := expandRuns(c.runs, make([]uint16, c.rows+runSlack), c.rows)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	many := make([]uint8, 257)
	for i := range many {
		many[i] = 1
	}
	if _, err := expandRuns(many, make([]uint8, 257+runSlack), 257); err == nil {
		t.Error("257 runs expanded into 8-bit codes")
	}
}
