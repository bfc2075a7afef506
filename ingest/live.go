package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/flowsql/flowsql/capture"
)

// Live capture: ring -> decoder -> aggregator, per interface, with blocks
// cut by packet time and, for idle interfaces, by the wall clock.
//
//	ring 0 ─ capture goroutine ─ Decoder ─ Aggregator ─ writer ─┐
//	ring 1 ─ capture goroutine ─ Decoder ─ Aggregator ─ writer ─┤ fanout merge
//	   ...                                                      ┘  (only with
//	                                                               Fanout > 1)
//	      ──▶ ifaceSink (block times, retries, counters) ──▶ BlockSink (store)
//
// Every ring has its own goroutine that owns its Decoder and Aggregator:
// the per-packet path takes no lock. Rotation by packet time happens in
// Aggregator.Add, which swaps tables, so capture never waits for the
// writer (Options.Live).
//
// # Rotation of idle interfaces
//
// A Ring blocks in poll(2) until the kernel hands over a block and the
// kernel never hands over an empty one, so an idle capture goroutine
// cannot notice that its interval is over. Tick (called about once a
// second) does it for it, but may touch the Aggregator only while the
// capture goroutine provably does not. The proof is cheap for the capture
// goroutine, which pays one atomic store per packet:
//
//   - the capture goroutine publishes the number of packets it has
//     finished (processed) after each packet, and checks the flag active
//     (a plain load) after each NextPacket, before touching the
//     aggregator; when it is set it waits on the owner lock;
//   - Tick takes the owner lock, sets active, then reads processed and
//     then the ring's kernel counters (PACKET_STATISTICS). If the kernel
//     accepted exactly as many packets as were processed, none is waiting
//     in the ring, so the capture goroutine is in (or entering) NextPacket
//     and will see active before it processes anything that arrives from
//     now on: a packet it could still process would have been counted.
//     Tick then owns the aggregator until it clears active. Otherwise
//     traffic flows and packet times rotate the blocks; Tick backs off.
//
// A ring whose reader skips packets the kernel counted (loopback devices
// on kernels before 4.20) never passes the test; its idle blocks are then
// written with the next packet, or at Stop.
//
// # Block times across restarts
//
// Blocks are aligned intervals, except where capture stopped or started
// inside one: Stop ends the open block at the stop time (rounded up to
// the second), and a capture that starts inside an interval already
// (partly) stored begins its block where the stored data ends. So an
// interface removed and added again (SIGHUP), or one that disappears and
// comes back, never writes a block that overlaps a stored one.

// PacketRing is the packet source of live capture: *capture.Ring satisfies
// it. NextPacket blocks until a packet is available; after the context
// given to the opener is done it must return an error wrapping
// capture.ErrRingClosed (io.EOF also ends capture). Stats returns the
// kernel's counters accumulated since the ring was opened and is called
// from another goroutine than NextPacket.
type PacketRing interface {
	NextPacket() ([]byte, capture.PacketInfo, error)
	Stats() capture.RingStats
	Close() error
}

// RingOpener opens a PacketRing on an interface. ctx bounds the ring's
// life: when it is done, NextPacket must return.
type RingOpener func(ctx context.Context, iface string, opts capture.RingOptions) (PacketRing, error)

