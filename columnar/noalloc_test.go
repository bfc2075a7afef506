package columnar

import (
	"os/exec"
	"regexp"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestNoAllocs holds the hot helpers to zero allocations: dictionary lookups
// (run per block per address filter), key and header encoding into a
// caller's buffer, entry decoding into a reused BlockMeta, the IPC scan,
// and the decoding (decompress, unsplit) of a split counter chunk.
func TestNoAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("allocation counts are not meaningful under -cover")
	}
	b := array.NewFixedSizeBinaryBuilder(memory.DefaultAllocator, addrType)
	defer b.Release()
	for i := range 1000 {
		a := v4addr(10, 0, byte(i>>8), byte(i))
		b.Append(a[:])
	}
	dict := b.NewFixedSizeBinaryArray()
	defer dict.Release()
	d := &Dict{arr: dict}
	probe, lo, hi := v4addr(10, 0, 2, 7), v4addr(10, 0, 1, 0), v4addr(10, 0, 1, 255)

	m := BlockMeta{Start: 1741600800, End: 1741601100, Rows: 3, SIPDistinct: 2, DIPDistinct: 2, Flags: FlagSorted}
	for _, cp := range chunkOrder {
		enc, rows := EncUint8, 3
		switch {
		case cp.part.IsDict():
			enc, rows = partEncoding(cp.part, 0), 1
		case cp.part == PartRuns:
			rows = m.SIPDistinct
		}
		m.Chunks = append(m.Chunks, ChunkRef{Column: cp.col, Part: cp.part, Encoding: enc, Rows: rows, Offset: 16, Length: 64})
	}
	val := m.AppendTo(nil)
	var m2 BlockMeta
	m2.Chunks = make([]ChunkRef, 0, maxChunksPerBlock)
	frame := seedFrames(t)[5]
	var fh frameHeader
	payload, _ := fh.Unmarshal(frame)
	buf := make([]byte, 0, 1024)
	dec, err := newDecompressors()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.close()
	// Split counter chunks, compressed, decode into a caller's buffer
	// through the decompressors' reused scratch space.
	splitFrames := map[Codec]*memory.Buffer{}
	var splitRefs [CodecZstd + 1]ChunkRef
	for _, fr := range seedFrames(t) {
		var h frameHeader
		if _, err := h.Unmarshal(fr); err == nil && h.Encoding.IsSplit() && h.Codec != CodecNone {
			splitFrames[h.Codec] = memory.NewBufferBytes(fr)
			splitRefs[h.Codec] = ChunkRef{Column: h.Column, Part: h.Part, Encoding: h.Encoding, Codec: h.Codec, Rows: int(h.Rows),
				Offset: fileHeaderLen, Length: int64(len(fr)), CRC: h.CRC}
		}
	}
	if len(splitFrames) != 2 {
		t.Fatalf("seed frames hold split chunks of %d codecs, want 2", len(splitFrames))
	}
	values := make([]byte, 8*40)
	planes := appendSplit(nil, values, 4)

	cases := map[string]func(){
		"LookupAddr": func() {
			if _, ok := LookupAddr(dict, probe); !ok {
				t.Fatal("lookup failed")
			}
		},
		"Dict.Range": func() {
			if from, to := d.Range(lo, hi); to-from != 256 {
				t.Fatalf("range [%d, %d)", from, to)
			}
		},
		"appendBlockKey":        func() { buf = appendBlockKey(buf[:0], 1741600800) },
		"frameHeader.AppendTo":  func() { buf = fh.AppendTo(buf[:0]) },
		"frameHeader.Unmarshal": func() { _, _ = fh.Unmarshal(frame) },
		"fileHeader": func() {
			h := fileHeader{Version: FormatVersion, Day: 20000}
			buf = h.AppendTo(buf[:0])
			_, _ = h.Unmarshal(buf)
		},
		"BlockMeta.AppendTo": func() { buf = m.AppendTo(buf[:0]) },
		"BlockMeta.Unmarshal": func() {
			if err := m2.Unmarshal(val); err != nil {
				t.Fatal(err)
			}
		},
		"unsplit": func() { unsplit(values, planes, len(values)/4, 4) },
		"decodeChunkInto/split/lz4": func() {
			r := &splitRefs[CodecLZ4]
			if err := decodeChunkInto("t", r, 1741600800, splitFrames[CodecLZ4], dec, values[:r.Rows*r.Encoding.Width()]); err != nil {
				t.Fatal(err)
			}
		},
		"decodeChunkInto/split/zstd": func() {
			r := &splitRefs[CodecZstd]
			if err := decodeChunkInto("t", r, 1741600800, splitFrames[CodecZstd], dec, values[:r.Rows*r.Encoding.Width()]); err != nil {
				t.Fatal(err)
			}
		},
		"scanStream": func() {
			if _, err := scanStream(payload, &fh); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, f := range cases {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", name, n)
		}
	}
}

// TestInlining keeps the tiniest helpers inlinable (as net/netip does).
func TestInlining(t *testing.T) {
	if testing.Short() || runtime.GOARCH != "amd64" {
		t.Skip("needs the compiler; amd64 only")
	}
	out, err := exec.Command("go", "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	for _, fn := range []string{"align8", "dayOf", "dayStart", "appendBlockKey", "ColumnID.IsValid", "Encoding.Width", "(*Dict).Lookup", "(*Column).Len"} {
		if !regexp.MustCompile(`can inline ` + regexp.QuoteMeta(fn) + `\b`).Match(out) {
			t.Errorf("%s is no longer inlinable", fn)
		}
	}
}
