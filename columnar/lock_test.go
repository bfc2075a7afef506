package columnar_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
	bolt "go.etcd.io/bbolt"
)

// TestWriterLock: a second read-write Open of a folder is refused with a
// *LockedError naming the folder and the holder's pid (flock is per open
// file, so this holds within one process too); readers open freely beside
// the writer and see its later commits; Close releases the lock.
func TestWriterLock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w := columnartest.OpenDir(t, dir, nil)
	mustWrite(t, w, newFlowGen(1).block("eth0", t0, 10))

	_, err := columnar.Open(ctx, dir, nil)
	var le *columnar.LockedError
	if !errors.Is(err, columnar.ErrLocked) || !errors.As(err, &le) {
		t.Fatalf("second writer: %v, want a *LockedError", err)
	}
	if le.Dir != dir || le.PID != os.Getpid() {
		t.Errorf("LockedError %+v, want dir %s pid %d", le, dir, os.Getpid())
	}
	if msg := err.Error(); !strings.Contains(msg, strconv.Quote(dir)) || !strings.Contains(msg, "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("message does not name the folder and pid: %s", msg)
	}
	if b, err := os.ReadFile(filepath.Join(dir, columnar.LockFileName)); err != nil || string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("lock file holds %q, %v", b, err)
	}

	r := columnartest.OpenDir(t, dir, &columnar.Options{ReadOnly: true})
	if n := len(mustBlocks(t, r, columnar.Selector{})); n != 1 {
		t.Fatalf("reader sees %d blocks, want 1", n)
	}
	mustWrite(t, w, newFlowGen(2).block("eth0", t0+300, 10))
	ms := mustBlocks(t, r, columnar.Selector{})
	if len(ms) != 2 {
		t.Fatalf("reader sees %d blocks after a commit, want 2", len(ms))
	}
	readRows(t, r, &ms[1], checkedMem(t))
	if errs := r.Check(ctx); len(errs) > 0 {
		t.Errorf("read-only check beside the writer: %v", errs)
	}

	columnartest.MustCheck(t, w)
	w2 := columnartest.OpenDir(t, dir, nil)
	mustWrite(t, w2, newFlowGen(3).block("eth0", t0+600, 10))
}

// TestNoStore: a read-only Open of a folder without a store fails with
// ErrNoStore, says so plainly, and creates nothing.
func TestNoStore(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, fn func(path string) error) string {
		path := filepath.Join(base, name)
		if fn != nil {
			if err := fn(path); err != nil {
				t.Fatal(err)
			}
		}
		return path
	}
	cases := []struct{ dir, why string }{
		{mk("missing", nil), "the folder does not exist"},
		{mk("empty", func(p string) error { return os.Mkdir(p, 0o755) }), "no index.db"},
		{mk("file", func(p string) error { return os.WriteFile(p, []byte("x"), 0o644) }), "not a folder"},
		{mk("dataonly", func(p string) error { return os.MkdirAll(filepath.Join(p, "data", "eth0"), 0o755) }), "no index.db"},
		{mk("emptyindex", func(p string) error {
			if err := os.Mkdir(p, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(p, "index.db"), nil, 0o644)
		}), "index.db is empty"},
	}
	for _, c := range cases {
		before := listTree(t, base)
		_, err := columnar.Open(context.Background(), c.dir, &columnar.Options{ReadOnly: true})
		if !errors.Is(err, columnar.ErrNoStore) {
			t.Errorf("%s: %v, want ErrNoStore", c.dir, err)
			continue
		}
		want := "no flowsql store in " + strconv.Quote(c.dir) + " (" + c.why + "; run flowsql ingest or flowsql probe first)"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got %v\nwant …%s", c.dir, err, want)
		}
		if after := listTree(t, base); !slices.Equal(before, after) {
			t.Errorf("%s: read-only open changed the folder: %v -> %v", c.dir, before, after)
		}
	}
}

