package columnar

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// ColumnID names a stored column. The numeric values are written to disk
// (chunk frames and index entries) and never change meaning.
type ColumnID uint8

// Stored columns, in storage order. The zero value is not a column.
const (
	ColSIP        ColumnID = 1 // client address, dictionary-encoded
	ColDIP        ColumnID = 2 // server address, dictionary-encoded
	ColDPort      ColumnID = 3 // server port
	ColProto      ColumnID = 4 // IP protocol number
	ColBytesIn    ColumnID = 5 // bytes received by the interface's host
	ColBytesOut   ColumnID = 6 // bytes sent by the interface's host
	ColPacketsIn  ColumnID = 7 // packets received
	ColPacketsOut ColumnID = 8 // packets sent

	// NumColumns is the number of stored columns; valid ids are 1..NumColumns.
	NumColumns = 8
)

var columnNames = [NumColumns + 1]string{
	"", "sip", "dip", "dport", "proto", "bytes_in", "bytes_out", "packets_in", "packets_out",
}

// Columns lists every stored column in storage order.
func Columns() []ColumnID {
	return []ColumnID{ColSIP, ColDIP, ColDPort, ColProto, ColBytesIn, ColBytesOut, ColPacketsIn, ColPacketsOut}
}

// IsValid reports whether c names a stored column.
func (c ColumnID) IsValid() bool { return c >= 1 && c <= NumColumns }

// isCounter reports whether c is one of the four traffic counters, the
// columns that may be stored byte-stream-split.
func (c ColumnID) isCounter() bool { return c >= ColBytesIn && c <= ColPacketsOut }

// IsAddr reports whether c holds addresses (sip, dip), stored as a sorted
// dictionary plus codes.
func (c ColumnID) IsAddr() bool { return c == ColSIP || c == ColDIP }

// String returns the column's SQL name ("sip", "bytes_in", ...).
func (c ColumnID) String() string {
	if !c.IsValid() {
		return fmt.Sprintf("column(%d)", uint8(c))
	}
	return columnNames[c]
}

// ColumnByName returns the column with the given SQL name. Virtual columns
// (bytes, packets, time, iface) are not stored and are not found.
func ColumnByName(name string) (ColumnID, bool) {
	for i := 1; i <= NumColumns; i++ {
		if columnNames[i] == name {
			return ColumnID(i), true
		}
	}
	return 0, false
}

// Part says which piece of a column a chunk holds.
type Part uint8

const (
	// PartValues is the column's row values: the values of plain columns, the
	// dictionary codes of address columns.
	PartValues Part = 0
	// PartDict is the sorted dictionary of an address column: all of it in
	// format version 1; from version 2 on only its entries that are not
	// IPv4-mapped (FORMAT.md "Column encodings").
	PartDict Part = 1
	// PartDict4 (format version 2 on) is the IPv4-mapped entries of an
	// address column's dictionary, 4 bytes each, byte-stream-split.
	PartDict4 Part = 2
	// PartRuns (format version 3 on) replaces the sip codes of a block
	// whose rows are sorted (FlagSorted): one count per dictionary code,
	// the number of rows holding it. Sorted codes are those runs, so the
	// rows of a sip are found from the counts alone (FORMAT.md "Column
	// encodings").
	PartRuns Part = 3
)

// IsDict reports whether p is a part of a dictionary.
func (p Part) IsDict() bool { return p == PartDict || p == PartDict4 }

// String returns "values", "dict", "dict4" or "runs".
func (p Part) String() string {
	switch p {
	case PartValues:
		return "values"
	case PartRuns:
		return "runs"
	case PartDict:
		return "dict"
	case PartDict4:
		return "dict4"
	}
	return fmt.Sprintf("part(%d)", uint8(p))
}

// Encoding is the physical type of a chunk's single Arrow column. Values are
// written to disk.
type Encoding uint8

