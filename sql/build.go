package sql

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// builder turns the participle parse tree into the AST, resolving names and
// checking what needs no storage. It lives for one Parse call.
type builder struct {
	sel *Select
}

// build converts a parse tree into a checked AST.
func build(g *gSelect) (*Select, error) {
	b := &builder{sel: &Select{Pos: posOf(g.Pos), Explain: g.Explain}}
	s := b.sel
	for _, it := range g.Items {
		if err := b.item(it); err != nil {
			return nil, err
		}
	}
	if err := b.from(g.From); err != nil {
		return nil, err
	}
	if g.Where != nil {
		w, err := b.or(g.Where)
		if err != nil {
			return nil, err
		}
		s.Where = w
	}
	for _, t := range g.GroupBy {
		e, err := b.ref(t, false)
		if err != nil {
			return nil, err
		}
		s.GroupBy = append(s.GroupBy, e)
	}
	for _, o := range g.OrderBy {
		e, err := b.ref(o.Term, true)
		if err != nil {
			return nil, err
		}
		s.OrderBy = append(s.OrderBy, &OrderItem{Pos: posOf(o.Pos), Expr: e, Desc: strings.EqualFold(o.Dir, "DESC")})
	}
	if g.Limit != nil {
		tok := g.Limit.Tok
		v, ok := parseUint(tok.Value)
		if tok.Type != tokNumber || !ok {
			return nil, errorf(ErrType, posOf(tok.Pos), "LIMIT takes a whole number, not %s %q", tokenKind(tok.Type), tok.Value)
		}
		s.Limit = &NumberLit{Pos: posOf(tok.Pos), Value: v}
	}
	if err := b.checkGrouping(); err != nil {
		return nil, err
	}
	return s, nil
}

// item adds one select item; * expands to the stored (non-virtual) columns.
func (b *builder) item(g *gItem) error {
	pos := posOf(g.Pos)
	if g.Star {
		if g.Alias != nil {
			return errorf(ErrInvalid, posOf(g.Alias.Tok.Pos), "* cannot have an alias")
		}
		for _, c := range Columns() {
			if !c.Virtual() {
				b.sel.Items = append(b.sel.Items, &SelectItem{Pos: pos, Expr: &ColumnRef{Pos: pos, Column: c}})
			}
		}
		return nil
	}
	e, err := b.selectExpr(g.Term)
	if err != nil {
		return err
	}
	it := &SelectItem{Pos: pos, Expr: e}
	if g.Alias != nil {
		tok := g.Alias.Tok
		it.Alias = nameValue(tok)
		if it.Alias == "" {
			return errorf(ErrInvalid, posOf(tok.Pos), "empty alias")
		}
		for i, prev := range b.sel.Items {
			if strings.EqualFold(prev.Alias, it.Alias) {
				return errorf(ErrInvalid, posOf(tok.Pos), "duplicate alias %q", it.Alias).
					withHint("item " + strconv.Itoa(i+1) + " already has it")
			}
		}
	}
	b.sel.Items = append(b.sel.Items, it)
	return nil
}

// nameValue returns the text of a word or quoted-string token.
func nameValue(tok lexer.Token) string {
	if tok.Type == tokString {
		return unquote(tok.Value)
	}
	return tok.Value
}

// from sets the interfaces; bare any or flows means all of them.
func (b *builder) from(names []*gName) error {
	all := false
	for _, n := range names {
		tok := n.Tok
		if tok.Type == tokIdent && (strings.EqualFold(tok.Value, "any") || strings.EqualFold(tok.Value, "flows")) {
			all = true
			continue
		}
		name := nameValue(tok)
		if name == "" {
			return errorf(ErrInvalid, posOf(tok.Pos), "empty interface name")
		}
		b.sel.From = append(b.sel.From, &Iface{Pos: posOf(tok.Pos), Name: name})
	}
	if all && len(b.sel.From) > 0 {
		return errorf(ErrInvalid, b.sel.From[0].Pos, "interface %q listed with any or flows", b.sel.From[0].Name).
			withHint("FROM any (or FROM flows) already means every interface; quote 'any' for an interface of that name")
	}
	return nil
}

// selectExpr converts a select-list term: a column, aggregate or bucket.
func (b *builder) selectExpr(t *gTerm) (Expr, error) {
	if t.Tok.Type != tokIdent {
		return nil, errorf(ErrSyntax, posOf(t.Tok.Pos), "unexpected %s %q in the select list", tokenKind(t.Tok.Type), t.Tok.Value).
			withHint("select columns, aggregates like sum(bytes) or bucket(time, 1h)")
	}
	if t.Call != nil {
		return b.call(t, true)
	}
	return column(t.Tok)
}

// column resolves a word naming a column.
func column(tok lexer.Token) (*ColumnRef, error) {
	if c, ok := ColumnByName(tok.Value); ok {
		return &ColumnRef{Pos: posOf(tok.Pos), Column: c}, nil
	}
	return nil, unknownColumn(tok, nil)
}

