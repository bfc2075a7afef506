package planner

import (
	"fmt"
	"strconv"
	"time"

	"github.com/flowsql/flowsql/sql"
)

// This file holds the semantic checks of Prepare. The parser already
// rejects most bad queries, but a *sql.Select can also be built by hand (a
// Flight server, tests), so the planner checks every rule it relies on
// again and reports each problem as a *sql.Error with the position of the
// offending node, like the parser does.

// qerr builds a query error of the given kind at pos.
func qerr(kind error, pos sql.Pos, hint, format string, args ...any) *sql.Error {
	return &sql.Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Hint: hint, Kind: kind}
}

// check validates a parsed or hand-built query.
func check(s *sql.Select) error {
	if s == nil {
		return qerr(sql.ErrInvalid, sql.Pos{}, "", "no query")
	}
	if len(s.Items) == 0 {
		return qerr(sql.ErrInvalid, s.Pos, "select at least one column or aggregate", "empty select list")
	}
	for _, it := range s.Items {
		if it == nil {
			return qerr(sql.ErrInvalid, s.Pos, "", "nil select item")
		}
		if err := checkItem(it); err != nil {
			return err
		}
	}
	for _, f := range s.From {
		if f == nil || f.Name == "" {
			return qerr(sql.ErrInvalid, s.Pos, "name an interface, as in FROM eth0", "empty interface name in FROM")
		}
	}
	if s.Where != nil {
		if err := checkCond(s.Where, 0); err != nil {
			return err
		}
	}
	for _, g := range s.GroupBy {
		if err := checkGroupKey(s, g); err != nil {
			return err
		}
	}
	for _, o := range s.OrderBy {
		if o == nil {
			return qerr(sql.ErrInvalid, s.Pos, "", "nil ORDER BY key")
		}
		if err := checkOrderKey(s, o); err != nil {
			return err
		}
	}
	return checkGrouping(s)
}

func checkItem(it *sql.SelectItem) error {
	switch e := it.Expr.(type) {
	case *sql.ColumnRef:
		return checkColumn(e)
	case *sql.Aggregate:
		return checkAggregate(e)
	case *sql.Bucket:
		return checkBucket(e)
	case nil:
		return qerr(sql.ErrInvalid, it.Pos, "", "select item without an expression")
	}
	return qerr(sql.ErrInvalid, it.Expr.Position(), "select columns, aggregates like sum(bytes) or bucket(time, 1h)",
		"%s cannot be selected", it.Expr.String())
}

func checkColumn(c *sql.ColumnRef) error {
	if c == nil {
		return qerr(sql.ErrInvalid, sql.Pos{}, "", "missing column")
	}
	if !c.Column.IsValid() {
		return qerr(sql.ErrUnknownColumn, c.Pos, "", "unknown column number %d", c.Column)
	}
	return nil
}

// checkAggregate applies the type rules of aggregates: sum and avg take
// counters; min and max take ordered numbers (time, dport, proto,
// counters); count(DISTINCT) takes any column.
func checkAggregate(a *sql.Aggregate) error {
	switch a.Func {
	case sql.AggCount:
		if a.Arg != nil {
			return qerr(sql.ErrInvalid, a.Pos, "write count(*) or count(DISTINCT col)", "count takes * or DISTINCT and a column")
		}
		return nil
	case sql.AggCountDistinct, sql.AggSum, sql.AggAvg, sql.AggMin, sql.AggMax:
	default:
		return qerr(sql.ErrInvalid, a.Pos, "", "unknown aggregate function number %d", a.Func)
	}
	if a.Arg == nil {
		return qerr(sql.ErrInvalid, a.Pos, "as in "+a.Func.String()+"(bytes)", "%s takes a column", a.Func)
	}
	if err := checkColumn(a.Arg); err != nil {
		return err
	}
	t := a.Arg.Column.Type()
	switch a.Func {
	case sql.AggSum, sql.AggAvg:
		if t != sql.TypeCounter {
			return qerr(sql.ErrType, a.Arg.Pos, "the counters are bytes, packets, bytes_in, bytes_out, packets_in and packets_out",
				"%s needs a counter column, not %s (%s)", a.Func, a.Arg.Column, t)
		}
	case sql.AggMin, sql.AggMax:
		if t == sql.TypeAddr || t == sql.TypeString {
			return qerr(sql.ErrType, a.Arg.Pos, "min and max take time, dport, proto or a counter; to list the values GROUP BY "+a.Arg.Column.Name()+", to count them use count(DISTINCT "+a.Arg.Column.Name()+")",
				"%s of %s (%s) is not supported", a.Func, a.Arg.Column, t)
		}
	}
	return nil
}

