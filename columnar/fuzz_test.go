package columnar

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// seedFrames returns real chunk frames: every column part of a small block
// under every codec, so the fuzzer starts from valid Arrow IPC streams.
func seedFrames(t testing.TB) [][]byte {
	b := &Block{Iface: "eth0", Start: 1741600800, End: 1741601100}
	for i := range 40 {
		b.Append(v4addr(10, 0, byte(i%3), byte(i)), [16]byte{0x20, 0x01, 15: byte(i % 7)}, uint16(i*997), uint8(i%3*11),
			uint64(i)<<(i%40), uint64(i*i), uint64(i), 1)
	}
	var enc blockEncoder
	var m BlockMeta
	enc.encodeBlock(b, &m)
	cw, err := newChunkWriter()
	if err != nil {
		t.Fatal(err)
	}
	defer cw.close()
	var out [][]byte
	for _, codec := range []Codec{CodecNone, CodecLZ4, CodecZstd} {
		for _, cp := range chunkOrder {
			e, n, data := enc.column(b, cp.col, cp.part)
			if n == 0 && cp.part.IsDict() {
				continue
			}
			h := frameHeader{Version: FormatVersion, Column: cp.col, Part: cp.part, Encoding: e, Codec: codec, Rows: uint32(n), Start: b.Start}
			frame, err := cw.appendChunk(nil, &h, data)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, frame[:frameHeaderLen+h.Length])
		}
	}
	return out
}

// FuzzChunk feeds chunk frames to both chunk decoders. With fixCRC the
// target recomputes the checksum, so mutations reach the Arrow IPC scan and
// decode instead of stopping at the CRC. Every input must give either an
// error wrapping ErrCorrupt or, from both decoders, the same array of the
// header's row count; never a panic or a leak.
func FuzzChunk(f *testing.F) {
	for _, fr := range seedFrames(f) {
		f.Add(fr, false)
		f.Add(fr, true)
	}
	dec, err := newDecompressors()
	if err != nil {
		f.Fatal(err)
	}
	defer dec.close()
	f.Fuzz(func(t *testing.T, frame []byte, fixCRC bool) {
		frame = append([]byte(nil), frame...)
		var h frameHeader
		if len(frame) >= frameHeaderLen {
			_, _ = h.Unmarshal(frame)
			if fixCRC {
				binary.BigEndian.PutUint32(frame[28:], frameCRC(frame))
				h.CRC = binary.BigEndian.Uint32(frame[28:])
			}
		}
		ref := ChunkRef{Column: h.Column, Part: h.Part, Encoding: h.Encoding, Codec: h.Codec, Rows: int(h.Rows),
			Offset: fileHeaderLen, Length: int64(len(frame)), CRC: h.CRC}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		buf := memory.NewResizableBuffer(mem)
		buf.Resize(len(frame))
		copy(buf.Bytes(), frame)
		defer buf.Release()

		fast, err1 := decodeChunk("fuzz", &ref, h.Start, buf, dec, mem)
		// arrow-go, the reference decoder, panics inside its IPC reader on a
		// bad compressed buffer after allocating the output (v18.8.0,
		// file_reader.go ipcSource.buffer); the panic is recovered into an
		// error but that buffer is never released. So its memory is
		// checked only when it succeeds; the store's decoder is always.
		slowMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		slow, err2 := decodeChunkArrow("fuzz", &ref, h.Start, buf, slowMem)
		if err2 == nil {
			defer slowMem.AssertSize(t, 0)
		}
		for _, err := range []error{err1, err2} {
			var ce *CorruptError
			if err != nil && (!errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) || ce.Offset != fileHeaderLen) {
				t.Fatalf("error %v is not a *CorruptError at the chunk offset", err)
			}
		}
		if fast != nil {
			defer fast.Release()
			if fast.Len() != int(h.Rows) {
				t.Fatalf("decoded %d rows, header says %d", fast.Len(), h.Rows)
			}
		}
		if slow != nil {
			defer slow.Release()
		}
		// The store's decoder may be stricter than arrow-go's (it refuses,
		// say, a ZSTD frame that holds more than the buffer's declared
		// size, which arrow-go silently cuts), but it must never accept a
		// chunk the reference refuses, nor decode one differently.
		if err1 == nil && err2 != nil {
			t.Fatalf("the store accepts a chunk arrow-go refuses: %v", err2)
		}
		if fast != nil && !array.Equal(fast, slow) {
			t.Fatal("decoders return different arrays")
		}
		// A run of rows alone (LZ4 decodes only its blocks) agrees with
		// the whole chunk inside the run.
		if fast != nil {
			lo, hi := fast.Len()/3, 2*fast.Len()/3+1
			hi = min(hi, fast.Len())
			part, err := decodeChunkRows("fuzz", &ref, h.Start, buf, dec, mem, lo, hi)
			if err != nil {
				t.Fatalf("rows [%d, %d) of a chunk decoded whole: %v", lo, hi, err)
			}
			defer part.Release()
			if !array.SliceEqual(part, int64(lo), int64(hi), fast, int64(lo), int64(hi)) {
				t.Fatalf("rows [%d, %d) differ from the whole chunk's", lo, hi)
			}
		}
	})
}

