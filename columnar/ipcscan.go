package columnar

import (
	"encoding/binary"
	"fmt"
	"math"
)

// This file checks the Arrow IPC stream inside a chunk frame before arrow-go
// parses it. arrow-go trusts the sizes in the stream (field counts, buffer
// offsets, the uncompressed size prefix of compressed buffers) and would
// allocate or slice by them, so every one is bounded here against the bytes
// present and against what the frame header says the chunk holds: exactly one
// schema message with one childless, dictionary-free field, one record batch
// of the expected rows with one node and two buffers, the end-of-stream
// marker, and nothing after.

// ipcMsg locates one IPC message inside a chunk payload.
type ipcMsg struct {
	metaOff, metaLen int // flatbuffer Message
	bodyOff, bodyLen int // message body
}

// ipcLayout is what scanStream learned about a chunk's IPC stream.
type ipcLayout struct {
	schema, batch ipcMsg
	// values is the record batch's values buffer, relative to the batch
	// body; size is its decoded length. The validity buffer is ignored: the
	// scan requires a null count of 0.
	valuesOff, valuesLen int
	size                 int
	compressed           bool
	// raw is true when a compressed-stream buffer was stored uncompressed
	// (size prefix -1): its bytes follow the 8-byte prefix.
	raw bool
}

// Flatbuffer enum values of the Arrow IPC schema (format/Message.fbs,
// Schema.fbs) the scan depends on.
const (
	fbMetadataV5         = 4
	fbTypeInt            = 2
	fbTypeFixedSizeBin   = 15
	fbHeaderSchema       = 1
	fbHeaderRecordBatch  = 3
	fbCompressionLZ4     = 0
	fbCompressionZstd    = 1
	ipcContinuation      = 0xFFFFFFFF
	ipcBufferCountPlain  = 2 // validity bitmap + values, for primitive and fixed-size binary
	ipcBufferSizeSlack   = 64
	ipcUncompressedFlag  = -1
	ipcCompressionPrefix = 8
)

// scanStream validates payload as the IPC stream of a chunk described by h
// and returns its layout.
func scanStream(payload []byte, h *frameHeader) (ipcLayout, error) {
	var l ipcLayout
	var err error
	pos := 0
	if l.schema, pos, err = nextMessage(payload, pos); err != nil {
		return l, fmt.Errorf("schema message: %w", err)
	}
	if err := checkSchemaMessage(payload[l.schema.metaOff:l.schema.metaOff+l.schema.metaLen], l.schema.bodyLen, h); err != nil {
		return l, fmt.Errorf("schema message: %w", err)
	}
	if l.batch, pos, err = nextMessage(payload, pos); err != nil {
		return l, fmt.Errorf("record batch message: %w", err)
	}
	body := payload[l.batch.bodyOff : l.batch.bodyOff+l.batch.bodyLen]
	if err := checkBatchMessage(payload[l.batch.metaOff:l.batch.metaOff+l.batch.metaLen], body, h, &l); err != nil {
		return l, fmt.Errorf("record batch message: %w", err)
	}
	rest := payload[pos:]
	if len(rest) != 8 || binary.LittleEndian.Uint32(rest) != ipcContinuation || binary.LittleEndian.Uint32(rest[4:]) != 0 {
		return l, fmt.Errorf("stream does not end with exactly one end-of-stream marker at payload offset %d (%d bytes left)", pos, len(rest))
	}
	return l, nil
}

// nextMessage reads the framing of the message at pos: continuation marker,
// metadata length, metadata, body.
func nextMessage(p []byte, pos int) (ipcMsg, int, error) {
	var m ipcMsg
	if len(p)-pos < 8 {
		return m, pos, fmt.Errorf("truncated at payload offset %d", pos)
	}
	if c := binary.LittleEndian.Uint32(p[pos:]); c != ipcContinuation {
		return m, pos, fmt.Errorf("continuation marker %#x at payload offset %d", c, pos)
	}
	n := int(binary.LittleEndian.Uint32(p[pos+4:]))
	pos += 8
	if n < 8 || n > maxIPCMetadataLen || n > len(p)-pos {
		return m, pos, fmt.Errorf("metadata length %d out of range 8..%d (%d bytes left)", n, min(maxIPCMetadataLen, len(p)-pos), len(p)-pos)
	}
	m.metaOff, m.metaLen = pos, n
	pos += n
	msg, ok := fbRoot(p[m.metaOff:pos])
	if !ok {
		return m, pos, fmt.Errorf("metadata root out of bounds")
	}
	if v := msg.i64(0, 0, 2); v != fbMetadataV5 {
		return m, pos, fmt.Errorf("metadata version %d, want %d (V5)", v, fbMetadataV5)
	}
	bodyLen := msg.i64(3, 0, 8)
	if bodyLen < 0 || bodyLen > int64(len(p)-pos) {
		return m, pos, fmt.Errorf("body length %d out of range 0..%d", bodyLen, len(p)-pos)
	}
	if _, _, ok := msg.vector(4, 4); !ok {
		return m, pos, fmt.Errorf("custom metadata out of bounds")
	}
	m.bodyOff, m.bodyLen = pos, int(bodyLen)
	return m, pos + int(bodyLen), nil
}

