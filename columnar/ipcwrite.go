package columnar

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	flatbuffers "github.com/google/flatbuffers/go"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// chunkWriter encodes column parts as Arrow IPC streams in chunk frames.
//
// The schema message comes from arrow-go's ipc.Writer (cached per column
// part and encoding). The record batch message is built here, to the Arrow
// IPC specification, because arrow-go's writer creates a new compressor
// for every stream: a fresh ZSTD encoder costs about 19 MB of allocations
// per chunk. Here one LZ4 and one ZSTD encoder are reused for every chunk.
// The bytes are what arrow-go writes for a one-column, null-free batch
// (checked by TestChunkWriterMatchesArrow), and Check and the tests decode
// every chunk with arrow-go's reader too.
//
// It is owned by the DB's writer and used under its lock.
type chunkWriter struct {
	schemas map[schemaKey][]byte
	fb      *flatbuffers.Builder
	zstd    *zstd.Encoder
	lz4     *lz4.Writer
	lzOut   bytes.Buffer
	lzc     lz4.Compressor // small-block frames (lz4PageBytes)
	comp    []byte         // compressed values, with the 8-byte size prefix
	stream  []byte         // the IPC stream being built
}

type schemaKey struct {
	col  ColumnID
	part Part
	enc  Encoding
}

func newChunkWriter() (*chunkWriter, error) {
	z, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("columnar: zstd encoder: %w", err)
	}
	lw := lz4.NewWriter(nil)
	// The options arrow-go uses, for the same bytes.
	if err := lw.Apply(lz4.ChecksumOption(false), lz4.BlockSizeOption(lz4.Block64Kb)); err != nil {
		return nil, fmt.Errorf("columnar: lz4 encoder: %w", err)
	}
	return &chunkWriter{schemas: make(map[schemaKey][]byte), fb: flatbuffers.NewBuilder(512), zstd: z, lz4: lw}, nil
}

func (w *chunkWriter) close() {
	_ = w.zstd.Close()
}

// schemaMessage returns the encoded IPC schema message of a chunk kind.
func (w *chunkWriter) schemaMessage(k schemaKey) ([]byte, error) {
	if s, ok := w.schemas[k]; ok {
		return s, nil
	}
	var buf bytes.Buffer
	iw := ipc.NewWriter(&buf, ipc.WithSchema(chunkSchema(k.col, k.part, k.enc)))
	if err := iw.Close(); err != nil { // writes the schema and end-of-stream
		return nil, fmt.Errorf("columnar: encode schema of %s %s: %w", k.col, k.part, err)
	}
	s := buf.Bytes()
	if len(s) < 16 || !bytes.Equal(s[len(s)-8:], ipcEOS[:]) {
		return nil, fmt.Errorf("columnar: encode schema of %s %s: unexpected stream of %d bytes", k.col, k.part, len(s))
	}
	s = bytes.Clone(s[:len(s)-8])
	w.schemas[k] = s
	return s, nil
}

var ipcEOS = [8]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}

// appendChunk appends the frame of one column part to dst. data holds
// h.Rows values of encoding h.Encoding, little-endian; h.Length and h.CRC
// are set.
func (w *chunkWriter) appendChunk(dst []byte, h *frameHeader, data []byte) ([]byte, error) {
	schema, err := w.schemaMessage(schemaKey{h.Column, h.Part, h.Encoding})
	if err != nil {
		return dst, err
	}
	values := data
	if h.Codec != CodecNone && len(data) > 0 {
		page := 0
		if h.Encoding.IsSplit() {
			page = lz4PageBytes
		}
		if values, err = w.compress(h.Codec, data, page); err != nil {
			return dst, fmt.Errorf("columnar: encode %s %s: %w", h.Column, h.Part, err)
		}
	}
	bodyLen := align8(int64(len(values)))
	meta := w.batchMessage(int64(h.Rows), int64(len(values)), bodyLen, h.Codec)
	metaLen := align8(int64(len(meta)))

	s := append(w.stream[:0], schema...)
	s = binary.LittleEndian.AppendUint32(s, ipcContinuation)
	s = binary.LittleEndian.AppendUint32(s, uint32(metaLen))
	s = append(s, meta...)
	s = append(s, make([]byte, metaLen-int64(len(meta)))...)
	s = append(s, values...)
	s = append(s, make([]byte, bodyLen-int64(len(values)))...)
	s = append(s, ipcEOS[:]...)
	w.stream = s
	if len(s) > maxPayloadLen {
		return dst, fmt.Errorf("columnar: encode %s %s: stream of %d bytes exceeds limit %d", h.Column, h.Part, len(s), maxPayloadLen)
	}
	return appendFrame(dst, h, s), nil
}

