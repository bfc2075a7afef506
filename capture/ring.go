// Package capture also reads live traffic from a Linux AF_PACKET socket
// with a TPACKET_V3 receive ring (Ring, Linux only) and replays frames
// through the same ring layout in memory (MockRing, every platform). Both
// walk the ring with one block walker (ring_walk.go), so the mock tests the
// code that reads the kernel's bytes.
//
// # Ring layout (TPACKET_V3)
//
// The ring is one mmap'ed area of NumBlocks blocks of BlockSize bytes. A
// block belongs to the kernel while its block_status is TP_STATUS_KERNEL
// (0); the kernel fills it, then sets TP_STATUS_USER (bit 0) and hands it
// over. The reader walks the packets and stores TP_STATUS_KERNEL back
// (atomically, after its last read) to return it. Blocks are used in order,
// so the reader only ever waits on the next block.
//
// Block descriptor, at the start of every block (struct tpacket_block_desc
// with struct tpacket_hdr_v1; all fields host byte order):
//
//	off  size  field
//	+----+----+--------------------------------------------------+
//	|  0 |  4 | version               TPACKET_V3                 |
//	|  4 |  4 | offset_to_priv        (unused, no private area)  |
//	|  8 |  4 | block_status          TP_STATUS_KERNEL / _USER   |
//	| 12 |  4 | num_pkts              packets in the block       |
//	| 16 |  4 | offset_to_first_pkt   from block start (48)      |
//	| 20 |  4 | blk_len               bytes used, incl. this hdr |
//	| 24 |  8 | seq_num               block sequence number      |
//	| 32 |  8 | ts_first_pkt          sec u32, nsec u32          |
//	| 40 |  8 | ts_last_pkt           sec u32, nsec u32          |
//	+----+----+--------------------------------------------------+
//	  48       first packet (tpBlockDescLen)
//
// Packet header, at offset_to_first_pkt and then at each tp_next_offset
// (relative to the header itself; 0 in the last packet of a block),
// 8-byte aligned (struct tpacket3_hdr, then struct sockaddr_ll at
// TPACKET_ALIGN(48) = 48):
//
//	off  size  field
//	+----+----+--------------------------------------------------+
//	|  0 |  4 | tp_next_offset        to the next packet header  |
//	|  4 |  4 | tp_sec                capture time, seconds      |
//	|  8 |  4 | tp_nsec               nanoseconds                |
//	| 12 |  4 | tp_snaplen            bytes stored (filter cut)  |
//	| 16 |  4 | tp_len                length on the wire         |
//	| 20 |  4 | tp_status             TP_STATUS_VLAN_VALID etc.  |
//	| 24 |  2 | tp_mac                frame start, from header   |
//	| 26 |  2 | tp_net                network header, from hdr   |
//	| 28 |  4 | tp_rxhash             (hv1)                      |
//	| 32 |  4 | tp_vlan_tci           valid with VLAN_VALID      |
//	| 36 |  2 | tp_vlan_tpid          valid with VLAN_TPID_VALID |
//	| 38 | 10 | padding                                          |
//	+----+----+--------------------------------------------------+
//	| 48 |  2 | sll_family            AF_PACKET                  |
//	| 50 |  2 | sll_protocol          ethertype, network order   |
//	| 52 |  4 | sll_ifindex                                      |
//	| 56 |  2 | sll_hatype            ARPHRD_*                   |
//	| 58 |  1 | sll_pkttype           PACKET_OUTGOING = 4        |
//	| 59 |  1 | sll_halen                                        |
//	| 60 |  8 | sll_addr                                         |
//	+----+----+--------------------------------------------------+
//	| tp_mac .. tp_mac+tp_snaplen: the frame, cut by the filter  |
//	+------------------------------------------------------------+
//
// The kernel places the network header 16-byte aligned relative to the
// packet header: tp_net = TPACKET_ALIGN(68 + max(16, maclen)) and
// tp_mac = tp_net - maclen,
// so an Ethernet frame starts at 82 and a raw IP packet at 96. The next
// header follows at TPACKET_V3 alignment: tp_next_offset =
// align8(tp_mac + tp_snaplen).
//
// What the walker relies on, and checks before every read (a violation is
// an ErrRingCorrupt error naming the block and packet, never a panic):
// version is TPACKET_V3; offset_to_first_pkt >= 48 and 8-aligned;
// blk_len <= the block size; every header plus sockaddr_ll lies inside the
// block; tp_mac >= 68; tp_mac + tp_snaplen lies inside the block;
// tp_snaplen <= tp_len; tp_next_offset of a non-last packet is a multiple
// of 8 and >= tp_mac + tp_snaplen; num_pkts is what the chain holds.
//
// When tp_status has TP_STATUS_VLAN_VALID the kernel moved the outer VLAN
// tag into tp_vlan_tci and the frame is 4 bytes shorter: PacketInfo then
// has VLANOffloaded set and OrigLen = tp_len + 4 (DESIGN §2).
package capture

