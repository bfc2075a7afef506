package ingest

import (
	"fmt"
	"time"
)

// Defaults of Options.
const (
	// DefaultInterval is the rotation interval (DESIGN §2).
	DefaultInterval = 300 * time.Second
	// DefaultMaxPendingBlocks bounds, in live mode, the blocks waiting for
	// the writer before capture has to wait for it.
	DefaultMaxPendingBlocks = 4
	// DefaultProgressEvery is the least time between two Progress calls.
	DefaultProgressEvery = 250 * time.Millisecond
)

// Options configure an Aggregator and IngestSource. The zero value means
// defaults everywhere; IngestSource then needs DefaultName for unnamed
// interfaces.
type Options struct {
	// Iface, when set, names the interface of every packet, whatever the
	// source calls its interfaces (the CLI's --iface). Packets of all
	// interfaces of the source then go into one table.
	Iface string
	// DefaultName names the source's interfaces that have no name of their
	// own (pcap files, pcapng IDBs without if_name): interface 0 is
	// DefaultName, interface i > 0 is DefaultName-i. The CLI passes the
	// file's base name.
	DefaultName string
	// Interval is the rotation interval: a whole number of seconds,
	// DefaultInterval when zero. Blocks are aligned to it on the clock
	// (start = t - t mod Interval, in Unix time).
	Interval time.Duration
	// Local lists the networks of this host (--local); nil means none. It
	// decides the in/out counters of packets whose direction the source
	// does not know.
	Local *LocalNets
	// Decoder configures IngestSource's packet decoder.
	Decoder DecoderOptions
	// Progress, when set, is called from IngestSource's goroutine with the
	// running totals at most every ProgressEvery (checked every 4096
	// packets). It must return quickly.
	Progress func(Stats)
	// ProgressEvery is the least time between Progress calls;
	// DefaultProgressEvery when zero.
	ProgressEvery time.Duration
	// Live selects live-capture behaviour for rotation: the aggregator
	// allocates another table instead of waiting for the writer, and waits
	// only when MaxPendingBlocks blocks are already handed to the writer
	// and not yet written (which bounds memory). Without it (files), two
	// tables alternate: at a rotation, reading waits until the writer has
	// finished the block before the one just closed (backpressure).
	Live bool
	// MaxPendingBlocks is the live-mode bound on blocks handed to the
	// writer and not yet written; DefaultMaxPendingBlocks when zero.
	MaxPendingBlocks int
}

// interval returns the validated rotation interval in nanoseconds.
func (o *Options) interval() (int64, error) {
	iv := o.Interval
	if iv == 0 {
		iv = DefaultInterval
	}
	if iv < time.Second || iv%time.Second != 0 {
		return 0, fmt.Errorf("%w: %v (want a positive whole number of seconds)", ErrBadInterval, o.Interval)
	}
	return int64(iv), nil
}

// maxTables is how many flow tables an aggregator may hold: the open
// block's and those of the blocks handed to the writer and not yet written
// (one for files, MaxPendingBlocks in live mode).
func (o *Options) maxTables() int {
	if !o.Live {
		return 2
	}
	n := o.MaxPendingBlocks
	if n <= 0 {
		n = DefaultMaxPendingBlocks
	}
	return n + 1
}

// Counts are the counters of one interface, or of a whole source.
type Counts struct {
	Packets     uint64 // frames read
	Bytes       uint64 // sum of the frames' original lengths
	IPPackets   uint64 // frames counted in a flow
	NonIP       uint64 // well-formed frames that are not IP
	ParseErrors uint64 // frames too short or malformed to read an IP header
	Flows       uint64 // rows of the blocks written
	Blocks      uint64 // blocks written
	// Overflow counts IP packets of new flows refused because a block
	// already held the maximum number of flows (2^30 per IP family); they
	// are in no row.
	Overflow uint64
}

func (c *Counts) addCounts(o *Counts) {
	c.Packets += o.Packets
	c.Bytes += o.Bytes
	c.IPPackets += o.IPPackets
	c.NonIP += o.NonIP
	c.ParseErrors += o.ParseErrors
	c.Flows += o.Flows
	c.Blocks += o.Blocks
	c.Overflow += o.Overflow
}

// IfaceStats are the counters of one interface.
type IfaceStats struct {
	Name string
	Counts
}

// Stats report what IngestSource did: totals, and per interface in the
// order the interfaces were first seen.
type Stats struct {
	Counts
	Ifaces []IfaceStats
}
