package sql

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/alecthomas/participle/v2/lexer"
)

// Pos is a position in the query text. Line and Col count from 1; Col
// counts characters (runes), Offset bytes. The zero Pos is "unknown".
type Pos struct {
	Offset int
	Line   int
	Col    int
}

// String returns "line:col".
func (p Pos) String() string {
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// IsValid reports whether p is a known position.
func (p Pos) IsValid() bool { return p.Line > 0 }

func (p Pos) lexer() lexer.Position {
	return lexer.Position{Offset: p.Offset, Line: p.Line, Column: p.Col}
}

func posOf(p lexer.Position) Pos { return Pos{Offset: p.Offset, Line: p.Line, Col: p.Column} }

// Node is any node of the AST.
type Node interface {
	// Position returns where the node starts in the query text.
	Position() Pos
	// String returns the node as canonical SQL (see format.go).
	String() string
	node()
}

// Expr is an expression: a column, aggregate, bucket, select-item
// reference, literal or condition.
type Expr interface {
	Node
	expr()
}

// Literal is a constant value: *NumberLit, *AddrLit, *PrefixLit, *ProtoLit,
// *DurationLit, *RelTimeLit, *AbsTimeLit or *StringLit.
type Literal interface {
	Expr
	literal()
}

// Select is a parsed query.
type Select struct {
	Pos     Pos
	Explain bool          // EXPLAIN SELECT ...
	Items   []*SelectItem // at least one; SELECT * is expanded to the raw columns
	From    []*Iface      // empty: every interface (no FROM, FROM any, FROM flows)
	Where   Expr          // nil: no filter; else a condition (see Expr types below)
	GroupBy []Expr        // *ColumnRef, *Bucket or *ItemRef
	OrderBy []*OrderItem
	Limit   *NumberLit // nil: no limit
}

// SelectItem is one output column.
type SelectItem struct {
	Pos   Pos
	Expr  Expr   // *ColumnRef, *Aggregate or *Bucket
	Alias string // "" when no AS
}

// Name returns the item's output name: its alias, or else its canonical SQL
// text, e.g. "sum(bytes)".
func (it *SelectItem) Name() string {
	if it.Alias != "" {
		return it.Alias
	}
	return it.Expr.String()
}

// Iface is an interface named in FROM.
type Iface struct {
	Pos  Pos
	Name string
}

// OrderItem is one ORDER BY key.
type OrderItem struct {
	Pos  Pos
	Expr Expr // *ColumnRef, *Aggregate, *Bucket or *ItemRef
	Desc bool
}

// ColumnRef is a reference to a column of flows.
type ColumnRef struct {
	Pos    Pos
	Column Column
}

// Aggregate is an aggregate call: count(*), count(DISTINCT col), sum(col),
// min(col), max(col) or avg(col).
type Aggregate struct {
	Pos  Pos
	Func AggFunc
	Arg  *ColumnRef // nil for count(*)
}

// Bucket is bucket(time, width): time rounded down to a multiple of Width.
type Bucket struct {
	Pos   Pos
	Width *DurationLit // > 0
}

// ItemRef refers to a select item from GROUP BY or ORDER BY, by alias or by
// 1-based position.
type ItemRef struct {
	Pos   Pos
	Index int    // 0-based index into Select.Items
	Alias string // the alias used; "" for a position
}

// CmpOp is a comparison operator.
type CmpOp uint8

// Comparison operators; <> is parsed as OpNe.
const (
	OpEq CmpOp = iota + 1 // =
	OpNe                  // != or <>
	OpLt                  // <
	OpLe                  // <=
	OpGt                  // >
	OpGe                  // >=
)

// BinaryExpr is a comparison "column op value" or "column op column".
type BinaryExpr struct {
	Pos   Pos
	Op    CmpOp
	Left  *ColumnRef
	Right Expr // a Literal of the column's kind, or a *ColumnRef of the same type
}

// InExpr is "column [NOT] IN (v, ...)"; for addresses each value is an
// *AddrLit or a *PrefixLit (containment).
type InExpr struct {
	Pos  Pos
	Left *ColumnRef
	Not  bool
	List []Literal // at least one
}

// BetweenExpr is "column [NOT] BETWEEN low AND high", bounds included.
type BetweenExpr struct {
	Pos       Pos
	Left      *ColumnRef
	Not       bool
	Low, High Literal
}

// AndExpr is a conjunction of two or more terms, none itself an *AndExpr.
type AndExpr struct {
	Pos   Pos
	Terms []Expr
}

// OrExpr is a disjunction of two or more terms, none itself an *OrExpr.
type OrExpr struct {
	Pos   Pos
	Terms []Expr
}

// NotExpr is NOT X.
type NotExpr struct {
	Pos Pos
	X   Expr
}

// NumberLit is an unsigned integer.
type NumberLit struct {
	Pos   Pos
	Value uint64
}

// AddrLit is an IPv4 or IPv6 address (no zone).
type AddrLit struct {
	Pos  Pos
	Addr netip.Addr
}

// PrefixLit is a CIDR prefix with no host bits set.
type PrefixLit struct {
	Pos    Pos
	Prefix netip.Prefix
}

// ProtoLit is an IP protocol number, written as a name or a number.
type ProtoLit struct {
	Pos   Pos
	Proto uint8
}

// DurationLit is a positive length of time (bucket widths).
type DurationLit struct {
	Pos      Pos
	Duration time.Duration
}

// RelTimeLit is a time relative to the moment the query runs: Offset is <= 0
// (-24h is 24 hours ago).
type RelTimeLit struct {
	Pos    Pos
	Offset time.Duration
}

// Resolve returns the absolute time for a query running at now.
func (l *RelTimeLit) Resolve(now time.Time) time.Time { return now.Add(l.Offset) }

// AbsTimeLit is an absolute time, in UTC.
type AbsTimeLit struct {
	Pos  Pos
	Time time.Time
}

// StringLit is a quoted string or a bare name compared with iface or host.
type StringLit struct {
	Pos   Pos
	Value string
}

// Position implementations.
func (n *Select) Position() Pos      { return n.Pos }
func (n *SelectItem) Position() Pos  { return n.Pos }
func (n *Iface) Position() Pos       { return n.Pos }
func (n *OrderItem) Position() Pos   { return n.Pos }
func (n *ColumnRef) Position() Pos   { return n.Pos }
func (n *Aggregate) Position() Pos   { return n.Pos }
func (n *Bucket) Position() Pos      { return n.Pos }
func (n *ItemRef) Position() Pos     { return n.Pos }
func (n *BinaryExpr) Position() Pos  { return n.Pos }
func (n *InExpr) Position() Pos      { return n.Pos }
func (n *BetweenExpr) Position() Pos { return n.Pos }
func (n *AndExpr) Position() Pos     { return n.Pos }
func (n *OrExpr) Position() Pos      { return n.Pos }
func (n *NotExpr) Position() Pos     { return n.Pos }
func (n *NumberLit) Position() Pos   { return n.Pos }
func (n *AddrLit) Position() Pos     { return n.Pos }
func (n *PrefixLit) Position() Pos   { return n.Pos }
func (n *ProtoLit) Position() Pos    { return n.Pos }
func (n *DurationLit) Position() Pos { return n.Pos }
func (n *RelTimeLit) Position() Pos  { return n.Pos }
func (n *AbsTimeLit) Position() Pos  { return n.Pos }
func (n *StringLit) Position() Pos   { return n.Pos }

func (*Select) node()      {}
func (*SelectItem) node()  {}
func (*Iface) node()       {}
func (*OrderItem) node()   {}
func (*ColumnRef) node()   {}
func (*Aggregate) node()   {}
func (*Bucket) node()      {}
func (*ItemRef) node()     {}
func (*BinaryExpr) node()  {}
func (*InExpr) node()      {}
func (*BetweenExpr) node() {}
func (*AndExpr) node()     {}
func (*OrExpr) node()      {}
func (*NotExpr) node()     {}
func (*NumberLit) node()   {}
func (*AddrLit) node()     {}
func (*PrefixLit) node()   {}
func (*ProtoLit) node()    {}
func (*DurationLit) node() {}
func (*RelTimeLit) node()  {}
func (*AbsTimeLit) node()  {}
func (*StringLit) node()   {}

func (*ColumnRef) expr()   {}
func (*Aggregate) expr()   {}
func (*Bucket) expr()      {}
func (*ItemRef) expr()     {}
func (*BinaryExpr) expr()  {}
func (*InExpr) expr()      {}
func (*BetweenExpr) expr() {}
func (*AndExpr) expr()     {}
func (*OrExpr) expr()      {}
func (*NotExpr) expr()     {}
func (*NumberLit) expr()   {}
func (*AddrLit) expr()     {}
func (*PrefixLit) expr()   {}
func (*ProtoLit) expr()    {}
func (*DurationLit) expr() {}
func (*RelTimeLit) expr()  {}
func (*AbsTimeLit) expr()  {}
func (*StringLit) expr()   {}

func (*NumberLit) literal()   {}
func (*AddrLit) literal()     {}
func (*PrefixLit) literal()   {}
func (*ProtoLit) literal()    {}
func (*DurationLit) literal() {}
func (*RelTimeLit) literal()  {}
func (*AbsTimeLit) literal()  {}
func (*StringLit) literal()   {}
