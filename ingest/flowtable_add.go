package ingest

import (
	"encoding/binary"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
)

// flowTable is one interface's flows for one block (rotation interval):
// an IPv4 and an IPv6 table plus the interface counters of the interval.
// Only the aggregator's goroutine writes it; after rotation the writer
// goroutine and the aggregator (for orientation) read it concurrently.
type flowTable struct {
	v4 table4
	v6 table6

	start, end  int64 // interval [start, end) in Unix seconds
	nonIP       uint64
	parseErrors uint64
	overflow    uint64 // IP packets of new flows refused at maxFlows
	used        bool   // some frame was counted: the block must be written
}

func newFlowTable(seed uint64) *flowTable {
	t := &flowTable{}
	t.v4.seed, t.v6.seed = seed, seed
	return t
}

// reset empties the table for the interval [start, end), keeping memory.
func (t *flowTable) reset(start, end int64) {
	t.v4.reset()
	t.v6.reset()
	t.start, t.end = start, end
	t.nonIP, t.parseErrors, t.overflow, t.used = 0, 0, 0, false
}

// flows is the number of rows the table exports.
func (t *flowTable) flows() int { return t.v4.n + t.v6.n }

// memBytes is the memory held by both tables.
func (t *flowTable) memBytes() int { return t.v4.memBytes() + t.v6.memBytes() }

// exportTo resets b and fills it with the table's rows (IPv4 flows, then
// IPv6 flows, each in the order they were first seen) and counters.
func (t *flowTable) exportTo(b *columnar.Block, iface string) {
	b.Reset()
	b.Iface, b.Start, b.End = iface, t.start, t.end
	b.NonIP, b.ParseErrors = t.nonIP, t.parseErrors
	t.v4.appendTo(b)
	t.v6.appendTo(b)
}

// add counts one IP packet: it finds or creates the packet's flow (see the
// orientation rules in orient.go; prev, which may be nil, is the previous
// block's table) and adds the packet to its in or out counters. It
// allocates only to grow the table.
//
// An IPv6 packet between two IPv4-mapped addresses (not valid on the wire,
// RFC 4291 §2.5.5.2, but a decoder may meet one) is counted as IPv4: the
// store cannot tell the two apart, so they must share one row.
func (t *flowTable) add(p *Packet, prev *flowTable, local *LocalNets) {
	t.used = true
	if p.IPv4 || (isMapped4(&p.Src) && isMapped4(&p.Dst)) {
		t.add4(p, prev, local)
	} else {
		t.add6(p, prev, local)
	}
}

func (t *flowTable) add4(p *Packet, prev *flowTable, local *LocalNets) {
	tb := &t.v4
	if tb.full() {
		tb.grow()
	}
	src := binary.BigEndian.Uint32(p.Src[12:])
	dst := binary.BigEndian.Uint32(p.Dst[12:])
	fk := key4{sip: src, dip: dst, dport: p.DstPort, proto: p.Proto}
	fh := hash4(fk, tb.seed)
	e, fpos := tb.find(fk, fh)
	fromClient := true
	if e == nil {
		rk := key4{sip: dst, dip: src, dport: p.SrcPort, proto: p.Proto}
		rh := hash4(rk, tb.seed)
		var rpos uint32
		if e, rpos = tb.find(rk, rh); e != nil {
			fromClient = false
		} else {
			switch {
			case prev != nil && prev.v4.lookup(fk, fh) != nil:
			case prev != nil && prev.v4.lookup(rk, rh) != nil:
				fromClient = false
			default:
				fromClient = senderIsClient(p, group4(dst))
			}
			if fromClient {
				e = tb.insert(fpos, fk, fh)
			} else {
				e = tb.insert(rpos, rk, rh)
			}
			if e == nil {
				t.overflow++
				return
			}
		}
	}
	var s int8
	if p.Dir == capture.DirUnknown {
		s = local.side4(src, dst)
	}
	e.c.add(uint64(p.Len), outbound(p.Dir, fromClient, s))
}

func (t *flowTable) add6(p *Packet, prev *flowTable, local *LocalNets) {
	tb := &t.v6
	if tb.full() {
		tb.grow()
	}
	var fk key6
	fk.s0, fk.s1 = words(&p.Src)
	fk.d0, fk.d1 = words(&p.Dst)
	fk.dport, fk.proto = p.DstPort, p.Proto
	fh := hash6(&fk, tb.seed)
	e, fpos := tb.find(&fk, fh)
	fromClient := true
	if e == nil {
		rk := key6{s0: fk.d0, s1: fk.d1, d0: fk.s0, d1: fk.s1, dport: p.SrcPort, proto: p.Proto}
		rh := hash6(&rk, tb.seed)
		var rpos uint32
		if e, rpos = tb.find(&rk, rh); e != nil {
			fromClient = false
		} else {
			switch {
			case prev != nil && prev.v6.lookup(&fk, fh) != nil:
			case prev != nil && prev.v6.lookup(&rk, rh) != nil:
				fromClient = false
			default:
				fromClient = senderIsClient(p, group6(&p.Dst))
			}
			if fromClient {
				e = tb.insert(fpos, &fk, fh)
			} else {
				e = tb.insert(rpos, &rk, rh)
			}
			if e == nil {
				t.overflow++
				return
			}
		}
	}
	var s int8
	if p.Dir == capture.DirUnknown {
		s = local.side6(&fk)
	}
	e.c.add(uint64(p.Len), outbound(p.Dir, fromClient, s))
}
