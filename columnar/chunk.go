package columnar

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// chunkFieldName is the name of the single field of a chunk's Arrow schema:
// the column name, with "_dict" or "_dict4" appended for dictionary parts
// and "_split" for split encodings, so that a reader without the store's
// format sees that the values are not the column's.
func chunkFieldName(c ColumnID, p Part, e Encoding) string {
	return c.String() + fieldNameSuffix(p, e)
}

func fieldNameSuffix(p Part, e Encoding) string {
	switch {
	case p == PartDict:
		return "_dict"
	case p == PartDict4:
		return "_dict4"
	case e.IsSplit():
		return "_split"
	}
	return ""
}

func chunkSchema(c ColumnID, p Part, e Encoding) *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{{Name: chunkFieldName(c, p, e), Type: e.DataType()}}, nil)
}

// checkFrame verifies the frame in buf against ref and the block start:
// header fields, checksum, then the IPC stream layout. Any failure is a
// *CorruptError naming file and ref.Offset.
func checkFrame(file string, ref *ChunkRef, start int64, frame []byte) (frameHeader, ipcLayout, error) {
	var h frameHeader
	payload, err := h.Unmarshal(frame)
	if err != nil {
		return h, ipcLayout{}, &CorruptError{File: file, Offset: ref.Offset, Reason: err.Error(), Err: unwrapVersion(err)}
	}
	if err := frameMatches(&h, ref, start, int64(len(frame))); err != nil {
		return h, ipcLayout{}, &CorruptError{File: file, Offset: ref.Offset, Reason: err.Error()}
	}
	if got := frameCRC(frame); got != h.CRC {
		return h, ipcLayout{}, corruptf(file, ref.Offset, "chunk frame: checksum %#08x, stored %#08x", got, h.CRC)
	}
	l, err := scanStream(payload, &h)
	if err != nil {
		return h, l, corruptf(file, ref.Offset, "chunk %s %s: arrow ipc: %v", h.Column, h.Part, err)
	}
	return h, l, nil
}

// decodeChunk checks the frame in buf (exactly ref.Length bytes) and returns
// its column as an Arrow array. It decodes the one values buffer itself,
// with the reusable decompressors in dec: uncompressed chunks alias buf (it is
// retained, so the array costs no copy beyond the read from disk), compressed
// ones are decompressed into a buffer from mem, and split ones are unsplit
// into a buffer from mem. decodeChunkArrow is the reference decoder it must
// agree with.
func decodeChunk(file string, ref *ChunkRef, start int64, buf *memory.Buffer, dec *decompressors, mem memory.Allocator) (arrow.Array, error) {
	return decodeChunkRows(file, ref, start, buf, dec, mem, 0, math.MaxInt)
}

// decodeChunkRows is decodeChunk that needs only rows [lo, hi) (hi clamped
// to the chunk's rows): a split chunk unsplits only those, and the
// array's other values are unspecified.
func decodeChunkRows(file string, ref *ChunkRef, start int64, buf *memory.Buffer, dec *decompressors, mem memory.Allocator, lo, hi int) (arrow.Array, error) {
	h, l, err := checkFrame(file, ref, start, buf.Bytes())
	if err != nil {
		return nil, err
	}
	off := frameHeaderLen + l.batch.bodyOff + l.valuesOff
	var values *memory.Buffer
	switch {
	case h.Encoding.IsSplit():
		values = memory.NewResizableBuffer(mem)
		values.Resize(int(h.Rows) * h.Encoding.Width())
		hi = min(hi, int(h.Rows))
		lo = min(lo, hi)
		if err := decodeValues(file, ref, &h, &l, buf.Bytes(), dec, values.Bytes(), lo, hi); err != nil {
			values.Release()
			return nil, err
		}
	case !l.compressed:
		values = memory.SliceBuffer(buf, off, l.size)
	case l.raw:
		values = memory.SliceBuffer(buf, off+ipcCompressionPrefix, l.size)
	default:
		src := buf.Bytes()[off+ipcCompressionPrefix : off+l.valuesLen]
		hi = min(hi, int(h.Rows))
		lo = min(lo, hi)
		values = memory.NewResizableBuffer(mem)
		values.Reserve(l.size + decodeSlack)
		values.Resize(l.size)
		if !partLZ4(dec, &h, src, values.Bytes(), lo, hi) {
			if err := dec.decode(h.Codec, src, values.Bytes()); err != nil {
				values.Release()
				return nil, &CorruptError{File: file, Offset: ref.Offset, Reason: fmt.Sprintf("chunk %s %s: %s decompression", h.Column, h.Part, h.Codec), Err: err}
			}
		}
	}
	data := array.NewData(h.Encoding.DataType(), int(h.Rows), []*memory.Buffer{nil, values}, nil, 0, 0)
	values.Release()
	arr := array.MakeFromData(data)
	data.Release()
	return arr, nil
}

