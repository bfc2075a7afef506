package capture

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// mockPacket is one packet as the kernel would store it: the bytes kept
// after the filter's cut and the metadata tpacket_rcv writes.
type mockPacket struct {
	data     []byte // frame bytes to store (already cut)
	wireLen  uint32 // tp_len
	ts       int64  // Unix nanoseconds
	status   uint32 // tp_status bits (VLAN_VALID, VLAN_TPID_VALID)
	vlanTCI  uint16
	vlanTPID uint16
	pktType  uint8  // sll_pkttype
	proto    uint16 // sll_protocol, host order (stored big-endian)
	hatype   uint16 // sll_hatype
	macLen   uint32 // link header length: where tpacket_rcv puts the network header
	srcMAC   []byte // sll_addr (at most 8 bytes)
}

// mockWriter lays packets out in TPACKET_V3 blocks exactly as the kernel's
// tpacket_rcv and prb_* helpers do (see the ring layout in ring.go): block
// descriptor, then packet headers chained by tp_next_offset with 8-byte
// alignment, the network header on a 16-byte boundary, and a packet that
// does not fit closing the block. Blocks are left with TP_STATUS_KERNEL;
// the MockRing hands them to the reader.
type mockWriter struct {
	mem       []byte // 8-byte aligned, nblocks*blockSize bytes
	blockSize uint32
	nblocks   int
	maxPkts   uint32 // packets per block, 0 = as many as fit

	open  bool   // block nblocks-1 takes packets
	off   uint32 // offset of the next packet header in the open block
	prev  uint32 // offset of the last packet header in the open block
	npkts uint32 // packets in the open block
	seq   uint64 // seq_num of the last block opened
}

// mockAlloc returns n zero bytes, 8-byte aligned (n a multiple of 8).
func mockAlloc(n int) []byte {
	words := make([]uint64, n/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), n)
}

// openBlock appends a new block and writes its descriptor.
func (w *mockWriter) openBlock() {
	w.closeBlock()
	need := (w.nblocks + 1) * int(w.blockSize)
	if need > cap(w.mem) {
		grown := mockAlloc(max(need, 2*cap(w.mem)))
		copy(grown, w.mem)
		w.mem = grown
	}
	w.mem = w.mem[:need]
	w.nblocks++
	w.seq++
	b := w.block(w.nblocks - 1)
	ne := binary.NativeEndian
	ne.PutUint32(b[tpbVersion:], tpVersion3)
	ne.PutUint32(b[4:], tpBlockDescLen) // offset_to_priv: BLK_HDR_LEN
	ne.PutUint32(b[tpbStatus:], tpStatusKernel)
	ne.PutUint32(b[tpbFirstPkt:], tpBlockDescLen)
	ne.PutUint32(b[tpbBlkLen:], tpBlockDescLen)
	ne.PutUint64(b[tpbSeqNum:], w.seq)
	w.open, w.off, w.prev, w.npkts = true, tpBlockDescLen, 0, 0
}

// closeBlock finishes the open block: the last packet's tp_next_offset
// becomes 0 and ts_last_pkt its timestamp, as prb_close_block does.
func (w *mockWriter) closeBlock() {
	if !w.open {
		return
	}
	w.open = false
	b := w.block(w.nblocks - 1)
	ne := binary.NativeEndian
	if w.npkts > 0 {
		last := b[w.prev:]
		ne.PutUint32(last[tphNext:], 0)
		ne.PutUint32(b[tpbTsLastSec:], ne.Uint32(last[tphSec:]))
		ne.PutUint32(b[tpbTsLastNsec:], ne.Uint32(last[tphNsec:]))
	}
}

// block returns block i of the laid-out memory.
func (w *mockWriter) block(i int) []byte {
	s := i * int(w.blockSize)
	return w.mem[s : s+int(w.blockSize)]
}

// add stores p in the open block, or in a new one when it does not fit
// (or the open one holds maxPkts packets). Like the kernel, it cuts a
// packet bigger than a block can hold.
func (w *mockWriter) add(p mockPacket) error {
	// tpacket_rcv for SOCK_RAW: netoff = TPACKET_ALIGN(TPACKET3_HDRLEN +
	// max(16, maclen)), macoff = netoff - maclen.
	netoff := tpAlignUp(tpHdrTotal+max(16, p.macLen), tpAlign)
	macoff := netoff - p.macLen
	if uint64(netoff) > uint64(w.blockSize)-tpBlockDescLen || netoff > 0xffff {
		return fmt.Errorf("%w: block size %d cannot hold a %d-byte link header", ErrRingOptions, w.blockSize, p.macLen)
	}
	snap := uint32(min(uint64(len(p.data)), uint64(w.blockSize)-tpBlockDescLen-uint64(macoff)))
	total := tpAlignUp(macoff+snap, tpV3Align)
	if !w.open || (w.maxPkts > 0 && w.npkts == w.maxPkts) || uint64(w.off)+uint64(total) >= uint64(w.blockSize) {
		w.openBlock()
	}
	b := w.block(w.nblocks - 1)
	h := b[w.off:]
	ne := binary.NativeEndian
	sec, nsec := uint32(p.ts/1e9), uint32(p.ts%1e9)
	ne.PutUint32(h[tphNext:], total)
	ne.PutUint32(h[tphSec:], sec)
	ne.PutUint32(h[tphNsec:], nsec)
	ne.PutUint32(h[tphSnapLen:], snap)
	ne.PutUint32(h[tphLen:], max(p.wireLen, snap))
	ne.PutUint32(h[tphStatus:], p.status)
	ne.PutUint16(h[tphMac:], uint16(macoff))
	ne.PutUint16(h[tphNet:], uint16(netoff))
	ne.PutUint32(h[tphVLANTCI:], uint32(p.vlanTCI))
	ne.PutUint16(h[tphVLANTPID:], p.vlanTPID)
	ne.PutUint16(h[tphSllFamily:], 17) // AF_PACKET
	binary.BigEndian.PutUint16(h[tphSllProtocol:], p.proto)
	ne.PutUint32(h[tphSllIfindex:], 1)
	ne.PutUint16(h[tphSllHatype:], p.hatype)
	h[tphSllPktType] = p.pktType
	h[tphSllHalen] = byte(copy(h[tphSllHalen+1:tphSllHalen+9], p.srcMAC))
	copy(h[macoff:macoff+snap], p.data)

	ne.PutUint32(b[tpbNumPkts:], w.npkts+1)
	ne.PutUint32(b[tpbBlkLen:], w.off+total)
	if w.npkts == 0 {
		ne.PutUint32(b[tpbTsFirstSec:], sec)
		ne.PutUint32(b[tpbTsFirstNsec:], nsec)
	}
	w.prev, w.off = w.off, w.off+total
	w.npkts++
	return nil
}
