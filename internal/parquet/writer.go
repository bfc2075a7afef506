// Package parquet writes Apache Parquet files from Arrow record batches of
// a flat schema: the columns of query results and exported flows.
//
// It is small on purpose. arrow-go's writer (pqarrow) links Arrow's compute
// kernels, Flight and gRPC into every binary that uses it, and their
// package initialisation cost every flowsql command about 1.8 ms, a tenth
// of a one-talker query. This writer covers what results hold:
//
//	Arrow                       Parquet physical   logical (converted) type
//	timestamp[s|ms, tz]         INT64              TIMESTAMP(MILLIS, UTC if tz) (TIMESTAMP_MILLIS)
//	timestamp[us|ns, tz]        INT64              TIMESTAMP(MICROS|NANOS, UTC if tz)
//	utf8                        BYTE_ARRAY         STRING (UTF8)
//	uint8, uint16, uint32       INT32              INTEGER(8|16|32, unsigned) (UINT_8|16|32)
//	uint64                      INT64              INTEGER(64, unsigned) (UINT_64)
//	int8, int16, int32, int64   INT32, INT64       INTEGER(n, signed) (INT_n)
//	float32, float64            FLOAT, DOUBLE
//
// Nullable fields are OPTIONAL, with RLE definition levels. Values are
// PLAIN-encoded in version 1 data pages, compressed with ZSTD, Snappy or
// not at all; each column chunk carries its null count and, for integer
// and time columns, its minimum and maximum (in the type's order, so
// unsigned columns compare unsigned). The footer stores the Arrow schema
// under "ARROW:schema", as Arrow's own writers do, so Arrow readers get
// the original types back (timestamp[s] rather than timestamp[ms]).
package parquet

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Codec is the compression of a file's pages.
type Codec int

const (
	Uncompressed Codec = iota
	Snappy
	Zstd
)

// Parquet's CompressionCodec numbers.
var codecIDs = [...]int32{Uncompressed: 0, Snappy: 1, Zstd: 6}

// Defaults for Options fields left zero.
const (
	DefaultRowGroupRows = 1 << 20
	DefaultPageRows     = 1 << 16
)

// Options tune a Writer; the zero value writes uncompressed row groups
// of DefaultRowGroupRows rows.
type Options struct {
	Codec        Codec
	RowGroupRows int    // rows per row group (the writer holds one in memory)
	PageRows     int    // rows per data page
	CreatedBy    string // the footer's created_by
}

// ErrClosed is returned by Write and Close after Close.
var ErrClosed = errors.New("parquet: writer closed")

// Writer writes one Parquet file. Write buffers a row group's encoded
// pages and writes them when the row group is full; Close writes the last
// row group and the footer. The underlying writer is not closed.
type Writer struct {
	out    io.Writer
	off    int64 // bytes written to out
	schema *arrow.Schema
	opts   Options
	cols   []*column
	rows   int   // rows of the open row group
	total  int64 // rows of the closed row groups
	groups []rowGroup
	zenc   *zstd.Encoder
	page   []byte // scratch: a page body before compression
	comp   []byte // scratch: a compressed page body
	err    error  // sticky: the first failure to write
	closed bool
}

// Parquet's physical types.
const (
	typeInt32     = 1
	typeInt64     = 2
	typeFloat     = 4
	typeDouble    = 5
	typeByteArray = 6
)

