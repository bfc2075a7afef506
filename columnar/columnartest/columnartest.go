// Package columnartest helps tests of packages that use the columnar store:
// it opens a store in a temporary folder and checks it when the test ends,
// so every test that writes also proves the store is consistent afterwards.
package columnartest

import (
	"context"
	"errors"
	"testing"

	"github.com/flowsql/flowsql/columnar"
)

// Open opens a new store in t.TempDir(). Nil opts means NoSync (tests do not
// need durability). When the test ends, Check runs and each problem fails
// the test, then the store is closed.
func Open(t testing.TB, opts *columnar.Options) *columnar.DB {
	t.Helper()
	return OpenDir(t, t.TempDir(), opts)
}

// OpenDir is Open on an existing folder. Closing the store early is allowed;
// the final Check is then skipped.
func OpenDir(t testing.TB, dir string, opts *columnar.Options) *columnar.DB {
	t.Helper()
	if opts == nil {
		opts = &columnar.Options{NoSync: true}
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
