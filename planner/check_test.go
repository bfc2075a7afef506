package planner

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowsql/flowsql/sql"
)

// TestCheckHandBuilt feeds Prepare ASTs the parser would never produce (a
// Flight server or a test may build them) and checks each gets a clear
// error with the position of the offending node.
func TestCheckHandBuilt(t *testing.T) {
	pos := func(col int) sql.Pos { return sql.Pos{Line: 1, Col: col, Offset: col - 1} }
	col := func(c sql.Column, at int) *sql.ColumnRef { return &sql.ColumnRef{Pos: pos(at), Column: c} }
	item := func(e sql.Expr) *sql.SelectItem { return &sql.SelectItem{Pos: e.Position(), Expr: e} }
	count := &sql.Aggregate{Pos: pos(8), Func: sql.AggCount}
	cases := []struct {
		name string
		s    *sql.Select
		kind error
		at   int    // expected column of the error
		msg  string // substring of the message
	}{
		{"nil", nil, sql.ErrInvalid, 0, "no query"},
		{"no items", &sql.Select{Pos: pos(1)}, sql.ErrInvalid, 1, "empty select list"},
		{"sum of address", &sql.Select{Items: []*sql.SelectItem{item(&sql.Aggregate{Pos: pos(8), Func: sql.AggSum, Arg: col(sql.ColSIP, 12)})}},
			sql.ErrType, 12, "sum needs a counter column, not sip"},
		{"min of host", &sql.Select{Items: []*sql.SelectItem{item(&sql.Aggregate{Pos: pos(8), Func: sql.AggMin, Arg: col(sql.ColHost, 12)})}},
			sql.ErrType, 12, "min of host"},
		{"count of column", &sql.Select{Items: []*sql.SelectItem{item(&sql.Aggregate{Pos: pos(8), Func: sql.AggCount, Arg: col(sql.ColSIP, 14)})}},
			sql.ErrInvalid, 8, "count takes * or DISTINCT"},
		{"bucket without width", &sql.Select{Items: []*sql.SelectItem{item(&sql.Bucket{Pos: pos(8)})}},
			sql.ErrInvalid, 8, "bucket needs a width"},
		{"bucket of 1.5s", &sql.Select{Items: []*sql.SelectItem{item(&sql.Bucket{Pos: pos(8), Width: &sql.DurationLit{Pos: pos(21), Duration: 1500 * time.Millisecond}})}},
			sql.ErrInvalid, 21, "not a whole number of seconds"},
		{"proto compared with address", &sql.Select{Items: []*sql.SelectItem{item(count)},
			Where: &sql.BinaryExpr{Pos: pos(23), Op: sql.OpEq, Left: col(sql.ColProto, 23), Right: &sql.AddrLit{Pos: pos(31), Addr: netip.MustParseAddr("10.0.0.1")}}},
			sql.ErrType, 31, "cannot compare proto (proto) with 10.0.0.1 (address)"},
		{"sip compared with number", &sql.Select{Items: []*sql.SelectItem{item(count)},
			Where: &sql.BinaryExpr{Pos: pos(23), Op: sql.OpGt, Left: col(sql.ColSIP, 23), Right: &sql.NumberLit{Pos: pos(29), Value: 7}}},
			sql.ErrType, 29, "cannot compare sip (addr) with 7 (number)"},
		{"port out of range", &sql.Select{Items: []*sql.SelectItem{item(count)},
			Where: &sql.InExpr{Pos: pos(23), Left: col(sql.ColDPort, 23), List: []sql.Literal{&sql.NumberLit{Pos: pos(33), Value: 70000}}}},
			sql.ErrType, 33, "port 70000 is out of range"},
		{"prefix with =", &sql.Select{Items: []*sql.SelectItem{item(count)},
			Where: &sql.BinaryExpr{Pos: pos(23), Op: sql.OpEq, Left: col(sql.ColDIP, 23), Right: &sql.PrefixLit{Pos: pos(29), Prefix: netip.MustParsePrefix("10.0.0.0/8")}}},
			sql.ErrType, 29, "cannot be compared with ="},
		{"columns of two types", &sql.Select{Items: []*sql.SelectItem{item(count)},
			Where: &sql.BinaryExpr{Pos: pos(23), Op: sql.OpEq, Left: col(sql.ColDPort, 23), Right: col(sql.ColBytes, 31)}},
			sql.ErrType, 31, "cannot compare dport (port) with bytes (counter)"},
		{"literal as condition", &sql.Select{Items: []*sql.SelectItem{item(count)}, Where: &sql.NumberLit{Pos: pos(23), Value: 1}},
			sql.ErrInvalid, 23, "1 is not a condition"},
		{"empty AND", &sql.Select{Items: []*sql.SelectItem{item(count)}, Where: &sql.AndExpr{Pos: pos(23)}},
			sql.ErrInvalid, 23, "AND without terms"},
		{"ungrouped column", &sql.Select{Items: []*sql.SelectItem{item(col(sql.ColSIP, 8)), {Pos: pos(13), Expr: &sql.Aggregate{Pos: pos(13), Func: sql.AggCount}}}},
			sql.ErrInvalid, 8, "sip must be in GROUP BY"},
		{"order by ungrouped", &sql.Select{Items: []*sql.SelectItem{item(count)}, GroupBy: []sql.Expr{col(sql.ColDIP, 30)},
			OrderBy: []*sql.OrderItem{{Pos: pos(42), Expr: col(sql.ColSIP, 42)}}},
			sql.ErrInvalid, 42, "ORDER BY sip must be in GROUP BY"},
		{"order position out of range", &sql.Select{Items: []*sql.SelectItem{item(count)},
			OrderBy: []*sql.OrderItem{{Pos: pos(26), Expr: &sql.ItemRef{Pos: pos(26), Index: 3}}}},
			sql.ErrInvalid, 26, "ORDER BY position 4 is out of range"},
		{"order alias unknown", &sql.Select{Items: []*sql.SelectItem{item(count)},
			OrderBy: []*sql.OrderItem{{Pos: pos(26), Expr: &sql.ItemRef{Pos: pos(26), Index: -1, Alias: "x"}}}},
			sql.ErrInvalid, 26, `alias "x" refers to no select item`},
		{"group by aggregate item", &sql.Select{Items: []*sql.SelectItem{item(count)}, GroupBy: []sql.Expr{&sql.ItemRef{Pos: pos(26), Index: 0}}},
			sql.ErrInvalid, 26, "cannot GROUP BY an aggregate"},
		{"bucket of reversed BETWEEN numbers", &sql.Select{Items: []*sql.SelectItem{item(count)},
			Where: &sql.BetweenExpr{Pos: pos(23), Left: col(sql.ColDPort, 23), Low: &sql.NumberLit{Pos: pos(39), Value: 9}, High: &sql.NumberLit{Pos: pos(45), Value: 1}}},
			sql.ErrInvalid, 39, "BETWEEN bounds are reversed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Prepare(c.s, testOptions(t))
			var qe *sql.Error
			if !errors.As(err, &qe) {
				t.Fatalf("got %v, want a *sql.Error", err)
			}
			if !errors.Is(err, c.kind) || qe.Pos.Col != c.at || !strings.Contains(qe.Msg, c.msg) {
				t.Fatalf("got %q (kind %v, at %s), want kind %v at col %d containing %q", err, qe.Kind, qe.Pos, c.kind, c.at, c.msg)
			}
		})
	}
}

