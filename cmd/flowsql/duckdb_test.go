package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// diffQueries is how many random queries the differential test compares.
const diffQueries = 240

// oraclePython returns the Python interpreter with duckdb and pyarrow
// ($FLOWSQL_PYTHON, as scripts/venv prints it). Without one the test skips,
// unless CI=true, where it fails.
func oraclePython(t *testing.T) string {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s; CI=true requires it (scripts/venv creates the venv)", why)
		}
		t.Skipf("%s: set FLOWSQL_PYTHON to the interpreter scripts/venv prints", why)
	}
	py := os.Getenv("FLOWSQL_PYTHON")
	if py == "" {
		missing("FLOWSQL_PYTHON is not set")
	}
	if out, err := exec.Command(py, "-c", "import duckdb, pyarrow, pandas").CombinedOutput(); err != nil {
		missing("the Python in FLOWSQL_PYTHON (" + py + ") cannot import duckdb, pyarrow and pandas: " + strings.TrimSpace(string(out)))
	}
	return py
}

// runOracle runs testdata/duckdb_oracle.py with stdin and decodes its JSON.
func runOracle(t *testing.T, py string, stdin []byte, out any, args ...string) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "duckdb_oracle.py"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, append([]string{script}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb oracle %v: %v\n%s", args, err, stderr.String())
	}
	if err := json.Unmarshal(res, out); err != nil {
		t.Fatalf("duckdb oracle %v: %v\n%s", args, err, res)
	}
}

// diffStore generates the differential test's store: 3 hours, two
// interfaces, about 2,000 flows per block.
func diffStore(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "db")
	code, out, errOut := runCLI(t, "--db", db, "gen", "--hours", "3", "--ifaces", "eth0,eth1", "--flows", "2000",
		"--seed", "7", "--start", "2025-03-10T08:00:00Z", "--nosync")
	if code != 0 {
		t.Fatalf("gen: exit %d: %s%s", code, out, errOut)
	}
	return db
}

// sampleData reads addresses, ports and the time range from the store.
func sampleData(t *testing.T, db string) *diffSample {
	t.Helper()
	s := &diffSample{ifaces: []string{"eth0", "eth1"}}
	for _, col := range []string{"sip", "dip"} {
		rows := csvRows(t, db, "SELECT "+col+", count(*) AS n GROUP BY "+col+" ORDER BY n DESC LIMIT 60")
		for _, r := range rows[1:] {
			a := netip.MustParseAddr(r[0])
			if col == "sip" {
				s.sips = append(s.sips, a)
			} else {
				s.dips = append(s.dips, a)
			}
		}
	}
	for _, r := range csvRows(t, db, "SELECT dport, count(*) AS n GROUP BY dport ORDER BY n DESC LIMIT 30")[1:] {
		p, _ := strconv.ParseUint(r[0], 10, 16)
		s.ports = append(s.ports, uint16(p))
	}
	r := csvRows(t, db, "SELECT min(time), max(time)")[1]
	from, _ := time.Parse(time.RFC3339, r[0])
	to, _ := time.Parse(time.RFC3339, r[1])
	s.from, s.to = from.Unix(), to.Unix()
	if len(s.sips) < 10 || len(s.dips) < 10 || len(s.ports) < 10 || s.to <= s.from {
		t.Fatalf("sample too small: %+v", s)
	}
	return s
}

