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