// column is one column's description and the row group's pages so far.
//
// Integer, time and string columns are dictionary-encoded: each row
// group's chunk starts with a dictionary page of its distinct values, and
// its data pages hold indices into it. A chunk whose dictionary passes
// dictLimit bytes goes on in PLAIN pages.
type column struct {
	name     string
	phys     int32
	conv     int32 // converted type, or -1
	logical  func(c *compact)
	optional bool
	put      func(col *column, a arrow.Array, lo, hi int) // appends values of rows [lo, hi)
	minmax   int                                          // noStats, signedStats or unsignedStats
	width    int                                          // bytes of a fixed-width value; 0 for strings
	dict     bool                                         // dictionary-encode

	// The open page: PLAIN values, or dictionary indices.
	vals      []byte
	idx       []uint32
	levels    rleRuns
	pageRows  int
	pageNulls int

	// The open column chunk: its dictionary, and its data pages (headers
	// and compressed pages).
	plain        bool             // past the dictionary: PLAIN pages from now on
	ints         map[uint64]int32 // value -> index, fixed-width columns
	strs         map[string]int32 // value -> index, strings
	dictVals     []byte           // the dictionary, PLAIN-encoded
	dictOff      []int32          // where each string entry starts in dictVals
	dictPages    int              // data pages that use the dictionary
	chunk        []byte
	uncompressed int64
	values       int64
	nulls        int64
	hasStats     bool
	lo, hi       uint64 // min and max bits; compared as int64 for signedStats
	slo, shi     string // min and max of a string column
}

// dictLimit bounds a column chunk's dictionary (PLAIN bytes), as Arrow's
// writers do by default.
const dictLimit = 1 << 20

const (
	noStats = iota
	signedStats
	unsignedStats
)

// rowGroup is what the footer says of a written row group.
type rowGroup struct {
	rows   int64
	offset int64
	chunks []chunkMeta
}

type chunkMeta struct {
	offset       int64 // of the first data page
	dictOffset   int64 // of the dictionary page, or -1
	dictEncoded  bool  // some data pages use the dictionary
	plainPages   bool  // some data pages are PLAIN
	compressed   int64
	uncompressed int64
	values       int64
	nulls        int64
	hasStats     bool
	lo, hi       uint64
	slo, shi     string
}

// NewWriter starts a file of the given schema on out. Every field must be
// of a type listed in the package documentation.
func NewWriter(out io.Writer, schema *arrow.Schema, opts Options) (*Writer, error) {
	if opts.RowGroupRows <= 0 {
		opts.RowGroupRows = DefaultRowGroupRows
	}
	if opts.PageRows <= 0 {
		opts.PageRows = DefaultPageRows
	}
	if opts.Codec < Uncompressed || opts.Codec > Zstd {
		return nil, fmt.Errorf("parquet: unknown codec %d", opts.Codec)
	}
	if schema.NumFields() == 0 {
		return nil, errors.New("parquet: a file needs at least one column")
	}
	w := &Writer{out: out, schema: schema, opts: opts}
	for _, f := range schema.Fields() {
		c, err := newColumn(f)
		if err != nil {
			return nil, err
		}
		w.cols = append(w.cols, c)
	}
	if opts.Codec == Zstd {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("parquet: zstd: %w", err)
		}
		w.zenc = enc
	}
	w.write([]byte("PAR1"))
	return w, w.err
}