func checkSchemaMessage(meta []byte, bodyLen int, h *frameHeader) error {
	msg, _ := fbRoot(meta)
	if t := msg.i64(1, 0, 1); t != fbHeaderSchema {
		return fmt.Errorf("header type %d, want %d (Schema)", t, fbHeaderSchema)
	}
	if bodyLen != 0 {
		return fmt.Errorf("body length %d, want 0", bodyLen)
	}
	schema, ok := msg.table(2)
	if !ok {
		return fmt.Errorf("schema table out of bounds")
	}
	if !msg.slotsInBounds() {
		return fmt.Errorf("message table slot out of bounds")
	}
	if _, n, ok := msg.vector(4, 4); !ok || n != 0 {
		return fmt.Errorf("message has %d custom metadata entries (bounds ok: %v), want 0", n, ok)
	}
	fields, n, ok := schema.vector(1, 4)
	if !ok || n != 1 {
		return fmt.Errorf("schema has %d fields (bounds ok: %v), want 1", n, ok)
	}
	if e := schema.i64(0, 0, 2); e != 0 {
		return fmt.Errorf("schema endianness %d, want 0 (little)", e)
	}
	if _, n, ok := schema.vector(2, 4); !ok || n != 0 {
		return fmt.Errorf("schema has %d custom metadata entries (bounds ok: %v), want 0", n, ok)
	}
	if _, _, ok := schema.vector(3, 8); !ok {
		return fmt.Errorf("schema features out of bounds")
	}
	field, ok := schema.indirect(fields)
	if !ok {
		return fmt.Errorf("field table out of bounds")
	}
	if !schema.slotsInBounds() || !field.slotsInBounds() {
		return fmt.Errorf("schema or field table slot out of bounds")
	}
	if field.has(4) {
		return fmt.Errorf("field is dictionary-encoded")
	}
	if _, n, ok := field.vector(5, 4); !ok || n != 0 {
		return fmt.Errorf("field has %d children (bounds ok: %v), want 0", n, ok)
	}
	// The field must be the one the writer writes (name, not nullable, no
	// metadata): arrow-go compares the whole field with the expected schema,
	// and both readers must accept the same chunks.
	if _, n, ok := field.vector(6, 4); !ok || n != 0 {
		return fmt.Errorf("field has %d custom metadata entries (bounds ok: %v), want 0", n, ok)
	}
	nameAt, nameLen, ok := field.vector(0, 1)
	if !ok {
		return fmt.Errorf("field name out of bounds")
	}
	if name := field.buf[nameAt : nameAt+nameLen]; !isChunkFieldName(name, h.Column, h.Part, h.Encoding) {
		return fmt.Errorf("field name %q, want %q", name, chunkFieldName(h.Column, h.Part, h.Encoding))
	}
	if nullable := field.i64(1, 0, 1); nullable != 0 {
		return fmt.Errorf("field is nullable (%d), want not", nullable)
	}
	return checkFieldType(field, h.Encoding)
}

// isChunkFieldName reports whether name is chunkFieldName(c, p, e), without
// allocating.
func isChunkFieldName(name []byte, c ColumnID, p Part, e Encoding) bool {
	col, suffix := c.String(), fieldNameSuffix(p, e)
	return len(name) == len(col)+len(suffix) && string(name[:len(col)]) == col && string(name[len(col):]) == suffix
}

// checkFieldType checks the field's type union against the encoding.
func checkFieldType(field fbTable, enc Encoding) error {
	tt := field.i64(2, 0, 1)
	typ, ok := field.table(3)
	if !ok {
		return fmt.Errorf("field type table out of bounds")
	}
	if enc == EncAddr128 || enc == EncAddr32 {
		if w := typ.i64(0, 0, 4); tt != fbTypeFixedSizeBin || w != int64(enc.Width()) {
			return fmt.Errorf("field type %d width %d, want %s", tt, w, enc)
		}
		return nil
	}
	bits, signed := typ.i64(0, 0, 4), typ.i64(1, 0, 1)
	if tt != fbTypeInt || bits != int64(8*enc.Width()) || signed != 0 {
		return fmt.Errorf("field type %d bits %d signed %d, want %s", tt, bits, signed, enc)
	}
	return nil
}

