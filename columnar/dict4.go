package columnar

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Format version 2 stores an address dictionary in up to two chunks
// (FORMAT.md "Column encodings"): PartDict4 holds its IPv4-mapped entries
// as 4-byte addresses, byte-stream-split (the first bytes of all entries,
// then the second bytes, ...), and PartDict the other entries as 16 bytes.
// Codes index the one sorted dictionary, so the row order and every code are
// those of version 1: entries below ::ffff:0.0.0.0, then the IPv4 block,
// then entries above ::ffff:255.255.255.255. ReadDict reassembles that
// 16-byte dictionary, which the rest of the store and the planner use.
//
// Why split the bytes: zstd and LZ4 find nothing to match in sorted 4-byte
// addresses stored one after the other (neighbours share two or three
// leading bytes, under the minimum match length), so such a chunk is
// stored raw and is larger than the 16-byte form, whose 12 constant bytes
// ride one repeated match per entry. Split into byte planes, the first and
// second planes are long runs and LZ4 shrinks the part to a fraction,
// decoding it several times faster than ZSTD decodes the 16-byte form
// (BenchmarkChunkCodec).

// v4MappedLo and v4MappedHi are the first and last IPv4-mapped addresses.
var (
	v4MappedLo = [16]byte{10: 0xff, 11: 0xff}
	v4MappedHi = [16]byte{10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}
)

// v4Span returns the codes [lo, hi) of the IPv4-mapped entries among n
// sorted 16-byte values.
func v4Span(vals []byte, n int) (lo, hi int) {
	return searchAddr(vals, n, &v4MappedLo, false), searchAddr(vals, n, &v4MappedHi, true)
}

// appendSplitV4 appends the IPv4 addresses of the IPv4-mapped vals as byte
// planes: byte k of entry i at k*len(vals) + i.
func appendSplitV4(dst []byte, vals [][16]byte) []byte {
	n := len(vals)
	start := len(dst)
	dst = append(dst, make([]byte, 4*n)...)
	p := dst[start:]
	p0, p1, p2, p3 := p[:n], p[n:2*n], p[2*n:3*n], p[3*n:4*n]
	for i := range vals {
		a := &vals[i]
		p0[i], p1[i], p2[i], p3[i] = a[12], a[13], a[14], a[15]
	}
	return dst
}

// unsplitV4 writes the n byte-split IPv4 addresses of planes into dst as
// IPv4-mapped 16-byte entries. REQUIRES: len(planes) >= 4n, len(dst) >= 16n.
func unsplitV4(dst, planes []byte, n int) {
	p0 := planes[:n]
	// Same lengths as p0, so the loop runs without bounds checks on them.
	p1, p2, p3 := planes[n : 2*n][:len(p0)], planes[2*n : 3*n][:len(p0)], planes[3*n : 4*n][:len(p0)]
	dst = dst[:16*n]
	for i := range p0 {
		// Bytes 8..15 of the entry, little-endian: 0 0 ff ff a b c d.
		v := 0xffff<<16 | uint64(p0[i])<<32 | uint64(p1[i])<<40 | uint64(p2[i])<<48 | uint64(p3[i])<<56
		binary.LittleEndian.PutUint64(dst[:8], 0)
		binary.LittleEndian.PutUint64(dst[8:16], v)
		dst = dst[16:]
	}
}

// nonV4Bytes returns the 16-byte entries of d outside its IPv4 span,
// contiguous: an alias of d.values when no entry sorts below the IPv4
// block (the usual case), else a copy in e.nonV4 (which never aliases
// d.values: writing it must not change the dictionary it copies).
func (e *blockEncoder) nonV4Bytes(d *addrDict) []byte {
	if d.v4lo == 0 {
		return addrBytes(d.values[d.v4hi:])
	}
	e.nonV4 = append(e.nonV4[:0], addrBytes(d.values[:d.v4lo])...)
	e.nonV4 = append(e.nonV4, addrBytes(d.values[d.v4hi:])...)
	return e.nonV4
}