// TestDuckDBDifferential runs random queries through `flowsql query
// --format csv` and through DuckDB over the store's Parquet export, and
// requires the same answers (see duckdb_gen_test.go for the translation).
func TestDuckDBDifferential(t *testing.T) {
	py := oraclePython(t)
	db := diffStore(t)
	parquet := filepath.Join(t.TempDir(), "flows.parquet")
	exportCLI(t, db, parquet)

	g := &queryGen{r: rand.New(rand.NewPCG(2025, 310)), s: sampleData(t, db)}
	qs := make([]diffQuery, diffQueries)
	type oracleQuery struct {
		ID  int    `json:"id"`
		SQL string `json:"sql"`
	}
	var in []oracleQuery
	for i := range qs {
		qs[i] = g.query()
		in = append(in, oracleQuery{i, qs[i].duck})
	}
	stdin, _ := json.Marshal(in)
	var res []struct {
		ID    int         `json:"id"`
		Rows  [][]*string `json:"rows"`
		Error *string     `json:"error"`
	}
	runOracle(t, py, stdin, &res, "queries", parquet)
	if len(res) != len(qs) {
		t.Fatalf("oracle answered %d queries of %d", len(res), len(qs))
	}
	nonEmpty, ordered, failed, flowTops, topRan := 0, 0, 0, 0, 0
	for i, q := range qs {
		if res[i].Error != nil {
			t.Fatalf("query %d: DuckDB failed: %s\n%s", i, *res[i].Error, q.duck)
		}
		args := []string{"--db", db, "query", "--format", "csv", q.flowsql}
		if q.flowTop {
			args = append(args, "--stats")
			flowTops++
		}
		code, out, errOut := runCLI(t, args...)
		if q.flowTop && strings.Contains(errOut, `"top_n":true`) {
			topRan++
		}
		if code != 0 {
			t.Errorf("query %d: flowsql exit %d: %s\n%s", i, code, errOut, q.flowsql)
			failed++
			continue
		}
		got, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(got) == 0 {
			t.Fatalf("query %d: bad CSV %v: %q", i, err, out)
		}
		want := make([][]string, len(res[i].Rows))
		for r, row := range res[i].Rows {
			for _, v := range row {
				s := ""
				if v != nil {
					s = *v
				}
				want[r] = append(want[r], s)
			}
		}
		if msg := compareResults(q, got[1:], want); msg != "" {
			failed++
			if failed <= 10 {
				t.Errorf("query %d differs: %s\nflowsql: %s\nduckdb:  %s", i, msg, q.flowsql, q.duck)
			}
		}
		if len(want) > 0 {
			nonEmpty++
		}
		if q.ordered {
			ordered++
		}
	}
	t.Logf("%d queries (%d ordered, %d with rows; %d shaped for the threshold top-N, %d ran as one), %d differ",
		len(qs), ordered, nonEmpty, flowTops, topRan, failed)
	if flowTops < 10 || topRan < flowTops/3 {
		t.Errorf("%d queries shaped for the threshold top-N, %d ran as one: want 10 and a third at least", flowTops, topRan)
	}
	if nonEmpty < len(qs)/2 {
		t.Errorf("only %d of %d queries return rows: the generator's conditions are too narrow", nonEmpty, len(qs))
	}
}

// compareResults compares flowsql's rows (CSV cells) with DuckDB's and
// describes the first difference, or returns "".
func compareResults(q diffQuery, got, want [][]string) string {
	for _, r := range got {
		if len(r) != len(q.kinds) {
			return "flowsql row " + strconv.Quote(strings.Join(r, ",")) + " has the wrong width"
		}
		for j, k := range q.kinds {
			if k == kindTime && r[j] != "" {
				tm, err := time.Parse(time.RFC3339, r[j])
				if err != nil {
					return "bad time " + r[j]
				}
				r[j] = strconv.FormatInt(tm.Unix(), 10)
			}
		}
	}
	if len(got) != len(want) {
		return "flowsql has " + strconv.Itoa(len(got)) + " rows, DuckDB " + strconv.Itoa(len(want)) + firstRows(got, want)
	}
	if !q.ordered {
		sortRows(q.kinds, got)
		sortRows(q.kinds, want)
	}
	for i := range got {
		for j, k := range q.kinds {
			if !sameValue(k, got[i][j], want[i][j]) {
				return "row " + strconv.Itoa(i) + " column " + strconv.Itoa(j) + ": flowsql " + strconv.Quote(got[i][j]) +
					", DuckDB " + strconv.Quote(want[i][j]) + firstRows(got, want)
			}
		}
	}
	return ""
}

// firstRows shows the first rows of both sides.
func firstRows(got, want [][]string) string {
	return "\n  flowsql rows: " + rowsText(got[:min(3, len(got))]) + "\n  duckdb rows:  " + rowsText(want[:min(3, len(want))])
}

func rowsText(rows [][]string) string {
	var parts []string
	for _, r := range rows {
		parts = append(parts, "["+strings.Join(r, " ")+"]")
	}
	return strings.Join(parts, " ")
}

// sortRows orders rows by their exact columns, then by the approximate ones
// numerically, so that the same groups line up.
func sortRows(kinds []colKind, rows [][]string) {
	slices.SortFunc(rows, func(a, b []string) int {
		for _, pass := range []bool{true, false} {
			for j, k := range kinds {
				exact := k == kindExact || k == kindTime
				if exact != pass {
					continue
				}
				if exact {
					if c := strings.Compare(a[j], b[j]); c != 0 {
						return c
					}
					continue
				}
				x, _ := strconv.ParseFloat(a[j], 64)
				y, _ := strconv.ParseFloat(b[j], 64)
				if x != y {
					if x < y {
						return -1
					}
					return 1
				}
			}
		}
		return 0
	})
}

