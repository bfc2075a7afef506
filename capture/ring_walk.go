package capture

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// ringReader is the reader side of a TPACKET_V3 ring: the cursor over the
// blocks and the walk through the packets of the current one. Ring reads
// the kernel's mmap'ed ring with it and MockRing an in-memory copy of the
// same layout, so both go through exactly this code. It allocates nothing.
//
// A ringReader is not safe for concurrent use; its owner serialises calls.
type ringReader struct {
	mem       []byte // the whole ring: numBlocks blocks of blockSize bytes
	blockSize uint32
	numBlocks int

	cur  int    // index of the block being read, or waited for
	held bool   // block cur belongs to the reader (TP_STATUS_USER seen)
	off  uint32 // offset in block cur of the next packet header
	left uint32 // packets of block cur not yet walked
	idx  uint32 // index in block cur of the next packet

	iface        int      // PacketInfo.Iface of every packet
	link         LinkType // PacketInfo.Link of every packet
	skipOutgoing bool     // drop PACKET_OUTGOING copies (loopback devices)
}

// initRing points r at a ring of numBlocks blocks of blockSize bytes.
// mem must be 8-byte aligned (block status words are accessed atomically).
func (r *ringReader) initRing(mem []byte, blockSize uint32, numBlocks int, link LinkType) error {
	if blockSize < tpMinBlock || numBlocks < 1 || uint64(len(mem)) != uint64(blockSize)*uint64(numBlocks) {
		return fmt.Errorf("%w: ring of %d bytes cannot hold %d blocks of %d bytes",
			ErrRingOptions, len(mem), numBlocks, blockSize)
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(mem)))%8 != 0 || blockSize%8 != 0 {
		return fmt.Errorf("%w: ring memory or block size %d not 8-byte aligned", ErrRingOptions, blockSize)
	}
	*r = ringReader{mem: mem, blockSize: blockSize, numBlocks: numBlocks, link: link}
	return nil
}

// block returns block i of the ring.
func (r *ringReader) block(i int) []byte {
	start := uint64(i) * uint64(r.blockSize)
	return r.mem[start : start+uint64(r.blockSize) : start+uint64(r.blockSize)]
}

// blockStatus returns the block_status word of blk for atomic access. The
// kernel publishes a block by storing TP_STATUS_USER after writing it, and
// takes it back once it sees TP_STATUS_KERNEL.
func blockStatus(blk []byte) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&blk[tpbStatus]))
}

// next returns the next packet of the ring. ready is false (with a nil
// error) when the block it needs still belongs to the kernel: the caller
// then waits for it (Ring) or fills it (MockRing) and calls again. A
// corrupt block yields one *RingError; that block is returned to the
// kernel and the following call goes on with the next block.
//
// The data slice points into the ring and is valid until the next call.
func (r *ringReader) next() (data []byte, info PacketInfo, ready bool, err error) {
	for {
		if r.held {
			if r.left == 0 {
				r.release()
				continue
			}
			data, info, skip, err := r.packet()
			if err != nil {
				r.release()
				return nil, PacketInfo{}, true, err
			}
			if skip {
				continue
			}
			return data, info, true, nil
		}
		blk := r.block(r.cur)
		if blockStatus(blk).Load()&tpStatusUser == 0 {
			return nil, PacketInfo{}, false, nil
		}
		r.held = true
		if err := r.openBlock(blk); err != nil {
			r.release()
			return nil, PacketInfo{}, true, err
		}
	}
}

// release hands block cur back to the kernel and moves to the next block.
// The store is atomic and comes after every read of the block.
func (r *ringReader) release() {
	blockStatus(r.block(r.cur)).Store(tpStatusKernel)
	r.held, r.left = false, 0
	r.cur++
	if r.cur == r.numBlocks {
		r.cur = 0
	}
}

