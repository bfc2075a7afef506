package sql

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Parser parses queries. It is immutable once built and safe for concurrent
// use. Building one reflects over the grammar (see BenchmarkNewParser), so
// long-lived callers should build it once and keep it.
type Parser struct {
	p *participle.Parser[gSelect]
}

// NewParser builds a Parser.
func NewParser() (*Parser, error) {
	p, err := participle.Build[gSelect](
		participle.Lexer(lexDef{}),
		participle.CaseInsensitive("Keyword"),
		participle.UseLookahead(2),
	)
	if err != nil {
		return nil, fmt.Errorf("sql: building grammar: %w", err)
	}
	return &Parser{p: p}, nil
}

// defaultParser is built on first use of Parse. It holds no mutable state:
// a Parser is immutable, so sharing it is the same as building one per call,
// only cheaper.
var defaultParser = sync.OnceValues(NewParser)

// Parse parses one query with a shared, lazily built Parser. Errors about
// the query are *Error; see Parser.Parse.
func Parse(input string) (*Select, error) {
	p, err := defaultParser()
	if err != nil {
		return nil, err
	}
	return p.Parse(input)
}

// Parse parses one query into an AST. Every error about the query is an
// *Error naming its position and wrapping one of the Err* kinds; Parse
// never panics.
func (p *Parser) Parse(input string) (sel *Select, err error) {
	if len(input) > MaxQueryLen {
		return nil, errorf(ErrTooComplex, Pos{Line: 1, Col: 1}, "query of %d bytes is longer than the limit of %d", len(input), MaxQueryLen)
	}
	defer func() {
		// Last-resort net: a panic inside participle or the builder is a bug,
		// but the caller still gets an error instead of a crash.
		if r := recover(); r != nil {
			sel, err = nil, errorf(ErrInternal, Pos{Line: 1, Col: 1}, "internal parser error: %v", r)
		}
	}()
	g, err := p.p.ParseString("", input)
	if err != nil {
		return nil, convertParseError(err, input)
	}
	return build(g)
}

// convertParseError turns participle's errors into *Error with a message a
// user can act on.
func convertParseError(err error, input string) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		return unexpectedToken(ute.Unexpected, expected(ute.Message()), input)
	}
	var pe participle.Error
	if errors.As(err, &pe) {
		return errorf(ErrSyntax, posOf(pe.Position()), "%s", pe.Message())
	}
	return errorf(ErrSyntax, Pos{Line: 1, Col: 1}, "%v", err)
}

// expected extracts what participle expected from its message
// `unexpected token "x" (expected ...)`; "" when it does not say.
func expected(msg string) string {
	_, exp, ok := strings.Cut(msg, " (expected ")
	if !ok {
		return ""
	}
	return strings.TrimSuffix(exp, ")")
}

