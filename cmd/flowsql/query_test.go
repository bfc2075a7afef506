package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/planner"
	"github.com/flowsql/flowsql/sql"
)

func TestIsQueryText(t *testing.T) {
	for in, want := range map[string]bool{
		"SELECT sip":           true,
		"select *":             true,
		"  Select\tsip":        true,
		"EXPLAIN SELECT sip":   true,
		"explain":              true,
		"SELECT":               true,
		"selects":              false,
		"SELECT_x":             false,
		"list":                 false,
		"":                     false,
		"(SELECT sip)":         false,
		"query SELECT sip":     false,
		"-- c\nSELECT sip":     false,
		"SELECT(sip) FROM any": true,
	} {
		if got := isQueryText(in); got != want {
			t.Errorf("isQueryText(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestCaretLines(t *testing.T) {
	for _, tc := range []struct {
		text      string
		pos       sql.Pos
		line, pad string
		ok        bool
	}{
		{"SELECT dipp", sql.Pos{Line: 1, Col: 8}, "SELECT dipp", "       ", true},
		{"SELECT\n\tdipp", sql.Pos{Line: 2, Col: 2}, "\tdipp", "\t", true},
		{"SELECT", sql.Pos{Line: 1, Col: 7}, "SELECT", "      ", true}, // end of query
		{"SELECT é, x", sql.Pos{Line: 1, Col: 10}, "SELECT é, x", "         ", true},
		{"SELECT x\r\nWHERE", sql.Pos{Line: 1, Col: 8}, "SELECT x", "       ", true},
		{"SELECT", sql.Pos{}, "", "", false},
		{"SELECT", sql.Pos{Line: 3, Col: 1}, "", "", false},
	} {
		line, pad, ok := caretLines(tc.text, tc.pos)
		if line != tc.line || pad != tc.pad || ok != tc.ok {
			t.Errorf("caretLines(%q, %v) = %q, %q, %v; want %q, %q, %v", tc.text, tc.pos, line, pad, ok, tc.line, tc.pad, tc.ok)
		}
	}
}

// csvRows runs a query with --format csv and returns its rows, header first.
func csvRows(t *testing.T, db string, args ...string) [][]string {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"--db", db, "query", "--format", "csv"}, args...)...)
	if code != 0 {
		t.Fatalf("query %v: exit %d: %s", args, code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("query %v: bad CSV: %v\n%s", args, err, out)
	}
	return rows
}

// arrowCell renders row i of an Arrow column as the CSV format does.
func arrowCell(t *testing.T, col arrow.Array, i int) string {
	t.Helper()
	if col.IsNull(i) {
		return ""
	}
	switch c := col.(type) {
	case *array.Timestamp:
		unit := c.DataType().(*arrow.TimestampType).Unit
		return c.Value(i).ToTime(unit).UTC().Format(time.RFC3339)
	case *array.String:
		return c.Value(i)
	case *array.Uint8:
		return strconv.FormatUint(uint64(c.Value(i)), 10)
	case *array.Uint16:
		return strconv.FormatUint(uint64(c.Value(i)), 10)
	case *array.Uint64:
		return strconv.FormatUint(c.Value(i), 10)
	case *array.Float64:
		return strconv.FormatFloat(c.Value(i), 'f', -1, 64)
	}
	t.Fatalf("unexpected Arrow column type %s", col.DataType())
	return ""
}

// TestQueryArrowFormat reads --format arrow back with arrow-go's IPC stream
// reader and compares every value with the CSV output of the same query.
func TestQueryArrowFormat(t *testing.T) {
	db := fixtureStore(t)
	for _, q := range []string{
		"SELECT * WHERE proto = tcp",
		"SELECT bucket(time, 10m) AS t, iface, sip, sum(bytes), avg(packets), count(*) GROUP BY t, iface, sip ORDER BY t, iface, sip",
		"SELECT min(bytes), avg(bytes) WHERE sip = 1.2.3.4",
		"SELECT sip WHERE sip = 1.2.3.4",
	} {
		want := csvRows(t, db, "--hostname", "h1", q)
		code, out, errOut := runCLI(t, "--db", db, "query", "--hostname", "h1", "--format", "arrow", q)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", q, code, errOut)
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		rdr, err := ipc.NewReader(bytes.NewReader([]byte(out)), ipc.WithAllocator(mem))
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var got [][]string
		var names []string
		for _, f := range rdr.Schema().Fields() {
			names = append(names, f.Name)
		}
		got = append(got, names)
		for rdr.Next() {
			rec := rdr.RecordBatch()
			for i := range int(rec.NumRows()) {
				var row []string
				for j := range int(rec.NumCols()) {
					row = append(row, arrowCell(t, rec.Column(j), i))
				}
				got = append(got, row)
			}
		}
		if err := rdr.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if ts, ok := rdr.Schema().Field(0).Type.(*arrow.TimestampType); q[7] == '*' && (!ok || ts.TimeZone != "UTC") {
			t.Errorf("%s: time is %s, want a UTC timestamp", q, rdr.Schema().Field(0).Type)
		}
		rdr.Release()
		mem.AssertSize(t, 0)
		if !equalRows(got, want) {
			t.Errorf("%s: arrow gives\n%v\ncsv gives\n%v", q, got, want)
		}
	}
}

func equalRows(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}

// TestQueryJSONFormat checks that --format json is valid JSON with the
// values of the CSV output.
func TestQueryJSONFormat(t *testing.T) {
	db := fixtureStore(t)
	for _, q := range []string{
		"SELECT * ORDER BY bytes DESC",
		"SELECT sip, sum(bytes), avg(bytes), count(DISTINCT dip) GROUP BY sip ORDER BY sip",
		"SELECT count(*), max(time), avg(bytes) WHERE dport = 1",
		"SELECT sip WHERE dport = 1",
	} {
		want := csvRows(t, db, q)
		code, out, errOut := runCLI(t, "--db", db, "query", "--format", "json", q)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", q, code, errOut)
		}
		dec := json.NewDecoder(strings.NewReader(out))
		dec.UseNumber()
		var rows []map[string]any
		if err := dec.Decode(&rows); err != nil {
			t.Fatalf("%s: invalid JSON: %v\n%s", q, err, out)
		}
		if len(rows) != len(want)-1 {
			t.Fatalf("%s: %d JSON rows, %d CSV rows", q, len(rows), len(want)-1)
		}
		for i, r := range rows {
			for j, name := range want[0] {
				v, ok := r[name]
				if !ok {
					t.Fatalf("%s: row %d lacks key %q", q, i, name)
				}
				s := ""
				switch v := v.(type) {
				case nil:
				case string:
					s = v
				case json.Number:
					s = v.String()
				default:
					t.Fatalf("%s: row %d key %q: unexpected %T", q, i, name, v)
				}
				if s != want[i+1][j] {
					t.Errorf("%s: row %d %s: json %q, csv %q", q, i, name, s, want[i+1][j])
				}
			}
		}
	}
}

