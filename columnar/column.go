package columnar

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
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
//
// A partial dictionary keeps its entries as the byte planes they are
// stored in (FORMAT.md, v2 dictionaries) until Array or At asks for
// 16-byte entries: Lookup and Range search the planes. A Dict is not safe
// for concurrent use.
type Dict struct {
	arr  *array.FixedSizeBinary // nil until needed when planes hold the entries
	full int                    // entries of the whole dictionary

	// planes, when not nil, holds the n entries of a partial dictionary
	// as IPv4 byte planes (byte k of entry i at k·n + i).
	planes *memory.Buffer
	n      int
	mem    memory.Allocator

	// Chunks and DiskBytes count the chunk frames read for it and their
	// bytes.
	Chunks    int
	DiskBytes int64
}

// Len returns the number of addresses held: all the block's distinct
// addresses, or for a partial dictionary its IPv4 ones.
func (d *Dict) Len() int {
	if d.arr == nil {
		return d.n
	}
	return d.arr.Len()
}

// Full returns the number of distinct addresses of the column in the
// block, Len() unless the dictionary is partial.
func (d *Dict) Full() int { return d.full }

// Partial reports whether the dictionary holds the IPv4 entries alone.
func (d *Dict) Partial() bool { return d.Len() < d.full }

// At returns the address of code i.
func (d *Dict) At(i int) (a [16]byte) {
	if d.arr == nil {
		a[10], a[11] = 0xff, 0xff
		binary.BigEndian.PutUint32(a[12:], d.v4At(i))
		return a
	}
	copy(a[:], d.arr.Value(i))
	return a
}

// AtV4 returns the IPv4 address of code i of a partial dictionary
// (Partial), whose entries are all IPv4: from its planes, without
// expanding the others. REQUIRES: Partial() and 0 <= i < Len().
func (d *Dict) AtV4(i int) uint32 {
	if d.planes == nil {
		return binary.BigEndian.Uint32(d.arr.Value(i)[12:])
	}
	return d.v4At(i)
}

// v4At returns entry i of a dictionary held as planes.
func (d *Dict) v4At(i int) uint32 {
	p, n := d.planes.Bytes(), d.n
	return uint32(p[i])<<24 | uint32(p[n+i])<<16 | uint32(p[2*n+i])<<8 | uint32(p[3*n+i])
}

// Array returns the dictionary as a fixed_size_binary(16) array, valid until
// Release. A dictionary held as planes expands them on the first call.
func (d *Dict) Array() *array.FixedSizeBinary {
	if d.arr == nil {
		buf := memory.NewResizableBuffer(d.mem)
		buf.Resize(16 * d.n)
		unsplitV4(buf.Bytes(), d.planes.Bytes(), d.n)
		data := array.NewData(addrType, d.n, []*memory.Buffer{nil, buf}, nil, 0, 0)
		buf.Release()
		d.arr = array.NewFixedSizeBinaryData(data)
		data.Release()
	}
	return d.arr
}

// Lookup returns the code of addr, if the block has it.
func (d *Dict) Lookup(addr [16]byte) (uint32, bool) { return d.lookup(&addr) }

func (d *Dict) lookup(addr *[16]byte) (uint32, bool) {
	if d.arr != nil || d.planes == nil {
		return LookupAddr(d.Array(), *addr)
	}
	if binary.BigEndian.Uint64(addr[:8]) != 0 || binary.BigEndian.Uint32(addr[8:12]) != 0xffff {
		return 0, false // not IPv4-mapped: never in a partial dictionary
	}
	v := binary.BigEndian.Uint32(addr[12:])
	i := d.searchV4(uint64(v))
	if i < d.n && d.v4At(i) == v {
		return uint32(i), true
	}
	return 0, false
}

// Range returns the codes [from, to) of the addresses a with lo <= a <= hi.
// For a CIDR prefix pass its first and last address.
func (d *Dict) Range(lo, hi [16]byte) (from, to int) {
	if d.arr == nil && d.planes != nil {
		return d.searchV4(v4Key(&lo)), d.searchV4(v4Key(&hi) + 1)
	}
	a := d.Array()
	vals, n := dictBytes(a), a.Len()
	return searchAddr(vals, n, &lo, false), searchAddr(vals, n, &hi, true)
}

// v4Key places a 16-byte address on the line of IPv4 entries: its IPv4
// value when IPv4-mapped, -1 below ::ffff:0.0.0.0 (an unsigned value
// that, incremented, is 0) and 2^32 above ::ffff:255.255.255.255, so that
// searchV4 of the key, or of the key + 1, counts the entries below it or
// not above it.
func v4Key(a *[16]byte) uint64 {
	switch c := compareAddr(a, &v4MappedLo); {
	case c < 0:
		return math.MaxUint64
	case compareAddr(a, &v4MappedHi) > 0:
		return 1 << 32
	}
	return uint64(binary.BigEndian.Uint32(a[12:]))
}

// searchV4 returns the first entry of a dictionary held as planes whose
// value is >= v, n when none is; v = MaxUint64 (v4Key below every IPv4
// address) gives 0.
func (d *Dict) searchV4(v uint64) int {
	if v == math.MaxUint64 {
		return 0
	}
	lo, hi := 0, d.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if uint64(d.v4At(m)) < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Release frees the dictionary.
func (d *Dict) Release() {
	if d.arr != nil {
		d.arr.Release()
		d.arr = nil
	}
	if d.planes != nil {
		d.planes.Release()
		d.planes = nil
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
