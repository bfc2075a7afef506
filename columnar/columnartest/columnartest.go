// Package columnartest helps tests of packages that use the columnar store:
// it opens a store in a temporary folder and checks it when the test ends,
// so every test that writes also proves the store is consistent afterwards.
package columnartest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/flowsql/flowsql/columnar"
)

// PageRows is the page size of the stores Open makes with nil opts: small,
// so that the blocks of tests, of tens to thousands of rows, store the
// values of every column in pages (columnar.Options.PageRows and
// PageColumns) and every test that reads them reads pages, whole or in
// part.
const PageRows = 64

// Options returns the options of the stores Open makes with nil opts.
func Options() *columnar.Options {
	return &columnar.Options{NoSync: true, PageRows: PageRows, PageColumns: columnar.Columns()}
}

// Open opens a new store in t.TempDir(). Nil opts means NoSync (tests do not
// need durability) and PageRows. When the test ends, Check runs and each
// problem fails the test, then the store is closed.
func Open(t testing.TB, opts *columnar.Options) *columnar.DB {
	t.Helper()
	return OpenDir(t, t.TempDir(), opts)
}

// OpenDir is Open on an existing folder. Closing the store early is allowed;
// the final Check is then skipped.
func OpenDir(t testing.TB, dir string, opts *columnar.Options) *columnar.DB {
	t.Helper()
	if opts == nil {
		opts = Options()
	}
	db, err := columnar.Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("columnartest: open %s: %v", dir, err)
	}
	t.Cleanup(func() { MustCheck(t, db) })
	return db
}

// MustCheck runs db.Check, fails t for each problem, and closes db. A store
// already closed is skipped.
func MustCheck(t testing.TB, db *columnar.DB) {
	t.Helper()
	for _, err := range db.Check(context.Background()) {
		if errors.Is(err, columnar.ErrClosed) {
			return
		}
		t.Errorf("columnartest: check %s: %v", db.Dir(), err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("columnartest: close %s: %v", db.Dir(), err)
	}
}

// SortedRows returns a copy of b with its rows in a canonical order (sip,
// dip, dport, proto), so tests can compare blocks whose rows were written
// in different orders. Times and counters are kept.
func SortedRows(b *columnar.Block) *columnar.Block {
	idx := make([]int, b.Len())
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(x, y int) int {
		return cmp.Or(bytes.Compare(b.SIP[x][:], b.SIP[y][:]), bytes.Compare(b.DIP[x][:], b.DIP[y][:]),
			cmp.Compare(b.DPort[x], b.DPort[y]), cmp.Compare(b.Proto[x], b.Proto[y]))
	})
	out := &columnar.Block{Iface: b.Iface, Start: b.Start, End: b.End, NonIP: b.NonIP, ParseErrors: b.ParseErrors}
	for _, i := range idx {
		out.Append(b.SIP[i], b.DIP[i], b.DPort[i], b.Proto[i], b.BytesIn[i], b.BytesOut[i], b.PacketsIn[i], b.PacketsOut[i])
	}
	return out
}
