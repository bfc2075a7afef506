package parquet

import (
	"encoding/binary"
	"math"
)

// Thrift compact protocol, the encoding of Parquet's page headers and
// footer: only what writing them needs (structs, lists, i8/i16/i32/i64,
// binary, bool).

// Compact protocol field and element types.
const (
	tcTrue   = 1
	tcFalse  = 2
	tcByte   = 3
	tcI16    = 4
	tcI32    = 5
	tcI64    = 6
	tcDouble = 7
	tcBinary = 8
	tcList   = 9
	tcStruct = 12
)

// compact appends compact-protocol values to buf. Fields are written in
// increasing id order within a struct; begin and end bracket a struct.
type compact struct {
	buf  []byte
	last []int16 // the last field id of each open struct
}

func (c *compact) uvarint(v uint64) { c.buf = binary.AppendUvarint(c.buf, v) }

func (c *compact) zigzag(v int64) { c.uvarint(uint64(v<<1) ^ uint64(v>>63)) }

// field writes a field header: the id as a delta from the previous field
// of the struct when it fits in four bits, else in full.
func (c *compact) field(id int16, typ byte) {
	top := len(c.last) - 1
	if d := id - c.last[top]; d > 0 && d <= 15 {
		c.buf = append(c.buf, byte(d)<<4|typ)
	} else {
		c.buf = append(c.buf, typ)
		c.zigzag(int64(id))
	}
	c.last[top] = id
}

// begin opens a struct: the top-level one (id 0) or a field's.
func (c *compact) begin(id int16) {
	if id != 0 {
		c.field(id, tcStruct)
	}
	c.last = append(c.last, 0)
}

// beginElem opens a struct that is an element of a list.
func (c *compact) beginElem() { c.last = append(c.last, 0) }

// end closes the innermost struct with a stop byte.
func (c *compact) end() {
	c.buf = append(c.buf, 0)
	c.last = c.last[:len(c.last)-1]
}

func (c *compact) i32(id int16, v int32) {
	c.field(id, tcI32)
	c.zigzag(int64(v))
}

func (c *compact) i64(id int16, v int64) {
	c.field(id, tcI64)
	c.zigzag(v)
}

func (c *compact) i8(id int16, v int8) {
	c.field(id, tcByte)
	c.buf = append(c.buf, byte(v))
}

func (c *compact) i16(id int16, v int16) {
	c.field(id, tcI16)
	c.zigzag(int64(v))
}

func (c *compact) double(id int16, v float64) {
	c.field(id, tcDouble)
	c.buf = binary.LittleEndian.AppendUint64(c.buf, math.Float64bits(v))
}

func (c *compact) bool(id int16, v bool) {
	if v {
		c.field(id, tcTrue)
	} else {
		c.field(id, tcFalse)
	}
}

func (c *compact) binary(id int16, b []byte) {
	c.field(id, tcBinary)
	c.uvarint(uint64(len(b)))
	c.buf = append(c.buf, b...)
}

func (c *compact) string(id int16, s string) {
	c.field(id, tcBinary)
	c.uvarint(uint64(len(s)))
	c.buf = append(c.buf, s...)
}

// list writes a list field's header; its n elements follow.
func (c *compact) list(id int16, elem byte, n int) {
	c.field(id, tcList)
	if n < 15 {
		c.buf = append(c.buf, byte(n)<<4|elem)
	} else {
		c.buf = append(c.buf, 0xf0|elem)
		c.uvarint(uint64(n))
	}
}

// i32Elem and stringElem write list elements.
func (c *compact) i32Elem(v int32) { c.zigzag(int64(v)) }

func (c *compact) stringElem(s string) {
	c.uvarint(uint64(len(s)))
	c.buf = append(c.buf, s...)
}
