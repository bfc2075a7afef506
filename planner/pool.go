package planner

import (
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// chunkPool recycles the buffers of column chunks between the blocks of
// one worker: a block's chunks are released before the next block is read,
// so after the first blocks reads allocate nothing (no zeroing, no garbage).
// Buffers come from the query's allocator in power-of-two sizes and go back
// to it when the worker ends. It serves one goroutine.
type chunkPool struct {
	under  memory.Allocator
	owned  map[unsafe.Pointer][]byte // buffers from under, full length
	free   [poolClasses][][]byte
	closed bool
}

const (
	poolMinShift  = 10 // 1 KiB; smaller requests go straight to under
	poolClasses   = 20 // up to 512 MiB
	poolKeepClass = 16 // idle buffers kept per size class
)

func newChunkPool(under memory.Allocator) *chunkPool {
	return &chunkPool{under: under, owned: map[unsafe.Pointer][]byte{}}
}

// class returns the size class of a request, or -1 to bypass the pool.
func poolClass(size int) int {
	if size <= 1<<poolMinShift {
		return -1
	}
	c := bits.Len(uint(size-1)) - poolMinShift
	if c >= poolClasses {
		return -1
	}
	return c
}

// Allocate implements memory.Allocator.
func (p *chunkPool) Allocate(size int) []byte {
	c := poolClass(size)
	if c < 0 || p.closed {
		return p.under.Allocate(size)
	}
	if n := len(p.free[c]); n > 0 {
		b := p.free[c][n-1]
		p.free[c] = p.free[c][:n-1]
		return b[:size]
	}
	b := p.under.Allocate(1 << (c + poolMinShift))
	p.owned[unsafe.Pointer(unsafe.SliceData(b))] = b
	return b[:size]
}

// Reallocate implements memory.Allocator.
func (p *chunkPool) Reallocate(size int, b []byte) []byte {
	if full, ok := p.owned[unsafe.Pointer(unsafe.SliceData(b))]; ok && len(b) > 0 && size <= len(full) {
		return full[:size]
	}
	if _, ok := p.owned[unsafe.Pointer(unsafe.SliceData(b))]; !ok || len(b) == 0 {
		return p.under.Reallocate(size, b)
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free implements memory.Allocator.
func (p *chunkPool) Free(b []byte) {
	ptr := unsafe.Pointer(unsafe.SliceData(b))
	full, ok := p.owned[ptr]
	if !ok || len(b) == 0 {
		p.under.Free(b)
		return
	}
	c := poolClass(len(full))
	if p.closed || len(p.free[c]) >= poolKeepClass {
		delete(p.owned, ptr)
		p.under.Free(full)
		return
	}
	p.free[c] = append(p.free[c], full)
}

// close returns the idle buffers to the underlying allocator; buffers
// still in use go back when freed.
func (p *chunkPool) close() {
	p.closed = true
	for c := range p.free {
		for _, b := range p.free[c] {
			delete(p.owned, unsafe.Pointer(unsafe.SliceData(b)))
			p.under.Free(b)
		}
		p.free[c] = nil
	}
}

// zeroed returns n zero values in memory that has been written.
//
// make hands out fresh memory from the kernel unwritten. A page of it
// that is read first maps the kernel's shared zero page, and the first
// write after that copies it: a second fault, which also flushes the TLB
// of every CPU the process runs on (one inter-processor interrupt each,
// dear on a VM). Hash tables and id maps read a slot before they write
// it, so each of their fresh pages took both faults: 7 % of the CPU time
// of a talker query (Q2) went to those flushes. Writing the zeros first
// costs one plain fault per page.
func zeroed[T any](n int) []T {
	s := make([]T, n)
	clear(s)
	return s
}
