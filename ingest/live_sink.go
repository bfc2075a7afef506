package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowsql/flowsql/columnar"
)

// ifaceSink is the last stage of an interface's blocks before the store:
// it fixes block times at the edges of a capture (live.go, "Block times
// across restarts"), retries failed writes, and counts what was written.
// Blocks reach it in time order from one goroutine at a time (an
// aggregator's writer, or the fanout merge under its lock).
type ifaceSink struct {
	iface   string
	next    BlockSink
	log     *slog.Logger
	retries int
	delay   time.Duration

	stopAt atomic.Int64 // unix ns at which capture stopped; 0 while capturing

	// lastEnd is the end of the last block written (or of the stored data
	// when capture started): no block may start before it.
	lastEnd   atomic.Int64
	blocks    atomic.Uint64
	flows     atomic.Uint64
	errs      atomic.Uint64 // failed write attempts
	dropped   atomic.Uint64 // blocks given up
	lastWrite atomic.Int64  // unix ns of the last successful write
	lastErr   struct {
		sync.Mutex
		s string // REQUIRES: lastErr held
	}
}

func newIfaceSink(iface string, next BlockSink, floor int64, o *LiveOptions) *ifaceSink {
	s := &ifaceSink{iface: iface, next: next, log: o.Logger, retries: o.WriteRetries, delay: o.WriteRetryDelay}
	s.lastEnd.Store(floor)
	return s
}

// markStop records the stop time (the first one wins).
func (s *ifaceSink) markStop(t time.Time) { s.stopAt.CompareAndSwap(0, max(t.UnixNano(), 1)) }

// adjust moves b's start past the data already written and ends a block
// open at the stop time there.
func (s *ifaceSink) adjust(b *columnar.Block) {
	if floor := s.lastEnd.Load(); b.Start < floor {
		b.Start = floor
	}
	if stop := s.stopAt.Load(); stop != 0 {
		if ceil := (stop + 1e9 - 1) / 1e9; b.End > ceil {
			b.End = ceil
		}
	}
	if b.End <= b.Start {
		b.End = b.Start + 1
	}
}

// Write stores b, retrying transient failures. It fails only when ctx is
// done: a block that cannot be written is dropped, logged and counted, so
// that capture goes on (the aggregator would stop at the first error).
func (s *ifaceSink) Write(ctx context.Context, b *columnar.Block) error {
	s.adjust(b)
	delay := s.delay
	for attempt := 0; ; attempt++ {
		err := s.next.Write(ctx, b)
		if err == nil {
			s.blocks.Add(1)
			s.flows.Add(uint64(b.Len()))
			s.lastEnd.Store(b.End)
			s.lastWrite.Store(time.Now().UnixNano())
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return err
		}
		s.errs.Add(1)
		s.setErr(err)
		final := attempt >= s.retries || errors.Is(err, columnar.ErrInvalidBlock) ||
			errors.Is(err, columnar.ErrBlockExists) || errors.Is(err, columnar.ErrBlockOverlap) ||
			errors.Is(err, columnar.ErrReadOnly) || errors.Is(err, columnar.ErrClosed)
		if final {
			s.dropped.Add(1)
			s.log.Error("block dropped: the store refused it", "iface", s.iface,
				"start", time.Unix(b.Start, 0).UTC(), "flows", b.Len(), "attempts", attempt+1, "err", err)
			return nil
		}
		s.log.Warn("block write failed; retrying", "iface", s.iface, "start", time.Unix(b.Start, 0).UTC(),
			"attempt", attempt+1, "retry_in", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %w", err, ctx.Err())
		}
		delay *= 2
	}
}

func (s *ifaceSink) setErr(err error) {
	s.lastErr.Lock()
	s.lastErr.s = err.Error()
	s.lastErr.Unlock()
}

func (s *ifaceSink) lastError() string {
	s.lastErr.Lock()
	defer s.lastErr.Unlock()
	return s.lastErr.s
}