// TestPrepareParsed checks rules on parsed queries: LIMIT 0, positions,
// aliases and hidden ORDER BY aggregates.
func TestPrepareParsed(t *testing.T) {
	db := openSmall(t)
	opts := testOptions(t)
	res := run(t, db, "SELECT sip LIMIT 0", opts)
	if res.NumRows() != 0 || len(res.Columns) != 1 || res.Columns[0].Name != "sip" {
		t.Fatalf("LIMIT 0: %d rows, columns %+v", res.NumRows(), res.Columns)
	}
	res = run(t, db, "SELECT dport AS p, count(*) AS n GROUP BY p ORDER BY sum(bytes) DESC, n LIMIT 3", opts)
	if got := []string{res.Columns[0].Name, res.Columns[1].Name}; got[0] != "p" || got[1] != "n" || res.NumRows() != 3 {
		t.Fatalf("names %v, %d rows", got, res.NumRows())
	}
	// The hidden sum(bytes) orders the rows but is not a column.
	want := run(t, db, "SELECT dport, count(*), sum(bytes) AS b GROUP BY dport ORDER BY b DESC, 2 LIMIT 3", opts)
	for i := range 3 {
		if res.Columns[0].Uints[i] != want.Columns[0].Uints[i] {
			t.Fatalf("row %d: dport %d, want %d", i, res.Columns[0].Uints[i], want.Columns[0].Uints[i])
		}
	}
	p := prepare(t, "SELECT bucket(time, 1h) AS t, avg(bytes), count(DISTINCT dip) GROUP BY t", opts)
	cols := p.Columns()
	if len(cols) != 3 || cols[0] != (ColumnInfo{"t", TypeTime}) || cols[1].Type != TypeFloat || cols[2] != (ColumnInfo{"count(DISTINCT dip)", TypeUint}) {
		t.Fatalf("columns %+v", cols)
	}
	if _, err := p.Execute(t.Context(), nil); !errors.Is(err, ErrNilDB) {
		t.Fatalf("nil db: %v", err)
	}
	if _, err := Prepare(p.Statement(), &Options{Parallelism: -1}); err == nil {
		t.Fatal("negative parallelism accepted")
	}
}

// TestEmptyAggregate checks that aggregates without GROUP BY over no rows
// give one row: zero counts and sums, null min, max and avg.
func TestEmptyAggregate(t *testing.T) {
	db := openSmall(t)
	res := run(t, db, "SELECT count(*), sum(bytes), min(dport), max(time), avg(bytes), count(DISTINCT sip) WHERE sip = 1.2.3.4", testOptions(t))
	got := rowsOf(res)
	if len(got) != 1 || got[0][0] != uint64(0) || got[0][1] != uint64(0) || got[0][2] != nil || got[0][3] != nil || got[0][4] != nil || got[0][5] != uint64(0) {
		t.Fatalf("got %v", got)
	}
	if res.Stats.RowsScanned != 0 || res.Stats.BlocksRead != 0 {
		t.Fatalf("absent sip read rows: %+v", res.Stats)
	}
	res = run(t, db, "SELECT sip, count(*) WHERE sip = 1.2.3.4 GROUP BY sip", testOptions(t))
	if res.NumRows() != 0 {
		t.Fatalf("grouped query over no rows gave %d rows", res.NumRows())
	}
}
