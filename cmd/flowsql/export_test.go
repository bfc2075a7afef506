package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/flowsql/flowsql/columnar"
)

// exportCLI runs `flowsql export` and fails the test unless it succeeds.
func exportCLI(t *testing.T, db string, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"--db", db, "export", "--hostname", "h1"}, args...)...)
	if code != 0 {
		t.Fatalf("export %v: exit %d: %s", args, code, errOut)
	}
	if !strings.Contains(errOut, "exported ") {
		t.Errorf("export %v: no summary on stderr: %q", args, errOut)
	}
	return out
}

// tableRows renders an Arrow table as CSV-format rows, header first.
func tableRows(t *testing.T, tbl arrow.Table) [][]string {
	t.Helper()
	var names []string
	for _, f := range tbl.Schema().Fields() {
		names = append(names, f.Name)
	}
	rows := [][]string{names}
	tr := array.NewTableReader(tbl, 1000)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		for i := range int(rec.NumRows()) {
			var row []string
			for j := range int(rec.NumCols()) {
				row = append(row, arrowCell(t, rec.Column(j), i))
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// readParquet reads a Parquet file with pqarrow and returns its rows.
func readParquet(t *testing.T, path string) (*arrow.Schema, [][]string) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1000}, mem)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	return tbl.Schema(), tableRows(t, tbl)
}

// readArrowFile reads an Arrow IPC file and returns its rows.
func readArrowFile(t *testing.T, path string) (*arrow.Schema, [][]string) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer r.Close()
	var recs []arrow.RecordBatch
	for i := range r.NumRecords() {
		rec, err := r.RecordBatch(i)
		if err != nil {
			t.Fatal(err)
		}
		rec.Retain() // valid only until the next RecordBatch call otherwise
		defer rec.Release()
		recs = append(recs, rec)
	}
	tbl := array.NewTableFromRecords(r.Schema(), recs)
	defer tbl.Release()
	return r.Schema(), tableRows(t, tbl)
}

