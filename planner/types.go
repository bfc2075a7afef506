package planner

import (
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/sql"
)

// Type is the type of a result column.
type Type uint8

// Result column types. Column holds each in one typed slice.
const (
	TypeTime   Type = iota + 1 // time (block start or bucket), Column.Times, unix seconds
	TypeString                 // iface or host, Column.Strings
	TypeAddr                   // sip or dip, Column.Addrs
	TypePort                   // dport, Column.Uints
	TypeProto                  // IP protocol number, Column.Uints
	TypeUint                   // counter, sum, count or distinct estimate, Column.Uints
	TypeFloat                  // avg, Column.Floats
)

var typeNames = [...]string{"invalid", "time", "string", "addr", "port", "proto", "uint64", "float64"}

// String returns the type's name.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "invalid"
}

// typeOfColumn returns the result type of a column of flows.
func typeOfColumn(c sql.Column) Type {
	switch c.Type() {
	case sql.TypeTime:
		return TypeTime
	case sql.TypeString:
		return TypeString
	case sql.TypeAddr:
		return TypeAddr
	case sql.TypePort:
		return TypePort
	case sql.TypeProto:
		return TypeProto
	}
	return TypeUint
}

// storedOf returns the stored columns a column of flows is read from:
// none for time, iface and host (block metadata and Options.Host), two for
// the virtual bytes and packets.
func storedOf(c sql.Column) []columnar.ColumnID {
	switch c {
	case sql.ColSIP:
		return []columnar.ColumnID{columnar.ColSIP}
	case sql.ColDIP:
		return []columnar.ColumnID{columnar.ColDIP}
	case sql.ColDPort:
		return []columnar.ColumnID{columnar.ColDPort}
	case sql.ColProto:
		return []columnar.ColumnID{columnar.ColProto}
	case sql.ColBytesIn:
		return []columnar.ColumnID{columnar.ColBytesIn}
	case sql.ColBytesOut:
		return []columnar.ColumnID{columnar.ColBytesOut}
	case sql.ColPacketsIn:
		return []columnar.ColumnID{columnar.ColPacketsIn}
	case sql.ColPacketsOut:
		return []columnar.ColumnID{columnar.ColPacketsOut}
	case sql.ColBytes:
		return []columnar.ColumnID{columnar.ColBytesIn, columnar.ColBytesOut}
	case sql.ColPackets:
		return []columnar.ColumnID{columnar.ColPacketsIn, columnar.ColPacketsOut}
	}
	return nil
}

// blockConstant reports whether a column has one value per block.
func blockConstant(c sql.Column) bool {
	return c == sql.ColTime || c == sql.ColIface || c == sql.ColHost
}

// colSet is a set of stored columns, bit i for columnar.ColumnID i.
type colSet uint16

func (s colSet) has(c columnar.ColumnID) bool { return s&(1<<c) != 0 }

func (s *colSet) add(c sql.Column) {
	for _, id := range storedOf(c) {
		*s |= 1 << id
	}
}

// ids lists the columns in storage order.
func (s colSet) ids() []columnar.ColumnID {
	var out []columnar.ColumnID
	for _, id := range columnar.Columns() {
		if s.has(id) {
			out = append(out, id)
		}
	}
	return out
}