// checkBucket requires a positive width of whole seconds: rows carry the
// block start, an integer number of seconds.
func checkBucket(b *sql.Bucket) error {
	const hint = "as in bucket(time, 1h); widths are whole seconds, minutes, hours, days or weeks"
	if b.Width == nil {
		return qerr(sql.ErrInvalid, b.Pos, hint, "bucket needs a width")
	}
	d := b.Width.Duration
	if d <= 0 {
		return qerr(sql.ErrInvalid, b.Width.Pos, hint, "bucket width %s must be positive", d)
	}
	if d%time.Second != 0 {
		return qerr(sql.ErrInvalid, b.Width.Pos, hint, "bucket width %s is not a whole number of seconds", d)
	}
	return nil
}

// maxCondDepth bounds the recursion over hand-built condition trees (the
// parser has its own, lower limit).
const maxCondDepth = 1000

// checkCond checks a WHERE condition: its shape and that every value has
// the type of the column it is compared with.
func checkCond(e sql.Expr, depth int) error {
	if depth > maxCondDepth {
		return qerr(sql.ErrTooComplex, e.Position(), "", "condition nested deeper than %d", maxCondDepth)
	}
	switch e := e.(type) {
	case *sql.AndExpr:
		return checkTerms(e.Pos, e.Terms, "AND", depth)
	case *sql.OrExpr:
		return checkTerms(e.Pos, e.Terms, "OR", depth)
	case *sql.NotExpr:
		if e.X == nil {
			return qerr(sql.ErrInvalid, e.Pos, "", "NOT without a condition")
		}
		return checkCond(e.X, depth+1)
	case *sql.BinaryExpr:
		if err := checkColumn(e.Left); err != nil {
			return err
		}
		if e.Op < sql.OpEq || e.Op > sql.OpGe {
			return qerr(sql.ErrInvalid, e.Pos, "", "unknown comparison operator %d", e.Op)
		}
		if r, ok := e.Right.(*sql.ColumnRef); ok {
			if err := checkColumn(r); err != nil {
				return err
			}
			if r.Column.Type() != e.Left.Column.Type() {
				return qerr(sql.ErrType, r.Pos, "", "cannot compare %s (%s) with %s (%s)", e.Left.Column, e.Left.Column.Type(), r.Column, r.Column.Type())
			}
			return nil
		}
		lit, ok := e.Right.(sql.Literal)
		if !ok || lit == nil {
			return qerr(sql.ErrInvalid, e.Pos, "", "%s %s needs a value or a column on its right", e.Left.Column, e.Op)
		}
		if p, ok := lit.(*sql.PrefixLit); ok {
			return qerr(sql.ErrType, p.Pos, "match a prefix with IN, as in "+e.Left.Column.Name()+" IN "+p.String(),
				"prefix %s cannot be compared with %s", p, e.Op)
		}
		return checkLiteral(e.Left, lit, false)
	case *sql.InExpr:
		if err := checkColumn(e.Left); err != nil {
			return err
		}
		if len(e.List) == 0 {
			return qerr(sql.ErrInvalid, e.Pos, "", "IN needs at least one value")
		}
		for _, v := range e.List {
			if err := checkLiteral(e.Left, v, true); err != nil {
				return err
			}
		}
		return nil
	case *sql.BetweenExpr:
		if err := checkColumn(e.Left); err != nil {
			return err
		}
		for _, v := range []sql.Literal{e.Low, e.High} {
			if err := checkLiteral(e.Left, v, false); err != nil {
				return err
			}
		}
		return nil
	case nil:
		return qerr(sql.ErrInvalid, sql.Pos{}, "", "empty condition")
	}
	return qerr(sql.ErrInvalid, e.Position(), "write a comparison, as in sip = 10.1.2.3 or dport IN (80, 443)",
		"%s is not a condition", e.String())
}