func checkBatchMessage(meta, body []byte, h *frameHeader, l *ipcLayout) error {
	msg, _ := fbRoot(meta)
	if t := msg.i64(1, 0, 1); t != fbHeaderRecordBatch {
		return fmt.Errorf("header type %d, want %d (RecordBatch)", t, fbHeaderRecordBatch)
	}
	rb, ok := msg.table(2)
	if !ok {
		return fmt.Errorf("record batch table out of bounds")
	}
	// arrow-go reads scalar fields unchecked: every present slot of the
	// tables it reads must lie inside the metadata.
	if !msg.slotsInBounds() || !rb.slotsInBounds() {
		return fmt.Errorf("message or record batch table slot out of bounds")
	}
	if _, n, ok := msg.vector(4, 4); !ok || n != 0 {
		return fmt.Errorf("message has %d custom metadata entries (bounds ok: %v), want 0", n, ok)
	}
	rows := int64(h.Rows)
	if n := rb.i64(0, 0, 8); n != rows {
		return fmt.Errorf("length %d, frame says %d rows", n, rows)
	}
	nodes, n, ok := rb.vector(1, 16)
	if !ok || n != 1 {
		return fmt.Errorf("%d field nodes (bounds ok: %v), want 1", n, ok)
	}
	if l, nulls := rb.le64(nodes), rb.le64(nodes+8); l != rows || nulls != 0 {
		return fmt.Errorf("field node length %d null count %d, want %d and 0", l, nulls, rows)
	}
	if _, n, ok := rb.vector(4, 8); !ok || n != 0 {
		return fmt.Errorf("%d variadic buffer counts (bounds ok: %v), want 0", n, ok)
	}
	bufs, n, ok := rb.vector(2, 16)
	if !ok || n != ipcBufferCountPlain {
		return fmt.Errorf("%d buffers (bounds ok: %v), want %d", n, ok, ipcBufferCountPlain)
	}
	comp, compressed := rb.table(3)
	if rb.has(3) && (!compressed || !comp.slotsInBounds()) {
		return fmt.Errorf("compression table out of bounds")
	}
	switch {
	case compressed && h.Codec == CodecNone:
		return fmt.Errorf("buffers are compressed, frame says codec none")
	case !compressed && h.Codec != CodecNone:
		return fmt.Errorf("buffers are not compressed, frame says codec %s", h.Codec)
	case compressed:
		codec, method := comp.i64(0, 0, 1), comp.i64(1, 0, 1)
		want := int64(fbCompressionLZ4)
		if h.Codec == CodecZstd {
			want = fbCompressionZstd
		}
		if codec != want || method != 0 {
			return fmt.Errorf("compression codec %d method %d, frame says %s", codec, method, h.Codec)
		}
	}
	need := [ipcBufferCountPlain]int64{0, rows * int64(h.Encoding.Width())}
	limit := [ipcBufferCountPlain]int64{(rows+7)/8 + ipcBufferSizeSlack, need[1] + ipcBufferSizeSlack}
	for i := range ipcBufferCountPlain {
		off, n := rb.le64(bufs+16*i), rb.le64(bufs+16*i+8)
		if off < 0 || n < 0 || off > int64(len(body)) || n > int64(len(body))-off {
			return fmt.Errorf("buffer %d [%d, +%d) outside body of %d bytes", i, off, n, len(body))
		}
		size, raw := n, false
		if compressed && n > 0 {
			if n < ipcCompressionPrefix {
				return fmt.Errorf("compressed buffer %d is %d bytes, shorter than its size prefix", i, n)
			}
			size = int64(binary.LittleEndian.Uint64(body[off:]))
			if size == ipcUncompressedFlag {
				size, raw = n-ipcCompressionPrefix, true
			}
		}
		if size < need[i] || size > limit[i] {
			return fmt.Errorf("buffer %d holds %d bytes, want %d..%d for %d rows of %s", i, size, need[i], limit[i], rows, h.Encoding)
		}
		if i == 1 {
			l.valuesOff, l.valuesLen, l.size, l.compressed, l.raw = int(off), int(n), int(size), compressed && n > 0, raw
		}
	}
	return nil
}

