package gen

import (
	"context"
	"fmt"

	"github.com/flowsql/flowsql/columnar"
)

// BlockWriter takes generated blocks; *columnar.DB is one. Write must not
// keep b: the generator reuses its slices for the next block.
type BlockWriter interface {
	Write(ctx context.Context, b *columnar.Block) error
}

// Report totals what Generate wrote.
type Report struct {
	Blocks  int    // blocks written
	Rows    int64  // rows (flows) written
	Carried int64  // rows that continue a long-lived flow of the previous block
	Merged  int64  // draws that added to an existing row instead of making one
	Packets uint64 // packets_in + packets_out over the rows
	Bytes   uint64 // bytes_in + bytes_out over the rows
	NonIP   uint64 // the blocks' non-IP frame counters
}

// add counts one written block.
func (r *Report) add(b *columnar.Block, carried, merged int) {
	r.Blocks++
	r.Rows += int64(b.Len())
	r.Carried += int64(carried)
	r.Merged += int64(merged)
	for i := range b.Len() {
		r.Packets += b.PacketsIn[i] + b.PacketsOut[i]
		r.Bytes += b.BytesIn[i] + b.BytesOut[i]
	}
	r.NonIP += b.NonIP
}

// Generate writes the dataset of cfg to w, one block per interface per
// interval, in time order. After each block it calls progress, when not
// nil, with the totals so far and the number of blocks to write. It stops
// at the first error, returning the totals of the blocks written before it:
// an invalid cfg (ErrInvalidConfig), ErrKeySpace, the writer's error or
// ctx's.
func Generate(ctx context.Context, w BlockWriter, cfg Config, progress func(done Report, total int)) (Report, error) {
	var rep Report
	g, err := New(cfg)
	if err != nil {
		return rep, err
	}
	total := g.Total()
	b := &columnar.Block{}
	for {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("gen: after %d of %d blocks: %w", rep.Blocks, total, err)
		}
		ok, err := g.Next(b)
		if err != nil {
			return rep, err
		}
		if !ok {
			return rep, nil
		}
		if err := w.Write(ctx, b); err != nil {
			return rep, fmt.Errorf("gen: write block %q@%d (%d rows): %w", b.Iface, b.Start, b.Len(), err)
		}
		rep.add(b, g.lastCarried, g.lastMerged)
		if progress != nil {
			progress(rep, total)
		}
	}
}
