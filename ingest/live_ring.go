package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowsql/flowsql/capture"
)

// liveCounts are one ring's counters. The capture goroutine keeps the live
// copy; Status reads the copy last published in liveRing.snap.
type liveCounts struct {
	packets     uint64 // frames processed
	bytes       uint64 // their lengths (VLAN tags counted, DESIGN §2)
	ipPackets   uint64
	nonIP       uint64
	parseErrors uint64
	ringErrors  uint64 // transient errors of NextPacket (ENETDOWN, corrupt blocks)
	overflow    uint64
	openStart   int64 // open block's start, math.MinInt64 when none
	openFlows   int
}

// liveRing is one ring of an interface and the goroutine that reads it
// into its own decoder and aggregator. See live.go for how Tick and the
// capture goroutine share the aggregator.
type liveRing struct {
	iface string
	ctx   context.Context // the ring's; done when the capture stops
	ring  PacketRing
	agg   *Aggregator
	dec   *Decoder
	log   *slog.Logger
	// always makes Tick rotate idle blocks even when empty, so that the
	// open-block watermark a fanout merge waits for keeps moving.
	always bool
	// onStop runs on the capture goroutine before the aggregator is
	// closed, onExit after; both may be nil.
	onStop, onExit func()

	// Owned by the capture goroutine (and by Tick while it owns the ring).
	c        liveCounts
	nextPub  int64 // packet time of the next publication
	pubEvery int64 // packet time between publications
	errStrk  int   // consecutive NextPacket errors
	p        Packet
	stallMax time.Duration

	// Shared with Tick and Status.
	active    atomic.Bool   // Tick owns, or is checking whether it may own
	processed atomic.Uint64 // frames fully processed
	openStart atomic.Int64  // open block's start; math.MaxInt64 once closed
	handed    atomic.Uint64 // blocks with frames handed to the writer
	own       struct {
		sync.Mutex      // held by Tick for the whole check-and-own
		exited     bool // the capture goroutine is gone; REQUIRES: own held
	}
	snap struct {
		sync.Mutex
		c        liveCounts        // REQUIRES: snap held
		kernel   capture.RingStats // REQUIRES: snap held
		stallMax time.Duration     // REQUIRES: snap held
		lastErr  string            // REQUIRES: snap held
	}
	done chan struct{} // closed when the capture goroutine returns
	err  error         // why it returned abnormally; read after done
}

func newLiveRing(ctx context.Context, iface string, ring PacketRing, agg *Aggregator, dec *Decoder, log *slog.Logger) *liveRing {
	r := &liveRing{iface: iface, ctx: ctx, ring: ring, agg: agg, dec: dec, log: log, pubEvery: publishEvery, done: make(chan struct{})}
	r.c.openStart = math.MinInt64
	r.snap.c = r.c
	r.openStart.Store(math.MinInt64)
	return r
}

// run is the capture goroutine.
func (r *liveRing) run() {
	defer close(r.done)
	for {
		data, info, err := r.ring.NextPacket()
		if err != nil {
			if r.ringError(err) {
				break
			}
			continue
		}
		r.errStrk = 0
		if err := r.step(data, info); err != nil {
			r.err = err
			r.log.Error("capture stopped: the block writer failed", "iface", r.iface, "err", err)
			break
		}
	}
	r.finish()
}

// step processes one frame: the per-packet path. It allocates nothing
// unless the flow table grows or the block rotates.
func (r *liveRing) step(data []byte, info capture.PacketInfo) error {
	if r.active.Load() {
		r.waitTicker()
	}
	res := r.dec.Decode(data, info, &r.p)
	r.c.packets++
	r.c.bytes += uint64(r.p.Len)
	ts := info.Timestamp
	var err error
	if r.agg.liveDue(ts) {
		err = r.rotating(ts, func() error { return r.add(ts, res) })
	} else {
		err = r.add(ts, res)
	}
	if err != nil {
		return err
	}
	if ts >= r.nextPub {
		r.nextPub = ts + r.pubEvery
		r.publish()
	}
	// Last: once processed is stored, Tick may take the aggregator.
	r.processed.Store(r.c.packets)
	return nil
}

