package sql

import (
	"cmp"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// call converts a function call: bucket(time, width) or an aggregate
// (allowed only where allowAgg).
func (b *builder) call(t *gTerm, allowAgg bool) (Expr, error) {
	tok, c := t.Tok, t.Call
	pos := posOf(tok.Pos)
	name := strings.ToLower(tok.Value)
	if name == "bucket" {
		return bucket(t)
	}
	f, ok := aggByName(name)
	if !ok {
		return nil, errorf(ErrUnknownFunction, pos, "unknown function %q", tok.Value).
			withSuggestion(suggest(tok.Value, functionNames[:], functionSynonyms))
	}
	if !allowAgg {
		return nil, errorf(ErrInvalid, pos, "cannot GROUP BY an aggregate")
	}
	usage := name + " takes one column, as in " + name + "(bytes)"
	if f == AggCount {
		usage = "count(*) counts flows; count(DISTINCT sip) estimates distinct values"
	}
	switch {
	case c.Star && f == AggCount:
		return &Aggregate{Pos: pos, Func: AggCount}, nil
	case c.Star:
		return nil, errorf(ErrInvalid, pos, "%s(*) is not allowed", name).withHint(usage)
	case len(c.Args) != 1:
		return nil, errorf(ErrInvalid, pos, "%s takes one argument, got %d", name, len(c.Args)).withHint(usage)
	case f == AggCount && !c.Distinct:
		return nil, errorf(ErrInvalid, pos, "count takes * or DISTINCT and a column").withHint(usage)
	case f == AggCount:
		f = AggCountDistinct
	case c.Distinct:
		return nil, errorf(ErrInvalid, pos, "DISTINCT is only allowed in count").withHint(usage)
	}
	argTok := c.Args[0].Tok
	if argTok.Type != tokIdent {
		return nil, errorf(ErrType, posOf(argTok.Pos), "%s takes a column, not %s %q", name, tokenKind(argTok.Type), argTok.Value).withHint(usage)
	}
	arg, err := column(argTok)
	if err != nil {
		return nil, err
	}
	if (f == AggSum || f == AggAvg) && arg.Column.Type() != TypeCounter {
		return nil, errorf(ErrType, arg.Pos, "%s needs a counter column, not %s (%s)", name, arg.Column.Name(), arg.Column.Type()).
			withHint("the counters are bytes, packets, bytes_in, bytes_out, packets_in and packets_out")
	}
	return &Aggregate{Pos: pos, Func: f, Arg: arg}, nil
}

// bucket converts bucket(time, width).
func bucket(t *gTerm) (Expr, error) {
	c, pos := t.Call, posOf(t.Tok.Pos)
	const usage = "as in bucket(time, 1h); widths take units s, m, h, d, w"
	if c.Star || c.Distinct || len(c.Args) != 2 {
		return nil, errorf(ErrInvalid, pos, "bucket takes the time column and a width").withHint(usage)
	}
	a0, a1 := c.Args[0].Tok, c.Args[1].Tok
	if a0.Type != tokIdent {
		return nil, errorf(ErrType, posOf(a0.Pos), "bucket takes the time column, not %s %q", tokenKind(a0.Type), a0.Value).withHint(usage)
	}
	col, err := column(a0)
	if err != nil {
		return nil, err
	}
	if col.Column != ColTime {
		return nil, errorf(ErrType, col.Pos, "bucket works on time, not %s", col.Column.Name()).withHint(usage)
	}
	if a1.Type != tokDuration {
		return nil, errorf(ErrType, posOf(a1.Pos), "bucket width must be a duration, not %s %q", tokenKind(a1.Type), a1.Value).withHint(usage)
	}
	d, _ := parseDuration(strings.TrimPrefix(a1.Value, "-"))
	if strings.HasPrefix(a1.Value, "-") || d <= 0 {
		return nil, errorf(ErrBadLiteral, posOf(a1.Pos), "bucket width %s must be positive", a1.Value).withHint(usage)
	}
	return &Bucket{Pos: pos, Width: &DurationLit{Pos: posOf(a1.Pos), Duration: d}}, nil
}

// or converts a disjunction, flattening nested ORs.
func (b *builder) or(g *gOr) (Expr, error) {
	var terms []Expr
	for _, a := range g.Terms {
		e, err := b.and(a)
		if err != nil {
			return nil, err
		}
		if o, ok := e.(*OrExpr); ok {
			terms = append(terms, o.Terms...)
		} else {
			terms = append(terms, e)
		}
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &OrExpr{Pos: posOf(g.Pos), Terms: terms}, nil
}

// and converts a conjunction, flattening nested ANDs.
func (b *builder) and(g *gAnd) (Expr, error) {
	var terms []Expr
	for _, n := range g.Terms {
		e, err := b.not(n)
		if err != nil {
			return nil, err
		}
		if a, ok := e.(*AndExpr); ok {
			terms = append(terms, a.Terms...)
		} else {
			terms = append(terms, e)
		}
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &AndExpr{Pos: posOf(g.Pos), Terms: terms}, nil
}

func (b *builder) not(g *gNot) (Expr, error) {
	switch {
	case g.Not != nil:
		x, err := b.not(g.Not)
		if err != nil {
			return nil, err
		}
		return &NotExpr{Pos: posOf(g.Pos), X: x}, nil
	case g.Paren != nil:
		return b.or(g.Paren)
	}
	return b.pred(g.Pred)
}

// cmpOp maps an operator token to its CmpOp; ok is false for anything else.
func cmpOp(s string) (op CmpOp, ok bool) {
	switch s {
	case "=":
		return OpEq, true
	case "!=", "<>":
		return OpNe, true
	case "<":
		return OpLt, true
	case "<=":
		return OpLe, true
	case ">":
		return OpGt, true
	case ">=":
		return OpGe, true
	}
	return 0, false
}

// pred converts a comparison, IN or BETWEEN on a column.
func (b *builder) pred(g *gPred) (Expr, error) {
	lt := g.Left.Tok
	if lt.Type != tokIdent {
		return nil, errorf(ErrSyntax, posOf(lt.Pos), "a condition must start with a column, not %s %q", tokenKind(lt.Type), lt.Value).
			withHint("write column op value, as in sip = 10.1.2.3")
	}
	left, err := column(lt)
	if err != nil {
		return nil, err
	}
	pos := posOf(g.Pos)
	switch {
	case g.In != nil:
		in := &InExpr{Pos: pos, Left: left, Not: g.Not}
		for _, v := range g.In.List {
			l, err := b.literal(v.Tok, left, "IN", true)
			if err != nil {
				return nil, err
			}
			in.List = append(in.List, l)
		}
		return in, nil
	case g.Between != nil:
		lo, err := b.literal(g.Between.Low.Tok, left, "BETWEEN", false)
		if err != nil {
			return nil, err
		}
		hi, err := b.literal(g.Between.High.Tok, left, "BETWEEN", false)
		if err != nil {
			return nil, err
		}
		if err := checkRange(lo, hi); err != nil {
			return nil, err
		}
		return &BetweenExpr{Pos: pos, Left: left, Not: g.Not, Low: lo, High: hi}, nil
	}
	op, ok := cmpOp(g.Op)
	if !ok || g.Right == nil { // the grammar allows neither; kept for hand-made trees
		return nil, errorf(ErrSyntax, pos, "incomplete condition on %s", left.Column.Name())
	}
	right, err := b.value(g.Right.Tok, left)
	if err != nil {
		return nil, err
	}
	if p, ok := right.(*PrefixLit); ok {
		in := "IN"
		if op == OpNe {
			in = "NOT IN"
		}
		return nil, errorf(ErrType, p.Pos, "prefix %s cannot be compared with %s", p, g.Op).
			withHint("match a prefix with " + in + ", as in " + left.Column.Name() + " " + in + " " + p.String())
	}
	return &BinaryExpr{Pos: pos, Op: op, Left: left, Right: right}, nil
}

// literal converts a value of an IN list or BETWEEN bound, where columns
// are not allowed and prefixes only in IN.
func (b *builder) literal(tok lexer.Token, left *ColumnRef, clause string, prefixOK bool) (Literal, error) {
	v, err := b.value(tok, left)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case *ColumnRef:
		return nil, errorf(ErrType, v.Pos, "%s takes values, not the column %s", clause, v.Column.Name())
	case *PrefixLit:
		if !prefixOK {
			return nil, errorf(ErrType, v.Pos, "%s takes addresses, not the prefix %s", clause, v).
				withHint("match a prefix with IN, as in " + left.Column.Name() + " IN " + v.String())
		}
	}
	return v.(Literal), nil
}

// checkRange rejects BETWEEN bounds that are reversed or of different
// address families. Bounds that cannot be ordered here (a relative and an
// absolute time) are left to the planner.
func checkRange(lo, hi Literal) error {
	c := 0
	switch l := lo.(type) {
	case *NumberLit:
		if h, ok := hi.(*NumberLit); ok {
			c = cmp.Compare(l.Value, h.Value)
		}
	case *ProtoLit:
		if h, ok := hi.(*ProtoLit); ok {
			c = cmp.Compare(l.Proto, h.Proto)
		}
	case *AddrLit:
		if h, ok := hi.(*AddrLit); ok {
			if l.Addr.BitLen() != h.Addr.BitLen() {
				return errorf(ErrType, h.Pos, "BETWEEN bounds %s and %s are of different address families", l, h)
			}
			c = l.Addr.Compare(h.Addr)
		}
	case *StringLit:
		if h, ok := hi.(*StringLit); ok {
			c = strings.Compare(l.Value, h.Value)
		}
	case *AbsTimeLit:
		if h, ok := hi.(*AbsTimeLit); ok {
			c = l.Time.Compare(h.Time)
		}
	case *RelTimeLit:
		if h, ok := hi.(*RelTimeLit); ok {
			c = cmp.Compare(l.Offset, h.Offset)
		}
	}
	if c > 0 {
		return errorf(ErrInvalid, lo.Position(), "BETWEEN bounds are reversed: %s is greater than %s", lo, hi).
			withHint("write BETWEEN " + hi.String() + " AND " + lo.String())
	}
	return nil
}
