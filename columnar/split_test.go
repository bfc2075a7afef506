package columnar

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestSplitRoundTrip splits values of every width and unsplits them with the
// fast kernels and the byte-at-a-time reference, for lengths around the
// 8-value step of the kernels.
func TestSplitRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, w := range []int{1, 2, 3, 4, 8} {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1003} {
			data := make([]byte, n*w)
			for i := range data {
				data[i] = byte(r.Uint32())
			}
			planes := appendSplit([]byte("prefix"), data, w)
			if string(planes[:6]) != "prefix" || len(planes) != 6+n*w {
				t.Fatalf("w=%d n=%d: appendSplit did not append", w, n)
			}
			planes = planes[6:]
			for i := range n {
				for k := range w {
					if planes[k*n+i] != data[i*w+k] {
						t.Fatalf("w=%d n=%d: byte %d of value %d is not at %d", w, n, k, i, k*n+i)
					}
				}
			}
			for name, f := range map[string]func(dst, planes []byte, n, w int){"unsplit": unsplit, "unsplitBytes": unsplitBytes} {
				// One byte more than needed: the kernels must not write it.
				got := bytes.Repeat([]byte{0xee}, n*w+1)
				f(got, planes, n, w)
				if !bytes.Equal(got[:n*w], data) || got[n*w] != 0xee {
					t.Errorf("w=%d n=%d: %s does not invert appendSplit", w, n, name)
				}
			}
		}
	}
}

// TestSplitEncodingValidity holds the split encodings to counter values
// chunks of format version 2 and later.
func TestSplitEncodingValidity(t *testing.T) {
	ok := frameHeader{Version: 2, Column: ColBytesIn, Part: PartValues, Encoding: EncSplit32, Rows: 8}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid header refused: %v", err)
	}
	for name, mod := range map[string]func(h *frameHeader){
		"version 1": func(h *frameHeader) { h.Version = 1 },
		"dport":     func(h *frameHeader) { h.Column = ColDPort },
		"sip codes": func(h *frameHeader) { h.Column = ColSIP },
		"dict part": func(h *frameHeader) { h.Column, h.Part = ColSIP, PartDict },
		"unknown":   func(h *frameHeader) { h.Encoding = EncSplit64 + 1 },
	} {
		h := ok
		mod(&h)
		if err := h.validate(); err == nil || !strings.Contains(err.Error(), "encoding") {
			t.Errorf("%s: validate = %v, want an encoding error", name, err)
		}
	}
	for _, e := range []Encoding{EncSplit16, EncSplit32, EncSplit64} {
		if !e.IsSplit() || e.Plain().IsSplit() || e.Plain().Width() != e.Width() || splitEncoding(e.Plain()) != e {
			t.Errorf("%s: IsSplit/Plain/Width inconsistent", e)
		}
	}
}

// TestSplitChunkDamage decodes split counter chunks whose planes were cut
// or whose header claims another width: a CorruptError, never a panic or a
// wrong value.
func TestSplitChunkDamage(t *testing.T) {
	dec, err := newDecompressors()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.close()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, fr := range seedFrames(t) {
		var h frameHeader
		if _, err := h.Unmarshal(fr); err != nil {
			t.Fatal(err)
		}
		if !h.Encoding.IsSplit() {
			continue
		}
		for _, e := range []Encoding{EncSplit16, EncSplit32, EncSplit64, h.Encoding.Plain()} {
			if e == h.Encoding {
				continue
			}
			bad := bytes.Clone(fr)
			bad[7] = byte(e)
			h2 := h
			h2.Encoding = e
			bad[28], bad[29], bad[30], bad[31] = 0, 0, 0, 0
			crc := frameCRC(bad)
			bad[28], bad[29], bad[30], bad[31] = byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc)
			ref := ChunkRef{Column: h.Column, Part: h.Part, Encoding: e, Codec: h.Codec, Rows: int(h.Rows), Offset: fileHeaderLen, Length: int64(len(bad)), CRC: crc}
			buf := memory.NewResizableBuffer(mem)
			buf.Resize(len(bad))
			copy(buf.Bytes(), bad)
			arr, err := decodeChunk("t", &ref, h.Start, buf, dec, mem)
			buf.Release()
			if err == nil {
				arr.Release()
				t.Errorf("%s %s as %s: decoded, want corruption", h.Column, h.Codec, e)
			} else if !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s %s as %s: %v does not wrap ErrCorrupt", h.Column, h.Codec, e, err)
			}
		}
	}
}