// TestExportFormats exports the fixture in each format and reads it back:
// Parquet with pqarrow, Arrow with the IPC file reader, CSV with
// encoding/csv. Each must equal `flowsql query --format csv` of the same
// SELECT, row for row.
func TestExportFormats(t *testing.T) {
	db := fixtureStore(t)
	out := t.TempDir()
	for _, tc := range []struct {
		name  string
		args  []string
		query string
	}{
		{"all", nil, "SELECT *"},
		{"where", []string{"--where", "dip IN 10.0.0.0/8 OR proto = udp"}, "SELECT * WHERE dip IN 10.0.0.0/8 OR proto = udp"},
		{"from", []string{"--query", "SELECT time, sip, bytes FROM eth1"}, "SELECT time, sip, bytes FROM eth1"},
		{"agg", []string{"--query", "SELECT sip, sum(bytes) AS b, avg(packets) GROUP BY sip ORDER BY b DESC"}, "SELECT sip, sum(bytes) AS b, avg(packets) GROUP BY sip ORDER BY b DESC"},
		{"empty", []string{"--where", "sip = 1.2.3.4"}, "SELECT * WHERE sip = 1.2.3.4"},
	} {
		want := csvRows(t, db, "--hostname", "h1", tc.query)
		for _, ext := range []string{"parquet", "arrow", "csv"} {
			path := filepath.Join(out, tc.name+"."+ext)
			exportCLI(t, db, append(tc.args, path)...)
			var schema *arrow.Schema
			var got [][]string
			switch ext {
			case "parquet":
				schema, got = readParquet(t, path)
			case "arrow":
				schema, got = readArrowFile(t, path)
			default:
				f, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if got, err = csv.NewReader(strings.NewReader(string(f))).ReadAll(); err != nil {
					t.Fatal(err)
				}
			}
			if !equalRows(got, want) {
				t.Errorf("%s.%s holds\n%v\nwant\n%v", tc.name, ext, got, want)
			}
			if schema != nil && tc.name == "all" {
				checkExportSchema(t, ext, schema)
			}
		}
	}
	if left, _ := filepath.Glob(filepath.Join(out, ".*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// checkExportSchema checks the column types of a full export.
func checkExportSchema(t *testing.T, ext string, s *arrow.Schema) {
	t.Helper()
	want := map[string]arrow.Type{
		"time": arrow.TIMESTAMP, "iface": arrow.STRING, "host": arrow.STRING, "sip": arrow.STRING, "dip": arrow.STRING,
		"dport": arrow.UINT16, "proto": arrow.UINT8, "bytes_in": arrow.UINT64, "bytes_out": arrow.UINT64,
		"packets_in": arrow.UINT64, "packets_out": arrow.UINT64,
	}
	if s.NumFields() != len(want) {
		t.Errorf("%s: %d columns, want %d: %s", ext, s.NumFields(), len(want), s)
	}
	for _, f := range s.Fields() {
		if f.Type.ID() != want[f.Name] {
			t.Errorf("%s: column %s is %s", ext, f.Name, f.Type)
		}
		if ts, ok := f.Type.(*arrow.TimestampType); ok && ts.TimeZone != "UTC" {
			t.Errorf("%s: time zone %q, want UTC", ext, ts.TimeZone)
		}
	}
}

// TestExportStdout writes CSV to stdout with OUT "-".
func TestExportStdout(t *testing.T) {
	db := fixtureStore(t)
	got := exportCLI(t, db, "--format", "csv", "--where", "proto = icmp", "-")
	want := "time,iface,host,sip,dip,dport,proto,bytes_in,bytes_out,packets_in,packets_out\n" +
		"2025-03-10T10:00:00Z,eth0,h1,10.0.0.1,10.0.0.254,0,1,294,294,3,3\n"
	if got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

func TestExportFailures(t *testing.T) {
	db := fixtureStore(t)
	out := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{filepath.Join(out, "x.txt")}, "give --format"},
		{[]string{"--format", "orc", filepath.Join(out, "x")}, `unknown --format "orc"`},
		{[]string{"--where", "sip = 1.2.3.4", "--query", "SELECT sip", filepath.Join(out, "x.csv")}, "put the condition in --query"},
		{[]string{"--query", "EXPLAIN SELECT sip", filepath.Join(out, "x.csv")}, "EXPLAIN has no rows"},
		{[]string{"--where", "dipp = 1.2.3.4", filepath.Join(out, "x.csv")}, "unknown column \"dipp\""},
		{[]string{"--compression", "brotli", filepath.Join(out, "x.parquet")}, "parquet takes zstd, snappy or none"},
		{[]string{"--compression", "zstd", filepath.Join(out, "x.csv")}, "csv is written uncompressed"},
		{[]string{filepath.Join(out, "missing", "x.csv")}, "no such file or directory"},
	} {
		code, _, errOut := runCLI(t, append([]string{"--db", db, "export"}, tc.args...)...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("export %v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
	if left, _ := os.ReadDir(out); len(left) > 0 {
		t.Errorf("failed exports left files: %v", left)
	}
}

// TestExportCompression checks every codec gives the same rows.
func TestExportCompression(t *testing.T) {
	db := fixtureStore(t)
	out := t.TempDir()
	want := csvRows(t, db, "--hostname", "h1", "SELECT *")
	for _, c := range []string{"zstd", "snappy", "none"} {
		path := filepath.Join(out, c+".parquet")
		exportCLI(t, db, "--compression", c, path)
		if _, got := readParquet(t, path); !equalRows(got, want) {
			t.Errorf("parquet %s: rows differ", c)
		}
	}
	for _, c := range []string{"zstd", "lz4", "none"} {
		path := filepath.Join(out, c+".arrow")
		exportCLI(t, db, "--compression", c, path)
		if _, got := readArrowFile(t, path); !equalRows(got, want) {
			t.Errorf("arrow %s: rows differ", c)
		}
	}
}

func TestSplitWindows(t *testing.T) {
	m := func(iface string, start int64, rows int) columnar.BlockMeta {
		return columnar.BlockMeta{Iface: iface, Start: start, End: start + 300, Rows: rows}
	}
	metas := []columnar.BlockMeta{
		m("eth0", 0, 40), m("eth0", 300, 50), m("eth0", 600, 20), m("eth0", 900, 200), m("eth0", 1200, 1),
		m("eth1", 0, 10), m("eth1", 300, 10),
	}
	got := splitWindows(metas, 100)
	want := []window{{"eth0", 0, 300}, {"eth0", 600, 600}, {"eth0", 900, 900}, {"eth0", 1200, 1200}, {"eth1", 0, 300}}
	if len(got) != len(want) {
		t.Fatalf("windows %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("window %d: %v, want %v", i, got[i], want[i])
		}
	}
	if w := splitWindows(nil, 100); len(w) != 0 {
		t.Errorf("no blocks gave windows %v", w)
	}
}