func checkTerms(pos sql.Pos, terms []sql.Expr, op string, depth int) error {
	if len(terms) == 0 {
		return qerr(sql.ErrInvalid, pos, "", "%s without terms", op)
	}
	for _, t := range terms {
		if err := checkCond(t, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func checkGroupKey(s *sql.Select, g sql.Expr) error {
	switch g := g.(type) {
	case *sql.ColumnRef:
		return checkColumn(g)
	case *sql.Bucket:
		return checkBucket(g)
	case *sql.ItemRef:
		if g.Index < 0 || g.Index >= len(s.Items) {
			return itemRange(s, g, "GROUP BY")
		}
		if _, ok := s.Items[g.Index].Expr.(*sql.Aggregate); ok {
			return qerr(sql.ErrInvalid, g.Pos, "item "+strconv.Itoa(g.Index+1)+" is "+s.Items[g.Index].Expr.String(), "cannot GROUP BY an aggregate")
		}
		return nil
	case nil:
		return qerr(sql.ErrInvalid, s.Pos, "", "nil GROUP BY key")
	case *sql.Aggregate:
		return qerr(sql.ErrInvalid, g.Pos, "group by columns or bucket(time, ...)", "cannot GROUP BY an aggregate")
	}
	return qerr(sql.ErrInvalid, g.Position(), "group by columns, aliases, positions or bucket(time, ...)", "cannot GROUP BY %s", g.String())
}

func checkOrderKey(s *sql.Select, o *sql.OrderItem) error {
	switch e := o.Expr.(type) {
	case *sql.ColumnRef:
		return checkColumn(e)
	case *sql.Bucket:
		return checkBucket(e)
	case *sql.Aggregate:
		return checkAggregate(e)
	case *sql.ItemRef:
		if e.Index < 0 || e.Index >= len(s.Items) {
			return itemRange(s, e, "ORDER BY")
		}
		return nil
	case nil:
		return qerr(sql.ErrInvalid, o.Pos, "", "ORDER BY key without an expression")
	}
	return qerr(sql.ErrInvalid, o.Expr.Position(), "order by a column, an alias, a 1-based position or an aggregate", "cannot ORDER BY %s", o.Expr.String())
}

func itemRange(s *sql.Select, r *sql.ItemRef, clause string) error {
	n := len(s.Items)
	hint := fmt.Sprintf("the select list has %d item(s), numbered from 1", n)
	if r.Alias != "" {
		return qerr(sql.ErrInvalid, r.Pos, hint, "%s alias %q refers to no select item", clause, r.Alias)
	}
	return qerr(sql.ErrInvalid, r.Pos, hint, "%s position %d is out of range", clause, r.Index+1)
}

// isAggQuery reports whether s aggregates: it has GROUP BY or an aggregate
// in the select list or ORDER BY. Otherwise it lists rows.
func isAggQuery(s *sql.Select) bool {
	if len(s.GroupBy) > 0 {
		return true
	}
	for _, it := range s.Items {
		if _, ok := it.Expr.(*sql.Aggregate); ok {
			return true
		}
	}
	for _, o := range s.OrderBy {
		if _, ok := o.Expr.(*sql.Aggregate); ok {
			return true
		}
	}
	return false
}

// checkGrouping enforces the grouping rule of aggregate queries: every
// selected or ordered expression that is not an aggregate is a GROUP BY key.
func checkGrouping(s *sql.Select) error {
	if !isAggQuery(s) {
		return nil
	}
	keys := map[string]bool{}
	for _, g := range s.GroupBy {
		keys[groupExpr(s, g).String()] = true
	}
	for _, it := range s.Items {
		if _, ok := it.Expr.(*sql.Aggregate); ok || keys[it.Expr.String()] {
			continue
		}
		x := it.Expr.String()
		return qerr(sql.ErrInvalid, it.Pos, "add GROUP BY "+x+", or aggregate it, as in count(DISTINCT "+x+")",
			"%s must be in GROUP BY or inside an aggregate", x)
	}
	for _, o := range s.OrderBy {
		switch e := o.Expr.(type) {
		case *sql.ColumnRef, *sql.Bucket:
			if !keys[e.String()] {
				return qerr(sql.ErrInvalid, o.Pos, "order by a GROUP BY key or an aggregate", "ORDER BY %s must be in GROUP BY or inside an aggregate", e.String())
			}
		}
	}
	return nil
}

// groupExpr resolves a GROUP BY key to its expression.
func groupExpr(s *sql.Select, g sql.Expr) sql.Expr {
	if r, ok := g.(*sql.ItemRef); ok {
		return s.Items[r.Index].Expr
	}
	return g
}
