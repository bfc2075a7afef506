package sql

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustParse(t *testing.T, q string) *Select {
	t.Helper()
	s, err := Parse(q)
	if err != nil {
		t.Fatalf("%q: %v", q, err)
	}
	return s
}

func TestSelectColumns(t *testing.T) {
	tests := []struct{ q, want string }{
		{"SELECT count(*)", ""},
		{"SELECT sip", "sip"},
		{"SELECT bucket(time, 1h) AS t, sum(bytes) FROM eth0 WHERE dip IN 10.0.0.0/8 AND proto = tcp GROUP BY t ORDER BY 2 DESC",
			"time dip proto bytes"},
		{"SELECT dport, max(packets_out) WHERE bytes_out > bytes_in OR NOT dport BETWEEN 1 AND 9 GROUP BY dport ORDER BY count(DISTINCT sip)",
			"sip dport bytes_in bytes_out packets_out"},
		{"SELECT *", "time iface host sip dip dport proto bytes_in bytes_out packets_in packets_out"},
	}
	for _, tt := range tests {
		var names []string
		for _, c := range mustParse(t, tt.q).Columns() {
			names = append(names, c.Name())
		}
		if got := strings.Join(names, " "); got != tt.want {
			t.Errorf("%q: Columns() = %q, want %q", tt.q, got, tt.want)
		}
	}
}

func TestWalk(t *testing.T) {
	s := mustParse(t, "SELECT sip, count(*) FROM eth0 WHERE NOT (dport = 80 OR proto IN (tcp, udp)) GROUP BY sip LIMIT 3")
	var kinds []string
	Walk(s, func(n Node) bool {
		kinds = append(kinds, strings.TrimPrefix(fmt.Sprintf("%T", n), "*sql."))
		return true
	})
	want := "Select SelectItem ColumnRef SelectItem Aggregate Iface NotExpr OrExpr BinaryExpr ColumnRef NumberLit " +
		"InExpr ColumnRef ProtoLit ProtoLit ColumnRef NumberLit"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("Walk order:\n got %s\nwant %s", got, want)
	}
	// Returning false prunes the children.
	n := 0
	Walk(s, func(x Node) bool {
		n++
		_, isNot := x.(*NotExpr)
		return !isNot
	})
	if n != 9 {
		t.Errorf("pruned walk visited %d nodes, want 9", n)
	}
	Walk(nil, func(Node) bool { t.Error("visited nil"); return true })
}

// TestFormatHandBuilt checks String on ASTs the parser never produces:
// nested ANDs and ORs keep their grouping with parentheses.
func TestFormatHandBuilt(t *testing.T) {
	eq := func(c Column, v uint64) Expr {
		return &BinaryExpr{Op: OpEq, Left: &ColumnRef{Column: c}, Right: &NumberLit{Value: v}}
	}
	and := &AndExpr{Terms: []Expr{eq(ColDPort, 1), &AndExpr{Terms: []Expr{eq(ColDPort, 2), eq(ColDPort, 3)}}}}
	or := &OrExpr{Terms: []Expr{and, &OrExpr{Terms: []Expr{eq(ColBytes, 4), &NotExpr{X: and}}}}}
	want := "dport = 1 AND (dport = 2 AND dport = 3) OR (bytes = 4 OR NOT (dport = 1 AND (dport = 2 AND dport = 3)))"
	if got := or.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	lits := []struct {
		n    Node
		want string
	}{
		{&AddrLit{Addr: netip.MustParseAddr("2001:db8::1")}, "2001:db8::1"},
		{&PrefixLit{Prefix: netip.MustParsePrefix("10.0.0.0/8")}, "10.0.0.0/8"},
		{&ProtoLit{Proto: 58}, "icmpv6"},
		{&DurationLit{Duration: 90 * time.Minute}, "1h30m"},
		{&DurationLit{Duration: 14 * 24 * time.Hour}, "14d"},
		{&DurationLit{}, "0s"},
		{&RelTimeLit{Offset: -36 * time.Hour}, "-36h"},
		{&AbsTimeLit{Time: time.Date(2025, 3, 10, 12, 0, 0, 5e8, time.FixedZone("x", 3600))}, "'2025-03-10T11:00:00.5Z'"},
		{&StringLit{Value: "it's"}, "'it''s'"},
		{&ItemRef{Index: 1}, "2"},
		{&ItemRef{Index: 0, Alias: "a b"}, `"a b"`},
		{&Iface{Name: "any"}, "'any'"},
		{&Iface{Name: "eth0.100"}, "eth0.100"},
		{&SelectItem{Expr: &Aggregate{Func: AggCountDistinct, Arg: &ColumnRef{Column: ColSIP}}, Alias: "select"}, `count(DISTINCT sip) AS "select"`},
		{&OrderItem{Expr: &Bucket{Width: &DurationLit{Duration: time.Hour}}, Desc: true}, "bucket(time, 1h) DESC"},
	}
	for _, l := range lits {
		if got := l.n.String(); got != l.want {
			t.Errorf("%T: %s, want %s", l.n, got, l.want)
		}
	}
}