// openBlock reads and checks the descriptor of blk, a block just handed
// over, and positions the walk on its first packet.
func (r *ringReader) openBlock(blk []byte) error {
	ne := binary.NativeEndian
	n := ne.Uint32(blk[tpbNumPkts:])
	first := ne.Uint32(blk[tpbFirstPkt:])
	used := ne.Uint32(blk[tpbBlkLen:])
	r.off, r.left, r.idx = first, n, 0
	if v := ne.Uint32(blk[tpbVersion:]); v != tpVersion3 {
		return r.corrupt(0, "block version %d, want %d (TPACKET_V3)", v, tpVersion3)
	}
	if n == 0 {
		return nil // an empty block: nothing to walk
	}
	switch {
	case used > r.blockSize:
		return r.corrupt(first, "blk_len %d exceeds the block size %d", used, r.blockSize)
	case first < tpBlockDescLen || first%tpV3Align != 0:
		return r.corrupt(first, "offset_to_first_pkt %d: want a multiple of %d, at least %d",
			first, tpV3Align, tpBlockDescLen)
	case uint64(n)*uint64(tpHdrTotal) > uint64(r.blockSize):
		return r.corrupt(first, "num_pkts %d cannot fit in a block of %d bytes", n, r.blockSize)
	}
	return nil
}

// packet walks the packet header at r.off. skip is true for a packet the
// reader drops (an outgoing copy on a loopback device).
func (r *ringReader) packet() (data []byte, info PacketInfo, skip bool, err error) {
	ne := binary.NativeEndian
	blk := r.block(r.cur)
	off := r.off
	if uint64(off)+tpHdrTotal > uint64(r.blockSize) {
		return nil, info, false, r.corrupt(off, "packet header needs %d bytes, block has %d",
			uint64(off)+tpHdrTotal, r.blockSize)
	}
	h := blk[off : off+tpHdrTotal : off+tpHdrTotal]
	next := ne.Uint32(h[tphNext:])
	snap := ne.Uint32(h[tphSnapLen:])
	wire := ne.Uint32(h[tphLen:])
	status := ne.Uint32(h[tphStatus:])
	mac := uint32(ne.Uint16(h[tphMac:]))
	end := uint64(off) + uint64(mac) + uint64(snap)
	switch {
	case mac < tpHdrTotal:
		return nil, info, false, r.corrupt(off, "tp_mac %d inside the %d-byte packet header", mac, tpHdrTotal)
	case end > uint64(r.blockSize):
		return nil, info, false, r.corrupt(off, "frame ends at %d (tp_mac %d + tp_snaplen %d), block has %d",
			end, mac, snap, r.blockSize)
	case snap > wire:
		return nil, info, false, r.corrupt(off, "tp_snaplen %d exceeds tp_len %d", snap, wire)
	}
	if r.left > 1 {
		nextOff := uint64(off) + uint64(next)
		switch {
		case next%tpV3Align != 0 || uint64(next) < uint64(mac)+uint64(snap):
			return nil, info, false, r.corrupt(off, "tp_next_offset %d: want a multiple of %d, at least %d",
				next, tpV3Align, uint64(mac)+uint64(snap))
		case nextOff+tpHdrTotal > uint64(r.blockSize):
			return nil, info, false, r.corrupt(off, "tp_next_offset %d points past the block (%d of %d) with %d packets left",
				next, nextOff, r.blockSize, r.left-1)
		}
		r.off = uint32(nextOff)
	}
	r.left--
	r.idx++
	dir := DirInbound
	if h[tphSllPktType] == tpPktOutgoing {
		if r.skipOutgoing {
			return nil, info, true, nil
		}
		dir = DirOutbound
	}
	info = PacketInfo{
		Timestamp: int64(ne.Uint32(h[tphSec:]))*1e9 + int64(ne.Uint32(h[tphNsec:])),
		CapLen:    snap,
		OrigLen:   wire,
		Iface:     r.iface,
		Link:      r.link,
		Dir:       dir,
	}
	if status&tpStatusVLANValid != 0 {
		info.VLANOffloaded = true
		if wire <= ^uint32(0)-tpVLANTagLen {
			info.OrigLen = wire + tpVLANTagLen
		}
	}
	start := uint64(off) + uint64(mac)
	return blk[start:end:end], info, false, nil
}

// corrupt builds the error for a bad field of block cur at offset off.
// It is off the hot path: only corrupt blocks reach it.
func (r *ringReader) corrupt(off uint32, format string, args ...any) error {
	return &RingError{Block: r.cur, Packet: r.idx, Offset: off, Reason: fmt.Sprintf(format, args...)}
}
