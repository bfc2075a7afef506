package columnar_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
)

var errCrash = errors.New("simulated crash")

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestCrashBetweenDataAndIndex stops a write after its chunks are durable
// and before the index commit: after reopening, the block is absent, the
// trailing bytes are gone and the store is consistent.
func TestCrashBetweenDataAndIndex(t *testing.T) {
	dir := t.TempDir()
	g := newFlowGen(11)
	crash := false
	opts := &columnar.Options{NoSync: true, FailAfterDataSync: func(iface string, start int64) error {
		if crash {
			return errCrash
		}
		return nil
	}}
	db := columnartest.OpenDir(t, dir, opts)
	first := g.block("eth0", t0, 500)
	mustWrite(t, db, first)
	path := filepath.Join(dir, "data", "eth0", "20250310.fsc")
	committed := fileSize(t, path)

	crash = true
	if err := db.Write(context.Background(), g.block("eth0", t0+300, 500)); !errors.Is(err, errCrash) {
		t.Fatalf("write with failpoint: %v", err)
	}
	// A new day's file that never got its index entry.
	if err := db.Write(context.Background(), g.block("eth0", t0+86400, 50)); !errors.Is(err, errCrash) {
		t.Fatalf("write with failpoint: %v", err)
	}
	if size := fileSize(t, path); size <= committed {
		t.Fatalf("failpoint left %d bytes, want more than the committed %d", size, committed)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = columnartest.OpenDir(t, dir, &columnar.Options{NoSync: true})
	rep := db.Recovered()
	if !slices.Equal(rep.TruncatedFiles, []string{"data/eth0/20250310.fsc"}) || rep.TruncatedBytes <= 0 {
		t.Errorf("recovery truncated %v (%d bytes)", rep.TruncatedFiles, rep.TruncatedBytes)
	}
	if !slices.Equal(rep.RemovedFiles, []string{"data/eth0/20250311.fsc"}) {
		t.Errorf("recovery removed %v, want the uncommitted new day file", rep.RemovedFiles)
	}
	if size := fileSize(t, path); size != committed {
		t.Errorf("file is %d bytes after recovery, want %d", size, committed)
	}
	ms := mustBlocks(t, db, columnar.Selector{})
	if len(ms) != 1 || ms[0].Start != t0 {
		t.Fatalf("blocks after recovery: %+v", ms)
	}
	if got, want := readRows(t, db, &ms[0], checkedMem(t)), storeOrder(rowsOf(first)); !slices.Equal(got, want) {
		t.Error("first block changed")
	}
	// The interrupted block can be written again.
	mustWrite(t, db, g.block("eth0", t0+300, 500))
}

// TestFailedWriteThenWrite: a write that fails after appending (here at the
// failpoint) does not poison the session: the next write overwrites the
// uncommitted bytes.
func TestFailedWriteThenWrite(t *testing.T) {
	crash := true
	db := columnartest.Open(t, &columnar.Options{NoSync: true, FailAfterDataSync: func(string, int64) error {
		if crash {
			return errCrash
		}
		return nil
	}})
	g := newFlowGen(12)
	if err := db.Write(context.Background(), g.block("eth0", t0, 100)); !errors.Is(err, errCrash) {
		t.Fatal(err)
	}
	crash = false
	mustWrite(t, db, g.block("eth0", t0, 100))
	crash = true
	if err := db.Write(context.Background(), g.block("eth0", t0+300, 100)); !errors.Is(err, errCrash) {
		t.Fatal(err)
	}
	crash = false
	mustWrite(t, db, g.block("eth0", t0+600, 100))
	if n := len(mustBlocks(t, db, columnar.Selector{})); n != 2 {
		t.Errorf("%d blocks, want 2", n)
	}
}

func TestOpenRemovesStrayFiles(t *testing.T) {
	dir := t.TempDir()
	db := columnartest.OpenDir(t, dir, nil)
	mustWrite(t, db, newFlowGen(1).block("eth0", t0, 10))
	columnartest.MustCheck(t, db)
	stray := []string{"data/eth0/20250310.fsc.tmp", "data/eth0/20250301.fsc", "data/wlan0/20250310.fsc"}
	for _, rel := range stray {
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db = columnartest.OpenDir(t, dir, nil)
	got := db.Recovered().RemovedFiles
	slices.Sort(got)
	want := slices.Clone(stray)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("removed %v, want %v", got, want)
	}
	for _, rel := range stray {
		if _, err := os.Stat(filepath.Join(dir, rel)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", rel, err)
		}
	}
}
