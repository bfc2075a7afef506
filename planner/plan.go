package planner

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/flowsql/flowsql/sql"
)

// Plan is a checked, compiled query, ready to run on any number of stores.
// It is immutable and safe for concurrent use. Relative times are resolved
// once, when the plan is prepared.
type Plan struct {
	stmt *sql.Select
	opts Options
	now  time.Time
	agg  bool // aggregate query; otherwise a row listing

	keys   []keySpec   // group keys, or the columns of listed rows
	states []stateSpec // aggregate states
	aggs   []aggSpec   // aggregates of the select list and ORDER BY
	items  []itemSpec  // result columns, in select order
	order  []orderSpec // ORDER BY, resolved
	limit  int64       // -1: no LIMIT

	where  *pnode // nil: every row
	nodes  int    // nodes in where
	leaves []*leaf
	hull   spanSet  // block starts where may hold
	ifaces []string // FROM, sorted and distinct; empty means all

	layout    keyLayout
	varKeys   []int  // keys that vary within a block (not time, iface, host)
	oneAddr   bool   // the one group key is an address: groups found by its interned id
	static    colSet // stored columns keys and aggregates read
	v4        colSet // address columns read for IPv4 conditions alone (v4Only)
	fromStats bool   // blocks without a row filter are answered from statistics
	splitAt   int    // groups past which hash tables are partitioned (tests lower it)
	noTopK    bool   // never run as a threshold top-N (tests compare the two paths)
	topkKeep  int    // rows a block keeps in a threshold top-N's scout; 0: topkKeep(limit)
	// sipFewGroups: a query grouped by sip alone is not partitioned by
	// sip range when the sample of blocks holds fewer distinct sips
	// (sippart.go); 0 never skips (tests).
	sipFewGroups int
}

// keySpec is a group key, or a column of listed rows.
type keySpec struct {
	col   sql.Column
	width int64 // bucket width in seconds; 0 when not bucketed
	expr  string
	typ   Type
}

// constant reports whether the key has one value per block.
func (k *keySpec) constant() bool { return blockConstant(k.col) }

type stateKind uint8

const (
	stCount    stateKind = iota // count(*): rows
	stSum                       // sum of col
	stMin                       // min of col
	stMax                       // max of col
	stDistinct                  // sketch of the distinct values of col
)

var stateNames = [...]string{"count", "sum", "min", "max", "distinct"}

// stateSpec is one mergeable aggregate state. avg(x) shares sum(x) and
// count(*) with other aggregates.
type stateSpec struct {
	kind stateKind
	col  sql.Column // unused for stCount
}

func (s stateSpec) String() string {
	if s.kind == stCount {
		return "count(*)"
	}
	return stateNames[s.kind] + "(" + s.col.Name() + ")"
}

// aggSpec is an aggregate of the query and the states it is computed from.
type aggSpec struct {
	fn   sql.AggFunc
	col  sql.Column
	expr string
	typ  Type
	st   int // main state: count, sum, min, max or distinct
	cnt  int // avg: the count(*) state
}

// ref names a value of a result row: a key or an aggregate.
type ref struct {
	key int // >= 0: keys[key]
	agg int // >= 0: aggs[agg]
}

type itemSpec struct {
	name string
	ref  ref
	typ  Type
}

type orderSpec struct {
	ref  ref
	desc bool
	text string
}