// compress returns data as an Arrow IPC compressed buffer: the uncompressed
// length as int64 little-endian, then one LZ4 frame or ZSTD frame. When
// compression shrinks the data by less than an eighth (rawBelowGain), the
// buffer holds the raw bytes with length -1, as the format allows. An LZ4 frame is written in blocks of
// page bytes when page > 0, else of 64 KiB. The result aliases w.comp.
func (w *chunkWriter) compress(codec Codec, data []byte, page int) ([]byte, error) {
	out := binary.LittleEndian.AppendUint64(w.comp[:0], uint64(len(data)))
	switch {
	case codec == CodecZstd:
		out = w.zstd.EncodeAll(data, out)
	case codec == CodecLZ4 && page > 0:
		var err error
		if out, err = w.appendLZ4Pages(out, data, page); err != nil {
			return nil, err
		}
	case codec == CodecLZ4:
		w.lzOut.Reset()
		w.lz4.Reset(&w.lzOut)
		if _, err := w.lz4.Write(data); err != nil {
			return nil, err
		}
		if err := w.lz4.Close(); err != nil {
			return nil, err
		}
		out = append(out, w.lzOut.Bytes()...)
	default:
		return nil, fmt.Errorf("codec %s cannot compress", codec)
	}
	if len(out)-ipcCompressionPrefix >= len(data)-len(data)>>rawBelowGain {
		out = binary.LittleEndian.AppendUint64(out[:0], ipcUncompressedFlag&(1<<64-1))
		out = append(out, data...)
	}
	w.comp = out
	return out, nil
}

// rawBelowGain: a buffer that compression shrinks by less than
// 1/2^rawBelowGain of its size (an eighth) is stored raw, which a reader
// uses in place. Sorted blocks' dip codes are such a buffer: LZ4 saves
// them 5% (1.8 KB a block on the bench/gen day, 0.11 B/row) and decoding
// that cost the talker query (Q2) 2 ms of 36 on one core.
const rawBelowGain = 3

// lz4PageBytes is the block size of the LZ4 frames of split counters
// (FORMAT.md "Compression"): a read of a run of rows decodes the blocks
// holding that run's bytes in each plane, not the whole chunk. 4 KiB cost
// 0.016 B/row on the bench/gen day against 64 KiB blocks, and a talker's
// run then decodes about a quarter of each byte counter.
const lz4PageBytes = 4 << 10

// appendLZ4Pages appends data to dst as one LZ4 frame of the store's kind
// (lz4FrameHeader: independent blocks, no checksums) whose blocks hold
// page bytes each, the last one the rest; a block that does not shrink is
// stored raw, as the frame format allows.
func (w *chunkWriter) appendLZ4Pages(dst, data []byte, page int) ([]byte, error) {
	dst = append(dst, lz4FrameHeader[:]...)
	for len(data) > 0 {
		p := data[:min(page, len(data))]
		data = data[len(p):]
		at := len(dst)
		dst = binary.LittleEndian.AppendUint32(dst, 0)
		dst = slices.Grow(dst, lz4.CompressBlockBound(len(p)))
		n, err := w.lzc.CompressBlock(p, dst[len(dst):len(dst)+lz4.CompressBlockBound(len(p))])
		if err != nil {
			return nil, err
		}
		if n == 0 || n >= len(p) {
			binary.LittleEndian.PutUint32(dst[at:], uint32(len(p))|lz4RawBlock)
			dst = append(dst, p...)
			continue
		}
		binary.LittleEndian.PutUint32(dst[at:], uint32(n))
		dst = dst[:len(dst)+n]
	}
	return binary.LittleEndian.AppendUint32(dst, 0), nil // end mark
}

// batchMessage builds the flatbuffer Message of a one-column record batch
// with no nulls: buffer 0 (validity) empty, buffer 1 (values) of valuesLen
// bytes at body offset 0. The result aliases the builder.
func (w *chunkWriter) batchMessage(rows, valuesLen, bodyLen int64, codec Codec) []byte {
	b := w.fb
	b.Reset()
	// Same build order as arrow-go (recordToFB), hence the same bytes.
	b.StartVector(16, 1, 8) // [FieldNode{length, null_count}]
	b.Prep(8, 16)
	b.PrependInt64(0)
	b.PrependInt64(rows)
	nodes := b.EndVector(1)
	b.StartVector(16, 2, 8) // [Buffer{offset, length}], last element first
	b.Prep(8, 16)
	b.PrependInt64(valuesLen)
	b.PrependInt64(0)
	b.Prep(8, 16)
	b.PrependInt64(0)
	b.PrependInt64(0)
	bufs := b.EndVector(2)
	var comp flatbuffers.UOffsetT
	if codec != CodecNone {
		c := int8(fbCompressionLZ4)
		if codec == CodecZstd {
			c = fbCompressionZstd
		}
		b.StartObject(2) // BodyCompression
		b.PrependInt8Slot(0, c, 0)
		b.PrependInt8Slot(1, 0, 0) // method BUFFER
		comp = b.EndObject()
	}
	b.StartObject(5) // RecordBatch
	b.PrependInt64Slot(0, rows, 0)
	b.PrependUOffsetTSlot(1, nodes, 0)
	b.PrependUOffsetTSlot(2, bufs, 0)
	if codec != CodecNone {
		b.PrependUOffsetTSlot(3, comp, 0)
	}
	rb := b.EndObject()
	b.StartObject(5) // Message
	b.PrependInt16Slot(0, fbMetadataV5, 0)
	b.PrependByteSlot(1, fbHeaderRecordBatch, 0)
	b.PrependUOffsetTSlot(2, rb, 0)
	b.PrependInt64Slot(3, bodyLen, 0)
	b.Finish(b.EndObject())
	return b.FinishedBytes()
}
