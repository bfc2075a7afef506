package columnar

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// decompressors holds one reader's reusable decompression state. arrow-go's
// IPC reader builds a new zstd decoder for every record batch (about 10 MB of
// allocations for a 100k-row column); reusing one per reader makes ZSTD
// chunks several times cheaper to read (BenchmarkReadColumn).
type decompressors struct {
	zstd *zstd.Decoder
	lz4  *lz4.Reader
	src  bytes.Reader
	// planes holds the byte planes of a version 2 IPv4 dictionary part
	// until they are expanded; scratch a buffer decoded larger than its
	// values (decompressInto). Neither is kept past one read.
	planes, scratch []byte
	// blocks lists the blocks of an LZ4 frame read in part (lz4Ranges).
	blocks []lz4Block
}

// resized returns *b resized to n bytes, contents undefined, growing it
// when needed.
func resized(b *[]byte, n int) []byte {
	if cap(*b) < n+decodeSlack {
		*b = make([]byte, n, n+decodeSlack)
	}
	return (*b)[:n]
}

// decodeSlack is the capacity kept past the end of every buffer the ZSTD
// decoder writes: with at least 32 spare bytes it copies matches and
// literals in whole 16/32-byte blocks (its fast path); without, it takes
// the bounds-exact path, about 1.5× slower.
const decodeSlack = 64

func newDecompressors() (*decompressors, error) {
	z, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		// The frame's CRC32C, verified before any decompression, already
		// covers the payload: the ZSTD frame's own xxhash adds nothing
		// but time (about 5% of a query reading ZSTD chunks).
		zstd.IgnoreChecksum(true),
		zstd.WithDecodeAllCapLimit(true),
		zstd.WithDecoderMaxMemory(maxPayloadLen))
	if err != nil {
		return nil, fmt.Errorf("columnar: zstd decoder: %w", err)
	}
	return &decompressors{zstd: z, lz4: lz4.NewReader(nil)}, nil
}

func (d *decompressors) close() {
	d.zstd.Close()
}

// decompress decodes one Arrow IPC compressed buffer body (after its size
// prefix) of exactly size bytes into a new buffer from mem.
func (d *decompressors) decompress(codec Codec, src []byte, size int, mem memory.Allocator) (*memory.Buffer, error) {
	buf := memory.NewResizableBuffer(mem)
	buf.Reserve(size + decodeSlack)
	buf.Resize(size)
	if err := d.decode(codec, src, buf.Bytes()); err != nil {
		buf.Release()
		return nil, err
	}
	return buf, nil
}

// decompressInto decodes a compressed buffer body of exactly size bytes
// into dst, which may be shorter than size (the stream may pad the values
// buffer): then it decodes into scratch space and copies the prefix. The
// capacity of dst past its length is scratch too (see decode): callers
// pass the tail of a buffer or a scratch slice, never bytes followed by
// data.
func (d *decompressors) decompressInto(codec Codec, src []byte, size int, dst []byte) error {
	if size == len(dst) {
		return d.decode(codec, src, dst)
	}
	if size < len(dst) {
		return fmt.Errorf("buffer decodes to %d bytes, want at least %d", size, len(dst))
	}
	tmp := resized(&d.scratch, size)
	if err := d.decode(codec, src, tmp); err != nil {
		return err
	}
	copy(dst, tmp)
	return nil
}

// decode decodes src into exactly dst. The bytes of dst's capacity past
// its length are scratch the ZSTD decoder may write: with decodeSlack of
// them it takes its fast path.
func (d *decompressors) decode(codec Codec, src, dst []byte) error {
	size := len(dst)
	var err error
	switch codec {
	case CodecZstd:
		var out []byte
		out, err = d.zstd.DecodeAll(src, dst[:0])
		if err == nil && len(out) != size {
			err = fmt.Errorf("decoded %d bytes, want %d", len(out), size)
		}
	case CodecLZ4:
		if lz4Blocks(src, dst) {
			break
		}
		d.src.Reset(src)
		d.lz4.Reset(&d.src)
		if _, err = io.ReadFull(d.lz4, dst); err == nil {
			var extra [1]byte
			if n, _ := d.lz4.Read(extra[:]); n != 0 {
				err = fmt.Errorf("lz4 frame holds more than %d bytes", size)
			}
		}
		d.lz4.Reset(nil)
	default:
		err = fmt.Errorf("codec %s has no decompressor", codec)
	}
	return err
}

// decompressorPool keeps up to a fixed number of idle decompressors, so
// concurrent readers each get one and Close can release them all.
type decompressorPool struct {
	idle chan *decompressors
}

func newDecompressorPool(n int) *decompressorPool {
	return &decompressorPool{idle: make(chan *decompressors, n)}
}

func (p *decompressorPool) get() (*decompressors, error) {
	select {
	case d := <-p.idle:
		return d, nil
	default:
		return newDecompressors()
	}
}

