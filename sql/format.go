package sql

import (
	"strconv"
	"strings"
)

// Canonical SQL. String on any node prints it in one canonical form:
// keywords upper case, names and functions lower case, single spaces,
// <> as !=, ASC left out, literals in the form below. Parsing the output of
// (*Select).String gives back the same AST except for positions, which the
// fuzz test checks. Two expressions mean the same thing when their String
// values are equal.
//
//	number     80              address  10.1.2.3, 2001:db8::1
//	prefix     10.0.0.0/8      protocol tcp (or its number if it has no name)
//	duration   1d12h, 30s      relative -24h
//	absolute   '2025-03-10T11:00:00Z'   string 'eth0'
//	IN         x IN (v, ...)   always parenthesized

func (n *Select) String() string      { return string(appendNode(nil, n)) }
func (n *SelectItem) String() string  { return string(appendNode(nil, n)) }
func (n *Iface) String() string       { return string(appendNode(nil, n)) }
func (n *OrderItem) String() string   { return string(appendNode(nil, n)) }
func (n *ColumnRef) String() string   { return n.Column.Name() }
func (n *Aggregate) String() string   { return string(appendNode(nil, n)) }
func (n *Bucket) String() string      { return string(appendNode(nil, n)) }
func (n *ItemRef) String() string     { return string(appendNode(nil, n)) }
func (n *BinaryExpr) String() string  { return string(appendNode(nil, n)) }
func (n *InExpr) String() string      { return string(appendNode(nil, n)) }
func (n *BetweenExpr) String() string { return string(appendNode(nil, n)) }
func (n *AndExpr) String() string     { return string(appendNode(nil, n)) }
func (n *OrExpr) String() string      { return string(appendNode(nil, n)) }
func (n *NotExpr) String() string     { return string(appendNode(nil, n)) }
func (n *NumberLit) String() string   { return strconv.FormatUint(n.Value, 10) }
func (n *AddrLit) String() string     { return n.Addr.String() }
func (n *PrefixLit) String() string   { return n.Prefix.String() }
func (n *ProtoLit) String() string    { return ProtoName(n.Proto) }
func (n *DurationLit) String() string { return formatDuration(n.Duration) }
func (n *RelTimeLit) String() string  { return "-" + formatDuration(-n.Offset) }
func (n *AbsTimeLit) String() string  { return quoteString(formatTime(n.Time)) }
func (n *StringLit) String() string   { return quoteString(n.Value) }

// String returns the operator as written in canonical SQL.
func (op CmpOp) String() string {
	switch op {
	case OpEq:
		return "="
	case OpNe:
		return "!="
	case OpLt:
		return "<"
	case OpLe:
		return "<="
	case OpGt:
		return ">"
	case OpGe:
		return ">="
	}
	return "?"
}

