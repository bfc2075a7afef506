package ingest

import (
	"errors"
	"fmt"
	"math"

	"github.com/flowsql/flowsql/columnar"
)

// Rotation hands the open block's table to the writer goroutine and opens
// the packet's interval in another table:
//
//	aggregator:  cur ──jobs──▶ writer: export to columnar.Block, sink.Write
//	             ▲                          │
//	             └───────────done───────────┘ (table back, reset on reuse)
//
// The table just handed over stays readable as prev for orientation until
// the next rotation: the writer only reads it, so both may. A table comes
// back through done and is reset only when it is taken as the next cur, by
// which time it is no longer prev.
//
// Files (Options.Live unset) use two tables: at a rotation the aggregator
// waits until the writer has returned the table of the block before the
// previous one, so reading is held back only when writing one block takes
// longer than aggregating the next. Live mode allocates a new table rather
// than wait, up to MaxPendingBlocks queued blocks.

// rotate closes the open block, if any, and opens the interval holding ts.
func (a *Aggregator) rotate(ts int64) error {
	if a.closed {
		return ErrClosed
	}
	if err := a.Err(); err != nil {
		return err
	}
	if ts < 0 {
		// A capture clock before 1970 is broken, not history: such packets
		// are counted in the epoch's block, since the store keeps block
		// starts from the Unix epoch on (a negative start is invalid there).
		ts = 0
	}
	m := ts % a.ivNs
	startNs := ts - m
	endNs := int64(math.MaxInt64)
	if startNs <= math.MaxInt64-a.ivNs {
		endNs = startNs + a.ivNs
	}
	start := startNs / 1e9
	if a.cur != nil && start <= a.cur.start {
		return nil // only at the end of time, where endNs is clamped
	}
	if a.cur != nil {
		if err := a.cur.check(); err != nil {
			return err
		}
	}
	t, err := a.freeTable()
	if err != nil {
		return err
	}
	t.reset(start, start+a.ivNs/1e9)
	old := a.cur
	a.prev = nil
	if old != nil {
		if old.used {
			a.overflow += old.overflow
			a.jobs <- old
			if old.end == start {
				a.prev = old
			}
		} else {
			a.spare = append(a.spare, old)
		}
	}
	a.cur = t
	a.endNs = endNs
	return nil
}

// freeTable returns a table for the next block: a spare one, one the writer
// has finished with, a new one while under the limit, or else it waits for
// the writer.
func (a *Aggregator) freeTable() (*flowTable, error) {
	if n := len(a.spare); n > 0 {
		t := a.spare[n-1]
		a.spare = a.spare[:n-1]
		return t, nil
	}
	select {
	case t := <-a.done:
		return t, nil
	default:
	}
	if a.tables < a.maxTables {
		a.tables++
		return newFlowTable(a.seed), nil
	}
	select {
	case t := <-a.done:
		return t, nil
	case <-a.ctx.Done():
		return nil, fmt.Errorf("ingest: %s: waiting for the block writer: %w", a.iface, a.ctx.Err())
	}
}

// Close writes the open block, waits until the writer has finished every
// block handed to it, stops the writer goroutine and returns its first
// failure. After Close the aggregator accepts no packets (ErrClosed).
// Calling Close again returns the same result. Close waits for the sink: a
// sink that never returns from Write (and ignores the context) blocks it.
func (a *Aggregator) Close() error {
	if a.closed {
		return a.Err()
	}
	a.closed = true
	if a.cur != nil && a.cur.used {
		a.overflow += a.cur.overflow
		if err := a.cur.check(); err != nil {
			a.fail(err)
		} else {
			a.jobs <- a.cur
		}
	}
	a.cur, a.prev, a.spare = nil, nil, nil
	a.endNs = math.MinInt64
	close(a.jobs)
	<-a.exited
	return a.Err()
}

// runWriter is the writer goroutine: it writes each table it receives and
// hands it back.
func (a *Aggregator) runWriter() {
	defer close(a.exited)
	for t := range a.jobs {
		a.write(t)
		a.done <- t
	}
}

// write exports t into the reused block and gives it to the sink, unless
// an earlier block failed or the context is done.
func (a *Aggregator) write(t *flowTable) {
	if a.w.failed.Load() {
		return
	}
	if err := a.ctx.Err(); err != nil {
		a.fail(fmt.Errorf("ingest: block %s@%d abandoned: %w", a.iface, t.start, err))
		return
	}
	b := &a.w.block
	t.exportTo(b, a.iface)
	if err := a.sink.Write(a.ctx, b); err != nil {
		if cerr := a.ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			// Stopped by the caller, not a failure of the store.
			a.fail(fmt.Errorf("ingest: block %s@%d abandoned: %w", a.iface, t.start, cerr))
			return
		}
		a.fail(fmt.Errorf("%w %s@%d (%d flows): %w", ErrWrite, a.iface, t.start, b.Len(), err))
		return
	}
	a.w.blocks.Add(1)
	a.w.flows.Add(uint64(b.Len()))
	if c := cap(b.SIP); c > 1<<16 && c > 4*b.Len() {
		a.w.block = columnar.Block{} // let one burst of flows not pin its columns
	}
}

func (a *Aggregator) fail(err error) {
	a.w.mu.Lock()
	if a.w.mu.err == nil {
		a.w.mu.err = err
	}
	a.w.mu.Unlock()
	a.w.failed.Store(true)
}