// decodeChunkInto checks the frame in buf like decodeChunk and decodes its
// values into dst, which must be exactly rows × width bytes: the dictionary
// parts of version 2 decode straight into the reassembled dictionary.
func decodeChunkInto(file string, ref *ChunkRef, start int64, buf *memory.Buffer, dec *decompressors, dst []byte) error {
	h, l, err := checkFrame(file, ref, start, buf.Bytes())
	if err != nil {
		return err
	}
	if want := int(h.Rows) * h.Encoding.Width(); len(dst) != want {
		return fmt.Errorf("columnar: decode %s %s: destination of %d bytes, want %d", h.Column, h.Part, len(dst), want)
	}
	return decodeValues(file, ref, &h, &l, buf.Bytes(), dec, dst, 0, int(h.Rows))
}

// decodeValues decodes the values buffer of a checked frame into dst,
// exactly h.Rows values: decompressed, and unsplit for split encodings (from
// dec's scratch space when compressed, else straight from the frame); a
// split encoding unsplits only values [lo, hi), leaving dst's others as
// they are. REQUIRES: checkFrame accepted frame, giving h and l; len(dst)
// is h.Rows × width; 0 <= lo <= hi <= h.Rows.
func decodeValues(file string, ref *ChunkRef, h *frameHeader, l *ipcLayout, frame []byte, dec *decompressors, dst []byte, lo, hi int) error {
	src := frame[frameHeaderLen+l.batch.bodyOff+l.valuesOff:]
	split := h.Encoding.IsSplit()
	var vals []byte
	switch {
	case !l.compressed:
		vals = src[:l.size]
	case l.raw:
		vals = src[ipcCompressionPrefix : ipcCompressionPrefix+l.size]
	default:
		body := src[ipcCompressionPrefix:l.valuesLen]
		if !split {
			err := dec.decompressInto(h.Codec, body, l.size, dst)
			return decompressError(file, ref, h, err)
		}
		vals = resized(&dec.scratch, l.size)
		if !partLZ4(dec, h, body, vals, lo, hi) {
			if err := dec.decode(h.Codec, body, vals); err != nil {
				return decompressError(file, ref, h, err)
			}
		}
	}
	if split {
		unsplitRows(dst, vals, int(h.Rows), h.Encoding.Width(), lo, hi)
	} else {
		copy(dst, vals)
	}
	return nil
}

// partLZ4 decodes, of the LZ4 values buffer body of a chunk whose rows
// [lo, hi) are wanted, only the blocks holding those rows' bytes into
// vals (in each byte plane for a split encoding), and reports whether it
// did; false (all rows wanted, another codec, or a frame lz4Ranges
// declines) leaves the whole buffer to the caller. REQUIRES: 0 <= lo <=
// hi <= h.Rows; len(vals) is the buffer's size.
func partLZ4(dec *decompressors, h *frameHeader, body, vals []byte, lo, hi int) bool {
	n := int(h.Rows)
	if h.Codec != CodecLZ4 || lo == 0 && hi == n {
		return false
	}
	w := h.Encoding.Width()
	var ranges [8][2]int
	r := ranges[:0]
	if h.Encoding.IsSplit() {
		for k := range w {
			r = append(r, [2]int{k*n + lo, k*n + hi})
		}
	} else {
		r = append(r, [2]int{w * lo, w * hi})
	}
	return dec.lz4Ranges(body, vals, r)
}

// decompressError wraps a decompression failure of a chunk, if any, as
// corruption.
func decompressError(file string, ref *ChunkRef, h *frameHeader, err error) error {
	if err == nil {
		return nil
	}
	return &CorruptError{File: file, Offset: ref.Offset, Reason: fmt.Sprintf("chunk %s %s: %s decompression", h.Column, h.Part, h.Codec), Err: err}
}

