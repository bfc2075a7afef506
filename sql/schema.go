package sql

import "strings"

// Type is the value type of a column of the logical table flows.
type Type uint8

// Column types. The zero value TypeInvalid is no type.
const (
	TypeInvalid Type = iota
	TypeTime         // block start time
	TypeString       // interface or host name
	TypeAddr         // IPv4 or IPv6 address
	TypePort         // 16-bit port number
	TypeProto        // 8-bit IP protocol number
	TypeCounter      // unsigned 64-bit counter
)

var typeNames = [...]string{
	TypeInvalid: "invalid",
	TypeTime:    "time",
	TypeString:  "string",
	TypeAddr:    "addr",
	TypePort:    "port",
	TypeProto:   "proto",
	TypeCounter: "counter",
}

// String returns the type's lower-case name, e.g. "addr".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "invalid"
}

// valueHint says in words which values a column of type t accepts; it ends
// error messages about a value of the wrong kind.
func (t Type) valueHint() string {
	switch t {
	case TypeTime:
		return "a relative time like -24h or a quoted time like '2025-03-10 11:00'"
	case TypeString:
		return "a name like eth0 or a quoted string like 'web-1'"
	case TypeAddr:
		return "an IP address like 10.1.2.3 or 2001:db8::1 (or a prefix with IN)"
	case TypePort:
		return "a port number from 0 to 65535"
	case TypeProto:
		return "a protocol name like tcp or a number from 0 to 255"
	case TypeCounter:
		return "a whole number"
	}
	return "a value"
}

// Column names a column of the logical table flows (DESIGN §4). The zero
// value is not a column; IsValid reports whether c is one.
type Column uint8

// The columns of flows, in table order.
const (
	ColTime       Column            = iota + 1 // block start time
	ColIface                                   // capture interface
	ColHost                                    // host that captured the flow
	ColSIP                                     // client address
	ColDIP                                     // server address
	ColDPort                                   // server port (0 for protocols without ports)
	ColProto                                   // IP protocol number
	ColBytesIn                                 // bytes received by the host
	ColBytesOut                                // bytes sent by the host
	ColPacketsIn                               // packets received by the host
	ColPacketsOut                              // packets sent by the host
	ColBytes                                   // virtual: bytes_in + bytes_out
	ColPackets                                 // virtual: packets_in + packets_out
	numColumns    = int(ColPackets)            // count of valid columns
)

type columnInfo struct {
	name    string
	typ     Type
	virtual bool
}

// columnTable is indexed by Column; it is never written.
var columnTable = [...]columnInfo{
	ColTime:       {"time", TypeTime, false},
	ColIface:      {"iface", TypeString, false},
	ColHost:       {"host", TypeString, false},
	ColSIP:        {"sip", TypeAddr, false},
	ColDIP:        {"dip", TypeAddr, false},
	ColDPort:      {"dport", TypePort, false},
	ColProto:      {"proto", TypeProto, false},
	ColBytesIn:    {"bytes_in", TypeCounter, false},
	ColBytesOut:   {"bytes_out", TypeCounter, false},
	ColPacketsIn:  {"packets_in", TypeCounter, false},
	ColPacketsOut: {"packets_out", TypeCounter, false},
	ColBytes:      {"bytes", TypeCounter, true},
	ColPackets:    {"packets", TypeCounter, true},
}

// Columns returns every column of flows in table order, virtual ones last.
// The slice is freshly allocated; the caller may keep and modify it.
func Columns() []Column {
	cols := make([]Column, numColumns)
	for i := range cols {
		cols[i] = Column(i + 1)
	}
	return cols
}

// ColumnByName returns the column called name (case-insensitive).
func ColumnByName(name string) (Column, bool) {
	for c := ColTime; int(c) <= numColumns; c++ {
		if strings.EqualFold(columnTable[c].name, name) {
			return c, true
		}
	}
	return 0, false
}

// IsValid reports whether c is a column of flows.
func (c Column) IsValid() bool { return c >= ColTime && int(c) <= numColumns }

// Name returns the column's name as written in queries, e.g. "bytes_in".
func (c Column) Name() string {
	if !c.IsValid() {
		return "invalid"
	}
	return columnTable[c].name
}

// String returns c.Name().
func (c Column) String() string { return c.Name() }

// Type returns the column's value type (TypeInvalid for an invalid c).
func (c Column) Type() Type {
	if !c.IsValid() {
		return TypeInvalid
	}
	return columnTable[c].typ
}

// Virtual reports whether the column is computed from stored ones: bytes is
// bytes_in + bytes_out and packets is packets_in + packets_out.
func (c Column) Virtual() bool { return c.IsValid() && columnTable[c].virtual }

// AggFunc is an aggregate function.
type AggFunc uint8

// Aggregate functions. The zero value is not a function.
const (
	AggCount         AggFunc = iota + 1 // count(*): number of flow rows
	AggCountDistinct                    // count(DISTINCT col): approximate distinct values
	AggSum                              // sum(counter)
	AggMin                              // min(col)
	AggMax                              // max(col)
	AggAvg                              // avg(counter)
)

var aggNames = [...]string{
	AggCount:         "count",
	AggCountDistinct: "count",
	AggSum:           "sum",
	AggMin:           "min",
	AggMax:           "max",
	AggAvg:           "avg",
}

// String returns the function's SQL name; count(DISTINCT x) is "count".
func (f AggFunc) String() string {
	if f >= AggCount && f <= AggAvg {
		return aggNames[f]
	}
	return "invalid"
}

// functionNames lists every function the dialect knows, for suggestions.
var functionNames = [...]string{"avg", "bucket", "count", "max", "min", "sum"}

// aggByName maps a lower-case function name to its aggregate; count maps to
// AggCount and becomes AggCountDistinct with DISTINCT.
func aggByName(name string) (AggFunc, bool) {
	switch strings.ToLower(name) {
	case "count":
		return AggCount, true
	case "sum":
		return AggSum, true
	case "min":
		return AggMin, true
	case "max":
		return AggMax, true
	case "avg":
		return AggAvg, true
	}
	return 0, false
}

// columnSynonyms maps names other tools use to our columns. They are not
// accepted, only suggested.
var columnSynonyms = map[string]string{
	"src": "sip", "srcip": "sip", "src_ip": "sip", "saddr": "sip", "source": "sip", "client": "sip",
	"dst": "dip", "dstip": "dip", "dst_ip": "dip", "daddr": "dip", "destination": "dip", "server": "dip",
	"port": "dport", "dstport": "dport", "dst_port": "dport", "service": "dport",
	"protocol": "proto", "ip_proto": "proto",
	"interface": "iface", "if": "iface", "dev": "iface", "device": "iface",
	"hostname": "host", "ts": "time", "timestamp": "time", "t": "time",
	"octets": "bytes", "pkts": "packets", "in_bytes": "bytes_in", "out_bytes": "bytes_out",
}

// functionSynonyms maps names other SQL dialects use to our functions.
var functionSynonyms = map[string]string{
	"mean": "avg", "average": "avg", "total": "sum",
	"time_bucket": "bucket", "date_trunc": "bucket", "date_bin": "bucket", "floor": "bucket",
	"approx_count_distinct": "count", "uniq": "count",
}