func (p *decompressorPool) put(d *decompressors) {
	select {
	case p.idle <- d:
	default:
		d.close()
	}
}

// close releases every idle decompressor.
func (p *decompressorPool) close() {
	for {
		select {
		case d := <-p.idle:
			d.close()
		default:
			return
		}
	}
}

// lz4FrameHeader is the header of every LZ4 frame the store writes
// (ipcwrite.go): magic, then FLG 0x60 (version 1, independent blocks, no
// checksums, no content size), BD 0x40 (64 KiB blocks), and the header
// checksum byte of those two.
var lz4FrameHeader = [7]byte{0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82}

// lz4MaxBlock is the largest block such a frame holds.
const lz4MaxBlock = 64 << 10

// lz4RawBlock flags a block size word whose block is stored uncompressed.
const lz4RawBlock = 1 << 31

// lz4Blocks decodes an LZ4 frame of the store's own kind straight into
// dst, block by block, and reports whether it did: exactly len(dst) bytes
// in blocks of at most 64 KiB, ended by the end mark at the end of src.
// Any other frame, and any failure, reports false and leaves the frame to
// the general streaming reader, which decodes every valid frame and gives
// the errors, so this fast path never accepts what that reader refuses.
// It saves the reader's copy of each block through its own buffer.
func lz4Blocks(src, dst []byte) bool {
	if len(src) < len(lz4FrameHeader) || [7]byte(src[:7]) != lz4FrameHeader {
		return false
	}
	src = src[7:]
	for pos := 0; ; {
		if len(src) < 4 {
			return false
		}
		word := binary.LittleEndian.Uint32(src)
		src = src[4:]
		if word == 0 { // end mark
			return len(src) == 0 && pos == len(dst)
		}
		size, raw := int(word&^lz4RawBlock), word&lz4RawBlock != 0
		if size > lz4MaxBlock || size > len(src) {
			return false
		}
		out := dst[pos:min(len(dst), pos+lz4MaxBlock)]
		if raw {
			if size > len(out) {
				return false
			}
			pos += copy(out, src[:size])
		} else {
			n, err := lz4.UncompressBlock(src[:size], out)
			if err != nil {
				return false
			}
			pos += n
		}
		src = src[size:]
	}
}

// lz4Block is one block of an LZ4 frame: its bytes in the frame and
// whether they are stored raw.
type lz4Block struct {
	data []byte
	raw  bool
}

// lz4Ranges decodes, of an LZ4 frame of the store's kind (see lz4Blocks)
// holding len(dst) bytes, only the blocks that hold bytes of the ranges
// [r[0], r[1]), given in ascending order, into their places in dst; the
// rest of dst is left as it was. It reports false, having perhaps written
// some of dst, when the frame is of another kind, or its blocks are not
// all of one power-of-two size but the last (as every frame the store
// writes is: lz4PageBytes for split counters, 64 KiB otherwise), or a
// block it decodes is damaged; the caller then decodes the whole frame.
// Blocks it skips are not checked: Check decodes every block.
func (d *decompressors) lz4Ranges(src, dst []byte, ranges [][2]int) bool {
	if len(src) < len(lz4FrameHeader) || [7]byte(src[:7]) != lz4FrameHeader {
		return false
	}
	src = src[7:]
	blocks := d.blocks[:0]
	defer func() { d.blocks = blocks[:0] }()
	for {
		if len(src) < 4 {
			return false
		}
		word := binary.LittleEndian.Uint32(src)
		src = src[4:]
		if word == 0 {
			break
		}
		size := int(word &^ lz4RawBlock)
		if size > lz4MaxBlock || size > len(src) {
			return false
		}
		blocks = append(blocks, lz4Block{data: src[:size], raw: word&lz4RawBlock != 0})
		src = src[size:]
	}
	if len(src) != 0 || len(blocks) == 0 {
		return false
	}
	// The block size: the power of two that makes as many blocks of
	// len(dst) bytes as the frame has. One block is the whole frame.
	page := len(dst)
	if len(blocks) > 1 {
		page = 0
		for p := 1 << 10; p <= lz4MaxBlock; p <<= 1 {
			if (len(dst)+p-1)/p == len(blocks) {
				page = p
				break
			}
		}
		if page == 0 {
			return false
		}
	}
	next := 0 // blocks below next are decoded
	for _, r := range ranges {
		if r[0] >= r[1] {
			continue
		}
		if r[0] < 0 || r[1] > len(dst) {
			return false
		}
		for i := max(next, r[0]/page); i <= (r[1]-1)/page; i++ {
			out := dst[i*page : min(len(dst), (i+1)*page)]
			b := blocks[i]
			if b.raw {
				if len(b.data) != len(out) {
					return false
				}
				copy(out, b.data)
			} else if n, err := lz4.UncompressBlock(b.data, out); err != nil || n != len(out) {
				return false
			}
			next = i + 1
		}
	}
	return true
}
