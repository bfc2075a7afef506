package columnar_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
	bolt "go.etcd.io/bbolt"
)

// corruptStore writes three blocks and returns the store, its folder and
// their metadata. The store is closed and not checked at cleanup: the tests
// damage it on purpose.
func corruptStore(t *testing.T) (string, []columnar.BlockMeta) {
	t.Helper()
	dir := t.TempDir()
	db, err := columnar.Open(context.Background(), dir, columnartest.Options())
	if err != nil {
		t.Fatal(err)
	}
	g := newFlowGen(21)
	for i := range 3 {
		mustWrite(t, db, g.block("eth0", t0+int64(i)*300, 300))
	}
	ms := mustBlocks(t, db, columnar.Selector{})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, ms
}

func openNoCheck(t *testing.T, dir string) *columnar.DB {
	t.Helper()
	db, err := columnar.Open(context.Background(), dir, &columnar.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

// wantCorrupt checks err is a *CorruptError for path at off.
func wantCorrupt(t *testing.T, err error, path string, off int64) {
	t.Helper()
	var ce *columnar.CorruptError
	if !errors.Is(err, columnar.ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *CorruptError", err)
	}
	if ce.File != path || ce.Offset != off {
		t.Errorf("error names %s at %d, want %s at %d: %v", ce.File, ce.Offset, path, off, err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("message does not name the file: %v", err)
	}
}

func TestCorruptChunkCarryOn(t *testing.T) {
	dir, ms := corruptStore(t)
	bad := ms[1]
	ref, _ := bad.Chunk(columnar.ColBytesIn, columnar.PartValues)
	path := filepath.Join(dir, bad.File)
	flipByte(t, path, ref.Offset+ref.Length/2)

	db := openNoCheck(t, dir)
	mem := checkedMem(t)
	_, err := db.ReadColumn(context.Background(), &bad, columnar.ColBytesIn, mem)
	wantCorrupt(t, err, path, ref.Offset)
	if !strings.Contains(err.Error(), "checksum") {
		t.Errorf("error does not say checksum: %v", err)
	}
	// The block's other columns and the other blocks still read.
	for _, id := range columnar.Columns() {
		if id == columnar.ColBytesIn {
			continue
		}
		c, err := db.ReadColumn(context.Background(), &bad, id, mem)
		if err != nil {
			t.Errorf("%s of the damaged block: %v", id, err)
			continue
		}
		c.Release()
	}
	for _, m := range []columnar.BlockMeta{ms[0], ms[2]} {
		readRows(t, db, &m, mem)
	}
	errs := db.Check(context.Background())
	if len(errs) != 1 {
		t.Fatalf("check found %d problems, want 1: %v", len(errs), errs)
	}
	wantCorrupt(t, errs[0], path, ref.Offset)
}

// TestFlipEveryByte flips each byte of a small block's chunks in turn: every
// flip is an error wrapping ErrCorrupt, never a panic or wrong data.
func TestFlipEveryByte(t *testing.T) {
	dir := t.TempDir()
	db, err := columnar.Open(context.Background(), dir, &columnar.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	b := newFlowGen(22).block("eth0", t0, 4)
	mustWrite(t, db, b)
	m := mustBlocks(t, db, columnar.Selector{})[0]
	db.Close()
	path := filepath.Join(dir, m.File)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db = openNoCheck(t, dir)
	mem := checkedMem(t)
	step := 1
	if testing.Short() {
		step = 7
	}
	for _, ref := range m.Chunks {
		for off := ref.Offset; off < ref.Offset+ref.Length; off += int64(step) {
			damaged := append([]byte(nil), orig...)
			damaged[off] ^= 0x01
			if err := os.WriteFile(path, damaged, 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := db.ReadColumn(context.Background(), &m, ref.Column, mem)
			if err == nil {
				c.Release()
				t.Fatalf("flip at %d (%s %s) read without error", off, ref.Column, ref.Part)
			}
			wantCorrupt(t, err, path, ref.Offset)
		}
	}
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	readRows(t, db, &m, mem)
}

func TestTruncatedDataFile(t *testing.T) {
	dir, ms := corruptStore(t)
	last := ms[2]
	path := filepath.Join(dir, last.File)
	ref, _ := last.Chunk(columnar.ColPacketsOut, columnar.PartValues)
	if err := os.Truncate(path, ref.Offset+10); err != nil {
		t.Fatal(err)
	}
	db := openNoCheck(t, dir)
	if r := db.Recovered(); len(r.TruncatedFiles)+len(r.RemovedFiles) != 0 {
		t.Errorf("open repaired a short file: %+v", r)
	}
	_, err := db.ReadColumn(context.Background(), &last, columnar.ColPacketsOut, nil)
	wantCorrupt(t, err, path, ref.Offset)
	if !strings.Contains(err.Error(), "cut short") {
		t.Errorf("error does not say the chunk is cut short: %v", err)
	}
	readRows(t, db, &ms[0], checkedMem(t))
	errs := db.Check(context.Background())
	if len(errs) == 0 {
		t.Fatal("check found nothing in a truncated file")
	}
	for _, err := range errs {
		if !errors.Is(err, columnar.ErrCorrupt) {
			t.Errorf("check: %v does not wrap ErrCorrupt", err)
		}
	}
}

func TestMissingDataFile(t *testing.T) {
	dir, ms := corruptStore(t)
	path := filepath.Join(dir, ms[0].File)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	db := openNoCheck(t, dir)
	_, err := db.ReadColumn(context.Background(), &ms[0], columnar.ColDPort, nil)
	if !errors.Is(err, columnar.ErrCorrupt) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want ErrCorrupt wrapping ErrNotExist", err)
	}
	if errs := db.Check(context.Background()); len(errs) == 0 {
		t.Error("check found nothing")
	}
}

func TestChunkVersionChecked(t *testing.T) {
	dir, ms := corruptStore(t)
	ref, _ := ms[0].Chunk(columnar.ColProto, columnar.PartValues)
	path := filepath.Join(dir, ms[0].File)
	flipByte(t, path, ref.Offset+4) // frame version
	db := openNoCheck(t, dir)
	_, err := db.ReadColumn(context.Background(), &ms[0], columnar.ColProto, nil)
	wantCorrupt(t, err, path, ref.Offset)
	if !errors.Is(err, columnar.ErrUnsupportedVersion) {
		t.Errorf("got %v, want ErrUnsupportedVersion", err)
	}
}

func TestGarbageIndex(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, columnar.IndexFileName), []byte(strings.Repeat("not a database ", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := columnar.Open(context.Background(), dir, nil)
	if !errors.Is(err, columnar.ErrCorrupt) || !strings.Contains(err.Error(), "index.db") {
		t.Errorf("open on a garbage index: %v", err)
	}
}

func TestForeignIndex(t *testing.T) {
	dir := t.TempDir()
	bdb, err := bolt.Open(filepath.Join(dir, columnar.IndexFileName), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	bdb.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
	bdb.Close()
	if _, err := columnar.Open(context.Background(), dir, nil); !errors.Is(err, columnar.ErrCorrupt) || !strings.Contains(err.Error(), "not a flowsql index") {
		t.Errorf("open on a foreign bbolt file: %v", err)
	}
}

func TestIndexVersionChecked(t *testing.T) {
	dir, _ := corruptStore(t)
	bdb, err := bolt.Open(filepath.Join(dir, columnar.IndexFileName), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	bdb.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("version"), []byte{0, 0, 0, 99}) })
	bdb.Close()
	_, err = columnar.Open(context.Background(), dir, nil)
	if !errors.Is(err, columnar.ErrUnsupportedVersion) || !strings.Contains(err.Error(), "99") {
		t.Errorf("open on index version 99: %v", err)
	}
}

func TestCorruptIndexEntry(t *testing.T) {
	dir, _ := corruptStore(t)
	bdb, err := bolt.Open(filepath.Join(dir, columnar.IndexFileName), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	bdb.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("blocks")).Bucket([]byte("eth0"))
		k, v := b.Cursor().First()
		v = append([]byte(nil), v...)
		v[20] ^= 1
		return b.Put(append([]byte(nil), k...), v)
	})
	bdb.Close()
	db := openNoCheck(t, dir)
	ms, err := db.Blocks(context.Background(), columnar.Selector{})
	if !errors.Is(err, columnar.ErrCorrupt) || !strings.Contains(err.Error(), "checksum") || !strings.Contains(err.Error(), "1 damaged") {
		t.Errorf("blocks over a damaged entry: %v", err)
	}
	if len(ms) != 2 || ms[0].Start != t0+300 {
		t.Errorf("blocks returned %d readable entries, want the 2 undamaged ones", len(ms))
	}
	sum, err := db.Summary(context.Background())
	if !errors.Is(err, columnar.ErrCorrupt) || len(sum) != 1 || sum[0].Blocks != 2 || sum[0].Flows != 600 {
		t.Errorf("summary over a damaged entry: %+v, %v", sum, err)
	}
	if errs := db.Check(context.Background()); len(errs) == 0 {
		t.Error("check found nothing")
	}
}