import (
	"fmt"
	"time"
)

// Ring layout constants (see the package doc).
const (
	tpBlockDescLen = 48 // sizeof(struct tpacket_block_desc), aligned to 8
	tpHdrLen       = 48 // TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
	tpSllLen       = 20 // sizeof(struct sockaddr_ll)
	// tpHdrTotal is TPACKET3_HDRLEN: packet header plus sockaddr_ll; a
	// frame never starts before it.
	tpHdrTotal = tpHdrLen + tpSllLen
	// tpAlign is TPACKET_ALIGNMENT, the alignment of tp_net.
	tpAlign = 16
	// tpV3Align is the alignment of tp_next_offset in TPACKET_V3 blocks.
	tpV3Align = 8

	tpVersion3 = 2 // TPACKET_V3, the value of PACKET_VERSION and block version

	tpStatusKernel        = 0      // TP_STATUS_KERNEL
	tpStatusUser          = 1 << 0 // TP_STATUS_USER
	tpStatusVLANValid     = 1 << 4 // TP_STATUS_VLAN_VALID
	tpStatusVLANTPIDValid = 1 << 6 // TP_STATUS_VLAN_TPID_VALID
	tpPktOutgoing         = 4      // PACKET_OUTGOING
	tpVLANTagLen          = 4      // bytes of one 802.1Q tag
	tpMaxSnap             = 262144 // the largest snap length a filter returns
	tpMinBlock            = tpBlockDescLen + tpHdrTotal
)

// Offsets inside the block descriptor.
const (
	tpbVersion     = 0
	tpbStatus      = 8
	tpbNumPkts     = 12
	tpbFirstPkt    = 16
	tpbBlkLen      = 20
	tpbSeqNum      = 24
	tpbTsFirstSec  = 32
	tpbTsFirstNsec = 36
	tpbTsLastSec   = 40
	tpbTsLastNsec  = 44
)

// Offsets inside a packet header (tpacket3_hdr, then sockaddr_ll).
const (
	tphNext        = 0
	tphSec         = 4
	tphNsec        = 8
	tphSnapLen     = 12
	tphLen         = 16
	tphStatus      = 20
	tphMac         = 24
	tphNet         = 26
	tphVLANTCI     = 32
	tphVLANTPID    = 36
	tphSllFamily   = tpHdrLen + 0
	tphSllProtocol = tpHdrLen + 2
	tphSllIfindex  = tpHdrLen + 4
	tphSllHatype   = tpHdrLen + 8
	tphSllPktType  = tpHdrLen + 10
	tphSllHalen    = tpHdrLen + 11
)

// Ring defaults. Why these values:
//
//   - 1 MiB blocks: with the filter's cut a packet takes about 130-200
//     bytes of ring (82 bytes of headers plus 48-128 bytes of frame), so a
//     block holds 5,000-8,000 packets and the reader wakes up once per block
//     at high rates instead of once per packet.
//   - 8 blocks (8 MiB per ring): at 1 Mpps a block fills in about 6 ms, so
//     the reader may stall for ~50 ms (a GC pause, a slow flow-table
//     rotation) before the kernel drops anything.
//   - 100 ms retire timeout: at low rates a partly filled block is handed
//     over after at most 100 ms, bounding both latency and the number of
//     wake-ups (at most 10 per second when trickling; none when idle, since
//     the kernel does not retire empty blocks). Flows are rotated every
//     300 s, so a 100 ms delay is invisible.
//   - 2048-byte frames: TPACKET_V3 packs variable-size packets into blocks
//     and only uses the frame size to check tp_frame_nr, so it is nominal;
//     any multiple of 16 that divides the block size works.
const (
	DefaultRingBlockSize     = 1 << 20
	DefaultRingNumBlocks     = 8
	DefaultRingFrameSize     = 2048
	DefaultRingRetireTimeout = 100 * time.Millisecond
)