// Encodings. Unsigned integers are always non-null Arrow primitive arrays.
const (
	EncUint8   Encoding = 1 // arrow uint8
	EncUint16  Encoding = 2 // arrow uint16
	EncUint32  Encoding = 3 // arrow uint32
	EncUint64  Encoding = 4 // arrow uint64
	EncAddr128 Encoding = 5 // arrow fixed_size_binary(16): addresses, sorted and distinct
	// EncAddr32 is arrow fixed_size_binary(4) holding IPv4 addresses,
	// sorted and distinct, byte-stream-split: byte k of entry i is at
	// k*n + i (FORMAT.md "Column encodings"). Format version 2 on.
	EncAddr32 Encoding = 6
	// EncSplit16, EncSplit32 and EncSplit64 are arrow uint16, uint32 and
	// uint64 chunks whose values buffer holds the n values byte-stream-split:
	// byte k (little-endian order, k = 0 least significant) of value i is at
	// k*n + i. Read as Arrow values they are byte planes, not the counters;
	// the readers unsplit them (FORMAT.md "Column encodings"). Format version
	// 2 on, counter columns only.
	EncSplit16 Encoding = 7
	EncSplit32 Encoding = 8
	EncSplit64 Encoding = 9
)

// IsValid reports whether e is a known encoding.
func (e Encoding) IsValid() bool { return e >= EncUint8 && e <= EncSplit64 }

// IsSplit reports whether e stores its integers byte-stream-split.
func (e Encoding) IsSplit() bool { return e >= EncSplit16 && e <= EncSplit64 }

// Plain returns the unsigned integer encoding of the values e holds: e
// itself unless e is a split encoding.
func (e Encoding) Plain() Encoding {
	if e.IsSplit() {
		return e - EncSplit16 + EncUint16
	}
	return e
}

// splitEncoding returns the split form of a plain uint16/32/64 encoding.
// REQUIRES: e is EncUint16, EncUint32 or EncUint64.
func splitEncoding(e Encoding) Encoding { return e - EncUint16 + EncSplit16 }

// Width returns the size in bytes of one value.
func (e Encoding) Width() int {
	switch e {
	case EncUint8:
		return 1
	case EncUint16, EncSplit16:
		return 2
	case EncUint32, EncSplit32:
		return 4
	case EncUint64, EncSplit64:
		return 8
	case EncAddr128:
		return 16
	case EncAddr32:
		return 4
	}
	return 0
}

// DataType returns the Arrow type of a chunk with this encoding.
func (e Encoding) DataType() arrow.DataType {
	switch e {
	case EncUint8:
		return arrow.PrimitiveTypes.Uint8
	case EncUint16, EncSplit16:
		return arrow.PrimitiveTypes.Uint16
	case EncUint32, EncSplit32:
		return arrow.PrimitiveTypes.Uint32
	case EncUint64, EncSplit64:
		return arrow.PrimitiveTypes.Uint64
	case EncAddr128:
		return addrType
	case EncAddr32:
		return addr4Type
	}
	return nil
}

// String returns the Arrow type name, with " split" appended for the
// split encodings.
func (e Encoding) String() string {
	if e.IsSplit() {
		return e.DataType().String() + " split"
	}
	if dt := e.DataType(); dt != nil {
		return dt.String()
	}
	return fmt.Sprintf("encoding(%d)", uint8(e))
}

var (
	addrType  = &arrow.FixedSizeBinaryType{ByteWidth: 16}
	addr4Type = &arrow.FixedSizeBinaryType{ByteWidth: 4}
)

// uintEncoding returns the narrowest unsigned encoding holding max.
func uintEncoding(max uint64) Encoding {
	switch {
	case max <= 0xff:
		return EncUint8
	case max <= 0xffff:
		return EncUint16
	case max <= 0xffffffff:
		return EncUint32
	}
	return EncUint64
}

// Codec is the Arrow IPC buffer compression of a chunk. Values are written
// to disk.
type Codec uint8

// Codecs.
const (
	CodecNone Codec = 0 // uncompressed buffers
	CodecLZ4  Codec = 1 // Arrow IPC LZ4_FRAME body compression
	CodecZstd Codec = 2 // Arrow IPC ZSTD body compression
)

// IsValid reports whether c is a known codec.
func (c Codec) IsValid() bool { return c <= CodecZstd }

// String returns "none", "lz4" or "zstd".
func (c Codec) String() string {
	switch c {
	case CodecNone:
		return "none"
	case CodecLZ4:
		return "lz4"
	case CodecZstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}

// ParseCodec reads "none", "lz4" or "zstd".
func ParseCodec(s string) (Codec, error) {
	switch s {
	case "none", "":
		return CodecNone, nil
	case "lz4":
		return CodecLZ4, nil
	case "zstd":
		return CodecZstd, nil
	}
	return 0, fmt.Errorf("columnar: unknown codec %q (want none, lz4 or zstd)", s)
}