// unknownColumn reports an unknown name, suggesting a column or alias.
func unknownColumn(tok lexer.Token, aliases []string) *Error {
	what := "column"
	if tok.Type == tokString {
		what = "alias"
	}
	word := nameValue(tok)
	cands := append(columnNames(), aliases...)
	e := errorf(ErrUnknownColumn, posOf(tok.Pos), "unknown %s %q", what, word)
	return e.withSuggestion(suggest(word, cands, columnSynonyms))
}

// ref converts a GROUP BY or ORDER BY term: a 1-based position, an alias
// (quoted, or a bare word that names an alias before a column), a column,
// bucket(...) or, in ORDER BY only, an aggregate.
func (b *builder) ref(t *gTerm, order bool) (Expr, error) {
	clause := "GROUP BY"
	if order {
		clause = "ORDER BY"
	}
	tok := t.Tok
	pos := posOf(tok.Pos)
	items := b.sel.Items
	var r *ItemRef
	switch {
	case tok.Type == tokNumber:
		n, ok := parseUint(tok.Value)
		if !ok || n < 1 || n > uint64(len(items)) {
			return nil, errorf(ErrInvalid, pos, "%s position %s is out of range", clause, tok.Value).
				withHint(fmt.Sprintf("the select list has %d item%s, numbered from 1", len(items), plural(len(items))))
		}
		r = &ItemRef{Pos: pos, Index: int(n - 1)}
	case tok.Type == tokString || tok.Type == tokIdent && t.Call == nil:
		name := nameValue(tok)
		// Aliases, like column names, ignore case: ORDER BY sIp names
		// the item aliased sip (an alias is found before a column).
		for i, it := range items {
			if it.Alias != "" && strings.EqualFold(it.Alias, name) {
				r = &ItemRef{Pos: pos, Index: i, Alias: it.Alias}
				break
			}
		}
		// GROUP BY x where x aliases an aggregate but also names a column
		// means the column: an aggregate cannot be a key.
		if r != nil && !order && tok.Type == tokIdent {
			if _, isAgg := items[r.Index].Expr.(*Aggregate); isAgg {
				if c, ok := ColumnByName(name); ok {
					return &ColumnRef{Pos: pos, Column: c}, nil
				}
			}
		}
		if r == nil {
			if tok.Type == tokString {
				return nil, unknownColumn(tok, b.aliases())
			}
			if c, ok := ColumnByName(name); ok {
				return &ColumnRef{Pos: pos, Column: c}, nil
			}
			return nil, unknownColumn(tok, b.aliases())
		}
	case tok.Type == tokIdent:
		return b.call(t, order)
	default:
		return nil, errorf(ErrSyntax, pos, "unexpected %s %q in %s", tokenKind(tok.Type), tok.Value, clause).
			withHint("expected a column, an alias, a position or bucket(time, ...)")
	}
	if _, isAgg := items[r.Index].Expr.(*Aggregate); isAgg && !order {
		return nil, errorf(ErrInvalid, pos, "cannot GROUP BY an aggregate").
			withHint("item " + strconv.Itoa(r.Index+1) + " is " + items[r.Index].Expr.String())
	}
	return r, nil
}

// aliases lists the aliases given so far.
func (b *builder) aliases() []string {
	var out []string
	for _, it := range b.sel.Items {
		if it.Alias != "" {
			out = append(out, it.Alias)
		}
	}
	return out
}

// checkGrouping enforces the rule of aggregate queries: every selected or
// ordered non-aggregate expression must be one of the GROUP BY keys.
func (b *builder) checkGrouping() error {
	s := b.sel
	isAgg := len(s.GroupBy) > 0
	for _, it := range s.Items {
		if _, ok := it.Expr.(*Aggregate); ok {
			isAgg = true
		}
	}
	for _, o := range s.OrderBy {
		if _, ok := o.Expr.(*Aggregate); ok {
			isAgg = true
		}
	}
	if !isAgg {
		return nil
	}
	keys := map[string]bool{}
	for _, g := range s.GroupBy {
		if r, ok := g.(*ItemRef); ok {
			keys[s.Items[r.Index].Expr.String()] = true
		} else {
			keys[g.String()] = true
		}
	}
	for _, it := range s.Items {
		if _, ok := it.Expr.(*Aggregate); ok || keys[it.Expr.String()] {
			continue
		}
		return errorf(ErrInvalid, it.Pos, "%s must be in GROUP BY or inside an aggregate", it.Expr.String()).
			withHint("add GROUP BY " + it.Expr.String() + ", or aggregate it, as in max(" + it.Expr.String() + ")")
	}
	for _, o := range s.OrderBy {
		switch e := o.Expr.(type) {
		case *ColumnRef, *Bucket:
			if !keys[e.String()] {
				return errorf(ErrInvalid, o.Pos, "ORDER BY %s must be in GROUP BY or inside an aggregate", e.String())
			}
		}
	}
	return nil
}

// plural returns "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
