package ingest

import (
	"math"
	"time"

	"github.com/flowsql/flowsql/capture"
)

// LiveStatus is what a capture reports about one interface. Counters
// count since the capture started (Supervisor: since the first capture of
// the interface in this process); the kernel's and the processed counters
// of a busy ring are at most a second old.
type LiveStatus struct {
	Iface   string
	Index   int       // kernel interface index, 0 when unknown
	Rings   int       // rings (fanout members)
	Running bool      // capturing now
	Since   time.Time // start of the current capture (zero when not running)

	// Kernel are the kernel's counters (PACKET_STATISTICS) summed over the
	// rings: packets that passed the filter (drops included), packets
	// dropped for want of ring space, and ring freezes.
	Kernel capture.RingStats

	// Packets .. Overflow as in Counts: frames processed, their bytes (VLAN
	// tags counted), and how they were classified. Flows and Blocks are
	// the rows and blocks written to the store.
	Counts

	RingErrors  uint64 // transient ring errors (interface down, corrupt block)
	WriteErrors uint64 // failed block write attempts
	Dropped     uint64 // blocks given up after failed writes
	LastError   string // the last ring or write error

	OpenFlows int   // flows in the open blocks
	OpenStart int64 // start of the open block (unix s), 0 when none
	// LastWrite is when a block of the interface was last written.
	LastWrite time.Time
	// MaxStall is the longest time a capture goroutine could not read
	// packets because of a rotation (its own, or an idle one by Tick).
	MaxStall time.Duration
}

// Status returns the capture's current counters.
func (c *LiveCapture) Status() LiveStatus {
	st := LiveStatus{Iface: c.ref.Name, Index: c.ref.Index, Rings: len(c.rings), Running: c.Running(), Since: c.started}
	open := int64(math.MinInt64)
	for _, r := range c.rings {
		r.snap.Lock()
		rc, k, stall, lastErr := r.snap.c, r.snap.kernel, r.snap.stallMax, r.snap.lastErr
		r.snap.Unlock()
		st.Kernel.Packets += k.Packets
		st.Kernel.Drops += k.Drops
		st.Kernel.FreezeQueueCount += k.FreezeQueueCount
		st.Packets += rc.packets
		st.Bytes += rc.bytes
		st.IPPackets += rc.ipPackets
		st.NonIP += rc.nonIP
		st.ParseErrors += rc.parseErrors
		st.Overflow += rc.overflow
		st.RingErrors += rc.ringErrors
		st.OpenFlows += rc.openFlows
		open = max(open, rc.openStart)
		st.MaxStall = max(st.MaxStall, stall)
		if lastErr != "" {
			st.LastError = lastErr
		}
	}
	if open > 0 {
		st.OpenStart = open
	}
	s := c.sink
	st.Flows, st.Blocks = s.flows.Load(), s.blocks.Load()
	st.WriteErrors, st.Dropped = s.errs.Load(), s.dropped.Load()
	if e := s.lastError(); e != "" {
		st.LastError = e
	}
	if ns := s.lastWrite.Load(); ns != 0 {
		st.LastWrite = time.Unix(0, ns)
	}
	return st
}

// addCounters adds the counters of o (an earlier capture of the same
// interface) to st; the gauges stay st's.
func (st *LiveStatus) addCounters(o *LiveStatus) {
	st.Kernel.Packets += o.Kernel.Packets
	st.Kernel.Drops += o.Kernel.Drops
	st.Kernel.FreezeQueueCount += o.Kernel.FreezeQueueCount
	st.Counts.addCounts(&o.Counts)
	st.RingErrors += o.RingErrors
	st.WriteErrors += o.WriteErrors
	st.Dropped += o.Dropped
	st.MaxStall = max(st.MaxStall, o.MaxStall)
	if st.LastWrite.Before(o.LastWrite) {
		st.LastWrite = o.LastWrite
	}
	if st.LastError == "" {
		st.LastError = o.LastError
	}
}
