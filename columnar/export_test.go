package columnar

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ChunkCodecBench encodes single column parts of a block for the codec
// benchmarks: it exposes the real encoder and decoder, nothing else.
type ChunkCodecBench struct {
	// PlainCounters makes Encode store counters as plain integers, the
	// baseline of their byte-stream-split form.
	PlainCounters bool

	enc  blockEncoder
	cw   *chunkWriter
	meta BlockMeta
	b    *Block
	dec  *decompressors
}

// NewChunkCodecBench prepares b (dictionaries, row order) for encoding.
func NewChunkCodecBench(b *Block, mem memory.Allocator) *ChunkCodecBench {
	dec, err := newDecompressors()
	if err != nil {
		panic(err)
	}
	cw, err := newChunkWriter()
	if err != nil {
		panic(err)
	}
	x := &ChunkCodecBench{b: b, cw: cw, dec: dec}
	x.enc.encodeBlock(b, &x.meta)
	return x
}

// Encode returns the frame of one column part with the codec and its ref
// (offset fileHeaderLen). With v1Dict, PartDict is the whole dictionary in
// a version 1 frame, as version 1 stored it.
func (x *ChunkCodecBench) Encode(c ColumnID, p Part, codec Codec, v1Dict bool) ([]byte, ChunkRef, error) {
	x.enc.v1Dicts, x.enc.plainCounters = v1Dict, x.PlainCounters
	enc, n, data := x.enc.column(x.b, c, p)
	x.enc.v1Dicts, x.enc.plainCounters = false, false
	version := uint8(FormatVersion)
	if v1Dict {
		version = 1
	}
	h := frameHeader{Version: version, Column: c, Part: p, Encoding: enc, Codec: codec, Rows: uint32(n), Start: x.b.Start}
	frame, err := x.cw.appendChunk(nil, &h, data)
	ref := ChunkRef{Column: c, Part: p, Encoding: enc, Codec: codec, Rows: n, Offset: fileHeaderLen, Length: int64(h.Length) + frameHeaderLen, CRC: h.CRC}
	return frame[:ref.Length], ref, err
}

// Decode decodes a frame made by Encode with the store's decoder, or with
// arrow-go's IPC reader when arrowReader is set.
func (x *ChunkCodecBench) Decode(frame []byte, ref ChunkRef, arrowReader bool, mem memory.Allocator) (arrow.Array, error) {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(len(frame))
	copy(buf.Bytes(), frame)
	defer buf.Release()
	if arrowReader {
		return decodeChunkArrow("bench", &ref, x.b.Start, buf, mem)
	}
	return decodeChunk("bench", &ref, x.b.Start, buf, x.dec, mem)
}

// Close releases the decoder.
func (x *ChunkCodecBench) Close() {
	x.dec.close()
	x.cw.close()
}