func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		out = append(out, path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCheckInFlight leaves what a writer has in flight (chunks appended and
// fsynced but not committed, a new day file before its first commit): a
// read-only Check does not call it damage, the writer's Check does, and a
// read-only Check still reports real damage.
func TestCheckInFlight(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	crash := false
	w := columnartest.OpenDir(t, dir, &columnar.Options{NoSync: true, FailAfterDataSync: func(string, int64) error {
		if crash {
			return errCrash
		}
		return nil
	}})
	g := newFlowGen(4)
	mustWrite(t, w, g.block("eth0", t0, 100))
	crash = true
	for _, start := range []int64{t0 + 300, t0 + day} {
		if err := w.Write(ctx, g.block("eth0", start, 100)); !errors.Is(err, errCrash) {
			t.Fatalf("write with failpoint: %v", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "eth0", "20250312.fsc.tmp"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := columnartest.OpenDir(t, dir, &columnar.Options{ReadOnly: true})
	if errs := r.Check(ctx); len(errs) > 0 {
		t.Errorf("read-only check reports an append in flight: %v", errs)
	}
	errs := w.Check(ctx)
	var msgs []string
	for _, err := range errs {
		msgs = append(msgs, err.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"past the committed length", "data file without an index entry", "leftover temporary file"} {
		if !strings.Contains(all, want) {
			t.Errorf("writer's check does not report %q:\n%s", want, all)
		}
	}

	m := mustBlocks(t, r, columnar.Selector{})[0]
	flipByte(t, filepath.Join(dir, m.File), m.Chunks[4].Offset+40)
	errs = r.Check(ctx)
	if len(errs) != 1 || !errors.Is(errs[0], columnar.ErrCorrupt) {
		t.Errorf("read-only check of a flipped byte: %v", errs)
	}
	if err := w.Close(); err != nil { // skip the final check: damaged on purpose
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReadRemovedBlock: a block that retention drops after a reader listed
// it reads as ErrBlockRemoved, not as corruption, in a reader DB and in the
// writer's own; a read-only Check taken across the removal stays clean.
func TestReadRemovedBlock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w := columnartest.OpenDir(t, dir, nil)
	r := columnartest.OpenDir(t, dir, &columnar.Options{ReadOnly: true})
	g := newFlowGen(5)
	mustWrite(t, w, g.block("eth0", t0, 50))
	mustWrite(t, w, g.block("eth0", t0+day, 50))
	listedR := mustBlocks(t, r, columnar.Selector{})
	listedW := mustBlocks(t, w, columnar.Selector{})
	if _, err := w.Retain(ctx, columnar.RetentionPolicy{MaxAge: time.Hour, Now: time.Unix(t0+day, 0)}); err != nil {
		t.Fatal(err)
	}
	for name, db := range map[string]*columnar.DB{"reader": r, "writer": w} {
		listed := listedR
		if name == "writer" {
			listed = listedW
		}
		_, err := db.ReadColumn(ctx, &listed[0], columnar.ColDPort, checkedMem(t))
		if !errors.Is(err, columnar.ErrBlockRemoved) || errors.Is(err, columnar.ErrCorrupt) {
			t.Errorf("%s: read of a dropped block: %v, want ErrBlockRemoved", name, err)
		}
		readRows(t, db, &listed[1], checkedMem(t))
	}
	if n := len(mustBlocks(t, r, columnar.Selector{})); n != 1 {
		t.Errorf("reader lists %d blocks after retention, want 1", n)
	}
}

// TestIndexLockWait: while another process holds index.db (here a bbolt
// handle opened read-write, as a commit does), reads wait at most
// LockTimeout, stop when ctx ends, and succeed once it is released.
func TestIndexLockWait(t *testing.T) {
	dir := t.TempDir()
	w := columnartest.OpenDir(t, dir, nil)
	mustWrite(t, w, newFlowGen(1).block("eth0", t0, 10))
	columnartest.MustCheck(t, w)
	r := columnartest.OpenDir(t, dir, &columnar.Options{ReadOnly: true, LockTimeout: 100 * time.Millisecond})

	holder, err := bolt.Open(filepath.Join(dir, "index.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Blocks(context.Background(), columnar.Selector{}); err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("blocks while index.db is held: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Summary(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("summary with a cancelled context while index.db is held: %v", err)
	}
	released := make(chan error, 1)
	go func() {
		time.Sleep(20 * time.Millisecond)
		released <- holder.Close()
	}()
	slow := columnartest.OpenDir(t, dir, &columnar.Options{ReadOnly: true, LockTimeout: time.Minute})
	if n := len(mustBlocks(t, slow, columnar.Selector{})); n != 1 {
		t.Errorf("%d blocks after the lock was released, want 1", n)
	}
	if err := <-released; err != nil {
		t.Fatal(err)
	}
}