// readDict2 reads a version 2 dictionary: the IPv4 part r4 and, if has16,
// the other entries r16. Both decode straight into the 16-byte dictionary:
// the non-IPv4 entries after room for the IPv4 block, then those that sort
// below it move to the front, then the IPv4 block is expanded into place.
//
// With v4only (for a block flagged FlagV4First, whose IPv4 entries are
// codes [0, n4)) it reads r4 alone, giving a partial dictionary; r4 is nil
// when the column has no IPv4 entry.
func (db *DB) readDict2(ctx context.Context, meta *BlockMeta, col ColumnID, r4, r16 *ChunkRef, v4only bool, mem memory.Allocator) (*Dict, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n4, n6 := 0, 0
	if r4 != nil {
		n4 = r4.Rows
	}
	if r16 != nil {
		n6 = r16.Rows
	}
	full := n4 + n6
	if v4only {
		r16, n6 = nil, 0
	}
	dec, err := db.decs.get()
	if err != nil {
		return nil, err
	}
	defer db.decs.put(dec)
	if v4only && r4 != nil {
		// Kept as planes: Lookup and Range search them, and Array
		// expands them only for a caller that needs 16-byte entries.
		planes := memory.NewResizableBuffer(mem)
		planes.Reserve(4*n4 + decodeSlack)
		planes.Resize(4 * n4)
		if err := db.decodePartInto(ctx, meta, r4, dec, mem, planes.Bytes()); err != nil {
			planes.Release()
			return nil, err
		}
		return &Dict{planes: planes, n: n4, mem: mem, full: full, Chunks: 1, DiskBytes: r4.Length}, nil
	}
	out := memory.NewResizableBuffer(mem)
	out.Reserve(16*(n4+n6) + decodeSlack)
	out.Resize(16 * (n4 + n6))
	vals := out.Bytes()
	path := db.chunkPath(meta)
	nlo := 0
	if r16 != nil {
		if err := db.decodePartInto(ctx, meta, r16, dec, mem, vals[16*n4:]); err != nil {
			out.Release()
			return nil, err
		}
		six := vals[16*n4:]
		nlo = searchAddr(six, n6, &v4MappedLo, false)
		copy(vals[:16*nlo], six[:16*nlo])
	}
	if r4 != nil {
		planes := resized(&dec.planes, 4*n4)
		if err := db.decodePartInto(ctx, meta, r4, dec, mem, planes); err != nil {
			out.Release()
			return nil, err
		}
		unsplitV4(vals[16*nlo:], planes, n4)
	}
	data := array.NewData(addrType, n4+n6, []*memory.Buffer{nil, out}, nil, 0, 0)
	out.Release()
	arr := array.NewFixedSizeBinaryData(data)
	data.Release()
	d := &Dict{arr: arr, full: full}
	for _, r := range [...]*ChunkRef{r4, r16} {
		if r != nil {
			d.Chunks++
			d.DiskBytes += r.Length
		}
	}
	if v4only {
		return d, nil // the 16-byte part, unread, is checked by Check
	}
	if lo, hi := v4Span(vals, n4+n6); hi-lo != n4 {
		// The 16-byte part holds IPv4-mapped entries: codes would not
		// match the writer's. Only a damaged or foreign store does this.
		arr.Release()
		off := int64(-1)
		if r16 != nil {
			off = r16.Offset
		} else if r4 != nil {
			off = r4.Offset
		}
		return nil, corruptf(path, off, "block %q@%d: %s dictionary: %d IPv4-mapped addresses in its %s part", meta.Iface, meta.Start, col, hi-lo-n4, PartDict)
	}
	return d, nil
}

// decodePartInto reads the chunk ref of meta's block and decodes its
// values into dst, exactly ref.Rows values long.
func (db *DB) decodePartInto(ctx context.Context, meta *BlockMeta, ref *ChunkRef, dec *decompressors, mem memory.Allocator, dst []byte) error {
	buf, err := db.readFrame(ctx, meta, ref, mem)
	if err != nil {
		return err
	}
	defer buf.Release()
	return decodeChunkInto(db.chunkPath(meta), ref, meta.Start, buf, dec, dst)
}

// checkDictParts checks, for a version 2 block, that the reassembled
// dictionary d of col holds exactly as many IPv4-mapped entries as its
// PartDict4 chunk (a 16-byte part with IPv4-mapped entries would sort
// differently from what the writer coded), and that they come first when
// the block is flagged FlagV4First.
func checkDictParts(m *BlockMeta, col ColumnID, d *Dict) error {
	if m.version() < 2 {
		return nil
	}
	n4 := 0
	if r, ok := m.Chunk(col, PartDict4); ok {
		n4 = r.Rows
	}
	lo, hi := v4Span(dictBytes(d.Array()), d.Len())
	if hi-lo != n4 {
		return fmt.Errorf("%s dictionary has %d IPv4-mapped addresses, its %s part %d", col, hi-lo, PartDict4, n4)
	}
	if m.Flags&FlagV4First != 0 && lo != 0 {
		return fmt.Errorf("flags say IPv4 codes come first, but %d %s dictionary entries sort below ::ffff:0.0.0.0", lo, col)
	}
	return nil
}