// fbTable is a bounds-checked view of one flatbuffer table.
type fbTable struct {
	buf       []byte
	pos       int // table start
	vt, vtLen int // vtable start and length
}

func fbRoot(buf []byte) (fbTable, bool) {
	if len(buf) < 4 {
		return fbTable{}, false
	}
	return fbTableAt(buf, int64(binary.LittleEndian.Uint32(buf)))
}

func fbTableAt(buf []byte, pos int64) (fbTable, bool) {
	if pos < 0 || pos > int64(len(buf))-4 {
		return fbTable{}, false
	}
	vt := pos - int64(int32(binary.LittleEndian.Uint32(buf[pos:])))
	if vt < 0 || vt > int64(len(buf))-4 {
		return fbTable{}, false
	}
	vtLen := int64(binary.LittleEndian.Uint16(buf[vt:]))
	tblLen := int64(binary.LittleEndian.Uint16(buf[vt+2:]))
	if vtLen < 4 || vtLen%2 != 0 || vtLen > int64(len(buf))-vt || tblLen > int64(len(buf))-pos {
		return fbTable{}, false
	}
	return fbTable{buf: buf, pos: int(pos), vt: int(vt), vtLen: int(vtLen)}, true
}

// has reports whether field slot is present.
func (t fbTable) has(slot int) bool { return t.fieldPos(slot) >= 0 }

// slotsInBounds reports whether every present field of the table starts
// inside the buffer (arrow-go reads scalars such as a field's nullable flag
// without bounds checks, so a field pointing past the end must be refused
// here, before arrow-go sees the stream).
func (t fbTable) slotsInBounds() bool {
	for slot := 0; 4+2*slot+2 <= t.vtLen; slot++ {
		if p := t.fieldPos(slot); p >= len(t.buf) {
			return false
		}
	}
	return true
}

// fieldPos returns the absolute position of field slot, or -1 if absent.
func (t fbTable) fieldPos(slot int) int {
	if t.buf == nil || 4+2*slot+2 > t.vtLen {
		return -1
	}
	off := int(binary.LittleEndian.Uint16(t.buf[t.vt+4+2*slot:]))
	if off == 0 {
		return -1
	}
	return t.pos + off
}

// i64 reads a little-endian signed scalar of size bytes (1, 2, 4 or 8) from field
// slot, or def if absent. Out-of-bounds reads yield math.MinInt64, which no
// check accepts.
func (t fbTable) i64(slot int, def int64, size int) int64 {
	p := t.fieldPos(slot)
	if p < 0 {
		return def
	}
	if p > len(t.buf)-size {
		return math.MinInt64
	}
	switch size {
	case 1:
		return int64(int8(t.buf[p]))
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(t.buf[p:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(t.buf[p:])))
	}
	return int64(binary.LittleEndian.Uint64(t.buf[p:]))
}

// le64 reads an int64 at an absolute position already bounds-checked by
// vector.
func (t fbTable) le64(p int) int64 { return int64(binary.LittleEndian.Uint64(t.buf[p:])) }

// deref follows the uoffset stored at absolute position p.
func (t fbTable) deref(p int) (int64, bool) {
	if p < 0 || p > len(t.buf)-4 {
		return 0, false
	}
	return int64(p) + int64(binary.LittleEndian.Uint32(t.buf[p:])), true
}

// table returns the sub-table of field slot; false if absent or out of bounds.
func (t fbTable) table(slot int) (fbTable, bool) {
	target, ok := t.deref(t.fieldPos(slot))
	if !ok {
		return fbTable{}, false
	}
	return fbTableAt(t.buf, target)
}

// indirect returns the table an element offset at absolute position p points
// to (vectors of tables hold offsets).
func (t fbTable) indirect(p int) (fbTable, bool) {
	target, ok := t.deref(p)
	if !ok {
		return fbTable{}, false
	}
	return fbTableAt(t.buf, target)
}

// vector returns the start and length of the vector in field slot, having
// checked that n elements of elemSize bytes fit in the buffer. An absent
// vector is empty and ok.
func (t fbTable) vector(slot, elemSize int) (start, n int, ok bool) {
	p := t.fieldPos(slot)
	if p < 0 {
		return 0, 0, true
	}
	target, ok := t.deref(p)
	if !ok || target > int64(len(t.buf))-4 {
		return 0, 0, false
	}
	cnt := int64(binary.LittleEndian.Uint32(t.buf[target:]))
	s := target + 4
	if cnt*int64(elemSize) > int64(len(t.buf))-s {
		return 0, 0, false
	}
	return int(s), int(cnt), true
}