// appendNode appends the canonical SQL of n to dst.
func appendNode(dst []byte, n Node) []byte {
	switch n := n.(type) {
	case *Select:
		return appendSelect(dst, n)
	case *SelectItem:
		dst = appendNode(dst, n.Expr)
		if n.Alias != "" {
			dst = append(dst, " AS "...)
			dst = append(dst, quoteName(n.Alias)...)
		}
		return dst
	case *Iface:
		if isBareName(n.Name) && !strings.EqualFold(n.Name, "any") && !strings.EqualFold(n.Name, "flows") {
			return append(dst, n.Name...)
		}
		return append(dst, quoteString(n.Name)...)
	case *OrderItem:
		dst = appendNode(dst, n.Expr)
		if n.Desc {
			dst = append(dst, " DESC"...)
		}
		return dst
	case *Aggregate:
		dst = append(dst, n.Func.String()...)
		switch {
		case n.Arg == nil:
			return append(dst, "(*)"...)
		case n.Func == AggCountDistinct:
			dst = append(dst, "(DISTINCT "...)
		default:
			dst = append(dst, '(')
		}
		dst = append(dst, n.Arg.Column.Name()...)
		return append(dst, ')')
	case *Bucket:
		dst = append(dst, "bucket(time, "...)
		if n.Width != nil {
			dst = append(dst, n.Width.String()...)
		}
		return append(dst, ')')
	case *ItemRef:
		if n.Alias != "" {
			return append(dst, quoteName(n.Alias)...)
		}
		return strconv.AppendInt(dst, int64(n.Index)+1, 10)
	case *BinaryExpr:
		dst = appendNode(dst, n.Left)
		dst = append(dst, ' ')
		dst = append(dst, n.Op.String()...)
		dst = append(dst, ' ')
		return appendNode(dst, n.Right)
	case *InExpr:
		dst = appendNode(dst, n.Left)
		dst = appendNot(dst, n.Not)
		dst = append(dst, " IN ("...)
		for i, v := range n.List {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendNode(dst, v)
		}
		return append(dst, ')')
	case *BetweenExpr:
		dst = appendNode(dst, n.Left)
		dst = appendNot(dst, n.Not)
		dst = append(dst, " BETWEEN "...)
		dst = appendNode(dst, n.Low)
		dst = append(dst, " AND "...)
		return appendNode(dst, n.High)
	case *AndExpr:
		return appendTerms(dst, n.Terms, " AND ")
	case *OrExpr:
		return appendTerms(dst, n.Terms, " OR ")
	case *NotExpr:
		dst = append(dst, "NOT "...)
		return appendOperand(dst, n.X)
	case nil:
		return dst
	}
	return append(dst, n.String()...)
}

func appendNot(dst []byte, not bool) []byte {
	if not {
		dst = append(dst, " NOT"...)
	}
	return dst
}

// appendTerms joins the terms of AND or OR. An OR term is parenthesized;
// an AND term only inside an AND. Parsed ASTs are flat, so the nested cases
// of the same operator only arise in hand-built ones.
func appendTerms(dst []byte, terms []Expr, sep string) []byte {
	for i, t := range terms {
		if i > 0 {
			dst = append(dst, sep...)
		}
		switch t.(type) {
		case *OrExpr:
			dst = appendParen(dst, t)
		case *AndExpr:
			if sep == " AND " {
				dst = appendParen(dst, t)
			} else {
				dst = appendNode(dst, t)
			}
		default:
			dst = appendNode(dst, t)
		}
	}
	return dst
}

// appendOperand writes the operand of NOT, parenthesized when it is AND or OR.
func appendOperand(dst []byte, e Expr) []byte {
	switch e.(type) {
	case *AndExpr, *OrExpr:
		return appendParen(dst, e)
	}
	return appendNode(dst, e)
}

func appendParen(dst []byte, e Expr) []byte {
	dst = append(dst, '(')
	dst = appendNode(dst, e)
	return append(dst, ')')
}

func appendSelect(dst []byte, s *Select) []byte {
	if s.Explain {
		dst = append(dst, "EXPLAIN "...)
	}
	dst = append(dst, "SELECT "...)
	for i, it := range s.Items {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendNode(dst, it)
	}
	for i, f := range s.From {
		if i == 0 {
			dst = append(dst, " FROM "...)
		} else {
			dst = append(dst, ", "...)
		}
		dst = appendNode(dst, f)
	}
	if s.Where != nil {
		dst = append(dst, " WHERE "...)
		dst = appendNode(dst, s.Where)
	}
	for i, g := range s.GroupBy {
		if i == 0 {
			dst = append(dst, " GROUP BY "...)
		} else {
			dst = append(dst, ", "...)
		}
		dst = appendNode(dst, g)
	}
	for i, o := range s.OrderBy {
		if i == 0 {
			dst = append(dst, " ORDER BY "...)
		} else {
			dst = append(dst, ", "...)
		}
		dst = appendNode(dst, o)
	}
	if s.Limit != nil {
		dst = append(dst, " LIMIT "...)
		dst = appendNode(dst, s.Limit)
	}
	return dst
}
