package capture

import (
	"errors"
	"fmt"
)

// Sentinel errors of the live ring, the mock ring and the kernel filters.
var (
	// ErrRingClosed is returned by NextPacket after Close, and after the
	// context given to OpenRing is done (then it also wraps the context's
	// cause).
	ErrRingClosed = errors.New("capture: ring closed")
	// ErrRingCorrupt means a ring block breaks the TPACKET_V3 layout: an
	// offset or length that points outside its block, a misaligned or
	// overlapping packet chain, or fewer packets than num_pkts says. The
	// block is returned to its owner and reading goes on with the next one.
	ErrRingCorrupt = errors.New("capture: corrupt ring block")
	// ErrRingOptions means RingOptions or MockOptions hold an impossible
	// value; the message names the field, the value and the limit.
	ErrRingOptions = errors.New("capture: bad ring options")
	// ErrUnsupportedLink means an interface's hardware type (or a mock's
	// link type) has no kernel filter: only Ethernet, loopback and raw-IP
	// devices are supported.
	ErrUnsupportedLink = errors.New("capture: unsupported link type")
)

// RingError is the error the ring walker returns for a corrupt block: it
// names the block and the packet within it. It wraps ErrRingCorrupt.
type RingError struct {
	Block  int    // index of the block in the ring
	Packet uint32 // 0-based index of the packet in the block
	Offset uint32 // byte offset in the block of the bad header
	Reason string // what is wrong, with got and limit values
}

// Error names the block, packet and offset, then the reason.
func (e *RingError) Error() string {
	return fmt.Sprintf("%v: block %d packet %d at offset %d: %s",
		ErrRingCorrupt, e.Block, e.Packet, e.Offset, e.Reason)
}

// Unwrap returns ErrRingCorrupt, so errors.Is works.
func (e *RingError) Unwrap() error { return ErrRingCorrupt }
