package sql

import (
	"io"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// Token types produced by the lexer. Their names (see symbols) are what the
// grammar tags in grammar.go refer to.
const (
	tokKeyword  lexer.TokenType = -(iota + 2) // reserved word, matched case-insensitively
	tokIdent                                  // name: column, function, alias, interface, protocol, ...
	tokNumber                                 // unsigned decimal integer
	tokDuration                               // 30s, 1h30m, -24h (value keeps its sign)
	tokAddr                                   // IPv4 or IPv6 address
	tokPrefix                                 // CIDR prefix
	tokTime                                   // unquoted date or date-time: 2025-03-10, 2025-03-10T11:00Z
	tokString                                 // 'x' or "x"; value keeps the quotes and doubled quotes
	tokOp                                     // comparison operator
	tokPunct                                  // ( ) , * ;
)

// keywords are reserved: a word equal to one of them (ignoring case) is a
// keyword token, never a name. Quote a name that collides with one.
var keywords = [...]string{
	"AND", "AS", "ASC", "BETWEEN", "BY", "DESC", "DISTINCT", "EXPLAIN",
	"FROM", "GROUP", "IN", "LIMIT", "NOT", "OR", "ORDER", "SELECT", "WHERE",
}

func isKeyword(w string) bool {
	for _, k := range keywords {
		if strings.EqualFold(w, k) {
			return true
		}
	}
	return false
}

// lexDef is the participle lexer.Definition of the dialect. It is stateless.
type lexDef struct{}

// Symbols implements lexer.Definition.
func (lexDef) Symbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF":      lexer.EOF,
		"Keyword":  tokKeyword,
		"Ident":    tokIdent,
		"Number":   tokNumber,
		"Duration": tokDuration,
		"Addr":     tokAddr,
		"Prefix":   tokPrefix,
		"Time":     tokTime,
		"String":   tokString,
		"Op":       tokOp,
		"Punct":    tokPunct,
	}
}

// Lex implements lexer.Definition.
func (d lexDef) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxQueryLen+1))
	if err != nil {
		return nil, err
	}
	return d.LexString(filename, string(b))
}

// LexString implements lexer.StringDefinition.
func (lexDef) LexString(filename string, input string) (lexer.Lexer, error) {
	return &scanner{src: input, pos: Pos{Line: 1, Col: 1}}, nil
}

// scanner is the lexer of one query. Every token is validated as it is
// read, so a bad address, prefix, duration, number or time fails here with
// the token's position.
type scanner struct {
	src    string
	pos    Pos // position of src[pos.Offset]
	depth  int // open parentheses
	notRun int // NOT keywords with only "(" between them
}

// advance moves past n bytes, keeping line and column (in runes) right.
func (s *scanner) advance(n int) {
	span := s.src[s.pos.Offset : s.pos.Offset+n]
	s.pos.Offset += n
	if i := strings.LastIndexByte(span, '\n'); i >= 0 {
		s.pos.Line += strings.Count(span, "\n")
		s.pos.Col = 1 + utf8.RuneCountInString(span[i+1:])
		return
	}
	s.pos.Col += utf8.RuneCountInString(span)
}

// skipSpace skips white space and "--" comments.
func (s *scanner) skipSpace() {
	for s.pos.Offset < len(s.src) {
		rest := s.src[s.pos.Offset:]
		switch {
		case rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r' || rest[0] == '\f':
			s.advance(1)
		case strings.HasPrefix(rest, "--"):
			n := strings.IndexByte(rest, '\n')
			if n < 0 {
				n = len(rest)
			}
			s.advance(n)
		default:
			return
		}
	}
}

// Next implements lexer.Lexer. Errors are *Error.
func (s *scanner) Next() (lexer.Token, error) {
	s.skipSpace()
	start := s.pos
	if start.Offset >= len(s.src) {
		return lexer.EOFToken(start.lexer()), nil
	}
	typ, n, err := s.scan(s.src[start.Offset:], start)
	if err != nil {
		return lexer.Token{}, err
	}
	tok := lexer.Token{Type: typ, Value: s.src[start.Offset : start.Offset+n], Pos: start.lexer()}
	s.advance(n)
	// NOTs separated only by "(" count as one run, as NOT (NOT x) is
	// printed NOT NOT x: the limit must not depend on the spelling.
	switch {
	case typ == tokKeyword && strings.EqualFold(tok.Value, "NOT"):
		s.notRun++
		if s.notRun > MaxNesting {
			return lexer.Token{}, errorf(ErrTooComplex, start, "more than %d NOTs in a row", MaxNesting)
		}
	case tok.Value != "(":
		s.notRun = 0
	}
	return tok, nil
}