// decodeChunkArrow decodes a chunk with arrow-go's own IPC reader, after the
// same checks as decodeChunk, then unsplits split encodings a byte at a time
// (unsplitArray). Check uses it to prove chunks are plain Arrow
// IPC that any Arrow implementation reads, and tests compare it with
// decodeChunk.
func decodeChunkArrow(file string, ref *ChunkRef, start int64, buf *memory.Buffer, mem memory.Allocator) (arr arrow.Array, err error) {
	h, l, err := checkFrame(file, ref, start, buf.Bytes())
	if err != nil {
		return nil, err
	}
	defer func() {
		// Last-resort net: arrow-go panics on some malformed input the scan
		// does not model. Sizes were bounded by checkFrame.
		if r := recover(); r != nil {
			if arr != nil {
				arr.Release()
			}
			arr, err = nil, corruptf(file, ref.Offset, "chunk %s %s: arrow decode panicked: %v", h.Column, h.Part, r)
		}
	}()
	mr := &spanReader{buf: memory.SliceBuffer(buf, frameHeaderLen, int(h.Length)), msgs: [2]ipcMsg{l.schema, l.batch}}
	mr.refs.Store(1) // owned by rdr from here on, also when it fails
	schema := chunkSchema(h.Column, h.Part, h.Encoding)
	rdr, err := ipc.NewReaderFromMessageReader(mr, ipc.WithAllocator(mem), ipc.WithSchema(schema))
	if err != nil {
		return nil, &CorruptError{File: file, Offset: ref.Offset, Reason: fmt.Sprintf("chunk %s %s: arrow ipc", h.Column, h.Part), Err: err}
	}
	defer rdr.Release()
	if !rdr.Next() {
		return nil, &CorruptError{File: file, Offset: ref.Offset, Reason: fmt.Sprintf("chunk %s %s: no record batch", h.Column, h.Part), Err: rdr.Err()}
	}
	rec := rdr.RecordBatch()
	if rec.NumCols() != 1 || rec.NumRows() != int64(h.Rows) || rec.Column(0).NullN() != 0 {
		return nil, corruptf(file, ref.Offset, "chunk %s %s: record batch of %d columns, %d rows, want 1 column of %d non-null rows",
			h.Column, h.Part, rec.NumCols(), rec.NumRows(), h.Rows)
	}
	arr = rec.Column(0)
	arr.Retain()
	if h.Encoding.IsSplit() {
		// arrow-go reads the byte planes as values: unsplit them.
		arr = unsplitArray(arr, h.Encoding, mem)
	}
	return arr, nil
}

// frameMatches checks a decoded header against the index entry that pointed
// at it, so a misdirected offset is reported as corruption.
func frameMatches(h *frameHeader, ref *ChunkRef, start, frameLen int64) error {
	switch {
	case h.Column != ref.Column || h.Part != ref.Part:
		return fmt.Errorf("chunk frame holds %s %s, index says %s %s", h.Column, h.Part, ref.Column, ref.Part)
	case h.Encoding != ref.Encoding || h.Codec != ref.Codec:
		return fmt.Errorf("chunk frame encoding %s codec %s, index says %s %s", h.Encoding, h.Codec, ref.Encoding, ref.Codec)
	case int(h.Rows) != ref.Rows:
		return fmt.Errorf("chunk frame has %d rows, index says %d", h.Rows, ref.Rows)
	case h.Start != start:
		return fmt.Errorf("chunk frame belongs to block %d, index says %d", h.Start, start)
	case int64(h.Length)+frameHeaderLen != frameLen:
		return fmt.Errorf("chunk frame length %d, index says %d", int64(h.Length)+frameHeaderLen, frameLen)
	case h.CRC != ref.CRC:
		return fmt.Errorf("chunk frame checksum %#08x, index says %#08x", h.CRC, ref.CRC)
	}
	return nil
}

func unwrapVersion(err error) error {
	if errors.Is(err, ErrUnsupportedVersion) {
		return ErrUnsupportedVersion
	}
	return nil
}

// spanReader feeds arrow-go's IPC reader the messages scanStream found,
// as slices of the chunk buffer (no copy).
type spanReader struct {
	refs atomic.Int64
	buf  *memory.Buffer
	msgs [2]ipcMsg
	next int
	cur  *ipc.Message
}

// Message implements ipc.MessageReader.
func (r *spanReader) Message() (*ipc.Message, error) {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.next >= len(r.msgs) {
		return nil, io.EOF
	}
	m := r.msgs[r.next]
	r.next++
	meta := memory.SliceBuffer(r.buf, m.metaOff, m.metaLen)
	body := memory.SliceBuffer(r.buf, m.bodyOff, m.bodyLen)
	r.cur = ipc.NewMessage(meta, body)
	meta.Release()
	body.Release()
	return r.cur, nil
}

// Retain implements ipc.MessageReader.
func (r *spanReader) Retain() { r.refs.Add(1) }

// Release implements ipc.MessageReader.
func (r *spanReader) Release() {
	if r.refs.Add(-1) == 0 {
		if r.cur != nil {
			r.cur.Release()
			r.cur = nil
		}
		r.buf.Release()
		r.buf = nil
	}
}
