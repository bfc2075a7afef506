package columnar

import (
	"math"
	"runtime/debug"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Chunk reads from memory maps. Queries read chunks that are almost always
// in the page cache; ReadAt copies each one into a buffer first (a syscall
// and a copy: about 10 % of the CPU of a query decoding ZSTD chunks), while
// a read-only shared mapping lets the CRC and the decompressor read the page
// cache directly. A data file is mapped once per open handle with headroom
// (mapHeadroom) past its end, so the writer's appends become visible without
// a new mapping; only bytes up to the file size last seen are touched.
// Buffers of mapped bytes hold a reference on the handle, so the mapping
// outlives them; a handle unmaps when it closes.
//
// Touching a mapped page that the file no longer holds (a file truncated
// behind the store's back) raises SIGBUS; readPart decodes with
// debug.SetPanicOnFault and turns such a fault into a CorruptError.

// mapHeadroom is the address space mapped past a data file's end.
const mapHeadroom = 1 << 30

// mappedFrame returns bytes [off, off+n) of h's file as a buffer of mapped
// memory that holds a reference on h until released; ok is false when the
// file cannot be mapped or is shorter than off+n (ReadAt then reports it).
func (c *fileCache) mappedFrame(h *fileHandle, off int64, n int) (buf *memory.Buffer, ok bool) {
	end := off + int64(n)
	c.mu.Lock()
	defer c.mu.Unlock()
	if end > h.size {
		fi, err := h.f.Stat()
		if err != nil || fi.Size() < end {
			return nil, false
		}
		h.size = fi.Size()
	}
	var m []byte
	if k := len(h.maps); k > 0 {
		m = h.maps[k-1]
	}
	if end > int64(len(m)) {
		length := h.size
		if math.MaxInt > 1<<40 {
			length += mapHeadroom
		}
		nm, err := mapFile(h.f, length)
		if err != nil || nm == nil {
			return nil, false
		}
		h.maps = append(h.maps, nm)
		m = nm
	}
	h.refs++
	return memory.NewBufferWithAllocator(m[off:end:end], handleRef{c: c, h: h}), true
}

// handleRef is the allocator of a mapped buffer: freeing the buffer drops
// its reference on the handle.
type handleRef struct {
	c *fileCache
	h *fileHandle
}

func (r handleRef) Allocate(int) []byte {
	panic("columnar: a mapped buffer cannot allocate")
}

func (r handleRef) Reallocate(int, []byte) []byte {
	panic("columnar: a mapped buffer cannot grow")
}

func (r handleRef) Free([]byte) { r.c.release(r.h) }

// faultError is the runtime error of a memory fault under
// debug.SetPanicOnFault.
type faultError interface {
	error
	Addr() uintptr
}

// onFault runs fn with memory faults turned into an error: a SIGBUS from a
// mapped data file truncated under the reader becomes a CorruptError.
func onFault(file string, off int64, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			f, ok := r.(faultError)
			if !ok {
				panic(r)
			}
			err = corruptf(file, off, "memory fault reading the mapped chunk (file cut short?): %v", f)
		}
	}()
	return fn()
}
