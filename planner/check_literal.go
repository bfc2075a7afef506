package planner

import "github.com/flowsql/flowsql/sql"

// checkLiteral checks that v is a value of col's type; prefixes are allowed
// in IN lists only.
func checkLiteral(col *sql.ColumnRef, v sql.Literal, prefixOK bool) error {
	if v == nil {
		return qerr(sql.ErrInvalid, col.Pos, "", "missing value for %s", col.Column)
	}
	t := col.Column.Type()
	ok := false
	switch v := v.(type) {
	case *sql.NumberLit:
		switch t {
		case sql.TypeCounter:
			ok = true
		case sql.TypePort:
			if v.Value > 0xffff {
				return qerr(sql.ErrType, v.Pos, "ports are 0 to 65535", "port %d is out of range", v.Value)
			}
			ok = true
		case sql.TypeProto:
			if v.Value > 0xff {
				return qerr(sql.ErrType, v.Pos, "protocol numbers are 0 to 255", "protocol number %d is out of range", v.Value)
			}
			ok = true
		}
	case *sql.ProtoLit:
		ok = t == sql.TypeProto
	case *sql.AddrLit:
		if t == sql.TypeAddr && (!v.Addr.IsValid() || v.Addr.Zone() != "") {
			return qerr(sql.ErrType, v.Pos, "", "address %s is not a plain IPv4 or IPv6 address", v.Addr)
		}
		ok = t == sql.TypeAddr
	case *sql.PrefixLit:
		if t == sql.TypeAddr && !prefixOK {
			return qerr(sql.ErrType, v.Pos, "match a prefix with IN, as in "+col.Column.Name()+" IN "+v.String(), "a prefix is only allowed with IN")
		}
		if t == sql.TypeAddr && (!v.Prefix.IsValid() || v.Prefix.Masked() != v.Prefix) {
			return qerr(sql.ErrType, v.Pos, "", "prefix %s is not valid or has host bits set", v.Prefix)
		}
		ok = t == sql.TypeAddr
	case *sql.RelTimeLit, *sql.AbsTimeLit:
		ok = t == sql.TypeTime
	case *sql.StringLit:
		ok = t == sql.TypeString
	case *sql.DurationLit:
		if t == sql.TypeTime {
			return qerr(sql.ErrType, v.Pos, "a relative time takes a sign: -24h means 24 hours ago", "duration %s is not a time", v)
		}
	}
	if !ok {
		return qerr(sql.ErrType, v.Position(), col.Column.Name()+" takes "+typeHint(t),
			"cannot compare %s (%s) with %s (%s)", col.Column, t, v.String(), literalKind(v))
	}
	return nil
}

// typeHint says which values a column of type t takes.
func typeHint(t sql.Type) string {
	switch t {
	case sql.TypeTime:
		return "a relative time like -24h or a time like '2025-03-10 11:00'"
	case sql.TypeString:
		return "a name like eth0"
	case sql.TypeAddr:
		return "an address like 10.1.2.3 (or a prefix with IN)"
	case sql.TypePort:
		return "a port number from 0 to 65535"
	case sql.TypeProto:
		return "a protocol name like tcp or a number from 0 to 255"
	}
	return "a whole number"
}

// literalKind names the kind of a literal for messages.
func literalKind(v sql.Literal) string {
	switch v.(type) {
	case *sql.NumberLit:
		return "number"
	case *sql.ProtoLit:
		return "protocol"
	case *sql.AddrLit:
		return "address"
	case *sql.PrefixLit:
		return "prefix"
	case *sql.RelTimeLit, *sql.AbsTimeLit:
		return "time"
	case *sql.DurationLit:
		return "duration"
	case *sql.StringLit:
		return "string"
	}
	return "value"
}
