package sql

import (
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// value converts the token on the right of a predicate on left. Its kind is
// decided by the column's type: a bare word is a column, a protocol name
// (proto) or a name (iface, host); a quoted string is parsed as the
// column's type; a duration with a sign is a time relative to now.
func (b *builder) value(tok lexer.Token, left *ColumnRef) (Expr, error) {
	col := left.Column
	typ := col.Type()
	pos := posOf(tok.Pos)
	switch tok.Type {
	case tokIdent:
		if c, ok := ColumnByName(tok.Value); ok {
			if c.Type() != typ {
				return nil, errorf(ErrType, pos, "cannot compare %s (%s) with %s (%s)", col.Name(), typ, c.Name(), c.Type())
			}
			return &ColumnRef{Pos: pos, Column: c}, nil
		}
		switch typ {
		case TypeString:
			return &StringLit{Pos: pos, Value: tok.Value}, nil
		case TypeProto:
			return protoValue(tok.Value, pos)
		}
		e := errorf(ErrType, pos, "unexpected word %q where a value is expected", tok.Value).
			withHint(col.Name() + " takes " + typ.valueHint())
		return nil, e.withSuggestion(suggest(tok.Value, columnsOfType(typ), nil))
	case tokNumber:
		v, _ := parseUint(tok.Value)
		if typ == TypePort || typ == TypeProto || typ == TypeCounter {
			return numberValue(v, tok.Value, typ, pos)
		}
	case tokDuration:
		if typ != TypeTime {
			break
		}
		if rest, signed := strings.CutPrefix(tok.Value, "-"); signed {
			d, _ := parseDuration(rest)
			return &RelTimeLit{Pos: pos, Offset: -d}, nil
		}
		return nil, errorf(ErrType, pos, "duration %s is not a time", tok.Value).
			withHint("a relative time takes a sign: -24h means 24 hours ago").
			withSuggestion("-" + tok.Value)
	case tokAddr:
		if typ == TypeAddr {
			a, _ := parseAddr(tok.Value)
			return &AddrLit{Pos: pos, Addr: a}, nil
		}
	case tokPrefix:
		if typ == TypeAddr {
			p, _, _ := parsePrefix(tok.Value)
			return &PrefixLit{Pos: pos, Prefix: p}, nil
		}
	case tokTime:
		if typ == TypeTime {
			t, _ := parseTime(tok.Value)
			return &AbsTimeLit{Pos: pos, Time: t}, nil
		}
	case tokString:
		return stringValue(unquote(tok.Value), tok.Value, col, pos)
	}
	return nil, errorf(ErrType, pos, "unexpected %s %q for %s", tokenKind(tok.Type), tok.Value, col.Name()).
		withHint(col.Name() + " takes " + typ.valueHint())
}

// numberValue checks a number against the range of its column type.
func numberValue(v uint64, text string, typ Type, pos Pos) (Expr, error) {
	switch {
	case typ == TypePort && v > 0xffff:
		return nil, errorf(ErrBadLiteral, pos, "port %s is out of range", text).withHint("ports are 0 to 65535")
	case typ == TypeProto && v > 0xff:
		return nil, errorf(ErrBadLiteral, pos, "protocol number %s is out of range", text).withHint("protocol numbers are 0 to 255")
	case typ == TypeProto:
		return &ProtoLit{Pos: pos, Proto: uint8(v)}, nil
	}
	return &NumberLit{Pos: pos, Value: v}, nil
}

// protoValue resolves a protocol name or number.
func protoValue(s string, pos Pos) (Expr, error) {
	if p, ok := LookupProto(s); ok {
		return &ProtoLit{Pos: pos, Proto: p}, nil
	}
	if v, ok := parseUint(s); ok {
		return numberValue(v, s, TypeProto, pos)
	}
	return nil, errorf(ErrBadLiteral, pos, "unknown protocol %q", s).
		withHint("use a name like tcp, udp, icmp, icmpv6, gre, esp, sctp or a number 0-255").
		withSuggestion(suggest(s, protoNames(), nil))
}

// stringValue parses the content s of a quoted string (raw is the token as
// written) as a value of col's type.
func stringValue(s, raw string, col Column, pos Pos) (Expr, error) {
	switch col.Type() {
	case TypeString:
		return &StringLit{Pos: pos, Value: s}, nil
	case TypeTime:
		if rest, signed := strings.CutPrefix(s, "-"); signed {
			if d, reason := parseDuration(rest); reason == "" {
				return &RelTimeLit{Pos: pos, Offset: -d}, nil
			}
		}
		t, reason := parseTime(s)
		if reason != "" {
			return nil, errorf(ErrBadLiteral, pos, "bad time %s", raw).withHint(reason)
		}
		return &AbsTimeLit{Pos: pos, Time: t}, nil
	case TypeAddr:
		if strings.IndexByte(s, '/') >= 0 {
			p, reason, sug := parsePrefix(s)
			if reason != "" {
				return nil, errorf(ErrBadLiteral, pos, "bad prefix %s", raw).withHint(reason).withSuggestion(sug)
			}
			return &PrefixLit{Pos: pos, Prefix: p}, nil
		}
		a, reason := parseAddr(s)
		if reason != "" {
			return nil, errorf(ErrBadLiteral, pos, "bad address %s", raw).withHint(reason)
		}
		return &AddrLit{Pos: pos, Addr: a}, nil
	case TypeProto:
		return protoValue(s, pos)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, errorf(ErrBadLiteral, pos, "bad number %s", raw).withHint(col.Name() + " takes " + col.Type().valueHint())
	}
	return numberValue(v, s, col.Type(), pos)
}

// columnsOfType lists the names of the columns of type t.
func columnsOfType(t Type) []string {
	var out []string
	for _, c := range Columns() {
		if c.Type() == t {
			out = append(out, c.Name())
		}
	}
	return out
}