func TestItemNameAndResolve(t *testing.T) {
	s := mustParse(t, "SELECT sum(bytes), sip AS client, bucket(time, 5m) GROUP BY 2, 3")
	var names []string
	for _, it := range s.Items {
		names = append(names, it.Name())
	}
	if got := strings.Join(names, "|"); got != "sum(bytes)|client|bucket(time, 5m)" {
		t.Errorf("names: %s", got)
	}
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	rel := &RelTimeLit{Offset: -24 * time.Hour}
	if got := rel.Resolve(now); !got.Equal(now.AddDate(0, 0, -1)) {
		t.Errorf("Resolve: %v", got)
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{Pos: Pos{Line: 2, Col: 5}, Msg: `unknown column "x"`, Kind: ErrUnknownColumn}
	if e.Error() != `unknown column "x" at 2:5` {
		t.Errorf("got %q", e.Error())
	}
	e.Hint, e.Suggestion = "a hint", "dip"
	if e.Error() != `unknown column "x" at 2:5: a hint; did you mean "dip"?` {
		t.Errorf("got %q", e.Error())
	}
	if !errors.Is(e, ErrUnknownColumn) || errors.Is(e, ErrSyntax) {
		t.Error("errors.Is does not follow Kind")
	}
	if (Pos{}).IsValid() || !(Pos{Line: 1, Col: 1}).IsValid() {
		t.Error("Pos.IsValid")
	}
}

// TestLimits checks that oversized and deeply nested queries fail cleanly
// and that large but legitimate ones (a long IN list of indicators) parse.
func TestLimits(t *testing.T) {
	deep := "SELECT sip WHERE " + strings.Repeat("(", MaxNesting) + "sip = ::1" + strings.Repeat(")", MaxNesting)
	mustParse(t, deep)
	nots := "SELECT sip WHERE " + strings.Repeat("NOT (", MaxNesting) + "sip = ::1" + strings.Repeat(")", MaxNesting)
	mustParse(t, nots)
	for _, q := range []string{
		"SELECT sip WHERE " + strings.Repeat("(", MaxNesting+1) + "sip = ::1" + strings.Repeat(")", MaxNesting+1),
		"SELECT sip WHERE " + strings.Repeat("NOT ", MaxNesting+1) + "sip = ::1",
		"SELECT sip FROM " + strings.Repeat("x", MaxQueryLen),
	} {
		if _, err := Parse(q); !errors.Is(err, ErrTooComplex) {
			t.Errorf("%.40q...: got %v, want ErrTooComplex", q, err)
		}
	}
	var b strings.Builder
	b.WriteString("SELECT count(*) WHERE dip IN (")
	for i := range 5000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1}).String())
	}
	b.WriteString(")")
	s := mustParse(t, b.String())
	if in := s.Where.(*InExpr); len(in.List) != 5000 {
		t.Fatalf("IN list has %d values", len(in.List))
	}
}

// TestConcurrentParse shares one Parser between goroutines (run with -race).
func TestConcurrentParse(t *testing.T) {
	p, err := NewParser()
	if err != nil {
		t.Fatal(err)
	}
	queries := []string{typicalQuery, "SELECT sip WHERE dipp = 1.2.3.4", "SELECT * FROM any LIMIT 1"}
	want := make([]string, len(queries))
	for i, q := range queries {
		want[i] = render(q)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	for range 8 {
		wg.Go(func() {
			for i, q := range queries {
				got := render(q)
				_, err := p.Parse(q)
				if got != want[i] || (err != nil) != strings.HasPrefix(want[i], "error") {
					mu.Lock()
					bad = append(bad, q)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("concurrent parses differ: %q", bad)
	}
}