// scan returns the type and byte length of the token at the start of rest.
func (s *scanner) scan(rest string, pos Pos) (lexer.TokenType, int, error) {
	c := rest[0]
	switch c {
	case '(':
		s.depth++
		if s.depth > MaxNesting {
			return 0, 0, errorf(ErrTooComplex, pos, "parentheses nested deeper than %d", MaxNesting)
		}
		return tokPunct, 1, nil
	case ')':
		s.depth--
		return tokPunct, 1, nil
	case ',', '*', ';':
		return tokPunct, 1, nil
	case '=':
		return tokOp, 1, nil
	case '!':
		if len(rest) > 1 && rest[1] == '=' {
			return tokOp, 2, nil
		}
		return 0, 0, errorf(ErrSyntax, pos, "unexpected character '!'").withHint("use != or <> for not equal, NOT for negation")
	case '<':
		if len(rest) > 1 && (rest[1] == '=' || rest[1] == '>') {
			return tokOp, 2, nil
		}
		return tokOp, 1, nil
	case '>':
		if len(rest) > 1 && rest[1] == '=' {
			return tokOp, 2, nil
		}
		return tokOp, 1, nil
	case '\'', '"':
		return scanString(rest, pos)
	}
	if isWordStart(c) || (c == '-' && len(rest) > 1 && isDigit(rest[1])) {
		n := 1
		for n < len(rest) && isWordChar(rest[n]) {
			n++
		}
		typ, err := classifyWord(rest[:n], pos)
		return typ, n, err
	}
	r, _ := utf8.DecodeRuneInString(rest)
	e := errorf(ErrSyntax, pos, "unexpected character %q", r)
	switch c {
	case '-':
		e.Hint = "a sign must be followed by digits, as in -24h"
	case '%':
		e.Hint = "addresses with a zone (fe80::1%eth0) are not supported"
	}
	return 0, 0, e
}

// scanString scans a quoted string; a doubled quote stands for one quote.
func scanString(rest string, pos Pos) (lexer.TokenType, int, error) {
	q := rest[0]
	for i := 1; i < len(rest); i++ {
		if rest[i] != q {
			continue
		}
		if i+1 < len(rest) && rest[i+1] == q {
			i++
			continue
		}
		return tokString, i + 1, nil
	}
	return 0, 0, errorf(ErrSyntax, pos, "unterminated string").withHint("close it with " + string(q) + "; write a quote inside a string twice")
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// isWordStart reports whether c can begin a word (name, number, address,
// prefix, duration or time).
func isWordStart(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' || c == ':' }

// isWordChar reports whether c can continue a word. '.', '-', ':' and '/'
// let interface names (ens3f0.100), addresses, prefixes and dates be single
// words; the dialect has no arithmetic for them to clash with.
func isWordChar(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '_' || c == '.' || c == '-' || c == ':' || c == '/'
}

// classifyWord decides what a word is from its shape and validates it.
func classifyWord(w string, pos Pos) (lexer.TokenType, error) {
	hasColon := strings.IndexByte(w, ':') >= 0
	hasSlash := strings.IndexByte(w, '/') >= 0
	if isLetter(w[0]) || w[0] == '_' {
		switch {
		case hasColon && !isHexField(w[:strings.IndexByte(w, ':')]):
			return 0, errorf(ErrSyntax, pos, "unexpected ':' in name %q", w).
				withHint("quote a name that contains ':', as in '" + w + "'")
		case hasColon:
			return classifyAddr(w, pos)
		case hasSlash:
			return 0, errorf(ErrBadLiteral, pos, "bad prefix %q", w).withHint("a prefix is an address, '/' and a length, like 10.0.0.0/8")
		case isKeyword(w):
			return tokKeyword, nil
		}
		return tokIdent, nil
	}
	if isDateStart(w) {
		if _, reason := parseTime(w); reason != "" {
			return 0, errorf(ErrBadLiteral, pos, "bad time %q", w).withHint(reason)
		}
		return tokTime, nil
	}
	if hasColon || hasSlash || strings.IndexByte(w, '.') >= 0 {
		if w[0] == '-' {
			return 0, errorf(ErrBadLiteral, pos, "bad value %q", w).withHint("only durations take a sign, as in -24h")
		}
		if !hasColon && !hasSlash && strings.Count(w, ".") == 1 {
			return 0, errorf(ErrBadLiteral, pos, "bad number %q", w).withHint("numbers are whole; addresses have four parts, like 10.1.2.3")
		}
		return classifyAddr(w, pos)
	}
	body := strings.TrimPrefix(w, "-")
	if allDigits(body) {
		if body != w {
			return 0, errorf(ErrBadLiteral, pos, "negative number %q", w).withHint("columns are unsigned; only durations take a sign, as in -24h")
		}
		if _, ok := parseUint(w); !ok {
			return 0, errorf(ErrBadLiteral, pos, "number %q is too large", w).withHint("the largest is 18446744073709551615")
		}
		return tokNumber, nil
	}
	if _, reason := parseDuration(body); reason != "" {
		return 0, errorf(ErrBadLiteral, pos, "bad duration %q", w).withHint(reason)
	}
	return tokDuration, nil
}

// classifyAddr validates an address or prefix word.
func classifyAddr(w string, pos Pos) (lexer.TokenType, error) {
	if strings.IndexByte(w, '/') >= 0 {
		_, reason, suggest := parsePrefix(w)
		if reason != "" {
			e := errorf(ErrBadLiteral, pos, "bad prefix %q", w).withHint(reason)
			return 0, e.withSuggestion(suggest)
		}
		return tokPrefix, nil
	}
	if _, reason := parseAddr(w); reason != "" {
		kind := "IPv4"
		if strings.IndexByte(w, ':') >= 0 {
			kind = "IPv6"
		}
		return 0, errorf(ErrBadLiteral, pos, "bad %s address %q", kind, w).withHint(reason)
	}
	return tokAddr, nil
}

// isHexField reports whether s can be a field of an IPv6 address.
func isHexField(s string) bool {
	if len(s) > 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && !('a' <= s[i]|0x20 && s[i]|0x20 <= 'f') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isDateStart reports whether w begins like a date, YYYY-MM-DD.
func isDateStart(w string) bool {
	if len(w) < 10 || w[4] != '-' || w[7] != '-' {
		return false
	}
	return allDigits(w[0:4]) && allDigits(w[5:7]) && allDigits(w[8:10])
}
