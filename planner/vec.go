package planner

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/flowsql/flowsql/columnar"
)

// Column vectors. A stored column of a block arrives as an Arrow array of
// the narrowest unsigned type that held its maximum; colData type-switches
// on it once per chunk, and the kernels below are generic over the four
// widths, so inner loops make no interface calls.

type unsigned interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

// colData is one stored column of the block being processed.
type colData struct {
	col *columnar.Column
	w   int // value width in bytes; 0 when not read
	u8  []uint8
	u16 []uint16
	u32 []uint32
	u64 []uint64
}

func (c *colData) set(col *columnar.Column) error {
	c.col = col
	switch v := col.Values.(type) {
	case *array.Uint8:
		c.w, c.u8 = 1, v.Uint8Values()
	case *array.Uint16:
		c.w, c.u16 = 2, v.Uint16Values()
	case *array.Uint32:
		c.w, c.u32 = 4, v.Uint32Values()
	case *array.Uint64:
		c.w, c.u64 = 8, v.Uint64Values()
	default:
		return fmt.Errorf("column %s has unexpected Arrow type %s", col.ID, col.Values.DataType())
	}
	return nil
}

// release frees the column.
func (c *colData) release() {
	if c.col != nil {
		c.col.Release()
	}
	*c = colData{}
}

func (c *colData) len() int {
	switch c.w {
	case 1:
		return len(c.u8)
	case 2:
		return len(c.u16)
	case 4:
		return len(c.u32)
	}
	return len(c.u64)
}

// gather widens rows into dst: rows [lo, lo+n) when sel is nil, else the
// rows sel[i].
func (c *colData) gather(dst []uint64, lo, n int, sel []int32) []uint64 {
	switch c.w {
	case 1:
		return gatherT(dst, c.u8, lo, n, sel)
	case 2:
		return gatherT(dst, c.u16, lo, n, sel)
	case 4:
		return gatherT(dst, c.u32, lo, n, sel)
	}
	return gatherT(dst, c.u64, lo, n, sel)
}

func gatherT[T unsigned](dst []uint64, v []T, lo, n int, sel []int32) []uint64 {
	if sel == nil {
		dst = resize(dst, n)
		for i, x := range v[lo : lo+n] {
			dst[i] = uint64(x)
		}
		return dst
	}
	dst = resize(dst, len(sel))
	for i, r := range sel {
		dst[i] = uint64(v[r])
	}
	return dst
}

// addGather adds the gathered rows of c to dst (virtual columns).
func (c *colData) addGather(dst []uint64, lo, n int, sel []int32) {
	switch c.w {
	case 1:
		addGatherT(dst, c.u8, lo, n, sel)
	case 2:
		addGatherT(dst, c.u16, lo, n, sel)
	case 4:
		addGatherT(dst, c.u32, lo, n, sel)
	default:
		addGatherT(dst, c.u64, lo, n, sel)
	}
}

func addGatherT[T unsigned](dst []uint64, v []T, lo, n int, sel []int32) {
	if sel == nil {
		dst = dst[:n]
		for i, x := range v[lo : lo+n] {
			dst[i] += uint64(x)
		}
		return
	}
	dst = dst[:len(sel)]
	for i, r := range sel {
		dst[i] += uint64(v[r])
	}
}

// spanBits ORs into out bit i for each row lo+i of [lo, lo+n) whose value
// is in one of the spans.
func (c *colData) spanBits(lo, n int, s []span64, out []uint64) {
	switch c.w {
	case 1:
		spanBitsT(c.u8[lo:lo+n], s, out)
	case 2:
		spanBitsT(c.u16[lo:lo+n], s, out)
	case 4:
		spanBitsT(c.u32[lo:lo+n], s, out)
	default:
		spanBitsT(c.u64[lo:lo+n], s, out)
	}
}

func spanBitsT[T unsigned](v []T, s []span64, out []uint64) {
	for _, sp := range s {
		lo, width := sp.lo, sp.hi-sp.lo
		for base := 0; base < len(v); base += 64 {
			chunk := v[base:min(base+64, len(v))]
			var w uint64
			for j, x := range chunk {
				var b uint64
				if uint64(x)-lo <= width {
					b = 1
				}
				w |= b << uint(j)
			}
			out[base>>6] |= w
		}
	}
}

// cmpBits sets bit i of out when "a[i] op b[i]" holds.
func cmpBits(a, b []uint64, holds func(int) bool, out []uint64) {
	b = b[:len(a)]
	for i, x := range a {
		c := 0
		if x < b[i] {
			c = -1
		} else if x > b[i] {
			c = 1
		}
		if holds(c) {
			out[i>>6] |= 1 << uint(i&63)
		}
	}
}

// Bitmaps over the rows of a batch, bit i for row lo+i.

func bitWords(n int) int { return (n + 63) >> 6 }

func setOnes(bm []uint64, n int) {
	for i := range bm {
		bm[i] = ^uint64(0)
	}
	if r := n & 63; r != 0 {
		bm[len(bm)-1] = 1<<uint(r) - 1
	}
}

// selFromBits appends the rows of the set bits to sel[:0].
func selFromBits(bm []uint64, lo int, sel []int32) []int32 {
	sel = sel[:0]
	for wi, w := range bm {
		base := int32(lo + wi<<6)
		for w != 0 {
			sel = append(sel, base+int32(bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
	return sel
}

func popcount(bm []uint64) int {
	n := 0
	for _, w := range bm {
		n += bits.OnesCount64(w)
	}
	return n
}

// searchCodes returns the first row in [0, n) whose code is >= c, for
// codes sorted ascending. A column read from its runs answers from them:
// its codes may be expanded for some rows only.
func (c *colData) searchCodes(code uint64) int {
	if lo, _, ok := c.col.CodeRows(int(min(code, math.MaxInt32)), math.MaxInt32); ok {
		return lo
	}
	return c.searchCodesIn(0, c.len(), code)
}

// searchCodesIn returns the first row in [lo, hi) whose code is >= code,
// for codes sorted ascending over that range (hi when there is none).
func (c *colData) searchCodesIn(lo, hi int, code uint64) int {
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.at(m) < code {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (c *colData) at(i int) uint64 {
	switch c.w {
	case 1:
		return uint64(c.u8[i])
	case 2:
		return uint64(c.u16[i])
	case 4:
		return uint64(c.u32[i])
	}
	return c.u64[i]
}
