package columnar_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
)

// TestPages: the values of every column but sip are stored in pages of
// PageRows rows (the last one shorter), larger when a block would have
// more than 32; a read of a run of rows reads exactly the pages holding
// it, in one piece, and agrees with a whole read there; an empty run reads
// nothing; a negative PageRows stores one chunk per column.
func TestPages(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 5))
	for _, c := range []struct{ rows, pageRows, per, pages int }{
		{1, 64, 1, 1}, {64, 64, 64, 1}, {65, 64, 64, 2}, {1000, 64, 64, 16},
		{1000, 10, 32, 32}, // 100 pages of 10 would exceed 32: pages of 32
		{3000, -1, 3000, 1},
	} {
		db := columnartest.Open(t, &columnar.Options{NoSync: true, PageRows: c.pageRows, PageColumns: columnar.Columns()})
		mustWrite(t, db, randomBlock(r, "eth0", t0, c.rows))
		m := mustBlocks(t, db, columnar.Selector{})[0]
		for _, id := range columnar.Columns()[1:] {
			pages := m.Pages(id, columnar.PartValues)
			if len(pages) != c.pages || pages[0].Rows != c.per {
				t.Fatalf("%d rows, PageRows %d: %s in %d pages of %d, want %d of %d", c.rows, c.pageRows, id, len(pages), pages[0].Rows, c.pages, c.per)
			}
			full, err := db.ReadColumn(ctx, &m, id, nil)
			if err != nil {
				t.Fatal(err)
			}
			if full.Chunks < len(pages) {
				t.Errorf("%s: whole read of %d frames, want its %d pages at least", id, full.Chunks, len(pages))
			}
			for range 10 {
				lo := r.IntN(c.rows + 1)
				hi := lo + r.IntN(c.rows-lo+1)
				part, err := db.ReadColumnRows(ctx, &m, id, lo, hi, nil)
				if err != nil {
					t.Fatalf("%s rows [%d, %d): %v", id, lo, hi, err)
				}
				for i := lo; i < hi; i++ {
					if part.Value(i) != full.Value(i) {
						t.Fatalf("%s rows [%d, %d): row %d = %d, want %d", id, lo, hi, i, part.Value(i), full.Value(i))
					}
				}
				if len(pages) > 1 {
					want, bytes := 0, int64(0)
					for k, p := range pages {
						if lo < hi && k*c.per < hi && (k+1)*c.per > lo {
							want++
							bytes += p.Length
						}
					}
					wantChunks := want
					if id.IsAddr() {
						wantChunks += part.Dict.Chunks
						bytes += part.Dict.DiskBytes
					}
					if part.Chunks != wantChunks || part.DiskBytes != bytes {
						t.Errorf("%s rows [%d, %d): read %d frames, %d bytes; want %d, %d", id, lo, hi, part.Chunks, part.DiskBytes, wantChunks, bytes)
					}
				}
				part.Release()
			}
			full.Release()
		}
	}
}

// TestDefaultPages: with the default options, a block of more than
// DefaultPageRows rows stores the values of DefaultPageColumns in pages of
// DefaultPageRows, and every other column in one chunk.
func TestDefaultPages(t *testing.T) {
	db := columnartest.Open(t, &columnar.Options{NoSync: true})
	rows := columnar.DefaultPageRows + 100
	mustWrite(t, db, randomBlock(rand.New(rand.NewPCG(8, 1)), "eth0", t0, rows))
	m := mustBlocks(t, db, columnar.Selector{})[0]
	for _, id := range columnar.Columns()[1:] {
		want, per := 1, rows
		if slices.Contains(columnar.DefaultPageColumns, id) {
			want, per = 2, columnar.DefaultPageRows
		}
		if pages := m.Pages(id, columnar.PartValues); len(pages) != want || pages[0].Rows != per {
			t.Errorf("%s: %d pages of %d rows, want %d of %d", id, len(pages), pages[0].Rows, want, per)
		}
	}
}

