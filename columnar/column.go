package columnar

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Column is one column of one block, as read by ReadColumn. Values holds the
// rows: a non-null *array.Uint8, Uint16, Uint32 or Uint64 (the narrowest
// width that held the block's maximum; see Encoding). For address columns
// the values are dictionary codes and Dict maps them to addresses. The
// arrays stay valid until Release, also after the DB is closed or the block
// is removed.
type Column struct {
	ID     ColumnID
	Values arrow.Array
	Dict   *Dict // address columns only; nil otherwise

	// Chunks and DiskBytes count the chunk frames read for the column
	// (values and dictionary parts) and their bytes.
	Chunks    int
	DiskBytes int64

	runs *runIndex // the runs a v3 sip column was read from, else nil
}

// CodeRows returns the rows [lo, hi) that hold codes [from, to) of a
// column read from its runs (the sip column of a format v3 block): a
// sorted column's codes are runs of rows, so these are all the rows
// holding those codes. ok is false for other columns; search their codes.
func (c *Column) CodeRows(from, to int) (lo, hi int, ok bool) {
	if c.runs == nil {
		return 0, 0, false
	}
	lo, hi = c.runs.rowsOf(from, to)
	return lo, hi, true
}

// ExpandRows makes rows [lo, hi) of Values hold their codes, for a column
// read from its runs (ReadSorted, ReadColumnRows), which holds the codes
// of the rows it was read for only. Other columns hold every row already.
func (c *Column) ExpandRows(lo, hi int) {
	if c.runs != nil {
		c.runs.expand(max(lo, 0), min(hi, c.runs.rows))
	}
}

// Len returns the number of rows.
func (c *Column) Len() int { return c.Values.Len() }

// Release frees the column's arrays. The column must not be used after.
func (c *Column) Release() {
	if c.Values != nil {
		c.Values.Release()
		c.Values = nil
	}
	if c.Dict != nil {
		c.Dict.Release()
		c.Dict = nil
	}
	if c.runs != nil {
		c.runs.release()
		c.runs = nil
	}
}

// Value returns row i widened to uint64 (a code for address columns). It is
// for tests and tools; vectorized code type-switches on Values once.
func (c *Column) Value(i int) uint64 {
	switch v := c.Values.(type) {
	case *array.Uint8:
		return uint64(v.Value(i))
	case *array.Uint16:
		return uint64(v.Value(i))
	case *array.Uint32:
		return uint64(v.Value(i))
	case *array.Uint64:
		return v.Value(i)
	}
	panic(fmt.Sprintf("columnar: column %s has unexpected array type %s", c.ID, c.Values.DataType()))
}

// AppendUint64s appends every row, widened to uint64, to dst.
func (c *Column) AppendUint64s(dst []uint64) []uint64 {
	switch v := c.Values.(type) {
	case *array.Uint8:
		return widen(dst, v.Uint8Values())
	case *array.Uint16:
		return widen(dst, v.Uint16Values())
	case *array.Uint32:
		return widen(dst, v.Uint32Values())
	case *array.Uint64:
		return append(dst, v.Uint64Values()...)
	}
	panic(fmt.Sprintf("columnar: column %s has unexpected array type %s", c.ID, c.Values.DataType()))
}

func widen[T unsigned](dst []uint64, src []T) []uint64 {
	for _, x := range src {
		dst = append(dst, uint64(x))
	}
	return dst
}

// Addr returns the address of row i of an address column.
func (c *Column) Addr(i int) [16]byte { return c.Dict.At(int(c.Value(i))) }

// Dict is the sorted dictionary of an address column of one block: distinct
// 16-byte addresses (IPv4 in IPv4-mapped form) in ascending byte order, code
// i naming the i-th. Because it is sorted, every CIDR prefix is a
// contiguous range of codes (Range), and a lookup is a binary search.
//
// A dictionary read for IPv4 addresses alone (ReadDictV4, or ReadColumnRows
// for rows that hold IPv4 codes only) may be partial: it then holds the
// entries of codes [0, Len()), the IPv4 addresses, of a dictionary of
// Full() entries, and answers Lookup and Range for those codes only (an
// address outside ::ffff:0:0/96 is not found in it, whether or not the
// block has it).
type Dict struct {
	arr  *array.FixedSizeBinary
	full int // entries of the whole dictionary

	// Chunks and DiskBytes count the chunk frames read for it and their
	// bytes.
	Chunks    int
	DiskBytes int64
}

// Len returns the number of addresses held: all the block's distinct
// addresses, or for a partial dictionary its IPv4 ones.
func (d *Dict) Len() int { return d.arr.Len() }

// Full returns the number of distinct addresses of the column in the
// block, Len() unless the dictionary is partial.
func (d *Dict) Full() int { return d.full }

// Partial reports whether the dictionary holds the IPv4 entries alone.
func (d *Dict) Partial() bool { return d.arr.Len() < d.full }

// At returns the address of code i.
func (d *Dict) At(i int) (a [16]byte) {
	copy(a[:], d.arr.Value(i))
	return a
}

// Array returns the dictionary as a fixed_size_binary(16) array, valid until
// Release.
func (d *Dict) Array() *array.FixedSizeBinary { return d.arr }

// Lookup returns the code of addr, if the block has it.
func (d *Dict) Lookup(addr [16]byte) (uint32, bool) { return LookupAddr(d.arr, addr) }

// Range returns the codes [from, to) of the addresses a with lo <= a <= hi.
// For a CIDR prefix pass its first and last address.
func (d *Dict) Range(lo, hi [16]byte) (from, to int) {
	vals := dictBytes(d.arr)
	n := d.arr.Len()
	return searchAddr(vals, n, &lo, false), searchAddr(vals, n, &hi, true)
}

// Release frees the dictionary.
func (d *Dict) Release() {
	if d.arr != nil {
		d.arr.Release()
		d.arr = nil
	}
}

// LookupAddr finds addr in a sorted dictionary array by binary search and
// returns its code. It does not allocate.
func LookupAddr(dict *array.FixedSizeBinary, addr [16]byte) (uint32, bool) {
	vals := dictBytes(dict)
	n := dict.Len()
	i := searchAddr(vals, n, &addr, false)
	if i < n && binary.BigEndian.Uint64(vals[16*i:]) == binary.BigEndian.Uint64(addr[:8]) &&
		binary.BigEndian.Uint64(vals[16*i+8:]) == binary.BigEndian.Uint64(addr[8:]) {
		return uint32(i), true
	}
	return 0, false
}

// searchAddr returns the first index whose address is >= a (after == false)
// or > a (after == true) among n sorted 16-byte values.
func searchAddr(vals []byte, n int, a *[16]byte, after bool) int {
	hi0, lo0 := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		h, l := binary.BigEndian.Uint64(vals[16*m:]), binary.BigEndian.Uint64(vals[16*m+8:])
		less := h < hi0 || h == hi0 && l < lo0
		if after {
			less = h < hi0 || h == hi0 && l <= lo0
		}
		if less {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// dictBytes returns the contiguous 16-byte values of a dictionary array.
func dictBytes(a *array.FixedSizeBinary) []byte {
	d := a.Data()
	buf := d.Buffers()[1]
	if buf == nil {
		return nil
	}
	return buf.Bytes()[16*d.Offset() : 16*(d.Offset()+d.Len())]
}
