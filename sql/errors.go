package sql

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors: every *Error wraps exactly one of them (its Kind), so
// callers can classify a failure with errors.Is.
var (
	// ErrSyntax: the text does not follow the grammar (unexpected token,
	// unterminated string, stray character, trailing garbage).
	ErrSyntax = errors.New("syntax error")
	// ErrUnknownColumn: a name that is not a column of flows (nor an alias
	// where one is allowed).
	ErrUnknownColumn = errors.New("unknown column")
	// ErrUnknownFunction: a call of a function the dialect does not have.
	ErrUnknownFunction = errors.New("unknown function")
	// ErrBadLiteral: a malformed value: IP address, prefix, duration, time,
	// number or protocol name.
	ErrBadLiteral = errors.New("bad literal")
	// ErrType: a well-formed value of the wrong kind for its place, such as
	// a port compared with an address or a bare word where a value is expected.
	ErrType = errors.New("type mismatch")
	// ErrInvalid: a grammatical query that does not make sense, such as a
	// selected column missing from GROUP BY or an ORDER BY position out of range.
	ErrInvalid = errors.New("invalid query")
	// ErrTooComplex: the query exceeds a size or nesting limit.
	ErrTooComplex = errors.New("query too complex")
	// ErrInternal: the parser failed on a bug of its own (a recovered
	// panic); the query itself may be fine. Tests and fuzzing treat it as a failure.
	ErrInternal = errors.New("internal parser error")
)

// Limits on untrusted input; a query beyond them fails with ErrTooComplex.
const (
	// MaxQueryLen is the longest query text accepted, in bytes.
	MaxQueryLen = 1 << 20
	// MaxNesting bounds both parenthesis depth and a run of consecutive NOTs.
	MaxNesting = 100
)

// Error is the error Parse returns for any bad query. It names where the
// problem is and, when a near valid word exists, suggests it:
//
//	unknown column "dipp" at 1:8; did you mean "dip"?
type Error struct {
	Pos        Pos    // where the offending token starts
	Msg        string // what is wrong, naming the offending text
	Hint       string // optional: what would be accepted there
	Suggestion string // optional: the nearest valid word or value
	Kind       error  // one of the Err* sentinels
}

// Error formats the error as "Msg at line:col[: Hint][; did you mean "S"?]".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Msg)
	b.WriteString(" at ")
	b.WriteString(e.Pos.String())
	if e.Hint != "" {
		b.WriteString(": ")
		b.WriteString(e.Hint)
	}
	if e.Suggestion != "" {
		b.WriteString("; did you mean ")
		b.WriteString(strconv.Quote(e.Suggestion))
		b.WriteString("?")
	}
	return b.String()
}

// Unwrap returns the error's Kind.
func (e *Error) Unwrap() error { return e.Kind }

// errorf builds an *Error of the given kind; hint and suggestion are set by
// the caller on the result when needed.
func errorf(kind error, pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Kind: kind}
}

// withHint sets e.Hint and returns e.
func (e *Error) withHint(hint string) *Error {
	e.Hint = hint
	return e
}

// withSuggestion sets e.Suggestion and returns e.
func (e *Error) withSuggestion(s string) *Error {
	e.Suggestion = s
	return e
}