// OpenLiveRing opens a capture.Ring; it is the default RingOpener.
func OpenLiveRing(ctx context.Context, iface string, opts capture.RingOptions) (PacketRing, error) {
	r, err := capture.OpenRing(ctx, iface, opts)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// IfaceRef names an interface to capture on. Index is its kernel index
// (0 when unknown): a capture whose interface comes back with another
// index is restarted.
type IfaceRef struct {
	Name  string
	Index int
}

// Limits and defaults of LiveOptions.
const (
	// MaxFanout bounds LiveOptions.Fanout.
	MaxFanout = 64
	// DefaultWriteRetries is how often a failed block write is retried
	// before the block is dropped.
	DefaultWriteRetries = 3
	// DefaultWriteRetryDelay is the first pause between write attempts;
	// it doubles with every attempt.
	DefaultWriteRetryDelay = time.Second
	// publishEvery is how often, in packet time, a busy capture goroutine
	// publishes its counters for Status.
	publishEvery = int64(time.Second)
)

// LiveOptions configure live capture. The zero value means defaults.
type LiveOptions struct {
	// Interval, Local, Decoder and MaxPendingBlocks are as in Options;
	// live capture always runs its aggregators in Live mode.
	Interval         time.Duration
	Local            *LocalNets
	Decoder          DecoderOptions
	MaxPendingBlocks int
	// Ring configures the rings. With Fanout > 1, Ring.Fanout is set and
	// Ring.FanoutGroup, when zero, is derived from the process id and the
	// interface index.
	Ring capture.RingOptions
	// Fanout is the number of rings per interface (PACKET_FANOUT_HASH),
	// each read by its own goroutine; their blocks are merged into one per
	// interval. 0 or 1 means one ring.
	Fanout int
	// OpenRing opens the rings; nil means OpenLiveRing.
	OpenRing RingOpener
	// StoredEnd returns where the store's data of an interface ends (unix
	// seconds, 0 for none), so that a capture starting inside a stored
	// interval does not overlap it. Nil means nothing is stored.
	StoredEnd func(iface string) int64
	// Logger receives capture events (start, stop, errors); nil discards.
	Logger *slog.Logger
	// Now is the clock for stop times; nil means time.Now.
	Now func() time.Time
	// WriteRetries and WriteRetryDelay: a failed block write is retried
	// WriteRetries times (DefaultWriteRetries when 0, none when negative),
	// pausing WriteRetryDelay (DefaultWriteRetryDelay when 0) and twice as
	// long after every attempt, then the block is dropped and counted.
	// Blocks the store refuses as invalid or overlapping are dropped at
	// once. Capture never stops for a failed write.
	WriteRetries    int
	WriteRetryDelay time.Duration

	// publishEvery overrides publishEvery (tests: 1 publishes every packet).
	publishEvery int64
}

// withDefaults validates o and fills in defaults.
func (o LiveOptions) withDefaults() (LiveOptions, error) {
	agg := o.aggOptions()
	if _, err := agg.interval(); err != nil {
		return o, err
	}
	if o.Fanout < 0 || o.Fanout > MaxFanout {
		return o, fmt.Errorf("%w: fanout %d: want 1..%d", ErrLiveOptions, o.Fanout, MaxFanout)
	}
	if o.Fanout == 0 {
		o.Fanout = 1
	}
	if o.MaxPendingBlocks < 0 {
		return o, fmt.Errorf("%w: MaxPendingBlocks %d is negative", ErrLiveOptions, o.MaxPendingBlocks)
	}
	if o.OpenRing == nil {
		o.OpenRing = OpenLiveRing
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case o.WriteRetries == 0:
		o.WriteRetries = DefaultWriteRetries
	case o.WriteRetries < 0:
		o.WriteRetries = 0
	}
	if o.WriteRetryDelay <= 0 {
		o.WriteRetryDelay = DefaultWriteRetryDelay
	}
	if o.publishEvery <= 0 {
		o.publishEvery = publishEvery
	}
	return o, nil
}

// aggOptions returns the Options of the aggregators.
func (o *LiveOptions) aggOptions() Options {
	return Options{Interval: o.Interval, Local: o.Local, Decoder: o.Decoder, Live: true, MaxPendingBlocks: o.MaxPendingBlocks}
}

// ringOptions returns the ring options of an interface's rings.
func (o *LiveOptions) ringOptions(ref IfaceRef) capture.RingOptions {
	ro := o.Ring
	if o.Fanout > 1 {
		ro.Fanout = true
		if ro.FanoutGroup == 0 {
			// Unique enough per process and interface; a clash with
			// another process's group on the same device fails the open
			// (different mode) or shares its load, which Status shows.
			ro.FanoutGroup = uint16(os.Getpid()*131+ref.Index) | 1
		}
	}
	return ro
}
