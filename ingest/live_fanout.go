package ingest

import (
	"context"
	"math"
	"slices"
	"sync"

	"github.com/flowsql/flowsql/columnar"
)

// fanoutMerge joins the blocks of an interface's rings (PACKET_FANOUT_HASH
// members) into one block per interval, as the store keeps one block per
// interface and interval. The kernel sends all packets of a 5-tuple to
// one ring, but two connections of one stored flow (same addresses, port
// and protocol, other source ports) may land in different rings, so equal
// keys are summed.
//
// A merged interval is written once every ring is done with it: the ring
// delivered its part, or it has moved past the interval (its open block
// starts later) and every block it handed to its writer was delivered, or
// it has stopped. Rings report those watermarks without locks (liveRing:
// handed before a block leaves, openStart after), so the check reads
// openStart before handed. Intervals are written in time order.
type fanoutMerge struct {
	next  *ifaceSink
	rings []*liveRing
	mu    struct {
		sync.Mutex
		pending   []*mergeBlock // by start; REQUIRES: mu held
		delivered []uint64      // parts received per ring; REQUIRES: mu held
		spare     []*mergeBlock // REQUIRES: mu held
	}
}

// mergeBlock is one interval being merged.
type mergeBlock struct {
	b   columnar.Block
	got []bool // ring i delivered its part
	row map[mergeKey]int
}

// mergeKey is a stored flow's key.
type mergeKey struct {
	sip, dip [16]byte
	dport    uint16
	proto    uint8
}

func newFanoutMerge(next *ifaceSink, rings []*liveRing) *fanoutMerge {
	g := &fanoutMerge{next: next, rings: rings}
	g.mu.delivered = make([]uint64, len(rings))
	return g
}

// part is ring i's BlockSink.
func (g *fanoutMerge) part(i int) BlockSink { return mergePart{g: g, i: i} }

type mergePart struct {
	g *fanoutMerge
	i int
}

// Write adds ring i's block to its interval and writes what is complete.
func (p mergePart) Write(ctx context.Context, b *columnar.Block) error {
	g := p.g
	g.mu.Lock()
	defer g.mu.Unlock()
	m := g.block(b.Start)
	m.add(b)
	m.got[p.i] = true
	g.mu.delivered[p.i]++
	return g.flushLocked(ctx)
}

// flush writes every complete interval; Tick calls it after idle rings
// moved on, Stop after every ring stopped.
func (g *fanoutMerge) flush(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.flushLocked(ctx)
}

// REQUIRES: g.mu held.
func (g *fanoutMerge) flushLocked(ctx context.Context) error {
	for len(g.mu.pending) > 0 {
		m := g.mu.pending[0]
		if !g.complete(m) {
			return nil
		}
		g.mu.pending = g.mu.pending[1:]
		err := g.next.Write(ctx, &m.b)
		g.mu.spare = append(g.mu.spare, m)
		if err != nil {
			return err
		}
	}
	return nil
}

// complete reports whether every ring is done with m's interval.
// REQUIRES: g.mu held.
func (g *fanoutMerge) complete(m *mergeBlock) bool {
	for i, r := range g.rings {
		if m.got[i] {
			continue
		}
		open := r.openStart.Load()
		if open == math.MaxInt64 {
			continue
		}
		if open > m.b.Start && r.handed.Load() == g.mu.delivered[i] {
			continue
		}
		return false
	}
	return true
}

// block returns the pending interval starting at start, adding it.
// REQUIRES: g.mu held.
func (g *fanoutMerge) block(start int64) *mergeBlock {
	i, found := slices.BinarySearchFunc(g.mu.pending, start, func(m *mergeBlock, s int64) int {
		switch {
		case m.b.Start < s:
			return -1
		case m.b.Start > s:
			return 1
		}
		return 0
	})
	if found {
		return g.mu.pending[i]
	}
	var m *mergeBlock
	if n := len(g.mu.spare); n > 0 {
		m = g.mu.spare[n-1]
		g.mu.spare = g.mu.spare[:n-1]
		m.b.Reset()
		clear(m.got)
		clear(m.row)
	} else {
		m = &mergeBlock{got: make([]bool, len(g.rings)), row: make(map[mergeKey]int)}
	}
	m.b.Start = start
	g.mu.pending = slices.Insert(g.mu.pending, i, m)
	return m
}

// add merges b's rows and counters into m.
func (m *mergeBlock) add(b *columnar.Block) {
	m.b.Iface = b.Iface
	m.b.End = max(m.b.End, b.End)
	m.b.NonIP += b.NonIP
	m.b.ParseErrors += b.ParseErrors
	for i := range b.Len() {
		k := mergeKey{sip: b.SIP[i], dip: b.DIP[i], dport: b.DPort[i], proto: b.Proto[i]}
		if j, ok := m.row[k]; ok {
			m.b.BytesIn[j] += b.BytesIn[i]
			m.b.BytesOut[j] += b.BytesOut[i]
			m.b.PacketsIn[j] += b.PacketsIn[i]
			m.b.PacketsOut[j] += b.PacketsOut[i]
			continue
		}
		m.row[k] = m.b.Len()
		m.b.Append(k.sip, k.dip, k.dport, k.proto, b.BytesIn[i], b.BytesOut[i], b.PacketsIn[i], b.PacketsOut[i])
	}
}