func newColumn(f arrow.Field) (*column, error) {
	c := &column{name: f.Name, conv: -1, optional: f.Nullable}
	intType := func(bits int8, signed bool) func(*compact) {
		return func(t *compact) {
			t.begin(10) // logicalType
			t.begin(10) // INTEGER
			t.i8(1, bits)
			t.bool(2, signed)
			t.end()
			t.end()
		}
	}
	switch t := f.Type.(type) {
	case *arrow.TimestampType:
		unit, mult := int16(1), int64(1) // TimeUnit field: 1 millis, 2 micros, 3 nanos
		switch t.Unit {
		case arrow.Second:
			mult = 1000
		case arrow.Microsecond:
			unit = 2
		case arrow.Nanosecond:
			unit = 3
		}
		utc := t.TimeZone != ""
		conv := int32(-1) // the converted types mean UTC-adjusted
		if utc && unit == 1 {
			conv = 9 // TIMESTAMP_MILLIS
		} else if utc && unit == 2 {
			conv = 10 // TIMESTAMP_MICROS
		}
		c.setInt(typeInt64, conv, func(t *compact) {
			t.begin(10) // logicalType
			t.begin(8)  // TIMESTAMP
			t.bool(1, utc)
			t.begin(2)
			t.begin(unit)
			t.end()
			t.end()
			t.end()
			t.end()
		}, signedStats)
		c.put = func(c *column, a arrow.Array, lo, hi int) {
			v := a.(*array.Timestamp).TimestampValues()
			c.putInts(a, lo, hi, func(i int) uint64 { return uint64(int64(v[i]) * mult) })
		}
	case *arrow.StringType:
		c.phys, c.conv, c.dict = typeByteArray, 0, true // UTF8
		c.logical = func(t *compact) {
			t.begin(10) // logicalType
			t.begin(1)  // STRING
			t.end()
			t.end()
		}
		c.put = func(c *column, a arrow.Array, lo, hi int) { c.putStrings(a.(*array.String), lo, hi) }
	case *arrow.Uint8Type:
		c.setInt(typeInt32, 11, intType(8, false), unsignedStats)
		c.put = putIntArray((*array.Uint8).Uint8Values)
	case *arrow.Uint16Type:
		c.setInt(typeInt32, 12, intType(16, false), unsignedStats)
		c.put = putIntArray((*array.Uint16).Uint16Values)
	case *arrow.Uint32Type:
		c.setInt(typeInt32, 13, intType(32, false), unsignedStats)
		c.put = putIntArray((*array.Uint32).Uint32Values)
	case *arrow.Uint64Type:
		c.setInt(typeInt64, 14, intType(64, false), unsignedStats)
		c.put = putIntArray((*array.Uint64).Uint64Values)
	case *arrow.Int8Type:
		c.setInt(typeInt32, 15, intType(8, true), signedStats)
		c.put = putIntArray((*array.Int8).Int8Values)
	case *arrow.Int16Type:
		c.setInt(typeInt32, 16, intType(16, true), signedStats)
		c.put = putIntArray((*array.Int16).Int16Values)
	case *arrow.Int32Type:
		c.setInt(typeInt32, 17, intType(32, true), signedStats)
		c.put = putIntArray((*array.Int32).Int32Values)
	case *arrow.Int64Type:
		c.setInt(typeInt64, 18, intType(64, true), signedStats)
		c.put = putIntArray((*array.Int64).Int64Values)
	case *arrow.Float32Type:
		c.phys, c.width = typeFloat, 4
		c.put = func(c *column, a arrow.Array, lo, hi int) {
			v := a.(*array.Float32).Float32Values()
			for i := lo; i < hi; i++ {
				if c.level(a, i) {
					c.vals = binary.LittleEndian.AppendUint32(c.vals, math.Float32bits(v[i]))
				}
			}
		}
	case *arrow.Float64Type:
		c.phys, c.width = typeDouble, 8
		c.put = func(c *column, a arrow.Array, lo, hi int) {
			v := a.(*array.Float64).Float64Values()
			for i := lo; i < hi; i++ {
				if c.level(a, i) {
					c.vals = binary.LittleEndian.AppendUint64(c.vals, math.Float64bits(v[i]))
				}
			}
		}
	default:
		return nil, fmt.Errorf("parquet: column %q: type %s is not supported", f.Name, f.Type)
	}
	c.plain = !c.dict
	return c, nil
}

// putIntArray returns the put function of an integer column whose
// values an array of type A holds. The conversion to uint64 sign-extends
// signed values, so a 4-byte Parquet value is the low half either way.
func putIntArray[A arrow.Array, T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](values func(A) []T) func(*column, arrow.Array, int, int) {
	return func(c *column, a arrow.Array, lo, hi int) {
		v := values(a.(A))
		c.putInts(a, lo, hi, func(i int) uint64 { return uint64(v[i]) })
	}
}

// setInt describes an integer or time column: dictionary-encoded, with
// min/max statistics.
func (c *column) setInt(phys, conv int32, logical func(*compact), minmax int) {
	c.phys, c.conv, c.logical, c.minmax, c.dict = phys, conv, logical, minmax, true
	c.width = 4
	if phys == typeInt64 {
		c.width = 8
	}
}

// level records row i's definition level and reports whether it has a
// value.
func (c *column) level(a arrow.Array, i int) bool {
	if !c.optional {
		return true
	}
	if a.IsNull(i) {
		c.levels.add(0)
		c.pageNulls++
		return false
	}
	c.levels.add(1)
	return true
}

