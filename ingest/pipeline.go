package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/flowsql/flowsql/capture"
)

// ctxCheckEvery is how many packets IngestSource reads between two looks at
// its context (and at the progress clock): often enough to stop within
// milliseconds, rarely enough to cost nothing per packet.
const ctxCheckEvery = 4096

// IngestSource reads every packet of src, decodes it, counts it into one
// Aggregator per interface and writes the blocks to sink. It returns when
// the source is exhausted, fails, or ctx is done. It does not close src.
//
// Interfaces are named by opts.Iface when set, else by the source's name
// for them (pcapng if_name), else by opts.DefaultName (see Options).
// Interfaces of the source that end up with the same name share one
// aggregator: the store holds one table per interface name and interval,
// so a pcapng file that lists the same interface twice (a merge of two
// captures of it) is counted as one interface.
//
// A read error (corrupt or cut file) is returned wrapped in ErrRead after
// every packet before it has been aggregated and every block written: the
// caller gets the good part of a damaged file into the store, and the
// error. A sink failure stops reading and is returned wrapped in ErrWrite.
// When ctx is done, reading stops within ctxCheckEvery packets, blocks not
// yet written are abandoned (the store never holds part of a block) and
// the context's error is returned. Stats are filled in every case.
func IngestSource(ctx context.Context, src capture.Source, sink BlockSink, opts Options) (Stats, error) {
	if sink == nil {
		return Stats{}, ErrNoSink
	}
	if _, err := opts.interval(); err != nil {
		return Stats{}, err
	}
	if opts.Iface != "" {
		if err := checkIfaceName(opts.Iface); err != nil {
			return Stats{}, err
		}
	}
	r := &run{ctx: ctx, src: src, sink: sink, opts: opts, byName: map[string]*ifaceRun{}}
	runErr := r.loop(NewDecoder(opts.Decoder))
	closeErr := r.closeAll(runErr)
	return r.stats(), errors.Join(runErr, closeErr)
}

// run is the state of one IngestSource call.
type run struct {
	ctx    context.Context
	src    capture.Source
	sink   BlockSink
	opts   Options
	byIdx  []*ifaceRun // by source interface index; nil until first seen
	byName map[string]*ifaceRun
	order  []*ifaceRun // in order of first packet
}

// ifaceRun is one named interface: its aggregator and read counters.
type ifaceRun struct {
	agg *Aggregator
	c   Counts // Packets .. ParseErrors; Flows, Blocks and Overflow come from agg
}

// loop reads and counts packets until the end of the source or an error.
func (r *run) loop(dec *Decoder) error {
	var (
		p        Packet
		n        uint64
		lastProg = time.Now()
	)
	for {
		if n%ctxCheckEvery == 0 && n > 0 {
			if err := r.ctx.Err(); err != nil {
				return fmt.Errorf("ingest: stopped after %d packets: %w", n, err)
			}
			if r.opts.Progress != nil {
				every := r.opts.ProgressEvery
				if every <= 0 {
					every = DefaultProgressEvery
				}
				if now := time.Now(); now.Sub(lastProg) >= every {
					lastProg = now
					r.opts.Progress(r.stats())
				}
			}
		}
		data, info, err := r.src.NextPacket()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%w after %d packets: %w", ErrRead, n, err)
		}
		n++
		ir, err := r.iface(info.Iface)
		if err != nil {
			return err
		}
		ir.c.Packets++
		ir.c.Bytes += uint64(info.OrigLen)
		switch dec.Decode(data, info, &p) {
		case ResultIP:
			ir.c.IPPackets++
			err = ir.agg.Add(info.Timestamp, &p)
		case ResultNonIP:
			ir.c.NonIP++
			err = ir.agg.AddNonIP(info.Timestamp)
		default:
			ir.c.ParseErrors++
			err = ir.agg.AddParseError(info.Timestamp)
		}
		if err != nil {
			return err
		}
	}
}

// iface returns the interface of source index idx, starting its aggregator
// on first use.
func (r *run) iface(idx int) (*ifaceRun, error) {
	if idx >= 0 && idx < len(r.byIdx) && r.byIdx[idx] != nil {
		return r.byIdx[idx], nil
	}
	if idx < 0 || idx >= len(r.src.Interfaces()) {
		return nil, fmt.Errorf("%w: packet on interface %d, source lists %d", ErrBadIface, idx, len(r.src.Interfaces()))
	}
	name, err := r.ifaceName(idx, r.src.Interfaces()[idx].Name)
	if err != nil {
		return nil, err
	}
	ir := r.byName[name]
	if ir == nil {
		agg, err := NewAggregator(r.ctx, name, r.sink, r.opts)
		if err != nil {
			return nil, err
		}
		ir = &ifaceRun{agg: agg}
		r.byName[name] = ir
		r.order = append(r.order, ir)
	}
	for len(r.byIdx) <= idx {
		r.byIdx = append(r.byIdx, nil)
	}
	r.byIdx[idx] = ir
	return ir, nil
}

// ifaceName applies the naming rule of Options.
func (r *run) ifaceName(idx int, srcName string) (string, error) {
	name := r.opts.Iface
	switch {
	case name != "":
	case srcName != "":
		name = srcName
	case r.opts.DefaultName == "":
		return "", fmt.Errorf("%w: interface %d has no name and Options.DefaultName is empty", ErrBadIface, idx)
	case idx == 0:
		name = r.opts.DefaultName
	default:
		name = r.opts.DefaultName + "-" + strconv.Itoa(idx)
	}
	if err := checkIfaceName(name); err != nil {
		return "", fmt.Errorf("interface %d: %w", idx, err)
	}
	return name, nil
}

// closeAll closes every aggregator, which writes the open blocks unless the
// context is done. Failures caused only by the context are left out when
// the run itself already stopped for it.
func (r *run) closeAll(runErr error) error {
	ctxStopped := runErr != nil && r.ctx.Err() != nil && errors.Is(runErr, r.ctx.Err())
	var errs []error
	for _, ir := range r.order {
		err := ir.agg.Close()
		if err == nil || errors.Is(runErr, err) {
			continue // already reported by the run
		}
		if !(ctxStopped && errors.Is(err, r.ctx.Err())) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stats returns the counters so far; the writers' counters are read
// atomically, so it may run while blocks are being written.
func (r *run) stats() Stats {
	s := Stats{Ifaces: make([]IfaceStats, 0, len(r.order))}
	for _, ir := range r.order {
		c := ir.c
		c.Blocks, c.Flows = ir.agg.Written()
		c.Overflow = ir.agg.Overflow()
		s.Ifaces = append(s.Ifaces, IfaceStats{Name: ir.agg.Iface(), Counts: c})
		s.Counts.addCounts(&c)
	}
	return s
}
