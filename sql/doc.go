// Package sql parses flowsql's query dialect (DESIGN §4) into a typed AST
// for the planner. It knows nothing of storage: it resolves names against
// the logical table flows (Columns), checks literals and the few rules that
// need no data, and reports every problem as an *Error with a line:col
// position and, where one is near, a suggested word:
//
//	unknown column "dipp" at 1:18; did you mean "dip"?
//
// # Grammar
//
// Keywords are case-insensitive and reserved (quote a name that collides
// with one); column, function and protocol names are case-insensitive;
// interface names and aliases are kept as written.
//
//	query     = [ "EXPLAIN" ] "SELECT" item { "," item }
//	            [ "FROM" iface { "," iface } ]
//	            [ "WHERE" cond ]
//	            [ "GROUP" "BY" key { "," key } ]
//	            [ "ORDER" "BY" key [ "ASC" | "DESC" ] { "," key [ "ASC" | "DESC" ] } ]
//	            [ "LIMIT" number ] [ ";" ] .
//	item      = "*" | ( column | aggregate | bucket ) [ "AS" name ] .
//	aggregate = "count" "(" "*" ")" | "count" "(" "DISTINCT" column ")"
//	          | ( "sum" | "min" | "max" | "avg" ) "(" column ")" .
//	bucket    = "bucket" "(" "time" "," duration ")" .
//	iface     = name .                       // bare any or flows: every interface
//	key       = column | bucket | aggregate  // aggregate: ORDER BY only
//	          | name | position .            // an alias, or a 1-based item number
//	cond      = and { "OR" and } .
//	and       = not { "AND" not } .
//	not       = "NOT" not | "(" cond ")" | pred .
//	pred      = column ( op ( value | column )
//	                   | [ "NOT" ] "IN" ( value | "(" value { "," value } ")" )
//	                   | [ "NOT" ] "BETWEEN" value "AND" value ) .
//	op        = "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" .
//	name      = word | string .
//
// # Tokens
//
// The lexer is hand-written (lexer.go) because addresses, prefixes and
// durations need no quotes. A word is a run of letters, digits and
// _ . - : / (a leading - only before a digit) and is classified by shape:
//
//	word      eth0  ens3f0.100  ipv6-icmp  sum     keyword if reserved, else a name
//	number    80  18446744073709551615              unsigned 64-bit
//	duration  30s  5m  1h30m  7d  1w  -24h          units s m h d w; sign = relative time
//	address   10.1.2.3  2001:db8::1  ::ffff:1.2.3.4
//	prefix    10.0.0.0/8  2001:db8::/32             host bits must be zero
//	time      2025-03-10  2025-03-10T11:00:00Z      unquoted date or RFC 3339 time
//	string    'it''s'  "x"                          a doubled quote is a quote
//	comment   -- to the end of the line
//
// Quoted times accept 2025-03-10, 2025-03-10 11:00[:05[.5]], the same with
// T, and a zone suffix Z, +01:00 or " UTC"; without a zone the time is UTC.
//
// # Values
//
// A value's meaning comes from the column it is compared with. A bare word
// is a column if it names one, else a protocol name for proto (tcp, udp,
// icmp, icmpv6 or ipv6-icmp, gre, esp, ah, sctp, ...) or a string for iface
// and host; elsewhere it is an error. A quoted string is parsed as the
// column's type ('10.1.2.3', '443', 'udp', '2025-03-10 11:00', '-2h').
// time takes a signed duration (-24h: 24 hours before the query runs) or
// an absolute time; an unsigned duration there is an error suggesting the
// sign. An address column takes addresses, and prefixes only with IN
// (containment). Ports must be 0-65535 and protocol numbers 0-255.
//
// # Checks
//
// Besides names and literals, the builder rejects: a non-aggregate item or
// ORDER BY key of an aggregate query that is not a GROUP BY key; grouping
// by an aggregate; positions out of range; duplicate aliases; count(col)
// (write count(*) or count(DISTINCT col)); sum or avg of a non-counter;
// reversed BETWEEN bounds; comparing columns of different types; FROM any
// mixed with interface names. In GROUP BY and ORDER BY a bare name refers
// to an alias before a column (in GROUP BY, an alias of an aggregate gives
// way to a column of the same name).
//
// # Canonical form
//
// String on any node prints canonical SQL (format.go); parsing the String
// of a parsed Select gives the same AST except positions. SELECT * is
// expanded to the stored columns at parse time, nested ANDs and ORs are
// flattened, and FROM any/flows is dropped, so those spellings do not
// survive the round trip; their meaning does.
//
// # Limits
//
// Queries longer than MaxQueryLen bytes, parentheses nested deeper than
// MaxNesting, or more than MaxNesting NOTs in a row fail with
// ErrTooComplex, so that no input can exhaust the stack.
//
// # Concurrency
//
// A Parser is immutable and safe for concurrent use. Parse uses one shared
// Parser built on first use (sync.OnceValues): building the grammar costs
// several parses' worth of time and allocations (see parse_bench_test.go),
// and the shared value has no mutable state.
package sql