// FuzzBlockEntry decodes index values. Accepted entries must re-encode to the
// same bytes. With fixCRC the checksum is recomputed so mutations reach the
// field checks.
func FuzzBlockEntry(f *testing.F) {
	m := BlockMeta{Start: 1741600800, End: 1741601100, Rows: 3, SIPDistinct: 2, DIPDistinct: 3, MinDPort: 53, MaxDPort: 443,
		MinProto: 6, MaxProto: 17, BytesIn: 1, Flags: FlagSorted}
	for i, cp := range chunkOrder {
		rows := 3
		enc := EncUint8
		if cp.part.IsDict() {
			rows = 1 // sip: 1 + 1, dip: 1 + 2
			if cp.part == PartDict && cp.col == ColDIP {
				rows = 2
			}
			enc = partEncoding(cp.part, 0)
		}
		m.Chunks = append(m.Chunks, ChunkRef{Column: cp.col, Part: cp.part, Encoding: enc, Codec: CodecLZ4, Rows: rows,
			Offset: 16 + int64(i)*320, Length: 320, CRC: uint32(i)})
	}
	f.Add(m.AppendTo(nil), false)
	v1 := m // a version 1 entry: one dictionary chunk per address column
	v1.Version, v1.Chunks = 1, nil
	for _, c := range m.Chunks {
		if c.Part != PartDict4 {
			if c.Part == PartDict {
				c.Rows = m.SIPDistinct
				if c.Column == ColDIP {
					c.Rows = m.DIPDistinct
				}
			}
			v1.Chunks = append(v1.Chunks, c)
		}
	}
	f.Add(v1.AppendTo(nil), false)
	empty := BlockMeta{Start: 5, End: 10, NonIP: 3}
	f.Add(empty.AppendTo(nil), false)
	f.Fuzz(func(t *testing.T, val []byte, fixCRC bool) {
		val = append([]byte(nil), val...)
		if fixCRC && len(val) >= 4 {
			binary.BigEndian.PutUint32(val[len(val)-4:], crc32.Checksum(val[:len(val)-4], castagnoli))
		}
		var m BlockMeta
		if err := m.Unmarshal(val); err != nil {
			return
		}
		if got := m.AppendTo(nil); string(got) != string(val) {
			t.Fatalf("round trip changed the entry:\n in %x\nout %x", val, got)
		}
	})
}

// FuzzUnsplit compares the word-at-a-time unsplit with the byte-at-a-time
// reference on arbitrary planes of every width, and checks that splitting
// the result gives the planes back.
func FuzzUnsplit(f *testing.F) {
	f.Add([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), uint8(1))
	f.Add(make([]byte, 130), uint8(2))
	f.Fuzz(func(t *testing.T, planes []byte, wsel uint8) {
		w := [...]int{2, 4, 8}[wsel%3]
		n := len(planes) / w
		planes = planes[:n*w]
		fast, slow := make([]byte, n*w), make([]byte, n*w)
		unsplit(fast, planes, n, w)
		unsplitBytes(slow, planes, n, w)
		if !bytes.Equal(fast, slow) {
			t.Fatalf("w=%d n=%d: unsplit %x, reference %x", w, n, fast, slow)
		}
		if back := appendSplit(nil, fast, w); !bytes.Equal(back, planes) {
			t.Fatalf("w=%d n=%d: split(unsplit(p)) = %x, want %x", w, n, back, planes)
		}
	})
}
