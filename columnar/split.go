package columnar

import (
	"encoding/binary"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Format version 2 stores the counters (bytes_in, bytes_out, packets_in,
// packets_out) of 2, 4 or 8 bytes byte-stream-split (EncSplit16/32/64,
// FORMAT.md "Column encodings"): byte k of the little-endian value i at
// k*n + i, so all low bytes come first and the mostly-zero high bytes of a
// heavy-tailed counter form long runs. Plain little-endian integers put a
// differing low byte between every two equal high bytes, which LZ4 cannot
// match at all and ZSTD only through its entropy stage; split, LZ4 shrinks
// bytes_* below what ZSTD gets from plain values and decodes them about
// twice as fast, and ZSTD shrinks packets_* further (BenchmarkChunkCodec).
//
// The reader unsplits with a word-at-a-time transpose: eight values at a
// time, one 8-byte load per plane, then masked swaps of bytes, 16-bit and
// 32-bit lanes between pairs of words (the classic in-register transpose of
// an 8×8, 4×8 or 2×8 byte matrix), then one 8-byte store per output word
// (BenchmarkUnsplit against the byte-at-a-time unsplitBytes).

// appendSplit appends the n = len(data)/w little-endian values of width w
// in data as w byte planes: byte k of value i at k*n + i.
func appendSplit(dst, data []byte, w int) []byte {
	n := len(data) / w
	start := len(dst)
	dst = slices.Grow(dst, n*w)[:start+n*w]
	p := dst[start:]
	for k := range w {
		plane := p[k*n : (k+1)*n]
		for i := range plane {
			plane[i] = data[i*w+k]
		}
	}
	return dst
}

// unsplitBytes is the reference inverse of appendSplit, a byte at a time:
// it writes the n values of width w held as byte planes in planes into dst
// as little-endian integers. REQUIRES: len(planes), len(dst) >= n*w.
func unsplitBytes(dst, planes []byte, n, w int) {
	for k := range w {
		plane := planes[k*n : (k+1)*n]
		for i, b := range plane {
			dst[i*w+k] = b
		}
	}
}

// unsplit is the fast inverse of appendSplit for widths 2, 4 and 8 (other
// widths go a byte at a time). REQUIRES: len(planes), len(dst) >= n*w.
func unsplit(dst, planes []byte, n, w int) { unsplitRows(dst, planes, n, w, 0, n) }

// unsplitRows is unsplit for values [lo, hi) only: dst's other values are
// left as they are. REQUIRES: 0 <= lo <= hi <= n.
func unsplitRows(dst, planes []byte, n, w, lo, hi int) {
	d, p, m := dst[w*lo:], planes[lo:], hi-lo
	switch w {
	case 2:
		unsplit16(d, p, n, m)
	case 4:
		unsplit32(d, p, n, m)
	case 8:
		unsplit64(d, p, n, m)
	default:
		for k := range w {
			for i, b := range p[k*n : k*n+m] {
				d[i*w+k] = b
			}
		}
	}
}

// Masks of the low lane of each pair of bytes, 16-bit and 32-bit lanes.
const (
	lanes8  = 0x00ff00ff00ff00ff
	lanes16 = 0x0000ffff0000ffff
	lanes32 = 0x00000000ffffffff
)

// swapLanes exchanges the odd lanes of a (width s bits, mask m of the even
// lanes) with the even lanes of b: one step of an in-register transpose.
// Applied twice it is the identity.
func swapLanes(a, b uint64, s uint, m uint64) (uint64, uint64) {
	t := (a>>s ^ b) & m
	return a ^ t<<s, b ^ t
}

// The kernels below read plane k of n values at planes[k*stride:], so a
// run of rows [lo, hi) of a chunk of n rows is unsplit by passing
// planes[lo:], stride n and hi-lo values (unsplitRows).

func unsplit16(dst, planes []byte, stride, n int) {
	p0, p1 := planes[:n], planes[stride:stride+n]
	d := dst[:2*n]
	// The loop conditions bound every slice, so the loads and stores run
	// without bounds checks.
	for len(p0) >= 8 && len(p1) >= 8 && len(d) >= 16 {
		a, b := binary.LittleEndian.Uint64(p0), binary.LittleEndian.Uint64(p1)
		// a = bytes 0 of values 0..7, b = bytes 1.
		a, b = swapLanes(a, b, 8, lanes8)   // a: v0 v2 v4 v6, b: v1 v3 v5 v7
		a, b = swapLanes(a, b, 16, lanes16) // a: v0 v1 v4 v5, b: v2 v3 v6 v7
		a, b = swapLanes(a, b, 32, lanes32) // a: v0..v3, b: v4..v7
		binary.LittleEndian.PutUint64(d, a)
		binary.LittleEndian.PutUint64(d[8:], b)
		p0, p1, d = p0[8:], p1[8:], d[16:]
	}
	for i := range p0 {
		d[2*i], d[2*i+1] = p0[i], p1[i]
	}
}

func unsplit32(dst, planes []byte, stride, n int) {
	p0, p1, p2, p3 := planes[:n], planes[stride:stride+n], planes[2*stride:2*stride+n], planes[3*stride:3*stride+n]
	d := dst[:4*n]
	for len(p0) >= 8 && len(p1) >= 8 && len(p2) >= 8 && len(p3) >= 8 && len(d) >= 32 {
		w0, w1 := binary.LittleEndian.Uint64(p0), binary.LittleEndian.Uint64(p1)
		w2, w3 := binary.LittleEndian.Uint64(p2), binary.LittleEndian.Uint64(p3)
		w0, w1 = swapLanes(w0, w1, 8, lanes8)
		w2, w3 = swapLanes(w2, w3, 8, lanes8)
		w0, w2 = swapLanes(w0, w2, 16, lanes16) // w0: v0 v4, w2: v2 v6
		w1, w3 = swapLanes(w1, w3, 16, lanes16) // w1: v1 v5, w3: v3 v7
		w0, w1 = swapLanes(w0, w1, 32, lanes32) // w0: v0 v1, w1: v4 v5
		w2, w3 = swapLanes(w2, w3, 32, lanes32) // w2: v2 v3, w3: v6 v7
		binary.LittleEndian.PutUint64(d, w0)
		binary.LittleEndian.PutUint64(d[8:], w2)
		binary.LittleEndian.PutUint64(d[16:], w1)
		binary.LittleEndian.PutUint64(d[24:], w3)
		p0, p1, p2, p3, d = p0[8:], p1[8:], p2[8:], p3[8:], d[32:]
	}
	for i := range p0 {
		d[4*i], d[4*i+1], d[4*i+2], d[4*i+3] = p0[i], p1[i], p2[i], p3[i]
	}
}

func unsplit64(dst, planes []byte, stride, n int) {
	p0, p1, p2, p3 := planes[:n], planes[stride:stride+n], planes[2*stride:2*stride+n], planes[3*stride:3*stride+n]
	p4, p5, p6, p7 := planes[4*stride:4*stride+n], planes[5*stride:5*stride+n], planes[6*stride:6*stride+n], planes[7*stride:7*stride+n]
	d := dst[:8*n]
	for len(p0) >= 8 && len(p1) >= 8 && len(p2) >= 8 && len(p3) >= 8 &&
		len(p4) >= 8 && len(p5) >= 8 && len(p6) >= 8 && len(p7) >= 8 && len(d) >= 64 {
		w0, w1 := binary.LittleEndian.Uint64(p0), binary.LittleEndian.Uint64(p1)
		w2, w3 := binary.LittleEndian.Uint64(p2), binary.LittleEndian.Uint64(p3)
		w4, w5 := binary.LittleEndian.Uint64(p4), binary.LittleEndian.Uint64(p5)
		w6, w7 := binary.LittleEndian.Uint64(p6), binary.LittleEndian.Uint64(p7)
		w0, w1 = swapLanes(w0, w1, 8, lanes8)
		w2, w3 = swapLanes(w2, w3, 8, lanes8)
		w4, w5 = swapLanes(w4, w5, 8, lanes8)
		w6, w7 = swapLanes(w6, w7, 8, lanes8)
		w0, w2 = swapLanes(w0, w2, 16, lanes16)
		w1, w3 = swapLanes(w1, w3, 16, lanes16)
		w4, w6 = swapLanes(w4, w6, 16, lanes16)
		w5, w7 = swapLanes(w5, w7, 16, lanes16)
		w0, w4 = swapLanes(w0, w4, 32, lanes32) // w0: v0, w4: v4
		w1, w5 = swapLanes(w1, w5, 32, lanes32)
		w2, w6 = swapLanes(w2, w6, 32, lanes32)
		w3, w7 = swapLanes(w3, w7, 32, lanes32)
		binary.LittleEndian.PutUint64(d, w0)
		binary.LittleEndian.PutUint64(d[8:], w1)
		binary.LittleEndian.PutUint64(d[16:], w2)
		binary.LittleEndian.PutUint64(d[24:], w3)
		binary.LittleEndian.PutUint64(d[32:], w4)
		binary.LittleEndian.PutUint64(d[40:], w5)
		binary.LittleEndian.PutUint64(d[48:], w6)
		binary.LittleEndian.PutUint64(d[56:], w7)
		p0, p1, p2, p3, p4, p5, p6, p7 = p0[8:], p1[8:], p2[8:], p3[8:], p4[8:], p5[8:], p6[8:], p7[8:]
		d = d[64:]
	}
	for i := range p0 {
		d[8*i], d[8*i+1], d[8*i+2], d[8*i+3] = p0[i], p1[i], p2[i], p3[i]
		d[8*i+4], d[8*i+5], d[8*i+6], d[8*i+7] = p4[i], p5[i], p6[i], p7[i]
	}
}

// unsplitArray returns the values of arr, an array decoded as Arrow reads
// a chunk of split encoding enc (byte planes), unsplit into a new array of
// the same type from mem, with the byte-at-a-time reference unsplitBytes.
// It releases arr. Check and the tests use it after arrow-go's reader.
func unsplitArray(arr arrow.Array, enc Encoding, mem memory.Allocator) arrow.Array {
	defer arr.Release()
	d := arr.Data()
	w, n := enc.Width(), d.Len()
	var src []byte
	if b := d.Buffers()[1]; b != nil {
		src = b.Bytes()[w*d.Offset():]
	}
	out := memory.NewResizableBuffer(mem)
	out.Resize(n * w)
	unsplitBytes(out.Bytes(), src, n, w)
	data := array.NewData(enc.DataType(), n, []*memory.Buffer{nil, out}, nil, 0, 0)
	out.Release()
	res := array.MakeFromData(data)
	data.Release()
	return res
}