// appendInt appends v as a PLAIN value of the column's width.
func (c *column) appendInt(b []byte, v uint64) []byte {
	if c.width == 4 {
		return binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return binary.LittleEndian.AppendUint64(b, v)
}

// putInts appends the non-null values get(i) of rows [lo, hi) and folds
// them into the chunk's minimum and maximum.
func (c *column) putInts(a arrow.Array, lo, hi int, get func(int) uint64) {
	for i := lo; i < hi; i++ {
		if !c.level(a, i) {
			continue
		}
		v := get(i)
		switch {
		case !c.hasStats:
			c.lo, c.hi, c.hasStats = v, v, true
		case c.minmax == unsignedStats:
			c.lo, c.hi = min(c.lo, v), max(c.hi, v)
		default:
			c.lo, c.hi = uint64(min(int64(c.lo), int64(v))), uint64(max(int64(c.hi), int64(v)))
		}
		if c.plain {
			c.vals = c.appendInt(c.vals, v)
			continue
		}
		id, ok := c.ints[v]
		if !ok {
			if c.ints == nil {
				c.ints = make(map[uint64]int32)
			}
			id = int32(len(c.ints))
			c.ints[v] = id
			c.dictVals = c.appendInt(c.dictVals, v)
		}
		c.idx = append(c.idx, uint32(id))
		if len(c.dictVals) > dictLimit {
			c.toPlain()
		}
	}
}

// putStrings appends the non-null values of rows [lo, hi).
func (c *column) putStrings(a *array.String, lo, hi int) {
	for i := lo; i < hi; i++ {
		if !c.level(a, i) {
			continue
		}
		v := a.Value(i)
		switch {
		case !c.hasStats:
			c.slo, c.shi, c.hasStats = strings.Clone(v), strings.Clone(v), true
		case v < c.slo:
			c.slo = strings.Clone(v)
		case v > c.shi:
			c.shi = strings.Clone(v)
		}
		if c.plain {
			c.vals = binary.LittleEndian.AppendUint32(c.vals, uint32(len(v)))
			c.vals = append(c.vals, v...)
			continue
		}
		id, ok := c.strs[v]
		if !ok {
			if c.strs == nil {
				c.strs = make(map[string]int32)
			}
			id = int32(len(c.strs))
			c.strs[strings.Clone(v)] = id
			c.dictOff = append(c.dictOff, int32(len(c.dictVals)))
			c.dictVals = binary.LittleEndian.AppendUint32(c.dictVals, uint32(len(v)))
			c.dictVals = append(c.dictVals, v...)
		}
		c.idx = append(c.idx, uint32(id))
		if len(c.dictVals) > dictLimit {
			c.toPlain()
		}
	}
}

// toPlain turns the open page's indices into PLAIN values, and makes the
// rest of the chunk PLAIN: its dictionary is full.
func (c *column) toPlain() {
	for _, id := range c.idx {
		if c.width > 0 {
			c.vals = append(c.vals, c.dictVals[int(id)*c.width:int(id+1)*c.width]...)
			continue
		}
		end := len(c.dictVals)
		if int(id)+1 < len(c.dictOff) {
			end = int(c.dictOff[id+1])
		}
		c.vals = append(c.vals, c.dictVals[c.dictOff[id]:end]...)
	}
	c.idx = c.idx[:0]
	c.plain = true
}

// dictSize returns the number of dictionary entries.
func (c *column) dictSize() int {
	if c.width > 0 {
		return len(c.dictVals) / c.width
	}
	return len(c.dictOff)
}

// resetChunk starts the column's next chunk.
func (c *column) resetChunk() {
	c.chunk, c.uncompressed, c.values, c.nulls, c.hasStats = c.chunk[:0], 0, 0, 0, false
	c.slo, c.shi = "", ""
	c.plain = !c.dict
	clear(c.ints)
	clear(c.strs)
	c.dictVals, c.dictOff, c.dictPages = c.dictVals[:0], c.dictOff[:0], 0
}

// Write appends the rows of rec, whose schema must be the file's.
func (w *Writer) Write(rec arrow.RecordBatch) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if !rec.Schema().Equal(w.schema) {
		return fmt.Errorf("parquet: record schema %s differs from the file's %s", rec.Schema(), w.schema)
	}
	n := int(rec.NumRows())
	for lo := 0; lo < n; {
		hi := min(n, lo+w.opts.RowGroupRows-w.rows, lo+w.opts.PageRows-w.cols[0].pageRows)
		for j, c := range w.cols {
			c.put(c, rec.Column(j), lo, hi)
			c.pageRows += hi - lo
		}
		w.rows += hi - lo
		lo = hi
		if w.cols[0].pageRows == w.opts.PageRows {
			for _, c := range w.cols {
				if err := w.flushPage(c); err != nil {
					return err
				}
			}
		}
		if w.rows == w.opts.RowGroupRows {
			if err := w.flushRowGroup(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flushPage compresses the column's open page into its chunk.
func (w *Writer) flushPage(c *column) error {
	if c.pageRows == 0 {
		return nil
	}
	body := w.page[:0]
	if c.optional {
		runs := c.levels.finish()
		body = binary.LittleEndian.AppendUint32(body, uint32(len(runs)))
		body = append(body, runs...)
	}
	enc := int32(0) // PLAIN
	if c.plain {
		body = append(body, c.vals...)
	} else {
		enc = 8 // RLE_DICTIONARY
		width := max(1, bits.Len32(uint32(c.dictSize()-1)))
		body = append(body, byte(width))
		body = appendHybrid(body, c.idx, width)
		c.dictPages++
	}
	w.page = body
	comp, err := w.compress(body)
	if err != nil {
		return fmt.Errorf("parquet: column %q: %w", c.name, err)
	}
	var h compact
	h.begin(0)
	h.i32(1, 0) // DATA_PAGE
	h.i32(2, int32(len(body)))
	h.i32(3, int32(len(comp)))
	h.begin(5)
	h.i32(1, int32(c.pageRows))
	h.i32(2, enc)
	h.i32(3, 3) // RLE definition levels
	h.i32(4, 3) // RLE repetition levels (none: the schema is flat)
	h.end()
	h.end()
	c.chunk = append(c.chunk, h.buf...)
	c.chunk = append(c.chunk, comp...)
	c.uncompressed += int64(len(h.buf) + len(body))
	c.values += int64(c.pageRows)
	c.nulls += int64(c.pageNulls)
	c.vals, c.idx, c.pageRows, c.pageNulls = c.vals[:0], c.idx[:0], 0, 0
	c.levels.reset()
	return nil
}

// compress returns body compressed with the file's codec, in scratch
// memory valid until the next call.
func (w *Writer) compress(body []byte) ([]byte, error) {
	switch w.opts.Codec {
	case Snappy:
		w.comp = s2.EncodeSnappy(w.comp[:cap(w.comp)], body)
	case Zstd:
		w.comp = w.zenc.EncodeAll(body, w.comp[:0])
	default:
		return body, nil
	}
	if len(body) > math.MaxInt32 || len(w.comp) > math.MaxInt32 {
		return nil, fmt.Errorf("a page of %d bytes is too large", len(body))
	}
	return w.comp, nil
}

// flushRowGroup writes the open row group's column chunks: each its
// dictionary page, if a data page uses it, then its data pages.
func (w *Writer) flushRowGroup() error {
	if w.rows == 0 {
		return nil
	}
	g := rowGroup{rows: int64(w.rows), offset: w.off}
	for _, c := range w.cols {
		if err := w.flushPage(c); err != nil {
			return err
		}
		start := w.off
		m := chunkMeta{dictOffset: -1, values: c.values, nulls: c.nulls, hasStats: c.hasStats, lo: c.lo, hi: c.hi, slo: c.slo, shi: c.shi,
			dictEncoded: c.dictPages > 0, plainPages: !c.dict || c.plain, uncompressed: c.uncompressed}
		if c.dictPages > 0 {
			comp, err := w.compress(c.dictVals)
			if err != nil {
				return fmt.Errorf("parquet: column %q: %w", c.name, err)
			}
			var h compact
			h.begin(0)
			h.i32(1, 2) // DICTIONARY_PAGE
			h.i32(2, int32(len(c.dictVals)))
			h.i32(3, int32(len(comp)))
			h.begin(7)
			h.i32(1, int32(c.dictSize()))
			h.i32(2, 0) // PLAIN
			h.end()
			h.end()
			m.dictOffset = w.off
			m.uncompressed += int64(len(h.buf) + len(c.dictVals))
			if err := w.write(h.buf); err != nil {
				return err
			}
			if err := w.write(comp); err != nil {
				return err
			}
		}
		m.offset = w.off
		if err := w.write(c.chunk); err != nil {
			return err
		}
		m.compressed = w.off - start
		g.chunks = append(g.chunks, m)
		c.resetChunk()
	}
	w.groups = append(w.groups, g)
	w.total += int64(w.rows)
	w.rows = 0
	return nil
}

func (w *Writer) write(b []byte) error {
	if w.err != nil {
		return w.err
	}
	n, err := w.out.Write(b)
	w.off += int64(n)
	if err != nil {
		w.err = fmt.Errorf("parquet: write: %w", err)
	}
	return w.err
}

// Close writes the last row group and the footer.
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	if w.zenc != nil {
		defer w.zenc.Close()
	}
	if w.err != nil {
		return w.err
	}
	if err := w.flushRowGroup(); err != nil {
		return err
	}
	meta, err := w.footer()
	if err != nil {
		return err
	}
	meta = binary.LittleEndian.AppendUint32(meta, uint32(len(meta)))
	return w.write(append(meta, "PAR1"...))
}

// footer encodes the FileMetaData.
func (w *Writer) footer() ([]byte, error) {
	var schema bytes.Buffer
	iw := ipc.NewWriter(&schema, ipc.WithSchema(w.schema))
	if err := iw.Close(); err != nil {
		return nil, fmt.Errorf("parquet: encoding the Arrow schema: %w", err)
	}
	var t compact
	t.begin(0)
	t.i32(1, 1) // version
	t.list(2, tcStruct, len(w.cols)+1)
	t.beginElem() // the root
	t.string(4, "schema")
	t.i32(5, int32(len(w.cols)))
	t.end()
	for _, c := range w.cols {
		t.beginElem()
		t.i32(1, c.phys)
		rep := int32(0) // REQUIRED
		if c.optional {
			rep = 1 // OPTIONAL
		}
		t.i32(3, rep)
		t.string(4, c.name)
		if c.conv >= 0 {
			t.i32(6, c.conv)
		}
		if c.logical != nil {
			c.logical(&t)
		}
		t.end()
	}
	t.i64(3, w.total)
	t.list(4, tcStruct, len(w.groups))
	for gi, g := range w.groups {
		t.beginElem()
		t.list(1, tcStruct, len(g.chunks))
		var size, comp int64
		for j, m := range g.chunks {
			c := w.cols[j]
			t.beginElem()
			start := m.offset
			if m.dictOffset >= 0 {
				start = m.dictOffset
			}
			t.i64(2, start)
			t.begin(3) // ColumnMetaData
			t.i32(1, c.phys)
			encs := []int32{0} // PLAIN: a dictionary page's values or PLAIN pages
			if m.dictEncoded {
				encs = append(encs, 8) // RLE_DICTIONARY
			}
			if c.optional {
				encs = append(encs, 3) // RLE definition levels
			}
			t.list(2, tcI32, len(encs))
			for _, e := range encs {
				t.i32Elem(e)
			}
			t.list(3, tcBinary, 1)
			t.stringElem(c.name)
			t.i32(4, codecIDs[w.opts.Codec])
			t.i64(5, m.values)
			t.i64(6, m.uncompressed)
			t.i64(7, m.compressed)
			t.i64(9, m.offset)
			if m.dictOffset >= 0 {
				t.i64(11, m.dictOffset)
			}
			t.begin(12) // Statistics
			t.i64(3, m.nulls)
			switch {
			case m.hasStats && c.phys == typeByteArray:
				t.string(5, m.shi)
				t.string(6, m.slo)
			case m.hasStats:
				t.binary(5, c.statBytes(m.hi))
				t.binary(6, c.statBytes(m.lo))
			}
			t.end()
			t.end()
			t.end()
			size += m.uncompressed
			comp += m.compressed
		}
		t.i64(2, size)
		t.i64(3, g.rows)
		t.i64(5, g.offset)
		t.i64(6, comp)
		t.i16(7, int16(gi))
		t.end()
	}
	t.list(5, tcStruct, 1)
	t.beginElem()
	t.string(1, "ARROW:schema")
	t.string(2, base64.StdEncoding.EncodeToString(schema.Bytes()))
	t.end()
	if w.opts.CreatedBy != "" {
		t.string(6, w.opts.CreatedBy)
	}
	// Every column's statistics use its type's order (unsigned for the
	// unsigned integers).
	t.list(7, tcStruct, len(w.cols))
	for range w.cols {
		t.beginElem()
		t.begin(1) // TYPE_ORDER
		t.end()
		t.end()
	}
	t.end()
	return t.buf, nil
}

// statBytes encodes a statistic as the column's plain value.
func (c *column) statBytes(v uint64) []byte {
	if c.phys == typeInt32 {
		return binary.LittleEndian.AppendUint32(nil, uint32(v))
	}
	return binary.LittleEndian.AppendUint64(nil, v)
}

// rleRuns encodes definition levels (bit width 1) as RLE runs of the
// RLE/bit-packing hybrid: a varint of the run length shifted left by
// one, then the value in one byte.
type rleRuns struct {
	buf []byte
	val byte
	n   int
}

func (r *rleRuns) add(v byte) {
	if v != r.val && r.n > 0 {
		r.flush()
	}
	r.val = v
	r.n++
}

func (r *rleRuns) flush() {
	r.buf = binary.AppendUvarint(r.buf, uint64(r.n)<<1)
	r.buf = append(r.buf, r.val)
	r.n = 0
}

// finish returns the encoded runs.
func (r *rleRuns) finish() []byte {
	if r.n > 0 {
		r.flush()
	}
	return r.buf
}

func (r *rleRuns) reset() { r.buf, r.n = r.buf[:0], 0 }

// appendHybrid appends vals in the RLE/bit-packing hybrid encoding of
// the given bit width: runs of at least 8 equal values as RLE runs, the
// rest bit-packed in groups of 8 (the last group padded with zeros).
func appendHybrid(b []byte, vals []uint32, width int) []byte {
	runLen := func(i int) int {
		j := i + 1
		for j < len(vals) && vals[j] == vals[i] {
			j++
		}
		return j - i
	}
	for i := 0; i < len(vals); {
		if n := runLen(i); n >= 8 {
			b = binary.AppendUvarint(b, uint64(n)<<1)
			for k, v := 0, vals[i]; k < (width+7)/8; k++ {
				b = append(b, byte(v>>(8*k)))
			}
			i += n
			continue
		}
		// Groups of 8 until a run of 8 begins at a group's start.
		start := i
		for i < len(vals) && (i == start || runLen(i) < 8) && (i-start)/8 < maxPackedGroups {
			i += 8
		}
		groups := (i - start) / 8
		b = binary.AppendUvarint(b, uint64(groups)<<1|1)
		var acc uint64
		nacc := 0
		for k := start; k < i; k++ {
			var v uint32
			if k < len(vals) {
				v = vals[k]
			}
			acc |= uint64(v) << nacc
			nacc += width
			for nacc >= 8 {
				b = append(b, byte(acc))
				acc >>= 8
				nacc -= 8
			}
		}
		i = min(i, len(vals))
	}
	return b
}

// maxPackedGroups bounds a bit-packed run, as Parquet's own writers do
// (a one-byte header).
const maxPackedGroups = 63
