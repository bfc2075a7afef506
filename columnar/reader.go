package columnar

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	bolt "go.etcd.io/bbolt"
)

// Selector chooses blocks by interface and time.
type Selector struct {
	// Ifaces lists the interfaces to read; empty means all.
	Ifaces []string
	// From and To bound block starts, in unix seconds, half-open:
	// From <= Start < To. Zero means unbounded on that side. A block's rows
	// all carry its start as `time`, so this is the row-level time filter.
	From, To int64
}

// contextCheckEvery is how many index entries are scanned between checks of
// ctx.Err().
const contextCheckEvery = 256

// chunkSlab is the number of chunk references Blocks allocates at a time.
const chunkSlab = 4096

// Blocks returns the metadata of the selected blocks, ordered by interface
// then start. It copies entries out of a short read transaction; the result
// is the caller's, a consistent snapshot: blocks a writer commits later are
// simply not in it. Damaged index entries are skipped: the readable blocks
// are returned together with an error wrapping ErrCorrupt that names each
// skipped entry, so a query can report them and go on.
func (db *DB) Blocks(ctx context.Context, sel Selector) ([]BlockMeta, error) {
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	var out []BlockMeta
	var damaged []error
	err := db.view(ctx, func(tx *bolt.Tx) error {
		ifaces, err := selectedIfaces(tx, sel.Ifaces)
		if err != nil {
			return err
		}
		seen := 0
		// The blocks' chunk lists are carved from shared slabs, and the
		// data file name is made once per day: listing a day's 288
		// blocks spent half its time growing slices and joining paths.
		var slab []ChunkRef
		var files fileMemo
		for _, iface := range ifaces {
			b := tx.Bucket(bucketBlocks).Bucket([]byte(iface))
			if b == nil {
				continue
			}
			c := b.Cursor()
			k, v := c.First()
			if sel.From > 0 {
				k, v = c.Seek(appendBlockKey(nil, sel.From))
			}
			for ; k != nil; k, v = c.Next() {
				if seen++; seen%contextCheckEvery == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				if sel.To > 0 && len(k) == 8 && int64(binary.BigEndian.Uint64(k)) >= sel.To {
					break
				}
				var m BlockMeta
				if len(v) > 2 {
					n := int(v[2]) // the entry's chunk count (FORMAT.md "Block entry")
					if cap(slab)-len(slab) < n {
						slab = make([]ChunkRef, 0, max(n, chunkSlab))
					}
					m.Chunks = slab[len(slab) : len(slab) : len(slab)+n]
				}
				if err := db.decodeBlockMemo(iface, k, v, &m, &files); err != nil {
					damaged = append(damaged, err)
					continue
				}
				slab = slab[:len(slab)+len(m.Chunks)]
				out = append(out, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("columnar: blocks: %w", err)
	}
	if db.opts.ReadOnly {
		// Retention in the writer process may have removed files this
		// reader still holds open; let them go so their space is freed.
		db.files.dropReplaced()
	}
	if len(damaged) > 0 {
		return out, fmt.Errorf("columnar: blocks: %d damaged index entries skipped: %w", len(damaged), errors.Join(damaged...))
	}
	return out, nil
}

// selectedIfaces returns the interface names to scan, sorted.
// REQUIRES: tx open.
func selectedIfaces(tx *bolt.Tx, want []string) ([]string, error) {
	if len(want) > 0 {
		s := slices.Clone(want)
		slices.Sort(s)
		return slices.Compact(s), nil
	}
	var all []string
	err := tx.Bucket(bucketBlocks).ForEachBucket(func(k []byte) error {
		all = append(all, string(k))
		return nil
	})
	return all, err
}

// Interfaces returns the names of the interfaces with stored blocks, sorted.
func (db *DB) Interfaces(ctx context.Context) ([]string, error) {
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	var out []string
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		out, err = selectedIfaces(tx, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("columnar: interfaces: %w", err)
	}
	return out, ctx.Err()
}

// IfaceSummary totals one interface's stored blocks (flowsql list).
type IfaceSummary struct {
	Iface       string
	First, Last int64 // starts of the first and last block, unix seconds
	Blocks      int
	Flows       uint64 // rows
	Packets     uint64 // packets_in + packets_out
	Bytes       uint64 // bytes_in + bytes_out
	NonIP       uint64
	ParseErrors uint64
	DiskBytes   int64 // committed bytes of the interface's data files
}

// Summary returns one IfaceSummary per interface, sorted by name. Like
// Blocks, it skips damaged entries and reports them in an error wrapping
// ErrCorrupt alongside the totals of the rest.
func (db *DB) Summary(ctx context.Context) ([]IfaceSummary, error) {
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	var out []IfaceSummary
	var damaged []error
	err := db.view(ctx, func(tx *bolt.Tx) error {
		ifaces, err := selectedIfaces(tx, nil)
		if err != nil {
			return err
		}
		var m BlockMeta
		seen := 0
		for _, iface := range ifaces {
			s := IfaceSummary{Iface: iface, First: math.MaxInt64}
			err := tx.Bucket(bucketBlocks).Bucket([]byte(iface)).ForEach(func(k, v []byte) error {
				if seen++; seen%contextCheckEvery == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				if err := db.decodeBlock(iface, k, v, &m); err != nil {
					damaged = append(damaged, err)
					return nil
				}
				s.Blocks++
				s.First, s.Last = min(s.First, m.Start), max(s.Last, m.Start)
				s.Flows += uint64(m.Rows)
				s.Packets += m.Packets()
				s.Bytes += m.Bytes()
				s.NonIP += m.NonIP
				s.ParseErrors += m.ParseErrors
				return nil
			})
			if err != nil {
				return err
			}
			if s.Blocks == 0 {
				s.First = 0
			}
			if fb := tx.Bucket(bucketFiles).Bucket([]byte(iface)); fb != nil {
				err := fb.ForEach(func(k, v []byte) error {
					var f fileEntry
					if err := f.Unmarshal(v); err != nil {
						damaged = append(damaged, &CorruptError{File: db.indexPath(), Offset: -1, Reason: fmt.Sprintf("files/%q: %v", iface, err)})
						return nil
					}
					s.DiskBytes += f.Length
					return nil
				})
				if err != nil {
					return err
				}
			}
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("columnar: summary: %w", err)
	}
	if len(damaged) > 0 {
		return out, fmt.Errorf("columnar: summary: %d damaged index entries skipped: %w", len(damaged), errors.Join(damaged...))
	}
	return out, nil
}

// ReadColumn reads one column of a block, touching only that column's
// chunks (for address columns: dictionary and codes). Arrow memory comes
// from mem (nil means memory.DefaultAllocator); the caller releases the
// column. Damaged chunks give an error wrapping ErrCorrupt that names the
// file and offset; other blocks remain readable. An empty block gives an
// empty column.
func (db *DB) ReadColumn(ctx context.Context, meta *BlockMeta, col ColumnID, mem memory.Allocator) (*Column, error) {
	return db.readColumn(ctx, meta, col, 0, meta.Rows, dictWhole, mem)
}

// dictMode says how much of an address column's dictionary readColumn
// reads.
type dictMode uint8

const (
	dictWhole dictMode = iota // the whole dictionary
	dictRows                  // the IPv4 part when the rows used hold IPv4 codes only
	dictV4                    // the IPv4 part (ReadColumnV4)
)

// ReadColumnRows is ReadColumn for a caller that uses only rows [lo, hi)
// of the block (a run of rows sorted by sip, say): the column has all the
// block's rows, but those outside [lo, hi) may hold any value. Counters
// stored byte-stream-split are then reassembled for those rows only, and
// only the codes of those rows are checked against the dictionary.
//
// In a block flagged FlagV4First, an address column whose rows [lo, hi)
// all hold IPv4 codes gets a partial dictionary (Dict.Partial): its IPv4
// part alone, read without the 16-byte part.
func (db *DB) ReadColumnRows(ctx context.Context, meta *BlockMeta, col ColumnID, lo, hi int, mem memory.Allocator) (*Column, error) {
	return db.readColumn(ctx, meta, col, lo, hi, dictRows, mem)
}

// ReadColumnV4 is ReadColumn for a caller that needs the addresses of
// IPv4 codes only: a filter whose address conditions on col all lie in
// ::ffff:0:0/96, whose truth on any other address is false, so the codes
// alone decide it. In a block flagged FlagV4First the dictionary is then
// partial (its IPv4 part, see Dict), and codes are checked against the
// size of the whole dictionary; in other blocks it is ReadColumn.
func (db *DB) ReadColumnV4(ctx context.Context, meta *BlockMeta, col ColumnID, mem memory.Allocator) (*Column, error) {
	return db.readColumn(ctx, meta, col, 0, meta.Rows, dictV4, mem)
}

// ReadSorted reads address column col of a block whose rows are sorted by
// it: the sip column of a FlagSorted block. In a format v3 block it reads
// the column's runs and expands no codes: CodeRows maps the codes a
// condition selects to the run of rows holding them, and ExpandRows then
// writes the codes of the rows the caller goes on to use (any other row
// may hold any value). In other blocks it is ReadColumn, or ReadColumnV4
// with v4; with v4 the dictionary is partial as ReadColumnV4's.
func (db *DB) ReadSorted(ctx context.Context, meta *BlockMeta, col ColumnID, v4 bool, mem memory.Allocator) (*Column, error) {
	mode := dictWhole
	if v4 {
		mode = dictV4
	}
	if _, ok := meta.Chunk(col, PartRuns); !ok {
		return db.readColumn(ctx, meta, col, 0, meta.Rows, mode, mem)
	}
	return db.readColumn(ctx, meta, col, 0, 0, mode, mem)
}

// readColumn reads rows [lo, hi) of a column with as much of its
// dictionary as mode says.
func (db *DB) readColumn(ctx context.Context, meta *BlockMeta, col ColumnID, lo, hi int, mode dictMode, mem memory.Allocator) (*Column, error) {
	if lo < 0 || hi < lo || hi > meta.Rows {
		return nil, fmt.Errorf("columnar: read %s of block %q@%d: rows [%d, %d) outside [0, %d)", col, meta.Iface, meta.Start, lo, hi, meta.Rows)
	}
	if !col.IsValid() {
		return nil, fmt.Errorf("%w: id %d", ErrUnknownColumn, col)
	}
	c := &Column{ID: col}
	var err error
	ref, sorted := meta.Chunk(col, PartRuns)
	if sorted = sorted && meta.Rows > 0; sorted {
		if c.Values, c.runs, err = db.readRuns(ctx, meta, lo, hi, mem); err != nil {
			return nil, err
		}
		c.Chunks, c.DiskBytes = 1, ref.Length
	} else if pages := meta.Pages(col, PartValues); len(pages) > 1 {
		if c.Values, c.Chunks, c.DiskBytes, err = db.readPages(ctx, meta, pages, mem, lo, hi); err != nil {
			return nil, err
		}
	} else {
		if c.Values, err = db.readPartRows(ctx, meta, col, PartValues, mem, lo, hi); err != nil {
			return nil, err
		}
		if ref, ok := meta.Chunk(col, PartValues); ok {
			c.Chunks, c.DiskBytes = 1, ref.Length
		}
	}
	if n := c.Values.Len(); n != meta.Rows {
		err := corruptf(db.chunkPath(meta), -1, "block %q@%d: %s has %d rows, index says %d", meta.Iface, meta.Start, col, n, meta.Rows)
		c.Release()
		return nil, err
	}
	if !col.IsAddr() {
		return c, nil
	}
	// The largest code of the rows used decides whether the IPv4 part of
	// the dictionary is enough, and is checked against the dictionary.
	used, rows := uint64(0), hi > lo
	switch {
	case rows && sorted:
		used = c.Value(hi - 1) // runs are codes in ascending order
	case rows:
		used = codesMax(c.Values, lo, hi)
	}
	n4, flagged := meta.V4Codes(col)
	partial := flagged && (mode == dictV4 || mode == dictRows && (!rows || used < uint64(n4)))
	if c.Dict, err = db.readDict(ctx, meta, col, partial, mem); err != nil {
		c.Release()
		return nil, err
	}
	c.Chunks += c.Dict.Chunks
	c.DiskBytes += c.Dict.DiskBytes
	limit := c.Dict.Len()
	if mode == dictV4 {
		limit = c.Dict.Full() // codes of other addresses have no entry here
	}
	if rows && used >= uint64(limit) {
		err := corruptf(db.chunkPath(meta), -1, "block %q@%d: %s code %d beyond dictionary of %d", meta.Iface, meta.Start, col, used, limit)
		c.Release()
		return nil, err
	}
	return c, nil
}

// ReadDict reads only the sorted dictionary of address column col (sip or
// dip) of a block: enough to skip a block whose dictionary lacks an address.
// It reads the one dictionary chunk of a version 1 block, or the up to two
// parts of a version 2 block, reassembled into the same 16-byte form.
func (db *DB) ReadDict(ctx context.Context, meta *BlockMeta, col ColumnID, mem memory.Allocator) (*Dict, error) {
	return db.readDict(ctx, meta, col, false, mem)
}

// ReadDictV4 is ReadDict for a caller that looks up IPv4 addresses and
// prefixes only (in ::ffff:0:0/96): in a block flagged FlagV4First it
// reads the IPv4 part alone and returns a partial dictionary (see Dict),
// which answers such lookups as the whole one would.
func (db *DB) ReadDictV4(ctx context.Context, meta *BlockMeta, col ColumnID, mem memory.Allocator) (*Dict, error) {
	_, flagged := meta.V4Codes(col)
	return db.readDict(ctx, meta, col, flagged, mem)
}

// readDict reads the dictionary of col, its IPv4 part alone when v4only
// (REQUIRES: then meta.V4Codes(col) holds).
func (db *DB) readDict(ctx context.Context, meta *BlockMeta, col ColumnID, v4only bool, mem memory.Allocator) (*Dict, error) {
	if !col.IsAddr() {
		return nil, fmt.Errorf("%w: %s has no dictionary", ErrUnknownColumn, col)
	}
	r4, has4 := meta.Chunk(col, PartDict4)
	var r16 *ChunkRef
	if r, ok := meta.Chunk(col, PartDict); ok {
		r16 = &r
	}
	if (has4 || v4only) && meta.Rows > 0 {
		var p4 *ChunkRef
		if has4 {
			p4 = &r4
		}
		return db.readDict2(ctx, meta, col, p4, r16, v4only, mem)
	}
	arr, err := db.readPart(ctx, meta, col, PartDict, mem)
	if err != nil {
		return nil, err
	}
	fsb, ok := arr.(*array.FixedSizeBinary)
	if !ok {
		arr.Release()
		return nil, corruptf(db.chunkPath(meta), -1, "block %q@%d: %s dictionary decoded as %s", meta.Iface, meta.Start, col, arr.DataType())
	}
	d := &Dict{arr: fsb, full: fsb.Len()}
	if r16 != nil && meta.Rows > 0 {
		d.Chunks, d.DiskBytes = 1, r16.Length
	}
	return d, nil
}

// chunkPath returns the path of the data file of meta's block, for
// messages. The last path made is kept: a query reads block after block
// of one file, and joining the path on every read was a quarter of a
// talker query's allocations.
func (db *DB) chunkPath(meta *BlockMeta) string {
	if p := db.lastPath.Load(); p != nil && p.rel == meta.File {
		return p.abs
	}
	abs := filepath.Join(db.dir, meta.File)
	db.lastPath.Store(&pathPair{meta.File, abs})
	return abs
}

// pathPair is a data file's path relative to the database and joined
// to it.
type pathPair struct{ rel, abs string }

// readPart reads and decodes one chunk of a block.
func (db *DB) readPart(ctx context.Context, meta *BlockMeta, col ColumnID, part Part, mem memory.Allocator) (arrow.Array, error) {
	return db.readPartRows(ctx, meta, col, part, mem, 0, meta.Rows)
}

// readPartRows is readPart needing only rows [lo, hi) (decodeChunkRows).
func (db *DB) readPartRows(ctx context.Context, meta *BlockMeta, col ColumnID, part Part, mem memory.Allocator, lo, hi int) (arrow.Array, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if meta.Rows == 0 {
		enc := EncUint8
		if part.IsDict() {
			enc = partEncoding(part, 0)
		}
		return array.MakeArrayOfNull(mem, enc.DataType(), 0), nil
	}
	ref, ok := meta.Chunk(col, part)
	if !ok {
		return nil, corruptf(db.indexPath(), -1, "block %q@%d has no %s %s chunk", meta.Iface, meta.Start, col, part)
	}
	buf, err := db.readFrame(ctx, meta, &ref, mem)
	if err != nil {
		return nil, err
	}
	defer buf.Release()
	dec, err := db.decs.get()
	if err != nil {
		return nil, err
	}
	defer db.decs.put(dec)
	return decodeChunkRows(db.chunkPath(meta), &ref, meta.Start, buf, dec, mem, lo, hi)
}

// readPages reads the values of a column stored in pages (version 4,
// checked by BlockMeta.validatePages) for a caller that uses rows [lo,
// hi): the pages holding those rows, one after the other in the data
// file, in one read, each checked and decoded into its place in the
// column's values (only rows [lo, hi) of a split page). The other rows
// hold any value; none are read for an empty range. It returns the
// values and the frames read and their bytes.
func (db *DB) readPages(ctx context.Context, meta *BlockMeta, pages []ChunkRef, mem memory.Allocator, lo, hi int) (arrow.Array, int, int64, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if err := db.checkOpen(); err != nil {
		return nil, 0, 0, err
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, 0, err
	}
	enc, per := pages[0].Encoding, pages[0].Rows
	w := enc.Width()
	values := memory.NewResizableBuffer(mem)
	values.Reserve(meta.Rows*w + decodeSlack)
	values.Resize(meta.Rows * w)
	first, last := lo/per, (hi-1)/per // pages [first, last] hold the rows
	var chunks int
	var disk int64
	if lo < hi {
		span := ChunkRef{Column: pages[first].Column, Part: PartValues, Offset: pages[first].Offset,
			Length: pages[last].Offset + pages[last].Length - pages[first].Offset}
		buf, err := db.readFrame(ctx, meta, &span, mem)
		if err != nil {
			values.Release()
			return nil, 0, 0, err
		}
		defer buf.Release()
		dec, err := db.decs.get()
		if err != nil {
			values.Release()
			return nil, 0, 0, err
		}
		defer db.decs.put(dec)
		path, dst := db.chunkPath(meta), values.Bytes()
		for k := first; k <= last; k++ {
			ref := &pages[k]
			at := ref.Offset - span.Offset
			frame := buf.Bytes()[at : at+ref.Length]
			h, l, err := checkFrame(path, ref, meta.Start, frame)
			if err != nil {
				values.Release()
				return nil, 0, 0, err
			}
			r0 := k * per
			plo, phi := max(lo-r0, 0), min(hi-r0, ref.Rows)
			if err := decodeValues(path, ref, &h, &l, frame, dec, dst[r0*w:(r0+ref.Rows)*w], plo, phi); err != nil {
				values.Release()
				return nil, 0, 0, err
			}
			chunks++
			disk += ref.Length
		}
	}
	data := array.NewData(enc.DataType(), meta.Rows, []*memory.Buffer{nil, values}, nil, 0, 0)
	values.Release()
	arr := array.MakeFromData(data)
	data.Release()
	return arr, chunks, disk, nil
}

// readFrame reads the bytes of one chunk frame into a buffer from mem. A
// data file that is missing because retention dropped the block after the
// caller listed it gives ErrBlockRemoved, not corruption.
func (db *DB) readFrame(ctx context.Context, meta *BlockMeta, ref *ChunkRef, mem memory.Allocator) (*memory.Buffer, error) {
	path := db.chunkPath(meta)
	h, err := db.files.acquire(meta.File)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if db.blockGone(ctx, meta) {
				return nil, fmt.Errorf("columnar: read block %q@%d: %w", meta.Iface, meta.Start, ErrBlockRemoved)
			}
			return nil, &CorruptError{File: path, Offset: ref.Offset, Reason: fmt.Sprintf("data file of block %q@%d is missing", meta.Iface, meta.Start), Err: err}
		}
		return nil, fmt.Errorf("columnar: read %s: %w", path, err)
	}
	defer db.files.release(h)
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(ref.Length))
	if n, err := h.f.ReadAt(buf.Bytes(), ref.Offset); err != nil {
		buf.Release()
		if errors.Is(err, io.EOF) {
			return nil, corruptf(path, ref.Offset, "chunk %s %s of %d bytes is cut short: file ends after %d", ref.Column, ref.Part, ref.Length, n)
		}
		return nil, fmt.Errorf("columnar: read %s at %d: %w", path, ref.Offset, err)
	}
	return buf, nil
}

// blockGone reports whether meta's block has left the index.
func (db *DB) blockGone(ctx context.Context, meta *BlockMeta) bool {
	gone := false
	err := db.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBlocks).Bucket([]byte(meta.Iface))
		gone = b == nil || b.Get(appendBlockKey(nil, meta.Start)) == nil
		return nil
	})
	return err == nil && gone
}

