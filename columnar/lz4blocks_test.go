package columnar

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/pierrec/lz4/v4"
)

// lz4Frame compresses data as the store's IPC writer does.
func lz4Frame(t testing.TB, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := lz4.NewWriter(&out)
	if err := w.Apply(lz4.ChecksumOption(false), lz4.BlockSizeOption(lz4.Block64Kb)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestLZ4Blocks: the direct block decoder takes every frame the store
// writes (compressible and raw blocks, one or several, empty) and decodes
// it as the streaming reader does; it declines, leaving the frame to that
// reader, any frame it does not fully understand.
func TestLZ4Blocks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 100, lz4MaxBlock - 1, lz4MaxBlock, lz4MaxBlock + 1, 3*lz4MaxBlock + 17} {
		for _, kind := range []string{"runs", "random"} {
			data := make([]byte, n)
			for i := range data {
				if kind == "random" {
					data[i] = byte(r.Uint32())
				} else {
					data[i] = byte(i / 300)
				}
			}
			frame := lz4Frame(t, data)
			dst := make([]byte, n)
			if !lz4Blocks(frame, dst) || !bytes.Equal(dst, data) {
				t.Errorf("%s, %d bytes: not decoded directly, or decoded wrong", kind, n)
			}
			dec, err := newDecompressors()
			if err != nil {
				t.Fatal(err)
			}
			slow := make([]byte, n)
			dec.src.Reset(frame)
			dec.lz4.Reset(&dec.src)
			if _, err := io.ReadFull(dec.lz4, slow); err != nil || !bytes.Equal(slow, data) {
				t.Errorf("%s, %d bytes: the streaming reader disagrees (%v)", kind, n, err)
			}
			if n == 0 {
				continue
			}
			for name, bad := range map[string]struct {
				src []byte
				dst int
			}{
				"cut short":      {frame[:len(frame)-5], n},
				"trailing byte":  {append(append([]byte(nil), frame...), 0), n},
				"other header":   {append([]byte{0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7}, frame[7:]...), n},
				"more than dst":  {frame, n - 1},
				"less than dst":  {frame, n + 1},
				"header only":    {frame[:7], n},
				"block too long": {append(append([]byte(nil), frame[:7]...), 0xff, 0xff, 0x01, 0x00), n},
			} {
				if lz4Blocks(bad.src, make([]byte, bad.dst)) {
					t.Errorf("%s, %d bytes: a frame %s was decoded directly", kind, n, name)
				}
			}
		}
	}
}

func BenchmarkLZ4Decode(b *testing.B) {
	data := make([]byte, 80000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		if i%4 == 0 {
			data[i] = byte(r.Uint32())
		}
	}
	frame := lz4Frame(b, data)
	dst := make([]byte, len(data))
	dec, err := newDecompressors()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("blocks", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if !lz4Blocks(frame, dst) {
				b.Fatal("declined")
			}
		}
	})
	b.Run("reader", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			dec.src.Reset(frame)
			dec.lz4.Reset(&dec.src)
			if _, err := io.ReadFull(dec.lz4, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestLZ4Ranges: of a frame in blocks of one power-of-two size (the
// writer's small pages, or pierrec/lz4's 64 KiB), lz4Ranges decodes the
// blocks holding the wanted ranges, exactly, and leaves the others
// untouched; it declines frames whose blocks it cannot place.
func TestLZ4Ranges(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cw, dec := testCodecs(t)
	for _, n := range []int{1, 100, 4096, 5000, 80000, 200000} {
		data := make([]byte, n)
		for i := range data {
			if i%3 == 0 {
				data[i] = byte(r.Uint32())
			}
		}
		for _, page := range []int{1 << 10, lz4PageBytes, 0} {
			var frame []byte
			var err error
			if page == 0 {
				frame, page = lz4Frame(t, data), lz4MaxBlock
			} else if frame, err = cw.appendLZ4Pages(nil, data, page); err != nil {
				t.Fatal(err)
			}
			for range 20 {
				// Up to four ascending, disjoint ranges.
				var ranges [][2]int
				at := 0
				for range 1 + r.IntN(4) {
					a := at + r.IntN(n-at+1)
					b := a + r.IntN(min(n-a, 3*page)+1)
					ranges = append(ranges, [2]int{a, b})
					at = b
				}
				dst := bytes.Repeat([]byte{0xaa}, n)
				if !dec.lz4Ranges(frame, dst, ranges) {
					t.Fatalf("%d bytes in %d-byte blocks, ranges %v: declined", n, page, ranges)
				}
				wanted := make([]bool, (n+page-1)/page)
				for _, rg := range ranges {
					if !bytes.Equal(dst[rg[0]:rg[1]], data[rg[0]:rg[1]]) {
						t.Fatalf("%d bytes in %d-byte blocks: range %v decoded wrong", n, page, rg)
					}
					for i := rg[0]; i < rg[1]; i++ {
						wanted[i/page] = true
					}
				}
				for i, w := range wanted {
					blk := dst[i*page : min(n, (i+1)*page)]
					if !w && !bytes.Equal(blk, bytes.Repeat([]byte{0xaa}, len(blk))) {
						t.Fatalf("%d bytes in %d-byte blocks, ranges %v: block %d decoded, not wanted", n, page, ranges, i)
					}
				}
			}
		}
	}
	// Blocks of unequal sizes: 4 KiB, 1 KiB, 4 KiB.
	data := bytes.Repeat([]byte("flows"), 2000)[:9216]
	a, _ := cw.appendLZ4Pages(nil, data[:4096], 4096)
	b, _ := cw.appendLZ4Pages(nil, data[4096:5120], 4096)
	c, _ := cw.appendLZ4Pages(nil, data[5120:], 4096)
	odd := append(append(append([]byte(nil), a[:len(a)-4]...), b[7:len(b)-4]...), c[7:]...)
	if dec.lz4Ranges(odd, make([]byte, len(data)), [][2]int{{8000, 9000}}) {
		t.Error("a frame of blocks of unequal sizes was decoded in part")
	}
	full := make([]byte, len(data))
	if !lz4Blocks(odd, full) || !bytes.Equal(full, data) {
		t.Error("the crafted frame is not a valid frame of the data")
	}
	good, _ := cw.appendLZ4Pages(nil, data, 4096)
	for name, bad := range map[string][]byte{
		"trailing byte": append(append([]byte(nil), good...), 0),
		"cut short":     good[:len(good)-2],
		"other header":  append([]byte{0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7}, good[7:]...),
	} {
		if dec.lz4Ranges(bad, make([]byte, len(data)), [][2]int{{0, 10}}) {
			t.Errorf("a frame with a %s was decoded", name)
		}
	}
}