// unexpectedToken explains an unexpected token from what participle
// expected there (expect names grammar nodes such as GValue) and, when it
// expected nothing in particular, from the clause the token is in.
func unexpectedToken(tok lexer.Token, expect, input string) *Error {
	pos := posOf(tok.Pos)
	var e *Error
	if tok.EOF() {
		e = errorf(ErrSyntax, pos, "unexpected end of query")
	} else {
		e = errorf(ErrSyntax, pos, "unexpected %s %q", tokenKind(tok.Type), tok.Value)
	}
	prev, clause := context(input, pos.Offset)
	switch {
	case strings.HasPrefix(expect, `"SELECT"`) || strings.HasPrefix(expect, `"EXPLAIN"`) || pos.Offset == 0:
		e.Hint = "a query starts with SELECT or EXPLAIN SELECT"
	case strings.HasPrefix(expect, "GItem"):
		e.Hint = "expected a column, an aggregate like sum(bytes), bucket(time, 1h) or *"
	case strings.HasPrefix(expect, "GOr") || strings.HasPrefix(expect, "GAnd") || strings.HasPrefix(expect, "GNot"):
		e.Hint = "expected a condition, as in sip = 10.1.2.3"
	case strings.HasPrefix(expect, "(GIn") && strings.EqualFold(prev.Value, "NOT"):
		e.Hint = "expected IN or BETWEEN after NOT"
	case strings.HasPrefix(expect, "(GIn"):
		e.Hint = "expected an operator (=, !=, <>, <, <=, >, >=), IN or BETWEEN"
	case strings.HasPrefix(expect, "GValue") && tok.Value == "=" && prev.Value == "=":
		e.Hint = "write = for equality"
	case strings.HasPrefix(expect, "GValue") && clause == "LIMIT":
		e.Hint = "LIMIT takes a whole number"
	case strings.HasPrefix(expect, "GValue") && prev.Value == ",":
		e.Hint = "expected a value after the comma"
	case strings.HasPrefix(expect, "GValue"):
		e.Hint = "expected a value"
	case strings.HasPrefix(expect, "GName"):
		e.Hint = "expected a name; quote names that are keywords or contain spaces"
	case strings.HasPrefix(expect, "GTerm") || strings.HasPrefix(expect, "GOrder"):
		e.Hint = "expected a column, an alias, a position or bucket(time, ...)"
	case tok.Value == "(":
		e.Hint = "only count, sum, min, max, avg and bucket take arguments, and calls do not nest"
	case strings.HasPrefix(expect, `")"`):
		e.Hint = `expected ")"`
	case strings.HasPrefix(expect, `"BY"`):
		e.Hint = "expected BY"
	case strings.HasPrefix(expect, `"AND"`):
		e.Hint = "BETWEEN takes two bounds: BETWEEN low AND high"
	case expect != "":
		e.Hint = "expected " + expect
	case prev.Value == ";":
		e.Hint = "only one statement is allowed; nothing may follow ';'"
	case tok.Type == tokKeyword && isClauseKeyword(tok.Value):
		e.Hint = "clauses go in the order SELECT, FROM, WHERE, GROUP BY, ORDER BY, LIMIT"
	default:
		e.Hint = clauseHint(clause)
	}
	if tok.Type == tokIdent {
		e.Suggestion = suggest(tok.Value, keywords[:], nil)
	}
	return e
}

// context re-lexes input up to offset and returns the token before it and
// the last clause keyword seen (SELECT, FROM, WHERE, GROUP, ORDER, LIMIT).
func context(input string, offset int) (prev lexer.Token, clause string) {
	sc := &scanner{src: input, pos: Pos{Line: 1, Col: 1}}
	for {
		tok, err := sc.Next()
		if err != nil || tok.EOF() || tok.Pos.Offset >= offset {
			return prev, clause
		}
		if tok.Type == tokKeyword {
			switch k := strings.ToUpper(tok.Value); k {
			case "SELECT", "FROM", "WHERE", "GROUP", "ORDER", "LIMIT":
				clause = k
			}
		}
		prev = tok
	}
}

// isClauseKeyword reports whether w starts a clause.
func isClauseKeyword(w string) bool {
	switch strings.ToUpper(w) {
	case "SELECT", "FROM", "WHERE", "GROUP", "ORDER", "LIMIT", "EXPLAIN":
		return true
	}
	return false
}

// clauseHint says what may follow a complete part of the given clause.
func clauseHint(clause string) string {
	switch clause {
	case "SELECT":
		return `expected ",", AS before an alias, or the next clause (FROM, WHERE, GROUP BY, ORDER BY, LIMIT)`
	case "FROM":
		return `expected "," or the next clause (WHERE, GROUP BY, ORDER BY, LIMIT)`
	case "WHERE":
		return "expected AND, OR or the next clause (GROUP BY, ORDER BY, LIMIT)"
	case "GROUP":
		return `expected "," or the next clause (ORDER BY, LIMIT)`
	case "ORDER":
		return `expected ",", ASC, DESC or LIMIT`
	case "LIMIT":
		return "expected the end of the query"
	}
	return "check the order of clauses: SELECT, FROM, WHERE, GROUP BY, ORDER BY, LIMIT"
}

// tokenKind names a token type for messages.
func tokenKind(t lexer.TokenType) string {
	switch t {
	case tokKeyword:
		return "keyword"
	case tokIdent:
		return "word"
	case tokNumber:
		return "number"
	case tokDuration:
		return "duration"
	case tokAddr:
		return "address"
	case tokPrefix:
		return "prefix"
	case tokTime:
		return "time"
	case tokString:
		return "string"
	case tokOp:
		return "operator"
	case tokPunct:
		return "symbol"
	}
	return "token"
}