func (r *liveRing) add(ts int64, res Result) error {
	switch res {
	case ResultIP:
		r.c.ipPackets++
		return r.agg.Add(ts, &r.p)
	case ResultNonIP:
		r.c.nonIP++
		return r.agg.AddNonIP(ts)
	}
	r.c.parseErrors++
	return r.agg.AddParseError(ts)
}

// rotating runs fn, which rotates the aggregator, keeping the watermarks a
// fanout merge reads (handed before the block goes out, openStart after)
// and timing the stall of the capture goroutine.
func (r *liveRing) rotating(ts int64, fn func() error) error {
	t0 := time.Now()
	err := r.rotateWith(fn)
	r.noteStall(time.Since(t0))
	return err
}

// rotateWith runs fn, a rotation, between the watermark updates.
// REQUIRES: the caller owns the ring.
func (r *liveRing) rotateWith(fn func() error) error {
	if _, used, _ := r.agg.liveOpen(); used {
		r.handed.Add(1)
	}
	err := fn()
	start, _, _ := r.agg.liveOpen()
	r.c.openStart = start
	r.openStart.Store(start)
	return err
}

// noteStall records a time the capture goroutine could not read packets.
func (r *liveRing) noteStall(d time.Duration) {
	if d > r.stallMax {
		r.stallMax = d
	}
}

// waitTicker waits until Tick has released the aggregator.
func (r *liveRing) waitTicker() {
	t0 := time.Now()
	for r.active.Load() {
		r.own.Lock()
		r.own.Unlock() // empty on purpose: only waits for Tick to let go
	}
	r.noteStall(time.Since(t0))
}

// publish copies the counters for Status.
// REQUIRES: the caller owns the ring (capture goroutine, or Tick owning).
func (r *liveRing) publish() {
	_, _, r.c.openFlows = r.agg.liveOpen()
	r.c.overflow = r.agg.Overflow()
	r.snap.Lock()
	r.snap.c = r.c
	r.snap.stallMax = r.stallMax
	r.snap.Unlock()
}

// ringError handles an error of NextPacket and reports whether capture
// ends. The end of the ring (closed, context done, end of a mock) ends
// it; anything else (the interface went down, a corrupt block) is counted
// and reading goes on, pausing when errors repeat without a packet.
func (r *liveRing) ringError(err error) (end bool) {
	if errors.Is(err, capture.ErrRingClosed) || errors.Is(err, io.EOF) || r.ctx.Err() != nil {
		return true
	}
	r.c.ringErrors++
	r.errStrk++
	r.snap.Lock()
	r.snap.lastErr = err.Error()
	r.snap.c.ringErrors = r.c.ringErrors
	r.snap.Unlock()
	if r.errStrk == 1 || r.errStrk%100 == 0 {
		r.log.Warn("capture: ring error", "iface", r.iface, "err", err, "in_a_row", r.errStrk)
	}
	if r.errStrk > 3 {
		pause := min(time.Millisecond<<min(r.errStrk-3, 10), time.Second)
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return true
		}
	}
	return false
}

// finish closes the ring and the aggregator, which writes the open block.
func (r *liveRing) finish() {
	r.own.Lock()
	r.own.exited = true
	r.own.Unlock()
	if err := r.ring.Close(); err != nil {
		r.log.Warn("capture: closing the ring", "iface", r.iface, "err", err)
	}
	kernel := r.ring.Stats() // the totals at Close
	if _, used, _ := r.agg.liveOpen(); used {
		r.handed.Add(1)
	}
	r.publish()
	if r.onStop != nil {
		r.onStop()
	}
	if err := r.agg.Close(); err != nil && r.err == nil {
		r.err = fmt.Errorf("ingest: live capture on %s: closing: %w", r.iface, err)
	}
	r.c.openStart, r.c.openFlows = math.MinInt64, 0
	r.openStart.Store(math.MaxInt64)
	r.snap.Lock()
	r.snap.c = r.c
	r.snap.kernel = kernel
	r.snap.Unlock()
	if r.onExit != nil {
		r.onExit()
	}
}
