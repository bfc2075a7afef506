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

// fixtureDir is the frozen sample of format version 1. It was written by
// this package's code (TestFormatV1Fixture with -create-format-fixture) and
// must never be regenerated: it proves that later builds still read v1.
var fixtureDir = filepath.Join("testdata", "format_v1")

// writeFixture makes the sample: two days of eth0 with the default codecs,
// wlan0 uncompressed, counters past 2^32 and an empty block.
func writeFixture(t *testing.T, dir string) {
	ctx := context.Background()
	g := newFlowGen(2024)
	db, err := columnar.Open(ctx, dir, &columnar.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, start := range []int64{t0, t0 + 300, t0 + 86400} {
		b := g.block("eth0", start, 40+i*10)
		b.BytesIn[0] = 1<<40 + 7
		mustWrite(t, db, b)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = columnar.Open(ctx, dir, &columnar.Options{NoSync: true, Codecs: &columnar.Codecs{}})
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

func TestFormatV1Fixture(t *testing.T) {
	expected := filepath.Join(fixtureDir, "expected.txt")
	if *createFixture {
		if _, err := os.Stat(fixtureDir); err == nil {
			t.Fatalf("%s exists; a format fixture is never rewritten", fixtureDir)
		}
		writeFixture(t, fixtureDir)
		db, err := columnar.Open(context.Background(), fixtureDir, &columnar.Options{ReadOnly: true})
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
	db, err := columnar.Open(context.Background(), fixtureDir, &columnar.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(t, db); got != string(want) {
		t.Errorf("format v1 fixture reads differently:\n got:\n%s\nwant:\n%s", got, want)
	}
	if errs := db.Check(context.Background()); len(errs) > 0 {
		t.Errorf("check of the fixture: %v", errs)
	}
	db.Close()

	// Read-write on a copy: recovery finds nothing to repair and new
	// blocks can be appended to v1 files.
	dir := t.TempDir()
	copyDir(t, fixtureDir, dir)
	db, err = columnar.Open(context.Background(), dir, &columnar.Options{NoSync: true})
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
