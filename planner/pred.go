package planner

import (
	"cmp"
	"math"
	"time"

	"github.com/flowsql/flowsql/sql"
)

// A WHERE condition compiles to a tree of pnodes whose leaves each test one
// column (or compare two). Every leaf knows at which level it can be
// decided for a whole block, which is what pruning and EXPLAIN report:
//
//	level 1  time          block start (rows carry it as time)
//	level 2  iface, host   block interface, Options.Host
//	level 3  statistics    dport, proto ranges; counter totals
//	level 4  dictionary    sip, dip: the block's sorted address dictionary
//	level 5  rows only     column compared with another column
//
// Leaves of levels 3-5 that a block's metadata does not decide are
// evaluated on the rows, as spans over column vectors (for addresses, over
// dictionary codes).

type nodeKind uint8

const (
	nLeaf nodeKind = iota
	nAnd
	nOr
	nNot
)

// pnode is one node of a compiled condition.
type pnode struct {
	id   int // index into per-block node state
	kind nodeKind
	kids []*pnode
	leaf *leaf
	text string // canonical SQL, for EXPLAIN
}

type leafKind uint8

const (
	lkTime   leafKind = iota // time in nums (block start, unix seconds)
	lkString                 // iface or host tested by str
	lkNum                    // dport, proto or a counter in nums
	lkAddr                   // sip or dip in addrs
	lkCols                   // col op col2
)

// Levels at which a leaf is decided; see the comment above.
const (
	levelTime  = 1
	levelIface = 2
	levelStats = 3
	levelDict  = 4
	levelRows  = 5
)

// leaf is one column test.
type leaf struct {
	id    int // index into per-block leaf state
	kind  leafKind
	col   sql.Column
	nums  []span64            // lkTime, lkNum
	addrs spanSet             // lkAddr
	str   func(v string) bool // lkString
	col2  sql.Column          // lkCols
	op    sql.CmpOp           // lkCols
	level int
}

// compiler turns a checked condition into pnodes.
type compiler struct {
	now    time.Time
	nodes  int
	leaves []*leaf
}

func (c *compiler) node(kind nodeKind, text string) *pnode {
	n := &pnode{id: c.nodes, kind: kind, text: text}
	c.nodes++
	return n
}

func (c *compiler) compile(e sql.Expr) (*pnode, error) {
	switch e := e.(type) {
	case *sql.AndExpr, *sql.OrExpr:
		kind, terms := nAnd, []sql.Expr(nil)
		if a, ok := e.(*sql.AndExpr); ok {
			terms = a.Terms
		} else {
			kind, terms = nOr, e.(*sql.OrExpr).Terms
		}
		n := c.node(kind, e.String())
		for _, t := range terms {
			k, err := c.compile(t)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
		}
		return n, nil
	case *sql.NotExpr:
		n := c.node(nNot, e.String())
		k, err := c.compile(e.X)
		if err != nil {
			return nil, err
		}
		n.kids = []*pnode{k}
		return n, nil
	}
	l, err := c.leafOf(e)
	if err != nil {
		return nil, err
	}
	l.id = len(c.leaves)
	c.leaves = append(c.leaves, l)
	n := c.node(nLeaf, e.String())
	n.leaf = l
	return n, nil
}

// leafOf compiles a comparison, IN or BETWEEN.
func (c *compiler) leafOf(e sql.Expr) (*leaf, error) {
	var col *sql.ColumnRef
	var set spanSet
	var strs func(string) bool
	switch e := e.(type) {
	case *sql.BinaryExpr:
		col = e.Left
		if r, ok := e.Right.(*sql.ColumnRef); ok {
			return colsLeaf(e.Left.Column, r.Column, e.Op), nil
		}
		if col.Column.Type() == sql.TypeString {
			v := e.Right.(*sql.StringLit).Value
			op := e.Op
			strs = func(s string) bool { return cmpHolds(op, cmp.Compare(s, v)) }
			break
		}
		v := c.value(col.Column, e.Right.(sql.Literal))
		set = opSpans(e.Op, v, col.Column)
	case *sql.InExpr:
		col = e.Left
		if col.Column.Type() == sql.TypeString {
			vals := make([]string, len(e.List))
			for i, v := range e.List {
				vals[i] = v.(*sql.StringLit).Value
			}
			not := e.Not
			strs = func(s string) bool {
				for _, v := range vals {
					if s == v {
						return !not
					}
				}
				return not
			}
			break
		}
		for _, v := range e.List {
			if p, ok := v.(*sql.PrefixLit); ok {
				set = append(set, prefixSpans(p.Prefix)...)
				continue
			}
			set = append(set, opSpans(sql.OpEq, c.value(col.Column, v), col.Column)...)
		}
		set = normalize(set)
		if e.Not {
			set = set.complement(domain(col.Column))
		}
	case *sql.BetweenExpr:
		col = e.Left
		if col.Column.Type() == sql.TypeString {
			lo, hi := e.Low.(*sql.StringLit).Value, e.High.(*sql.StringLit).Value
			if lo > hi {
				return nil, reversed(e)
			}
			not := e.Not
			strs = func(s string) bool { return (s >= lo && s <= hi) != not }
			break
		}
		lo, hi := c.value(col.Column, e.Low), c.value(col.Column, e.High)
		if col.Column.Type() == sql.TypeAddr && familyKey(e.Low) != familyKey(e.High) {
			return nil, qerr(sql.ErrType, e.High.Position(), "", "BETWEEN bounds %s and %s are of different address families", e.Low, e.High)
		}
		if col.Column.Type() == sql.TypeTime && c.timeOf(e.High).Before(c.timeOf(e.Low)) {
			return nil, qerr(sql.ErrInvalid, e.Low.Position(), "write BETWEEN "+e.High.String()+" AND "+e.Low.String(),
				"BETWEEN bounds are reversed: %s (%s) is after %s (%s)", e.Low, c.timeOf(e.Low).UTC().Format(time.RFC3339),
				e.High, c.timeOf(e.High).UTC().Format(time.RFC3339))
		}
		if col.Column.Type() != sql.TypeTime && hi.v.less(lo.v) {
			return nil, reversed(e)
		}
		set = opSpans(sql.OpGe, lo, col.Column).intersect(opSpans(sql.OpLe, hi, col.Column))
		if e.Not {
			set = set.complement(domain(col.Column))
		}
	}
	l := &leaf{col: col.Column}
	switch col.Column.Type() {
	case sql.TypeString:
		l.kind, l.str, l.level = lkString, strs, levelIface
	case sql.TypeTime:
		l.kind, l.nums, l.level = lkTime, set.to64(), levelTime
	case sql.TypeAddr:
		l.kind, l.addrs, l.level = lkAddr, set, levelDict
	default:
		l.kind, l.nums, l.level = lkNum, set.to64(), levelStats
	}
	return l, nil
}

