package sql

// Walk calls fn on n and, if fn returns true, on each of n's children,
// depth first in source order. Nil children are skipped.
func Walk(n Node, fn func(Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	switch n := n.(type) {
	case *Select:
		for _, it := range n.Items {
			Walk(it, fn)
		}
		for _, f := range n.From {
			Walk(f, fn)
		}
		if n.Where != nil {
			Walk(n.Where, fn)
		}
		for _, g := range n.GroupBy {
			Walk(g, fn)
		}
		for _, o := range n.OrderBy {
			Walk(o, fn)
		}
		if n.Limit != nil {
			Walk(n.Limit, fn)
		}
	case *SelectItem:
		Walk(n.Expr, fn)
	case *OrderItem:
		Walk(n.Expr, fn)
	case *Aggregate:
		if n.Arg != nil {
			Walk(n.Arg, fn)
		}
	case *Bucket:
		if n.Width != nil {
			Walk(n.Width, fn)
		}
	case *BinaryExpr:
		walkCol(n.Left, fn)
		Walk(n.Right, fn)
	case *InExpr:
		walkCol(n.Left, fn)
		for _, v := range n.List {
			Walk(v, fn)
		}
	case *BetweenExpr:
		walkCol(n.Left, fn)
		Walk(n.Low, fn)
		Walk(n.High, fn)
	case *AndExpr:
		for _, t := range n.Terms {
			Walk(t, fn)
		}
	case *OrExpr:
		for _, t := range n.Terms {
			Walk(t, fn)
		}
	case *NotExpr:
		Walk(n.X, fn)
	}
}

// walkCol walks a possibly nil *ColumnRef without passing a typed nil on.
func walkCol(c *ColumnRef, fn func(Node) bool) {
	if c != nil {
		Walk(c, fn)
	}
}

// Columns returns the columns the query refers to anywhere (items, WHERE,
// GROUP BY, ORDER BY), each once, in table order. bucket(time, ...)
// refers to time; count(*) refers to none. Virtual columns are returned as
// such: mapping bytes to bytes_in and bytes_out is the planner's job.
func (n *Select) Columns() []Column {
	var seen [numColumns + 1]bool
	Walk(n, func(x Node) bool {
		switch x := x.(type) {
		case *ColumnRef:
			if x.Column.IsValid() {
				seen[x.Column] = true
			}
		case *Bucket:
			seen[ColTime] = true
		}
		return true
	})
	var out []Column
	for c := ColTime; int(c) <= numColumns; c++ {
		if seen[c] {
			out = append(out, c)
		}
	}
	return out
}
