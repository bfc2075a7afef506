package planner

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/sql"
)

// The slow evaluator: every row of every block, read with ReadBlock, the
// AST evaluated directly per row, groups in a Go map, a full sort. It
// shares no code with the engine beyond the AST; the engine must agree
// with it exactly (count(DISTINCT) within the sketch's error).

type slowRow struct {
	start     int64
	iface     string
	sip, dip  netip.Addr
	dport     uint16
	proto     uint8
	bin, bout uint64
	pin, pout uint64
	host      string
}

// slowRows reads every row of db in storage order (interface, start, row).
func slowRows(tb testing.TB, db *columnar.DB, host string) []slowRow {
	tb.Helper()
	ctx := context.Background()
	metas, err := db.Blocks(ctx, columnar.Selector{})
	if err != nil {
		tb.Fatal(err)
	}
	var out []slowRow
	for i := range metas {
		b, err := db.ReadBlock(ctx, &metas[i], nil)
		if err != nil {
			tb.Fatalf("ReadBlock %s@%d: %v", metas[i].Iface, metas[i].Start, err)
		}
		out = append(out, slowBlockRows(b)...)
	}
	for i := range out {
		out[i].host = host
	}
	return out
}

// slowBlockRows converts a block to rows (host is set by the caller).
func slowBlockRows(b *columnar.Block) []slowRow {
	out := make([]slowRow, b.Len())
	for j := range out {
		out[j] = slowRow{
			start: b.Start, iface: b.Iface, host: testHost,
			sip: netip.AddrFrom16(b.SIP[j]).Unmap(), dip: netip.AddrFrom16(b.DIP[j]).Unmap(),
			dport: b.DPort[j], proto: b.Proto[j],
			bin: b.BytesIn[j], bout: b.BytesOut[j], pin: b.PacketsIn[j], pout: b.PacketsOut[j],
		}
	}
	return out
}

func (r *slowRow) val(c sql.Column) any {
	switch c {
	case sql.ColTime:
		return time.Unix(r.start, 0).UTC()
	case sql.ColIface:
		return r.iface
	case sql.ColHost:
		return r.host
	case sql.ColSIP:
		return r.sip
	case sql.ColDIP:
		return r.dip
	case sql.ColDPort:
		return uint64(r.dport)
	case sql.ColProto:
		return uint64(r.proto)
	case sql.ColBytesIn:
		return r.bin
	case sql.ColBytesOut:
		return r.bout
	case sql.ColPacketsIn:
		return r.pin
	case sql.ColPacketsOut:
		return r.pout
	case sql.ColBytes:
		return r.bin + r.bout
	case sql.ColPackets:
		return r.pin + r.pout
	}
	panic("bad column")
}

func slowLit(l sql.Literal, now time.Time) any {
	switch l := l.(type) {
	case *sql.NumberLit:
		return l.Value
	case *sql.ProtoLit:
		return uint64(l.Proto)
	case *sql.AddrLit:
		return l.Addr.Unmap()
	case *sql.RelTimeLit:
		return l.Resolve(now)
	case *sql.AbsTimeLit:
		return l.Time
	case *sql.StringLit:
		return l.Value
	case *sql.PrefixLit:
		return l.Prefix
	}
	panic(fmt.Sprintf("bad literal %T", l))
}

// slowCmp compares two values of one type. Addresses compare in their
// 16-byte form; ok is false for an ordering between address families.
func slowCmp(a, b any) (c int, sameFamily bool) {
	switch a := a.(type) {
	case uint64:
		return cmp.Compare(a, b.(uint64)), true
	case string:
		return cmp.Compare(a, b.(string)), true
	case time.Time:
		return a.Compare(b.(time.Time)), true
	case netip.Addr:
		bb := b.(netip.Addr)
		x, y := a.As16(), bb.As16()
		return slices.Compare(x[:], y[:]), a.Is4() == bb.Is4()
	case float64:
		return cmp.Compare(a, b.(float64)), true
	case nil:
		if b == nil {
			return 0, true
		}
		return -1, true
	}
	panic(fmt.Sprintf("bad value %T", a))
}

