package columnar_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/columnar"
)

// TestMappedReadsFollowAppends reads through a reader store (memory-mapped
// chunks) while a writer store appends blocks to the same day file: every
// block written after the reader mapped the file is read back exactly, and
// a column read before the store closes stays valid after it.
func TestMappedReadsFollowAppends(t *testing.T) {
	dir := t.TempDir()
	w, err := columnar.Open(context.Background(), dir, &columnar.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r := rand.New(rand.NewPCG(4, 4))
	const start = 1741564800 // 2025-03-10 00:00 UTC
	mustWrite(t, w, randomBlock(r, "eth0", start, 500))
	rd, err := columnar.Open(context.Background(), dir, &columnar.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	mem := checkedMem(t)
	var kept *columnar.Column
	for i := range 20 {
		b := randomBlock(r, "eth0", start+int64(300*(i+1)), 100+r.IntN(2000))
		mustWrite(t, w, b)
		ms := mustBlocks(t, rd, columnar.Selector{})
		m := ms[len(ms)-1]
		if m.Start != b.Start {
			t.Fatalf("reader's newest block starts at %d, want %d", m.Start, b.Start)
		}
		if got, want := readRows(t, rd, &m, mem), storeOrder(rowsOf(b)); !slices.Equal(got, want) {
			t.Fatalf("block %d read back differently through the mapping", i)
		}
		if i == 10 {
			if kept, err = rd.ReadColumn(context.Background(), &m, columnar.ColBytesIn, mem); err != nil {
				t.Fatal(err)
			}
			want := make([]uint64, 0, m.Rows)
			for _, x := range storeOrder(rowsOf(b)) {
				want = append(want, x.bi)
			}
			defer func() {
				if got := kept.AppendUint64s(nil); !slices.Equal(got, want) {
					t.Errorf("a column read before Close changed after it")
				}
				kept.Release()
			}()
		}
	}
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMappedFileCutShort truncates a data file after a reader mapped it:
// reading its blocks again reports corruption (the memory fault of the
// mapping is caught) instead of crashing the process.
func TestMappedFileCutShort(t *testing.T) {
	dir := t.TempDir()
	w, err := columnar.Open(context.Background(), dir, &columnar.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 5))
	const start = 1741564800
	for i := range 4 {
		mustWrite(t, w, randomBlock(r, "eth0", start+int64(300*i), 3000))
	}
	w.Close()
	rd, err := columnar.Open(context.Background(), dir, &columnar.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ms := mustBlocks(t, rd, columnar.Selector{})
	mem := checkedMem(t)
	readRows(t, rd, &ms[len(ms)-1], mem) // maps the file
	file := filepath.Join(dir, ms[0].File)
	if err := os.Truncate(file, 4096); err != nil {
		t.Fatal(err)
	}
	for _, id := range columnar.Columns() {
		c, err := rd.ReadColumn(context.Background(), &ms[len(ms)-1], id, mem)
		if err == nil {
			c.Release()
			t.Fatalf("read %s of a block past the cut: no error", id)
		}
		var ce *columnar.CorruptError
		if !errors.Is(err, columnar.ErrCorrupt) || !errors.As(err, &ce) || ce.File != file {
			t.Fatalf("read %s of a block past the cut: %v, want a CorruptError naming %s", id, err, file)
		}
		if !strings.Contains(ce.Reason, "memory fault") {
			t.Fatalf("read %s of a block past the cut: %v, want the mapping's memory fault", id, err)
		}
	}
}