// Prepare checks a parsed query and plans it. Errors about the query are
// *sql.Error values with a position, wrapping sql.ErrType, sql.ErrInvalid
// or another of the sql kinds. A nil opts means the defaults.
func Prepare(stmt *sql.Select, opts *Options) (*Plan, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if err := check(stmt); err != nil {
		return nil, err
	}
	p := &Plan{stmt: stmt, opts: o, now: o.Now(), agg: isAggQuery(stmt), limit: -1, splitAt: splitGroups, sipFewGroups: splitGroups / 4}
	if stmt.Limit != nil {
		p.limit = int64(min(stmt.Limit.Value, math.MaxInt64))
	}
	for _, f := range stmt.From {
		p.ifaces = append(p.ifaces, f.Name)
	}
	slices.Sort(p.ifaces)
	p.ifaces = slices.Compact(p.ifaces)
	if p.agg {
		p.planAgg()
	} else {
		p.planRows()
	}
	for _, o := range stmt.OrderBy {
		p.order = append(p.order, orderSpec{ref: p.orderRef(o.Expr), desc: o.Desc, text: o.String()})
	}
	if stmt.Where != nil {
		c := &compiler{now: p.now}
		if p.where, err = c.compile(stmt.Where); err != nil {
			return nil, err
		}
		p.nodes, p.leaves = c.nodes, c.leaves
	}
	p.hull = timeHull(p.where)
	p.layout = newKeyLayout(p.keys, p.agg)
	for i, k := range p.keys {
		p.static.add(k.col)
		if !k.constant() {
			p.varKeys = append(p.varKeys, i)
		}
	}
	p.fromStats = p.agg && len(p.varKeys) == 0
	p.oneAddr = p.agg && len(p.keys) == 1 && len(p.varKeys) == 1 && p.keys[0].typ == TypeAddr && p.layout.nk == 1
	for _, s := range p.states {
		p.fromStats = p.fromStats && statsAnswer(s)
	}
	for _, s := range p.states {
		if s.kind != stCount {
			p.static.add(s.col)
		}
	}
	p.v4 = p.v4Only()
	return p, nil
}

// v4Span is the IPv4-mapped addresses, where IPv4 conditions lie.
var v4Span = span{lo: u128{0, 0xffff << 32}, hi: u128{0, 0xffff<<32 | 0xffffffff}}

// v4Only returns the address columns the query reads for conditions on
// IPv4 addresses alone: every leaf on the column is an address set within
// ::ffff:0:0/96, and no key or aggregate reads it. Such a condition is
// false for any other address, so a block's codes decide it from the IPv4
// part of the dictionary (columnar.ReadDictV4, ReadColumnV4).
func (p *Plan) v4Only() colSet {
	var ok, other colSet
	for _, l := range p.leaves {
		var s colSet
		s.add(l.col)
		if l.kind == lkCols {
			s.add(l.col2)
		}
		if l.kind == lkAddr && l.addrs.within(v4Span) {
			ok |= s
		} else {
			other |= s
		}
	}
	return ok &^ other &^ p.static
}

func (p *Plan) planAgg() {
	s := p.stmt
	for _, g := range s.GroupBy {
		p.keyOf(groupExpr(s, g))
	}
	for _, it := range s.Items {
		r := p.exprRef(it.Expr)
		p.items = append(p.items, itemSpec{name: it.Name(), ref: r, typ: p.refType(r)})
	}
}

func (p *Plan) planRows() {
	for _, it := range p.stmt.Items {
		r := ref{key: p.keyOf(it.Expr), agg: -1}
		p.items = append(p.items, itemSpec{name: it.Name(), ref: r, typ: p.refType(r)})
	}
}

// exprRef returns the key or aggregate of an item or ORDER BY expression,
// adding it when new (hidden ORDER BY columns and aggregates).
func (p *Plan) exprRef(e sql.Expr) ref {
	if a, ok := e.(*sql.Aggregate); ok {
		return ref{key: -1, agg: p.aggOf(a)}
	}
	return ref{key: p.keyOf(e), agg: -1}
}

func (p *Plan) orderRef(e sql.Expr) ref {
	if r, ok := e.(*sql.ItemRef); ok {
		return p.items[r.Index].ref
	}
	return p.exprRef(e)
}

func (p *Plan) refType(r ref) Type {
	if r.key >= 0 {
		return p.keys[r.key].typ
	}
	return p.aggs[r.agg].typ
}