func slowOp(op sql.CmpOp, a, b any) bool {
	c, same := slowCmp(a, b)
	switch op {
	case sql.OpEq:
		return same && c == 0
	case sql.OpNe:
		return !same || c != 0
	}
	if _, isAddr := a.(netip.Addr); isAddr && !same {
		return false
	}
	return cmpHoldsSlow(op, c)
}

func cmpHoldsSlow(op sql.CmpOp, c int) bool {
	return op == sql.OpLt && c < 0 || op == sql.OpLe && c <= 0 || op == sql.OpGt && c > 0 || op == sql.OpGe && c >= 0 ||
		op == sql.OpEq && c == 0 || op == sql.OpNe && c != 0
}

func slowCond(e sql.Expr, r *slowRow, now time.Time) bool {
	switch e := e.(type) {
	case *sql.AndExpr:
		for _, t := range e.Terms {
			if !slowCond(t, r, now) {
				return false
			}
		}
		return true
	case *sql.OrExpr:
		for _, t := range e.Terms {
			if slowCond(t, r, now) {
				return true
			}
		}
		return false
	case *sql.NotExpr:
		return !slowCond(e.X, r, now)
	case *sql.BinaryExpr:
		var right any
		if c, ok := e.Right.(*sql.ColumnRef); ok {
			right = r.val(c.Column)
		} else {
			right = slowLit(e.Right.(sql.Literal), now)
		}
		return slowOp(e.Op, r.val(e.Left.Column), right)
	case *sql.InExpr:
		v := r.val(e.Left.Column)
		in := false
		for _, l := range e.List {
			x := slowLit(l, now)
			if p, ok := x.(netip.Prefix); ok {
				in = in || p.Contains(v.(netip.Addr))
			} else {
				in = in || slowOp(sql.OpEq, v, x)
			}
		}
		return in != e.Not
	case *sql.BetweenExpr:
		v := r.val(e.Left.Column)
		ok := slowOp(sql.OpGe, v, slowLit(e.Low, now)) && slowOp(sql.OpLe, v, slowLit(e.High, now))
		return ok != e.Not
	}
	panic(fmt.Sprintf("bad condition %T", e))
}

// slowExpr evaluates a column or bucket for a row.
func slowExpr(e sql.Expr, r *slowRow) any {
	switch e := e.(type) {
	case *sql.ColumnRef:
		return r.val(e.Column)
	case *sql.Bucket:
		w := int64(e.Width.Duration / time.Second)
		return time.Unix(r.start/w*w, 0).UTC()
	}
	panic(fmt.Sprintf("bad expression %T", e))
}

// slowAgg accumulates one aggregate of one group.
type slowAgg struct {
	fn       sql.AggFunc
	col      sql.Column
	n        uint64
	sum      uint64
	min, max any
	distinct map[any]bool
}

func (a *slowAgg) add(r *slowRow) {
	a.n++
	if a.fn == sql.AggCount {
		return
	}
	v := r.val(a.col)
	switch a.fn {
	case sql.AggSum, sql.AggAvg:
		a.sum += v.(uint64)
	case sql.AggMin:
		if a.min == nil {
			a.min = v
		} else if c, _ := slowCmp(v, a.min); c < 0 {
			a.min = v
		}
	case sql.AggMax:
		if a.max == nil {
			a.max = v
		} else if c, _ := slowCmp(v, a.max); c > 0 {
			a.max = v
		}
	case sql.AggCountDistinct:
		if a.distinct == nil {
			a.distinct = map[any]bool{}
		}
		a.distinct[v] = true
	}
}

func (a *slowAgg) value() any {
	switch a.fn {
	case sql.AggCount:
		return a.n
	case sql.AggSum:
		return a.sum
	case sql.AggAvg:
		if a.n == 0 {
			return nil
		}
		return float64(a.sum) / float64(a.n)
	case sql.AggMin:
		return a.min
	case sql.AggMax:
		return a.max
	}
	return uint64(len(a.distinct))
}

