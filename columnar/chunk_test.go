package columnar

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// arrowStream writes data as a one-batch IPC stream with arrow-go's writer.
func arrowStream(t *testing.T, h *frameHeader, data []byte) []byte {
	schema := chunkSchema(h.Column, h.Part, h.Encoding)
	d := array.NewData(h.Encoding.DataType(), int(h.Rows), []*memory.Buffer{nil, memory.NewBufferBytes(data)}, nil, 0, 0)
	defer d.Release()
	arr := array.MakeFromData(d)
	defer arr.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{arr}, int64(h.Rows))
	defer rec.Release()
	opts := []ipc.Option{ipc.WithSchema(schema)}
	switch h.Codec {
	case CodecLZ4:
		opts = append(opts, ipc.WithLZ4())
	case CodecZstd:
		opts = append(opts, ipc.WithZstd())
	}
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, opts...)
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestChunkWriterMatchesArrow compares the chunk writer's IPC streams with
// arrow-go's ipc.Writer: byte for byte when uncompressed and with LZ4 (same
// frame options) unless compression did not pay, and by decoded value always
// (arrow-go streams its ZSTD frames, the writer encodes them in one piece,
// and split counters in LZ4 blocks of lz4PageBytes, not 64 KiB).
func TestChunkWriterMatchesArrow(t *testing.T) {
	b := &Block{Iface: "eth0", Start: 1741600800, End: 1741601100}
	for i := range 3000 {
		b.Append(v4addr(10, 0, byte(i%37), byte(i%251)), [16]byte{0x20, 0x01, 15: byte(i % 97)}, uint16(i*31), uint8(i%7),
			uint64(i)<<(i%50), uint64(i%1000), uint64(i), uint64(i%3))
	}
	var enc blockEncoder
	var m BlockMeta
	enc.encodeBlock(b, &m)
	cw, dec := testCodecs(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, codec := range []Codec{CodecNone, CodecLZ4, CodecZstd} {
		for _, cp := range chunkOrder {
			e, n, data := enc.column(b, cp.col, cp.part)
			h := frameHeader{Version: FormatVersion, Column: cp.col, Part: cp.part, Encoding: e, Codec: codec, Rows: uint32(n), Start: b.Start}
			frame, err := cw.appendChunk(nil, &h, data)
			if err != nil {
				t.Fatal(err)
			}
			frame = frame[:frameHeaderLen+h.Length]
			want := arrowStream(t, &h, data)
			l, err := scanStream(frame[frameHeaderLen:], &h)
			if err != nil {
				t.Fatal(err)
			}
			// arrow-go keeps LZ4 output even when larger than the input; the
			// writer then stores the raw bytes (size prefix -1).
			paged := codec == CodecLZ4 && e.IsSplit() && len(data) > lz4PageBytes
			if codec != CodecZstd && !paged && !l.raw && !bytes.Equal(frame[frameHeaderLen:], want) {
				t.Errorf("%s %s %s: stream differs from arrow-go's\n got %x\nwant %x", cp.col, cp.part, codec, frame[frameHeaderLen:], want)
				continue
			}
			// Decode ours with arrow-go and with the store decoder; decode
			// arrow-go's with arrow-go: all equal.
			ref := ChunkRef{Column: cp.col, Part: cp.part, Encoding: e, Codec: codec, Rows: n, Offset: fileHeaderLen, Length: int64(len(frame)), CRC: h.CRC}
			buf := memory.NewResizableBuffer(mem)
			buf.Resize(len(frame))
			copy(buf.Bytes(), frame)
			fast, err := decodeChunk("t", &ref, b.Start, buf, dec, mem)
			if err != nil {
				t.Fatal(err)
			}
			slow, err := decodeChunkArrow("t", &ref, b.Start, buf, mem)
			if err != nil {
				t.Fatal(err)
			}
			buf.Release()
			rdr, err := ipc.NewReader(bytes.NewReader(want), ipc.WithAllocator(mem))
			if err != nil {
				t.Fatal(err)
			}
			if !rdr.Next() {
				t.Fatal(rdr.Err())
			}
			theirs := rdr.RecordBatch().Column(0)
			theirs.Retain()
			if e.IsSplit() {
				theirs = unsplitArray(theirs, e, mem)
			}
			if !array.Equal(fast, slow) || !array.Equal(fast, theirs) {
				t.Errorf("%s %s %s: decoded arrays differ", cp.col, cp.part, codec)
			}
			theirs.Release()
			rdr.Release()
			fast.Release()
			slow.Release()
		}
	}
}

// testCodecs returns a chunk writer and decompressors, closed when the
// test ends.
func testCodecs(t *testing.T) (*chunkWriter, *decompressors) {
	t.Helper()
	cw, err := newChunkWriter()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cw.close)
	dec, err := newDecompressors()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dec.close)
	return cw, dec
}