func TestAppendJSONStringAndCSVField(t *testing.T) {
	for _, s := range []string{"", "eth0", `a"b\c`, "tab\tnl\nret\r", "\x00\x1f\x7f", "é€😀", "bad\xffutf8", "\u2028"} {
		var got string
		if err := json.Unmarshal(appendJSONString(nil, s), &got); err != nil {
			t.Errorf("appendJSONString(%q) = %s: %v", s, appendJSONString(nil, s), err)
			continue
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); got != want {
			t.Errorf("appendJSONString(%q) decodes to %q", s, got)
		}
		rec, err := csv.NewReader(bytes.NewReader(append(appendCSVField(nil, s), ",x\n"...))).Read()
		if s == "" || strings.ContainsAny(s, "\r\x00") {
			continue // encoding/csv drops \r and has no empty-record form to compare
		}
		if err != nil || len(rec) != 2 || rec[0] != s {
			t.Errorf("appendCSVField(%q) = %q: read back %q, %v", s, appendCSVField(nil, s), rec, err)
		}
	}
}

// TestQueryCorruptChunk damages one chunk of one block: the query reports
// the block on stderr, answers from the other blocks and exits 0.
func TestQueryCorruptChunk(t *testing.T) {
	dir := fixtureStore(t)
	ctx := context.Background()
	db, err := columnar.Open(ctx, dir, &columnar.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	metas, err := db.Blocks(ctx, columnar.Selector{Ifaces: []string{"eth0"}})
	db.Close()
	if err != nil || len(metas) != 3 {
		t.Fatalf("blocks: %d, %v", len(metas), err)
	}
	m := &metas[1] // eth0 10:05
	ref, ok := m.Chunk(columnar.ColBytesIn, columnar.PartValues)
	if !ok {
		t.Fatal("no bytes_in chunk")
	}
	flipFileByte(t, chunkFile(dir, m), ref.Offset+ref.Length/2)

	// The fixture's eth0 bytes without block 10:05.
	var want uint64
	for _, r := range fixtureRows {
		if r.iface == "eth0" && r.block != 1 {
			want += r.bin + r.bout
		}
	}
	// Grouping by sip makes the planner read rows (a plain sum would be
	// answered from the index statistics without touching the chunk).
	code, out, errOut := runCLI(t, "--db", dir, "query", "--format", "csv", "SELECT sip, sum(bytes) FROM eth0 GROUP BY sip")
	if code != 0 {
		t.Fatalf("exit %d, want 0: %s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("bad CSV %q: %v", out, err)
	}
	var got uint64
	for _, r := range rows[1:] {
		n, err := strconv.ParseUint(r[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
	if got != want {
		t.Errorf("sum over the result %d, want the sum of the two good blocks, %d:\n%s", got, want, out)
	}
	if !strings.Contains(errOut, "warning: skipped damaged block eth0 2025-03-10 10:05 UTC") ||
		!strings.Contains(errOut, filepath.Base(m.File)) || !strings.Contains(errOut, "offset") {
		t.Errorf("stderr does not name the block, file and offset:\n%s", errOut)
	}

	code, out, errOut = runCLI(t, "--db", dir, "SELECT sip, sum(bytes) FROM eth0 GROUP BY sip")
	if code != 0 || !strings.Contains(out, "warning: 1 block damaged and skipped") || !strings.Contains(errOut, "warning:") {
		t.Errorf("table: exit %d, footer or stderr lacks the warning:\n%s\n%s", code, out, errOut)
	}
}

func TestQueryFailures(t *testing.T) {
	db := fixtureStore(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"query", "--budget", "1KiB", "SELECT sip, dip, sum(bytes) GROUP BY sip, dip"}, "raise --budget"},
		{[]string{"query", "--budget", "0", "SELECT sip"}, "want a positive size"},
		{[]string{"query", "--timeout", "1ns", "SELECT sip, dip, sum(bytes) GROUP BY sip, dip"}, "timed out after 1ns"},
		{[]string{"--db", filepath.Join(t.TempDir(), "none"), "SELECT sip"}, "no flowsql store"},
	} {
		code, _, errOut := runCLI(t, append([]string{"--db", db}, tc.args...)...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestQueryStats checks the --stats line the read benchmark parses.
func TestQueryStats(t *testing.T) {
	db := fixtureStore(t)
	code, _, errOut := runCLI(t, "--db", db, "query", "--format", "csv", "--stats", "SELECT dip, sum(bytes) FROM eth1 GROUP BY dip")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var st queryStats
	if err := json.Unmarshal([]byte(strings.TrimSpace(errOut)), &st); err != nil {
		t.Fatalf("stderr is not one JSON line: %v\n%s", err, errOut)
	}
	if st.Rows != 3 || st.Groups != 3 || st.BlocksTotal != 2 || st.BlocksRead != 2 || st.BytesRead <= 0 || st.PlannerMS <= 0 || st.RowsScanned != 4 {
		t.Errorf("stats %+v", st)
	}
}

// TestDemoAsksThePlanner runs the demo: its last answer is a SQL query
// through the planner, printed before its table.
func TestDemoAsksThePlanner(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	code, out, errOut := runCLI(t, "--db", db, "demo")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	i := strings.Index(out, "query \""+demoQuery+"\"")
	if i < 0 {
		t.Fatalf("demo does not print its query:\n%s", out)
	}
	table := out[i:]
	for _, want := range []string{"sip", "sent", "pkts_received", "tcp", "rows of", "groups", "demo-eth0"} {
		if !strings.Contains(table, want) {
			t.Errorf("demo table lacks %q:\n%s", want, table)
		}
	}
}

// TestFooterPastLimit: the footer counts the blocks a listing's LIMIT
// made unnecessary, and says nothing of them when there are none.
func TestFooterPastLimit(t *testing.T) {
	res := &planner.Result{Stats: planner.Stats{BlocksTotal: 288, BlocksRead: 9, PrunedDict: 1, PastLimit: 278}}
	lines := strings.Join(footer(res, false, false, time.Millisecond), "\n")
	if !strings.Contains(lines, "288 candidates, 9 read, 0 answered from statistics, 1 pruned (dictionary 1), 278 not needed (earlier blocks held the LIMIT)") {
		t.Errorf("footer:\n%s", lines)
	}
	res.Stats.PastLimit = 0
	if lines := strings.Join(footer(res, false, false, time.Millisecond), "\n"); strings.Contains(lines, "not needed") {
		t.Errorf("footer without blocks past the limit:\n%s", lines)
	}
}