// slowQuery answers stmt over rows: one []any per result row, in order.
func slowQuery(stmt *sql.Select, rows []slowRow, now time.Time) [][]any {
	var matched []*slowRow
	ifaces := map[string]bool{}
	for _, f := range stmt.From {
		ifaces[f.Name] = true
	}
	for i := range rows {
		r := &rows[i]
		if len(ifaces) > 0 && !ifaces[r.iface] {
			continue
		}
		if stmt.Where == nil || slowCond(stmt.Where, r, now) {
			matched = append(matched, r)
		}
	}
	// Each output row is a map from expression text to value.
	var out []map[string]any
	var keyExprs []sql.Expr
	if isAggQuery(stmt) {
		for _, g := range stmt.GroupBy {
			keyExprs = append(keyExprs, groupExpr(stmt, g))
		}
		var aggs []*sql.Aggregate
		collect := func(e sql.Expr) {
			if a, ok := e.(*sql.Aggregate); ok {
				aggs = append(aggs, a)
			}
		}
		for _, it := range stmt.Items {
			collect(it.Expr)
		}
		for _, o := range stmt.OrderBy {
			collect(o.Expr)
		}
		type group struct {
			vals map[string]any
			aggs []*slowAgg
		}
		groups := map[string]*group{}
		var order []string
		for _, r := range matched {
			vals := map[string]any{}
			k := ""
			for _, e := range keyExprs {
				v := slowExpr(e, r)
				vals[e.String()] = v
				k += fmt.Sprintf("%v|", v)
			}
			g := groups[k]
			if g == nil {
				g = &group{vals: vals}
				for _, a := range aggs {
					sa := &slowAgg{fn: a.Func}
					if a.Arg != nil {
						sa.col = a.Arg.Column
					}
					g.aggs = append(g.aggs, sa)
				}
				groups[k] = g
				order = append(order, k)
			}
			for _, a := range g.aggs {
				a.add(r)
			}
		}
		if len(groups) == 0 && len(stmt.GroupBy) == 0 {
			g := &group{vals: map[string]any{}}
			for _, a := range aggs {
				g.aggs = append(g.aggs, &slowAgg{fn: a.Func})
			}
			groups[""] = g
			order = append(order, "")
		}
		for _, k := range order {
			g := groups[k]
			for i, a := range aggs {
				g.vals[a.String()] = g.aggs[i].value()
			}
			out = append(out, g.vals)
		}
	} else {
		for _, it := range stmt.Items {
			keyExprs = append(keyExprs, it.Expr)
		}
		for _, o := range stmt.OrderBy {
			if _, ok := o.Expr.(*sql.ItemRef); !ok {
				keyExprs = append(keyExprs, o.Expr)
			}
		}
		for _, r := range matched {
			vals := map[string]any{}
			for _, e := range keyExprs {
				vals[e.String()] = slowExpr(e, r)
			}
			out = append(out, vals)
		}
	}
	orderText := func(e sql.Expr) string {
		if r, ok := e.(*sql.ItemRef); ok {
			return stmt.Items[r.Index].Expr.String()
		}
		return e.String()
	}
	if len(stmt.OrderBy) > 0 || stmt.Limit != nil {
		slices.SortStableFunc(out, func(a, b map[string]any) int {
			for _, o := range stmt.OrderBy {
				t := orderText(o.Expr)
				if c, _ := slowCmp(a[t], b[t]); c != 0 {
					if o.Desc {
						return -c
					}
					return c
				}
			}
			if !isAggQuery(stmt) && len(stmt.OrderBy) == 0 {
				return 0 // storage order
			}
			for _, e := range keyExprs {
				if c, _ := slowCmp(a[e.String()], b[e.String()]); c != 0 {
					return c
				}
			}
			return 0
		})
	}
	if stmt.Limit != nil && uint64(len(out)) > stmt.Limit.Value {
		out = out[:stmt.Limit.Value]
	}
	res := make([][]any, len(out))
	for i, vals := range out {
		for _, it := range stmt.Items {
			res[i] = append(res[i], vals[it.Expr.String()])
		}
	}
	return res
}