// sameValue compares one cell by its kind.
func sameValue(k colKind, got, want string) bool {
	if got == want {
		return true
	}
	if k == kindExact || k == kindTime || got == "" || want == "" {
		return false
	}
	x, err1 := strconv.ParseFloat(got, 64)
	y, err2 := strconv.ParseFloat(want, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	if k == kindDistinct {
		if y <= 256 {
			return x == y
		}
		return math.Abs(x-y) <= 0.05*y // HyperLogLog: 1.6% standard error
	}
	return math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y))
}

// TestDuckDBReadsExports checks that pyarrow, DuckDB and pandas read the
// Parquet, Arrow and CSV exports with the intended types and the same
// rows and totals as flowsql.
func TestDuckDBReadsExports(t *testing.T) {
	py := oraclePython(t)
	db := fixtureStore(t)
	dir := t.TempDir()
	paths := map[string]string{}
	for _, ext := range []string{"parquet", "arrow", "csv"} {
		paths[ext] = filepath.Join(dir, "flows."+ext)
		exportCLI(t, db, paths[ext])
	}
	var got struct {
		ParquetSchema map[string]string `json:"parquet_schema"`
		ArrowSchema   map[string]string `json:"arrow_schema"`
		ParquetRows   int               `json:"parquet_rows"`
		ArrowRows     int               `json:"arrow_rows"`
		DuckTypes     map[string]string `json:"parquet_duckdb_types"`
		Parquet       struct {
			Rows  int    `json:"rows"`
			Bytes string `json:"bytes"`
		} `json:"parquet_duckdb"`
		CSV struct {
			Rows  int    `json:"rows"`
			Bytes string `json:"bytes"`
		} `json:"csv_duckdb"`
		Arrow struct {
			Rows  int    `json:"rows"`
			Bytes string `json:"bytes"`
		} `json:"arrow_duckdb"`
		Pandas struct {
			Rows      int    `json:"rows"`
			Bytes     string `json:"bytes"`
			TimeDtype string `json:"time_dtype"`
		} `json:"pandas"`
	}
	runOracle(t, py, nil, &got, "files", paths["parquet"], paths["arrow"], paths["csv"])

	var rows int
	var total uint64
	for _, r := range fixtureRows {
		rows++
		total += r.bin + r.bout
	}
	want := strconv.FormatUint(total, 10)
	for name, c := range map[string]struct {
		rows  int
		bytes string
	}{
		"parquet (duckdb)": {got.Parquet.Rows, got.Parquet.Bytes}, "csv (duckdb)": {got.CSV.Rows, got.CSV.Bytes},
		"arrow (duckdb)": {got.Arrow.Rows, got.Arrow.Bytes}, "parquet (pandas)": {got.Pandas.Rows, got.Pandas.Bytes},
	} {
		if c.rows != rows || c.bytes != want {
			t.Errorf("%s: %d rows, %s bytes; want %d and %s", name, c.rows, c.bytes, rows, want)
		}
	}
	if got.ParquetRows != rows || got.ArrowRows != rows {
		t.Errorf("pyarrow reads %d parquet and %d arrow rows, want %d", got.ParquetRows, got.ArrowRows, rows)
	}
	for col, typ := range map[string]string{
		"time": "timestamp[ms, tz=UTC]", "sip": "string", "dport": "uint16", "proto": "uint8", "bytes_in": "uint64",
	} {
		if got.ParquetSchema[col] != typ {
			t.Errorf("pyarrow: parquet column %s is %s, want %s", col, got.ParquetSchema[col], typ)
		}
	}
	if got.ArrowSchema["time"] != "timestamp[s, tz=UTC]" || got.ArrowSchema["dip"] != "string" {
		t.Errorf("pyarrow: arrow schema %v", got.ArrowSchema)
	}
	for col, typ := range map[string]string{
		"time": "TIMESTAMP WITH TIME ZONE", "iface": "VARCHAR", "sip": "VARCHAR", "dport": "USMALLINT", "proto": "UTINYINT", "packets_out": "UBIGINT",
	} {
		if got.DuckTypes[col] != typ {
			t.Errorf("duckdb: parquet column %s is %s, want %s", col, got.DuckTypes[col], typ)
		}
	}
	if !strings.Contains(got.Pandas.TimeDtype, "UTC") {
		t.Errorf("pandas: time dtype %s, want a UTC datetime", got.Pandas.TimeDtype)
	}
}
