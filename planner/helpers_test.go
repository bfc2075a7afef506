package planner

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/sql"
)

const testHost = "probe-1"

// testNow is the Now of test plans: the end of the small store's data.
var testNow = testStart.Add(6 * time.Hour)

// testOptions returns options with a fixed clock and host and a checked
// allocator that the test asserts empty at its end.
func testOptions(t testing.TB) *Options {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return &Options{Now: func() time.Time { return testNow }, Host: testHost, Allocator: mem}
}

// prepare parses and plans q, failing the test on error.
func prepare(t testing.TB, q string, opts *Options) *Plan {
	t.Helper()
	stmt, err := sql.Parse(q)
	if err != nil {
		t.Fatalf("parse %q: %v", q, err)
	}
	p, err := Prepare(stmt, opts)
	if err != nil {
		t.Fatalf("prepare %q: %v", q, err)
	}
	return p
}

// run executes q on db.
func run(t testing.TB, db *columnar.DB, q string, opts *Options) *Result {
	t.Helper()
	res, err := prepare(t, q, opts).Execute(context.Background(), db)
	if err != nil {
		t.Fatalf("execute %q: %v", q, err)
	}
	return res
}

// rowsOf returns the result as rows of values.
func rowsOf(r *Result) [][]any {
	out := make([][]any, r.NumRows())
	for i := range out {
		for j := range r.Columns {
			out[i] = append(out[i], r.Columns[j].Value(i))
		}
	}
	return out
}

// distinctItems reports which items of stmt are count(DISTINCT).
func distinctItems(stmt *sql.Select) []bool {
	out := make([]bool, len(stmt.Items))
	for i, it := range stmt.Items {
		if a, ok := it.Expr.(*sql.Aggregate); ok && a.Func == sql.AggCountDistinct {
			out[i] = true
		}
	}
	return out
}

// valueEq compares an engine value with a slow one; distinct counts may
// differ by the sketch's error once past the exact range.
func valueEq(got, want any, distinct bool) bool {
	if distinct {
		g, w := got.(uint64), want.(uint64)
		if w <= sketchSparseMax {
			return g == w
		}
		return math.Abs(float64(g)-float64(w)) <= 0.08*float64(w)
	}
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		return ok && (g == w || math.Abs(g-w) <= 1e-9*math.Abs(w))
	case netip.Addr:
		g, ok := got.(netip.Addr)
		return ok && g == w
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	}
	return got == want
}

// compareRows checks the engine's rows against the slow evaluator's.
// unordered compares them as multisets (aggregates without ORDER BY).
func compareRows(t testing.TB, q string, got, want [][]any, distinct []bool, unordered bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s\n  got %d rows, want %d\n  got:  %s\n  want: %s", q, len(got), len(want), head(got), head(want))
	}
	if unordered {
		got, want = sortRows(got), sortRows(want)
	}
	for i := range want {
		for j := range want[i] {
			if !valueEq(got[i][j], want[i][j], distinct[j]) {
				t.Fatalf("%s\n  row %d column %d: got %v, want %v\n  got row:  %v\n  want row: %v", q, i, j, got[i][j], want[i][j], got[i], want[i])
			}
		}
	}
}

func sortRows(rows [][]any) [][]any {
	out := make([][]any, len(rows))
	copy(out, rows)
	key := func(r []any) string { return fmt.Sprint(r...) }
	slices.SortFunc(out, func(a, b []any) int { return strings.Compare(key(a), key(b)) })
	return out
}

func head(rows [][]any) string {
	if len(rows) > 5 {
		return fmt.Sprint(rows[:5]) + " ..."
	}
	return fmt.Sprint(rows)
}
