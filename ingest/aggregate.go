package ingest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/flowsql/flowsql/columnar"
)

// BlockSink receives finished blocks. columnar.DB satisfies it. Write may
// keep none of b's slices after it returns; the caller reuses them.
type BlockSink interface {
	Write(ctx context.Context, b *columnar.Block) error
}

// Aggregator counts one interface's packets into flows and cuts them into
// blocks by packet timestamp (DESIGN §2).
//
// Blocks are aligned intervals of Options.Interval: a packet whose
// timestamp falls in a later interval than the open block's closes that
// block and opens the packet's interval. The closed table goes to a writer
// goroutine through a channel (the tables are swapped, not copied) and
// becomes a columnar.Block there. A packet timestamped before the open
// block's start (out of order, or a clock step back) is counted in the
// open block: blocks are never reopened. Intervals without packets produce
// no block; a block is written even when it holds only non-IP or
// unparseable frames, for its counters.
//
// Memory: the open block's table, the table being written (which is also
// the previous block's, kept for orientation), more tables only in live
// mode while the writer is behind, and the writer's reused Block. For IPv4
// a table holds a flow in about 60 bytes and the Block a row in 67, so the
// steady state is under 200 bytes per flow of the busiest recent block.
//
// An Aggregator is used from one goroutine; its writer goroutine runs until
// Close. A failure of the sink stops the writer: later blocks are not
// written (blocks already written stay), and the next rotation or Close
// returns the error. Cancelling the context stops the writer the same way.
type Aggregator struct {
	iface string
	sink  BlockSink
	local *LocalNets
	ivNs  int64
	seed  uint64
	ctx   context.Context // the writer's; also bounds waiting for it

	cur   *flowTable // open block, nil when none
	prev  *flowTable // previous interval's block, read for orientation; may be nil
	endNs int64      // end of cur's interval (ns); math.MinInt64 when none open

	maxTables int // tables this aggregator may hold
	tables    int // tables allocated
	spare     []*flowTable
	overflow  uint64 // overflow of blocks already handed to the writer
	closed    bool

	jobs   chan *flowTable // to the writer; capacity maxTables, sends never block
	done   chan *flowTable // back from the writer, written or not
	exited chan struct{}   // closed when the writer goroutine returns

	w writer
}

// writer is the state of the writer goroutine that other goroutines read.
type writer struct {
	block  columnar.Block // reused for every block
	blocks atomic.Uint64  // blocks written
	flows  atomic.Uint64  // rows written
	failed atomic.Bool    // err is set
	mu     struct {
		sync.Mutex
		err error // first failure; REQUIRES: mu held
	}
}

// NewAggregator returns an aggregator for interface iface that writes its
// blocks to sink, and starts its writer goroutine. ctx is passed to every
// sink.Write; cancelling it stops the writer. Close must be called to write
// the last block and stop the goroutine. opts.Iface, DefaultName, Decoder
// and Progress are not used here.
func NewAggregator(ctx context.Context, iface string, sink BlockSink, opts Options) (*Aggregator, error) {
	if err := checkIfaceName(iface); err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, ErrNoSink
	}
	iv, err := opts.interval()
	if err != nil {
		return nil, err
	}
	a := &Aggregator{
		iface:     iface,
		sink:      sink,
		local:     opts.Local,
		ivNs:      iv,
		seed:      rand.Uint64(),
		ctx:       ctx,
		endNs:     math.MinInt64,
		maxTables: opts.maxTables(),
		exited:    make(chan struct{}),
	}
	a.jobs = make(chan *flowTable, a.maxTables)
	a.done = make(chan *flowTable, a.maxTables)
	go a.runWriter()
	return a, nil
}

// checkIfaceName enforces the store's rule: non-empty, at most 255 bytes.
func checkIfaceName(name string) error {
	if name == "" || len(name) > 255 {
		return fmt.Errorf("%w: name %q must have 1 to 255 bytes", ErrBadIface, name)
	}
	return nil
}

// Iface returns the interface name the aggregator writes blocks for.
func (a *Aggregator) Iface() string { return a.iface }

// Add counts one IP packet (a ResultIP of the decoder) with timestamp ts
// (Unix nanoseconds). It allocates nothing for packets of flows the block
// already holds. The error, from rotation only, is a failure of the writer
// (wrapping ErrWrite), the context's, or ErrClosed.
func (a *Aggregator) Add(ts int64, p *Packet) error {
	if ts >= a.endNs {
		if err := a.rotate(ts); err != nil {
			return err
		}
	}
	a.cur.add(p, a.prev, a.local)
	return nil
}

// AddNonIP counts a well-formed frame that is not IP, at time ts.
func (a *Aggregator) AddNonIP(ts int64) error {
	if ts >= a.endNs {
		if err := a.rotate(ts); err != nil {
			return err
		}
	}
	a.cur.nonIP++
	a.cur.used = true
	return nil
}

// AddParseError counts a frame too short or malformed to read an IP
// header, at time ts.
func (a *Aggregator) AddParseError(ts int64) error {
	if ts >= a.endNs {
		if err := a.rotate(ts); err != nil {
			return err
		}
	}
	a.cur.parseErrors++
	a.cur.used = true
	return nil
}

// Written reports the blocks and rows the writer has written so far. It
// may be called from any goroutine.
func (a *Aggregator) Written() (blocks, flows uint64) {
	return a.w.blocks.Load(), a.w.flows.Load()
}

// Overflow reports the IP packets of new flows refused because a block was
// full (see Counts.Overflow).
func (a *Aggregator) Overflow() uint64 {
	n := a.overflow
	if a.cur != nil {
		n += a.cur.overflow
	}
	return n
}

// Err returns the writer's first failure, if any.
func (a *Aggregator) Err() error {
	if !a.w.failed.Load() {
		return nil
	}
	a.w.mu.Lock()
	defer a.w.mu.Unlock()
	return a.w.mu.err
}
