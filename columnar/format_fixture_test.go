package columnar_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/columnar"
)

var createFixture = flag.Bool("create-format-fixture", false, "write testdata/format_v<FormatVersion> if it does not exist")

// fixtureDir is the frozen sample of a format version. Each was written by
// this package's code of its time (TestFormatVNFixture with
// -create-format-fixture) and must never be regenerated: it proves that
// later builds still read that version.
func fixtureDir(version int) string {
	return filepath.Join("testdata", fmt.Sprintf("format_v%d", version))
}

// writeFixture makes the sample: two days of eth0 with the default codecs,
// wlan0 uncompressed, counters past 2^32 and an empty block. From version 2
// on, also "fam": a block of IPv4 flows only and one of IPv6 flows only, so
// each dictionary lacks one of its parts. From version 4 on, values are
// stored in pages of 16 rows (every column), so the fixture's small
// blocks have pages.
func writeFixture(t *testing.T, dir string) {
	ctx := context.Background()
	g := newFlowGen(2024)
	db, err := columnar.Open(ctx, dir, &columnar.Options{NoSync: true, PageRows: fixturePageRows, PageColumns: columnar.Columns()})
	if err != nil {
		t.Fatal(err)
	}
	for i, start := range []int64{t0, t0 + 300, t0 + 86400} {
		b := g.block("eth0", start, 40+i*10)
		b.BytesIn[0] = 1<<40 + 7
		if columnar.FormatVersion >= 4 {
			b.PacketsIn[0] = 1<<20 + 3 // split pages of the ZSTD counters
		}
		mustWrite(t, db, b)
	}
	if columnar.FormatVersion >= 2 {
		v4only, v6only := g.block("fam", t0, 30), g.block("fam", t0+300, 30)
		for i := range v4only.SIP {
			for _, a := range []*[16]byte{&v4only.SIP[i], &v4only.DIP[i]} {
				if !isV4(*a) {
					*a = v4(10, 9, a[14], a[15])
				}
			}
			for _, a := range []*[16]byte{&v6only.SIP[i], &v6only.DIP[i]} {
				if isV4(*a) {
					*a = v6(0xfd00_0000_0000_0000, uint64(a[14])<<8|uint64(a[15]))
				}
			}
		}
		mustWrite(t, db, v4only)
		mustWrite(t, db, v6only)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = columnar.Open(ctx, dir, &columnar.Options{NoSync: true, Codecs: &columnar.Codecs{}, PageRows: fixturePageRows, PageColumns: columnar.Columns()})
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, db, g.block("wlan0", t0, 25))
	mustWrite(t, db, &columnar.Block{Iface: "wlan0", Start: t0 + 300, End: t0 + 600, NonIP: 4, ParseErrors: 1})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// describe lists every block of a store with a digest of its rows, one line
// per block.
func describe(t *testing.T, db *columnar.DB) string {
	var w strings.Builder
	for _, m := range mustBlocks(t, db, columnar.Selector{}) {
		h := sha256.New()
		for _, r := range readRows(t, db, &m, checkedMem(t)) {
			var b []byte
			b = append(b, r.sip[:]...)
			b = append(b, r.dip[:]...)
			b = binary.LittleEndian.AppendUint16(b, r.dport)
			b = append(b, r.proto)
			for _, v := range []uint64{r.bi, r.bo, r.pi, r.po} {
				b = binary.LittleEndian.AppendUint64(b, v)
			}
			h.Write(b)
		}
		codecs := ""
		for _, c := range m.Chunks {
			codecs += c.Codec.String()[:1]
		}
		fmt.Fprintf(&w, "%s %d-%d rows=%d sip=%d dip=%d dport=%d-%d proto=%d-%d in=%d/%d out=%d/%d nonip=%d perr=%d file=%s codecs=%s rows-sha256=%x\n",
			m.Iface, m.Start, m.End, m.Rows, m.SIPDistinct, m.DIPDistinct, m.MinDPort, m.MaxDPort, m.MinProto, m.MaxProto,
			m.BytesIn, m.PacketsIn, m.BytesOut, m.PacketsOut, m.NonIP, m.ParseErrors, filepath.ToSlash(m.File), codecs, h.Sum(nil)[:8])
	}
	return w.String()
}

// fixturePageRows is the page size of the fixture of version 4 on.
const fixturePageRows = 16

func TestFormatV1Fixture(t *testing.T) { testFormatFixture(t, 1) }

func TestFormatV2Fixture(t *testing.T) {
	testFormatFixture(t, 2)
	// The fixture holds every dictionary shape of version 2.
	db, err := columnar.Open(context.Background(), fixtureDir(2), &columnar.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	shapes := map[string]bool{}
	counters := map[columnar.Encoding]bool{}
	for _, m := range mustBlocks(t, db, columnar.Selector{}) {
		if m.Version != 2 {
			t.Errorf("block %s@%d has version %d", m.Iface, m.Start, m.Version)
		}
		for _, c := range m.Chunks {
			if c.Column >= columnar.ColBytesIn {
				counters[c.Encoding] = true
			}
		}
		for _, id := range []columnar.ColumnID{columnar.ColSIP, columnar.ColDIP} {
			_, has4 := m.Chunk(id, columnar.PartDict4)
			_, has16 := m.Chunk(id, columnar.PartDict)
			shapes[fmt.Sprintf("dict4=%v dict=%v", has4, has16)] = m.Rows > 0
		}
	}
	for _, s := range []string{"dict4=true dict=true", "dict4=true dict=false", "dict4=false dict=true"} {
		if !shapes[s] {
			t.Errorf("fixture lacks a dictionary with %s", s)
		}
	}
	// And counters of every width: plain uint8, split wider ones.
	for _, e := range []columnar.Encoding{columnar.EncUint8, columnar.EncSplit16, columnar.EncSplit32, columnar.EncSplit64} {
		if !counters[e] {
			t.Errorf("fixture lacks a counter of encoding %s (has %v)", e, counters)
		}
	}
}

// TestFormatV3Fixture: version 3 stores the sip codes of its sorted blocks
// as runs, and its fixture holds runs of every width a block of its size
// takes.
func TestFormatV3Fixture(t *testing.T) {
	testFormatFixture(t, 3)
	db, err := columnar.Open(context.Background(), fixtureDir(3), &columnar.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs := 0
	for _, m := range mustBlocks(t, db, columnar.Selector{}) {
		if m.Version != 3 {
			t.Errorf("block %s@%d has version %d", m.Iface, m.Start, m.Version)
		}
		_, hasRuns := m.Chunk(columnar.ColSIP, columnar.PartRuns)
		_, hasValues := m.Chunk(columnar.ColSIP, columnar.PartValues)
		if m.Rows > 0 && (!hasRuns || hasValues) {
			t.Errorf("block %s@%d: sip runs %v, values %v", m.Iface, m.Start, hasRuns, hasValues)
		}
		if hasRuns {
			runs++
		}
	}
	if runs == 0 {
		t.Error("fixture has no sip runs")
	}
}

// TestFormatV4Fixture: version 4 stores a column's values in pages, and
// its fixture holds paged values of every kind: plain, split counters,
// compressed and not, with a last page shorter than the others.
func TestFormatV4Fixture(t *testing.T) {
	testFormatFixture(t, 4)
	db, err := columnar.Open(context.Background(), fixtureDir(4), &columnar.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kinds := map[string]bool{}
	for _, m := range mustBlocks(t, db, columnar.Selector{}) {
		if m.Version != 4 {
			t.Errorf("block %s@%d has version %d", m.Iface, m.Start, m.Version)
		}
		for _, id := range columnar.Columns()[1:] {
			pages := m.Pages(id, columnar.PartValues)
			if len(pages) < 2 {
				continue
			}
			p := pages[0]
			kinds[fmt.Sprintf("split=%v codec=%s", p.Encoding.IsSplit(), p.Codec)] = true
			if pages[len(pages)-1].Rows < p.Rows {
				kinds["short last page"] = true
			}
		}
	}
	for _, k := range []string{"split=false codec=lz4", "split=true codec=lz4", "split=true codec=zstd", "split=false codec=none", "split=true codec=none", "short last page"} {
		if !kinds[k] {
			t.Errorf("fixture lacks pages of %s (has %v)", k, kinds)
		}
	}
}

// testFormatFixture reads the frozen fixture of a format version: every
// block reads as recorded in expected.txt, Check finds nothing, and a
// read-write Open of a copy repairs nothing and appends a block of the
// current version to its files.
func testFormatFixture(t *testing.T, version int) {
	dir := fixtureDir(version)
	expected := filepath.Join(dir, "expected.txt")
	if *createFixture && version == columnar.FormatVersion {
		if _, err := os.Stat(dir); err == nil {
			t.Fatalf("%s exists; a format fixture is never rewritten", dir)
		}
		writeFixture(t, dir)
		db, err := columnar.Open(context.Background(), dir, &columnar.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		desc := describe(t, db)
		db.Close()
		if err := os.WriteFile(expected, []byte(desc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(expected)
	if err != nil {
		t.Fatalf("%v (the fixture is missing)", err)
	}

	// Read-only, in place: nothing may change.
	db, err := columnar.Open(context.Background(), dir, &columnar.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(t, db); got != string(want) {
		t.Errorf("format v%d fixture reads differently:\n got:\n%s\nwant:\n%s", version, got, want)
	}
	if errs := db.Check(context.Background()); len(errs) > 0 {
		t.Errorf("check of the fixture: %v", errs)
	}
	db.Close()

	// Read-write on a copy: recovery finds nothing to repair and new
	// blocks can be appended to the fixture's files.
	cp := t.TempDir()
	copyDir(t, dir, cp)
	db, err = columnar.Open(context.Background(), cp, &columnar.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if r := db.Recovered(); len(r.RemovedFiles)+len(r.TruncatedFiles) != 0 {
		t.Errorf("recovery changed the fixture: %+v", r)
	}
	mustWrite(t, db, newFlowGen(1).block("eth0", t0+600, 10))
	if errs := db.Check(context.Background()); len(errs) > 0 {
		t.Errorf("check after appending: %v", errs)
	}
}

func copyDir(t *testing.T, from, to string) {
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		if d.Name() == "expected.txt" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