func reversed(e *sql.BetweenExpr) error {
	return qerr(sql.ErrInvalid, e.Low.Position(), "write BETWEEN "+e.High.String()+" AND "+e.Low.String(),
		"BETWEEN bounds are reversed: %s is greater than %s", e.Low, e.High)
}

func familyKey(l sql.Literal) bool {
	a, ok := l.(*sql.AddrLit)
	return ok && a.Addr.Unmap().Is4()
}

// colsLeaf compiles column op column. Time, iface and host are constant
// within a block, so comparisons among them are decided per block.
func colsLeaf(a, b sql.Column, op sql.CmpOp) *leaf {
	l := &leaf{kind: lkCols, col: a, col2: b, op: op, level: levelRows}
	switch {
	case a.Type() == sql.TypeTime:
		l.level = levelTime
	case a.Type() == sql.TypeString:
		l.level = levelIface
	}
	return l
}

// cmpHolds reports whether op holds for a comparison result c.
func cmpHolds(op sql.CmpOp, c int) bool {
	switch op {
	case sql.OpEq:
		return c == 0
	case sql.OpNe:
		return c != 0
	case sql.OpLt:
		return c < 0
	case sql.OpLe:
		return c <= 0
	case sql.OpGt:
		return c > 0
	}
	return c >= 0
}

// litValue is a literal resolved to the column's value space. For times,
// frac says the literal falls strictly inside second v (v = floor).
type litValue struct {
	v      u128
	sec    int64   // times: whole seconds (floor), may be negative
	frac   bool    // times: the literal falls strictly inside second sec
	family spanSet // addresses: the literal's family
}

// value resolves a literal compared with col.
func (c *compiler) value(col sql.Column, lit sql.Literal) litValue {
	switch l := lit.(type) {
	case *sql.NumberLit:
		return litValue{v: u128{0, l.Value}}
	case *sql.ProtoLit:
		return litValue{v: u128{0, uint64(l.Proto)}}
	case *sql.AddrLit:
		return litValue{v: addrU128(l.Addr), family: familyOf(l.Addr)}
	case *sql.RelTimeLit:
		return timeValue(l.Resolve(c.now))
	case *sql.AbsTimeLit:
		return timeValue(l.Time)
	}
	return litValue{}
}

// timeOf resolves a time literal.
func (c *compiler) timeOf(lit sql.Literal) time.Time {
	if r, ok := lit.(*sql.RelTimeLit); ok {
		return r.Resolve(c.now)
	}
	return lit.(*sql.AbsTimeLit).Time
}

// timeValue splits t into whole seconds (floor) and a fraction flag.
func timeValue(t time.Time) litValue {
	// Unix rounds down, also before the epoch; Nanosecond is in [0, 1e9).
	s := t.Unix()
	return litValue{v: u128{0, uint64(max(s, 0))}, sec: s, frac: t.Nanosecond() != 0}
}

// domain returns every value a column can hold.
func domain(col sql.Column) span {
	switch col.Type() {
	case sql.TypeAddr:
		return allAddrs
	case sql.TypePort:
		return span{u128{}, u128{0, math.MaxUint16}}
	case sql.TypeProto:
		return span{u128{}, u128{0, math.MaxUint8}}
	case sql.TypeTime:
		return span{u128{}, u128{0, math.MaxInt64}}
	}
	return span{u128{}, u128{0, math.MaxUint64}}
}

// opSpans returns the values x of col for which "x op v" holds.
func opSpans(op sql.CmpOp, v litValue, col sql.Column) spanSet {
	dom := domain(col)
	if col.Type() == sql.TypeTime {
		return timeSpans(op, v, dom)
	}
	var s spanSet
	switch op {
	case sql.OpEq:
		s = spanSet{{v.v, v.v}}
	case sql.OpNe:
		return spanSet{{v.v, v.v}}.complement(dom)
	case sql.OpLt:
		if v.v == dom.lo {
			return nil
		}
		s = spanSet{{dom.lo, v.v.dec()}}
	case sql.OpLe:
		s = spanSet{{dom.lo, v.v}}
	case sql.OpGt:
		if v.v == dom.hi {
			return nil
		}
		s = spanSet{{v.v.inc(), dom.hi}}
	case sql.OpGe:
		s = spanSet{{v.v, dom.hi}}
	}
	if v.family != nil && op != sql.OpEq {
		// Ordering comparisons of addresses stay within the literal's
		// family: sip < 10.0.0.5 means IPv4 addresses below it.
		s = s.intersect(v.family)
	}
	return s.intersect(spanSet{dom})
}
