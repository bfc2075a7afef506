package sql

import (
	"fmt"
	"strings"
)

// dump renders an AST as an indented tree with positions, for golden files.
// Values are printed with Go's own formatting (time.Duration, time.Time,
// netip), not with format.go, so the golden files check the formatter too.
func dump(s *Select) string {
	var b strings.Builder
	d := dumper{b: &b}
	d.node(s, 0)
	return b.String()
}

type dumper struct{ b *strings.Builder }

func (d dumper) line(depth int, format string, args ...any) {
	d.b.WriteString(strings.Repeat("  ", depth))
	fmt.Fprintf(d.b, format, args...)
	d.b.WriteByte('\n')
}

func (d dumper) node(n Node, depth int) {
	at := n.Position().String()
	switch n := n.(type) {
	case *Select:
		explain := ""
		if n.Explain {
			explain = " EXPLAIN"
		}
		d.line(depth, "Select@%s%s", at, explain)
		d.line(depth+1, "Items")
		for _, it := range n.Items {
			d.node(it, depth+2)
		}
		if len(n.From) > 0 {
			d.line(depth+1, "From")
			for _, f := range n.From {
				d.node(f, depth+2)
			}
		}
		if n.Where != nil {
			d.line(depth+1, "Where")
			d.node(n.Where, depth+2)
		}
		if len(n.GroupBy) > 0 {
			d.line(depth+1, "GroupBy")
			for _, g := range n.GroupBy {
				d.node(g, depth+2)
			}
		}
		if len(n.OrderBy) > 0 {
			d.line(depth+1, "OrderBy")
			for _, o := range n.OrderBy {
				d.node(o, depth+2)
			}
		}
		if n.Limit != nil {
			d.line(depth+1, "Limit")
			d.node(n.Limit, depth+2)
		}
	case *SelectItem:
		d.line(depth, "Item@%s name=%q", at, n.Name())
		d.node(n.Expr, depth+1)
	case *Iface:
		d.line(depth, "Iface@%s %q", at, n.Name)
	case *OrderItem:
		dir := "ASC"
		if n.Desc {
			dir = "DESC"
		}
		d.line(depth, "OrderItem@%s %s", at, dir)
		d.node(n.Expr, depth+1)
	case *ColumnRef:
		d.line(depth, "ColumnRef@%s %s (%s)", at, n.Column.Name(), n.Column.Type())
	case *Aggregate:
		fn := n.Func.String()
		if n.Func == AggCountDistinct {
			fn = "count distinct"
		}
		d.line(depth, "Aggregate@%s %s", at, fn)
		if n.Arg != nil {
			d.node(n.Arg, depth+1)
		}
	case *Bucket:
		d.line(depth, "Bucket@%s", at)
		d.node(n.Width, depth+1)
	case *ItemRef:
		d.line(depth, "ItemRef@%s item=%d alias=%q", at, n.Index+1, n.Alias)
	case *BinaryExpr:
		d.line(depth, "BinaryExpr@%s %s", at, n.Op)
		d.node(n.Left, depth+1)
		d.node(n.Right, depth+1)
	case *InExpr:
		d.line(depth, "InExpr@%s not=%v", at, n.Not)
		d.node(n.Left, depth+1)
		for _, v := range n.List {
			d.node(v, depth+1)
		}
	case *BetweenExpr:
		d.line(depth, "BetweenExpr@%s not=%v", at, n.Not)
		d.node(n.Left, depth+1)
		d.node(n.Low, depth+1)
		d.node(n.High, depth+1)
	case *AndExpr:
		d.line(depth, "AndExpr@%s", at)
		for _, t := range n.Terms {
			d.node(t, depth+1)
		}
	case *OrExpr:
		d.line(depth, "OrExpr@%s", at)
		for _, t := range n.Terms {
			d.node(t, depth+1)
		}
	case *NotExpr:
		d.line(depth, "NotExpr@%s", at)
		d.node(n.X, depth+1)
	case *NumberLit:
		d.line(depth, "NumberLit@%s %d", at, n.Value)
	case *AddrLit:
		d.line(depth, "AddrLit@%s %s", at, n.Addr.StringExpanded())
	case *PrefixLit:
		d.line(depth, "PrefixLit@%s %s/%d", at, n.Prefix.Addr().StringExpanded(), n.Prefix.Bits())
	case *ProtoLit:
		d.line(depth, "ProtoLit@%s %d", at, n.Proto)
	case *DurationLit:
		d.line(depth, "DurationLit@%s %v", at, n.Duration)
	case *RelTimeLit:
		d.line(depth, "RelTimeLit@%s %v", at, n.Offset)
	case *AbsTimeLit:
		d.line(depth, "AbsTimeLit@%s %v", at, n.Time)
	case *StringLit:
		d.line(depth, "StringLit@%s %q", at, n.Value)
	default:
		d.line(depth, "?%T", n)
	}
}

// stripPositions zeroes every position in the AST so that ASTs parsed from
// different texts can be compared with reflect.DeepEqual.
func stripPositions(s *Select) {
	Walk(s, func(n Node) bool {
		switch n := n.(type) {
		case *Select:
			n.Pos = Pos{}
		case *SelectItem:
			n.Pos = Pos{}
		case *Iface:
			n.Pos = Pos{}
		case *OrderItem:
			n.Pos = Pos{}
		case *ColumnRef:
			n.Pos = Pos{}
		case *Aggregate:
			n.Pos = Pos{}
		case *Bucket:
			n.Pos = Pos{}
		case *ItemRef:
			n.Pos = Pos{}
		case *BinaryExpr:
			n.Pos = Pos{}
		case *InExpr:
			n.Pos = Pos{}
		case *BetweenExpr:
			n.Pos = Pos{}
		case *AndExpr:
			n.Pos = Pos{}
		case *OrExpr:
			n.Pos = Pos{}
		case *NotExpr:
			n.Pos = Pos{}
		case *NumberLit:
			n.Pos = Pos{}
		case *AddrLit:
			n.Pos = Pos{}
		case *PrefixLit:
			n.Pos = Pos{}
		case *ProtoLit:
			n.Pos = Pos{}
		case *DurationLit:
			n.Pos = Pos{}
		case *RelTimeLit:
			n.Pos = Pos{}
		case *AbsTimeLit:
			n.Pos = Pos{}
		case *StringLit:
			n.Pos = Pos{}
		}
		return true
	})
}