// keyOf returns the index of the key of a column or bucket expression.
func (p *Plan) keyOf(e sql.Expr) int {
	text := e.String()
	for i, k := range p.keys {
		if k.expr == text {
			return i
		}
	}
	k := keySpec{expr: text}
	switch e := e.(type) {
	case *sql.ColumnRef:
		k.col = e.Column
	case *sql.Bucket:
		k.col, k.width = sql.ColTime, int64(e.Width.Duration/time.Second)
	}
	k.typ = typeOfColumn(k.col)
	p.keys = append(p.keys, k)
	return len(p.keys) - 1
}

// aggOf returns the index of an aggregate, adding it and its states.
func (p *Plan) aggOf(a *sql.Aggregate) int {
	text := a.String()
	for i, x := range p.aggs {
		if x.expr == text {
			return i
		}
	}
	x := aggSpec{fn: a.Func, expr: text, cnt: -1}
	if a.Arg != nil {
		x.col = a.Arg.Column
	}
	switch a.Func {
	case sql.AggCount:
		x.st, x.typ = p.stateOf(stateSpec{kind: stCount}), TypeUint
	case sql.AggCountDistinct:
		x.st, x.typ = p.stateOf(stateSpec{kind: stDistinct, col: x.col}), TypeUint
	case sql.AggSum:
		x.st, x.typ = p.stateOf(stateSpec{kind: stSum, col: x.col}), TypeUint
	case sql.AggAvg:
		x.st, x.typ = p.stateOf(stateSpec{kind: stSum, col: x.col}), TypeFloat
		x.cnt = p.stateOf(stateSpec{kind: stCount})
	case sql.AggMin:
		x.st, x.typ = p.stateOf(stateSpec{kind: stMin, col: x.col}), typeOfColumn(x.col)
	case sql.AggMax:
		x.st, x.typ = p.stateOf(stateSpec{kind: stMax, col: x.col}), typeOfColumn(x.col)
	}
	p.aggs = append(p.aggs, x)
	return len(p.aggs) - 1
}

func (p *Plan) stateOf(s stateSpec) int {
	if i := slices.Index(p.states, s); i >= 0 {
		return i
	}
	p.states = append(p.states, s)
	return len(p.states) - 1
}

// statsAnswer reports whether a state can be computed for a whole block
// from its index entry: row count, counter totals, dport and proto ranges,
// and the block-constant time, iface and host.
func statsAnswer(s stateSpec) bool {
	switch s.kind {
	case stCount:
		return true
	case stSum:
		return s.col.Type() == sql.TypeCounter
	case stMin, stMax:
		return s.col == sql.ColDPort || s.col == sql.ColProto || s.col == sql.ColTime
	case stDistinct:
		return blockConstant(s.col)
	}
	return false
}

// ColumnInfo describes one result column.
type ColumnInfo struct {
	Name string // the select item's alias, or its canonical SQL text
	Type Type
}

// Columns returns the result columns, in select order.
func (p *Plan) Columns() []ColumnInfo {
	out := make([]ColumnInfo, len(p.items))
	for i, it := range p.items {
		out[i] = ColumnInfo{Name: it.name, Type: it.typ}
	}
	return out
}

// Statement returns the query the plan was prepared from.
func (p *Plan) Statement() *sql.Select { return p.stmt }

// Now returns the moment relative times were resolved against.
func (p *Plan) Now() time.Time { return p.now }

// signature identifies the partial-aggregate layout of the plan: two plans
// with the same signature produce partials that merge.
func (p *Plan) signature() string {
	var b strings.Builder
	b.WriteString(wireVersion)
	if p.agg {
		b.WriteString(";agg;keys=")
	} else {
		b.WriteString(";rows;keys=")
	}
	for i, k := range p.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k.expr)
	}
	b.WriteString(";states=")
	for i, s := range p.states {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s.String())
	}
	return b.String()
}
