package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// LiveCapture captures one interface: one ring (or Fanout rings), each
// read by its own goroutine into its own decoder and aggregator, and the
// blocks written through the sink. Tick must be called regularly (about
// once a second) for idle blocks to be written on time and for Status to
// see the kernel's counters; Stop writes the open blocks.
//
// Tick, Status and Stop may be called from any goroutine, but Tick and
// Stop not concurrently with themselves.
type LiveCapture struct {
	ref     IfaceRef
	rings   []*liveRing
	merge   *fanoutMerge // nil with one ring
	sink    *ifaceSink
	ctx     context.Context // bounds writes
	cancel  context.CancelCauseFunc
	now     func() time.Time
	started time.Time
	exited  atomic.Int32 // rings whose goroutine returned

	stopOnce sync.Once
	stopErr  error
}

// StartLive opens the rings of interface ref and starts capturing into
// sink. ctx bounds the writes to sink and the rings: cancelling it stops
// capture and abandons the open blocks, whereas Stop writes them (a daemon
// passes a context that is not cancelled on shutdown and calls Stop).
func StartLive(ctx context.Context, ref IfaceRef, sink BlockSink, opts LiveOptions) (*LiveCapture, error) {
	if err := checkIfaceName(ref.Name); err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, ErrNoSink
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	var floor int64
	if o.StoredEnd != nil {
		floor = o.StoredEnd(ref.Name)
	}
	ringCtx, cancel := context.WithCancelCause(ctx)
	c := &LiveCapture{ref: ref, ctx: ctx, cancel: cancel, now: o.Now, started: o.Now()}
	c.sink = newIfaceSink(ref.Name, sink, floor, &o)
	ro := o.ringOptions(ref)
	rings := make([]PacketRing, 0, o.Fanout)
	fail := func(err error) (*LiveCapture, error) {
		cancel(ErrStopped)
		for _, r := range rings {
			_ = r.Close()
		}
		return nil, err
	}
	for range o.Fanout {
		r, err := o.OpenRing(ringCtx, ref.Name, ro)
		if err != nil {
			return fail(fmt.Errorf("ingest: live capture on %s: %w", ref.Name, err))
		}
		rings = append(rings, r)
	}
	c.rings = make([]*liveRing, len(rings))
	for i, pr := range rings {
		c.rings[i] = newLiveRing(ringCtx, ref.Name, pr, nil, NewDecoder(o.Decoder), o.Logger)
		c.rings[i].always = len(rings) > 1
		c.rings[i].pubEvery = o.publishEvery
		c.rings[i].onExit = func() { c.exited.Add(1) }
		if len(rings) == 1 {
			// A ring that ends on its own (not by Stop) still ends its
			// block where capture ended.
			c.rings[i].onStop = func() { c.sink.markStop(c.now()) }
		}
	}
	var sinks []BlockSink
	if len(rings) > 1 {
		c.merge = newFanoutMerge(c.sink, c.rings)
		for i := range c.rings {
			sinks = append(sinks, c.merge.part(i))
		}
	} else {
		sinks = []BlockSink{c.sink}
	}
	for i, r := range c.rings {
		agg, err := NewAggregator(ctx, ref.Name, sinks[i], o.aggOptions())
		if err != nil {
			for _, prev := range c.rings[:i] {
				_ = prev.agg.Close()
			}
			return fail(err)
		}
		r.agg = agg
	}
	for _, r := range c.rings {
		go r.run()
	}
	return c, nil
}

// Iface returns the interface the capture reads.
func (c *LiveCapture) Iface() IfaceRef { return c.ref }

// Running reports whether every ring is still being read. A capture whose
// ring failed for good should be stopped and started again.
func (c *LiveCapture) Running() bool { return c.exited.Load() == 0 }

// Tick refreshes the kernel counters and writes blocks whose interval is
// over on rings that are idle at now (live.go).
func (c *LiveCapture) Tick(now time.Time) {
	for _, r := range c.rings {
		r.tick(now)
	}
	if c.merge != nil {
		if err := c.merge.flush(c.ctx); err != nil {
			c.sink.setErr(err)
		}
	}
}

// Stop ends capture: the rings are closed, the open blocks are cut at the
// stop time and written, and the goroutines are gone when it returns. It
// returns the failures of the capture (not those of single block writes,
// which Status counts). Calling it again returns the same result.
func (c *LiveCapture) Stop() error {
	c.stopOnce.Do(func() {
		c.sink.markStop(c.now())
		c.cancel(ErrStopped)
		var errs []error
		for _, r := range c.rings {
			<-r.done
			if r.err != nil {
				errs = append(errs, r.err)
			}
		}
		if c.merge != nil {
			if err := c.merge.flush(c.ctx); err != nil {
				errs = append(errs, err)
			}
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// lastEnd returns the end of the last block written.
func (c *LiveCapture) lastEnd() int64 { return c.sink.lastEnd.Load() }