// Option bounds, checked by RingOptions.withDefaults.
const (
	minRingBlockSize = 4096    // one page
	maxRingBlockSize = 1 << 30 // the kernel limit on one block's pages is lower in practice
	maxRingNumBlocks = 1 << 16
	maxRingRetireMs  = 1<<31 - 1
)

// RingOptions configures OpenRing. The zero value means the defaults.
type RingOptions struct {
	// BlockSize is the size of one ring block in bytes: a multiple of the
	// page size (default DefaultRingBlockSize).
	BlockSize int
	// NumBlocks is the number of blocks (default DefaultRingNumBlocks).
	NumBlocks int
	// FrameSize is the nominal frame size: a multiple of 16 that is at
	// least 68 and divides BlockSize (default DefaultRingFrameSize).
	FrameSize int
	// RetireTimeout is how long the kernel keeps a partly filled block
	// before handing it over, rounded down to milliseconds (default
	// DefaultRingRetireTimeout).
	RetireTimeout time.Duration
	// Promiscuous puts the interface into promiscuous mode while the ring
	// is open (PACKET_MR_PROMISC; the kernel counts users, so closing the
	// ring restores the previous state).
	Promiscuous bool
	// Fanout joins the ring to the PACKET_FANOUT_HASH group FanoutGroup on
	// its interface, so several rings share the interface's load by flow
	// hash (a flow's packets, fragments included, go to one ring).
	Fanout      bool
	FanoutGroup uint16
}

// withDefaults fills in zero fields and checks the result; pageSize is the
// system page size.
func (o RingOptions) withDefaults(pageSize int) (RingOptions, error) {
	if o.BlockSize == 0 {
		o.BlockSize = DefaultRingBlockSize
	}
	if o.NumBlocks == 0 {
		o.NumBlocks = DefaultRingNumBlocks
	}
	if o.FrameSize == 0 {
		o.FrameSize = DefaultRingFrameSize
	}
	if o.RetireTimeout == 0 {
		o.RetireTimeout = DefaultRingRetireTimeout
	}
	if pageSize <= 0 {
		pageSize = minRingBlockSize
	}
	switch {
	case o.BlockSize < pageSize || o.BlockSize > maxRingBlockSize || o.BlockSize%pageSize != 0:
		return o, fmt.Errorf("%w: block size %d: want a multiple of the page size %d in [%d, %d]",
			ErrRingOptions, o.BlockSize, pageSize, pageSize, maxRingBlockSize)
	case o.NumBlocks < 1 || o.NumBlocks > maxRingNumBlocks:
		return o, fmt.Errorf("%w: %d blocks: want 1..%d", ErrRingOptions, o.NumBlocks, maxRingNumBlocks)
	case o.FrameSize < tpHdrTotal || o.FrameSize%tpAlign != 0 || o.FrameSize > o.BlockSize ||
		o.BlockSize%o.FrameSize != 0:
		return o, fmt.Errorf("%w: frame size %d: want a multiple of %d, at least %d, dividing the block size %d",
			ErrRingOptions, o.FrameSize, tpAlign, tpHdrTotal, o.BlockSize)
	case o.RetireTimeout < time.Millisecond || o.RetireTimeout.Milliseconds() > maxRingRetireMs:
		return o, fmt.Errorf("%w: retire timeout %v: want at least 1ms", ErrRingOptions, o.RetireTimeout)
	case uint64(o.BlockSize)*uint64(o.NumBlocks) > 1<<40:
		return o, fmt.Errorf("%w: ring of %d x %d bytes is too big", ErrRingOptions, o.NumBlocks, o.BlockSize)
	}
	return o, nil
}

// RingStats are the kernel's counters for a ring (PACKET_STATISTICS),
// accumulated since the ring was opened. Reading the kernel's counters
// resets them; Ring adds every reading to these totals.
type RingStats struct {
	// Packets is the number of packets that passed the filter, including
	// the dropped ones (the kernel adds drops into its tp_packets).
	Packets uint64
	// Drops is the number of packets that passed the filter but found no
	// room in the ring.
	Drops uint64
	// FreezeQueueCount is the number of times the ring ran full and the
	// kernel froze it until the reader returned a block.
	FreezeQueueCount uint64
}

// align rounds n up to a multiple of a (a power of two).
func tpAlignUp(n, a uint32) uint32 { return (n + a - 1) &^ (a - 1) }
