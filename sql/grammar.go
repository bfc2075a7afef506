package sql

import "github.com/alecthomas/participle/v2/lexer"

// The participle grammar. These g* structs are the raw parse tree; build.go
// turns them into the AST, resolving names and checking values. The grammar
// is deliberately loose where a precise message is more useful than
// participle's "unexpected token": any value token is accepted where a
// column or value goes, and the builder says what was wrong with it.

// gSelect is the whole statement.
type gSelect struct {
	Pos     lexer.Position
	Explain bool      `parser:"@'EXPLAIN'?"`
	Items   []*gItem  `parser:"'SELECT' @@ ( ',' @@ )*"`
	From    []*gName  `parser:"( 'FROM' @@ ( ',' @@ )* )?"`
	Where   *gOr      `parser:"( 'WHERE' @@ )?"`
	GroupBy []*gTerm  `parser:"( 'GROUP' 'BY' @@ ( ',' @@ )* )?"`
	OrderBy []*gOrder `parser:"( 'ORDER' 'BY' @@ ( ',' @@ )* )?"`
	Limit   *gValue   `parser:"( 'LIMIT' @@ )?"`
	Semi    bool      `parser:"@';'?"`
}

// gItem is a select item: * or a term, with an optional alias.
type gItem struct {
	Pos   lexer.Position
	Star  bool   `parser:"( @'*'"`
	Term  *gTerm `parser:"| @@ )"`
	Alias *gName `parser:"( 'AS' @@ )?"`
}

// gName is an interface name or alias: a word or a quoted string.
type gName struct {
	Tok lexer.Token `parser:"@(Ident | String)"`
}

// gTerm is a name (column, alias), position, or call; other value tokens
// are accepted so that the builder can explain why they are wrong.
type gTerm struct {
	Pos  lexer.Position
	Tok  lexer.Token `parser:"@(Ident | Number | Duration | Addr | Prefix | Time | String)"`
	Call *gCall      `parser:"@@?"`
}

// gCall is the parenthesized argument list of a function call.
type gCall struct {
	Pos      lexer.Position
	Open     bool      `parser:"@'('"`
	Star     bool      `parser:"( @'*'"`
	Distinct bool      `parser:"| @'DISTINCT'?"`
	Args     []*gValue `parser:"  @@ ( ',' @@ )* )? ')'"`
}

// gOrder is an ORDER BY key.
type gOrder struct {
	Pos  lexer.Position
	Term *gTerm `parser:"@@"`
	Dir  string `parser:"@( 'ASC' | 'DESC' )?"`
}

// gValue is any single value token.
type gValue struct {
	Tok lexer.Token `parser:"@(Ident | Number | Duration | Addr | Prefix | Time | String)"`
}

// gOr is a disjunction; precedence is OR < AND < NOT < predicate.
type gOr struct {
	Pos   lexer.Position
	Terms []*gAnd `parser:"@@ ( 'OR' @@ )*"`
}

// gAnd is a conjunction.
type gAnd struct {
	Pos   lexer.Position
	Terms []*gNot `parser:"@@ ( 'AND' @@ )*"`
}

// gNot is a negation, a parenthesized condition or a predicate.
type gNot struct {
	Pos   lexer.Position
	Not   *gNot  `parser:"  'NOT' @@"`
	Paren *gOr   `parser:"| '(' @@ ')'"`
	Pred  *gPred `parser:"| @@"`
}

// gPred is a predicate on a column.
type gPred struct {
	Pos     lexer.Position
	Left    *gValue   `parser:"@@"`
	Op      string    `parser:"( @Op"`
	Right   *gValue   `parser:"  @@"`
	Not     bool      `parser:"| @'NOT'?"`
	In      *gIn      `parser:"  ( @@"`
	Between *gBetween `parser:"  | @@ ) )"`
}

// gIn is the right side of IN: one value or a parenthesized list.
type gIn struct {
	List []*gValue `parser:"'IN' ( '(' @@ ( ',' @@ )* ')' | @@ )"`
}

// gBetween is the right side of BETWEEN.
type gBetween struct {
	Low  *gValue `parser:"'BETWEEN' @@"`
	High *gValue `parser:"'AND' @@"`
}