// codesMax returns the largest value of a codes array.
func codesMax(a arrow.Array, lo, hi int) uint64 {
	switch v := a.(type) {
	case *array.Uint8:
		return maxOf(v.Uint8Values()[lo:hi])
	case *array.Uint16:
		return maxOf(v.Uint16Values()[lo:hi])
	case *array.Uint32:
		return maxOf(v.Uint32Values()[lo:hi])
	case *array.Uint64:
		return maxOf(v.Uint64Values()[lo:hi])
	}
	return math.MaxUint64
}

// maxOf returns the largest value of s (0 when empty), four lanes at a
// time with branch-free max: several times faster than slices.Max, which
// every address column read pays for its bounds check of the codes.
func maxOf[T uint8 | uint16 | uint32 | uint64](s []T) uint64 {
	var m0, m1, m2, m3 T
	for len(s) >= 4 {
		m0, m1, m2, m3 = max(m0, s[0]), max(m1, s[1]), max(m2, s[2]), max(m3, s[3])
		s = s[4:]
	}
	for _, x := range s {
		m0 = max(m0, x)
	}
	return uint64(max(m0, m1, m2, m3))
}

// readRuns reads the sip runs of a version 3 block (PartRuns) into the
// row where each code's run ends, and returns them with a codes array at
// the narrowest width that holds the dictionary's codes, of which rows
// [lo, hi) are expanded (Column.ExpandRows does the others on demand).
// The runs are checked: one per dictionary code, none empty, adding up to
// the block's rows.
func (db *DB) readRuns(ctx context.Context, meta *BlockMeta, lo, hi int, mem memory.Allocator) (arrow.Array, *runIndex, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	runs, err := db.readPart(ctx, meta, ColSIP, PartRuns, mem)
	if err != nil {
		return nil, nil, err
	}
	defer runs.Release()
	enc := uintEncoding(uint64(max(meta.SIPDistinct-1, 0)))
	ri := &runIndex{buf: memory.NewResizableBuffer(mem), rows: meta.Rows}
	ri.buf.Resize(4 * runs.Len())
	ri.ends = arrow.Uint32Traits.CastFromBytes(ri.buf.Bytes())
	err = runEndsOf(runs, ri.ends, meta.Rows)
	if err == nil && runs.Len() != meta.SIPDistinct {
		err = fmt.Errorf("%d runs, want %d", runs.Len(), meta.SIPDistinct)
	}
	if err != nil {
		ri.release()
		ref, _ := meta.Chunk(ColSIP, PartRuns)
		return nil, nil, corruptf(db.chunkPath(meta), ref.Offset, "block %q@%d: sip runs: %v", meta.Iface, meta.Start, err)
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Reserve((meta.Rows + runSlack) * enc.Width())
	buf.Resize(meta.Rows * enc.Width())
	ri.codes = buf.Buf()[:(meta.Rows+runSlack)*enc.Width()] // room for expandRange's overrun
	ri.width = enc.Width()
	data := array.NewData(enc.DataType(), meta.Rows, []*memory.Buffer{nil, buf}, nil, 0, 0)
	buf.Release()
	arr := array.MakeFromData(data)
	data.Release()
	ri.expand(lo, hi)
	return arr, ri, nil
}

// runIndex is the sip column of a version 3 block as its runs: ends[k] is
// the row after the run of code k. The codes array it belongs to holds
// the codes of rows [have0, have1) only; expand fills in others.
type runIndex struct {
	buf          *memory.Buffer // holds ends
	ends         []uint32
	codes        []byte // the codes array's buffer, runSlack codes longer
	width        int    // bytes per code
	rows         int
	have0, have1 int
}

func (r *runIndex) release() {
	if r.buf != nil {
		r.buf.Release()
		r.buf, r.ends = nil, nil
	}
}

// rowsOf returns the rows [lo, hi) holding the codes [from, to); for no
// codes, an empty range where they would be.
func (r *runIndex) rowsOf(from, to int) (lo, hi int) {
	from, to = max(from, 0), min(to, len(r.ends))
	if from >= to {
		if from > 0 && from <= len(r.ends) {
			lo = int(r.ends[from-1])
		} else if from > len(r.ends) {
			lo = r.rows
		}
		return lo, lo
	}
	if from > 0 {
		lo = int(r.ends[from-1])
	}
	return lo, int(r.ends[to-1])
}

// expand writes the codes of rows [lo, hi) unless they are there already.
func (r *runIndex) expand(lo, hi int) {
	if lo >= hi || lo >= r.have0 && hi <= r.have1 {
		return
	}
	switch r.width {
	case 1:
		expandRange(r.ends, r.codes, lo, hi, r.rows)
	case 2:
		expandRange(r.ends, arrow.Uint16Traits.CastFromBytes(r.codes), lo, hi, r.rows)
	default:
		expandRange(r.ends, arrow.Uint32Traits.CastFromBytes(r.codes), lo, hi, r.rows)
	}
	if r.have0 == r.have1 || hi < r.have0 || lo > r.have1 {
		r.have0, r.have1 = lo, hi // disjoint: keep the newest range
	} else {
		r.have0, r.have1 = min(lo, r.have0), max(hi, r.have1)
	}
}

// runSlack is the room expandRange needs past the codes: it writes every
// run of up to runSlack codes as runSlack stores, which later runs
// overwrite.
const runSlack = 8

// runEndsOf is runEnds for a runs array of any width.
func runEndsOf(runs arrow.Array, ends []uint32, rows int) error {
	switch r := runs.(type) {
	case *array.Uint8:
		return runEnds(r.Uint8Values(), ends, rows)
	case *array.Uint16:
		return runEnds(r.Uint16Values(), ends, rows)
	case *array.Uint32:
		return runEnds(r.Uint32Values(), ends, rows)
	}
	return fmt.Errorf("runs decoded as %s", runs.DataType())
}

// runEnds writes into ends[i] the row after run i (the sum of runs[:i+1])
// and checks that no run is empty and that they add up to rows.
func runEnds[R uint8 | uint16 | uint32](runs []R, ends []uint32, rows int) error {
	ends = ends[:len(runs)]
	pos := 0
	for i, r := range runs {
		n := int(r)
		if n == 0 {
			return fmt.Errorf("run %d is empty", i)
		}
		if n > rows-pos {
			return fmt.Errorf("runs exceed %d rows", rows)
		}
		pos += n
		ends[i] = uint32(pos)
	}
	if pos != rows {
		return fmt.Errorf("runs add up to %d rows, want %d", pos, rows)
	}
	return nil
}

// expandRange writes code k into the rows of run k that lie in [lo, hi),
// given checked run ends adding up to rows; codes has runSlack values of
// scratch past the rows. When hi is rows, a run of up to runSlack rows is
// written as runSlack stores without a loop: branch-free, about 4×
// faster than a loop over each run's rows for a whole block, whose runs
// are short (a block's talkers are heavy-tailed).
func expandRange[C uint8 | uint16 | uint32](ends []uint32, codes []C, lo, hi, rows int) {
	k, _ := slices.BinarySearchFunc(ends, uint32(lo), func(e, row uint32) int {
		if e <= row {
			return -1
		}
		return 1
	})
	pos := lo
	if hi == rows {
		for ; k < len(ends); k++ {
			end, v := int(ends[k]), C(k)
			if end-pos <= runSlack {
				s := codes[pos : pos+runSlack : pos+runSlack]
				s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7] = v, v, v, v, v, v, v, v
			} else {
				s := codes[pos:end]
				for j := range s {
					s[j] = v
				}
			}
			pos = end
		}
		return
	}
	for ; pos < hi; k++ {
		end, v := min(int(ends[k]), hi), C(k)
		s := codes[pos:end]
		for j := range s {
			s[j] = v
		}
		pos = end
	}
}
