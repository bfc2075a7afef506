//go:build !linux

package capture

import (
	"context"
	"errors"
	"fmt"
)

// Ring is the live capture ring; it exists only on Linux. Elsewhere
// OpenRing fails, so that code using it still builds.
type Ring struct{}

// OpenRing fails on this platform with an error wrapping
// errors.ErrUnsupported.
func OpenRing(ctx context.Context, iface string, opts RingOptions) (*Ring, error) {
	return nil, fmt.Errorf("capture: opening a ring on %q: AF_PACKET needs Linux: %w", iface, errors.ErrUnsupported)
}

// NextPacket always returns ErrRingClosed.
func (r *Ring) NextPacket() ([]byte, PacketInfo, error) { return nil, PacketInfo{}, ErrRingClosed }

// AppendPacket always returns ErrRingClosed.
func (r *Ring) AppendPacket(dst []byte) ([]byte, PacketInfo, error) {
	return dst, PacketInfo{}, ErrRingClosed
}

// Interfaces returns nothing.
func (r *Ring) Interfaces() []Interface { return nil }

// Stats returns zeros.
func (r *Ring) Stats() RingStats { return RingStats{} }

// Close does nothing.
func (r *Ring) Close() error { return nil }