// TestPageColumnsOption: an unknown column among the page columns is an
// error at Open.
func TestPageColumnsOption(t *testing.T) {
	_, err := columnar.Open(context.Background(), t.TempDir(), &columnar.Options{NoSync: true, PageColumns: []columnar.ColumnID{columnar.ColDIP, 42}})
	if !errors.Is(err, columnar.ErrUnknownColumn) || !strings.Contains(err.Error(), "page columns") {
		t.Errorf("open with page column 42: %v", err)
	}
}

// TestPageDamage: a damaged page fails the reads that need it, naming its
// offset, while reads of rows in other pages go on; Check reports it.
func TestPageDamage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := columnar.Open(ctx, dir, &columnar.Options{NoSync: true, PageRows: 100, PageColumns: columnar.Columns()})
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, db, randomBlock(rand.New(rand.NewPCG(6, 6)), "eth0", t0, 1000))
	m := mustBlocks(t, db, columnar.Selector{})[0]
	db.Close()
	pages := m.Pages(columnar.ColBytesIn, columnar.PartValues)
	bad := pages[3]
	flipByte(t, dir+"/"+m.File, bad.Offset+bad.Length-9)
	db = openNoCheck(t, dir)
	_, err = db.ReadColumnRows(ctx, &m, columnar.ColBytesIn, 250, 350, nil)
	var ce *columnar.CorruptError
	if !errors.Is(err, columnar.ErrCorrupt) || !errors.As(err, &ce) || ce.Offset != bad.Offset {
		t.Fatalf("read across the damaged page: %v, want corruption at %d", err, bad.Offset)
	}
	c, err := db.ReadColumnRows(ctx, &m, columnar.ColBytesIn, 400, 1000, nil)
	if err != nil {
		t.Fatalf("read of undamaged pages: %v", err)
	}
	c.Release()
	errs := db.Check(ctx)
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), "checksum") {
		t.Errorf("check: %v", errs)
	}
}

// TestPageEntries: an index entry whose pages break the rules of FORMAT.md
// "v4 pages" is reported as damaged, and so are pages in an older version.
func TestPageEntries(t *testing.T) {
	b := randomBlock(rand.New(rand.NewPCG(7, 7)), "eth0", t0, 500)
	valuesAt := func(m *columnar.BlockMeta, id columnar.ColumnID) int {
		for i, c := range m.Chunks {
			if c.Column == id && c.Part == columnar.PartValues {
				return i
			}
		}
		t.Fatalf("no %s values", id)
		return -1
	}
	for _, c := range []struct {
		name string
		edit func(m *columnar.BlockMeta)
		want string
	}{
		{"uneven pages", func(m *columnar.BlockMeta) {
			i := valuesAt(m, columnar.ColDPort)
			m.Chunks[i].Rows--
			m.Chunks[i+1].Rows++
		}, "page 1 of 8 holds 65 rows, pages hold 63"},
		{"pages short of the rows", func(m *columnar.BlockMeta) {
			i := valuesAt(m, columnar.ColDPort)
			m.Chunks[i+7].Rows--
		}, "adding up to 500"},
		{"a gap between pages", func(m *columnar.BlockMeta) {
			i := valuesAt(m, columnar.ColProto)
			m.Chunks[i+1].Offset += 8
		}, "does not follow page 0"},
		{"pages apart", func(m *columnar.BlockMeta) {
			i := valuesAt(m, columnar.ColProto)
			m.Chunks[i+1], m.Chunks[len(m.Chunks)-1] = m.Chunks[len(m.Chunks)-1], m.Chunks[i+1]
		}, "appears twice"},
		{"pages in version 3", func(m *columnar.BlockMeta) { m.Version = 3 }, "chunks, want 10..12"},
	} {
		dir := storeWithEntry(t, b, c.edit)
		db, err := columnar.Open(context.Background(), dir, &columnar.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Blocks(context.Background(), columnar.Selector{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		db.Close()
	}
}
