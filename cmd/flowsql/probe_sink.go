package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/flowsql/flowsql/columnar"
)

// probeSink writes the probe's blocks to the store, logs one line per
// block (the rotation log), and asks for retention after each one.
type probeSink struct {
	db     *columnar.DB
	log    *slog.Logger
	retain chan<- struct{} // nil without a retention policy; never blocks
}

// Write stores b and logs it.
func (s *probeSink) Write(ctx context.Context, b *columnar.Block) error {
	t0 := time.Now()
	err := s.db.Write(ctx, b)
	took := time.Since(t0)
	if err != nil {
		return err // logged by the capture, which retries or drops the block
	}
	s.log.Info("block written", "iface", b.Iface, "start", time.Unix(b.Start, 0).UTC(),
		"end", time.Unix(b.End, 0).UTC(), "flows", b.Len(), "bytes", s.storedBytes(ctx, b),
		"duration", took)
	if s.retain != nil {
		select {
		case s.retain <- struct{}{}:
		default: // a run is already due
		}
	}
	return nil
}

// storedBytes returns the bytes the block takes in its data file, or -1.
func (s *probeSink) storedBytes(ctx context.Context, b *columnar.Block) int64 {
	metas, err := s.db.Blocks(ctx, columnar.Selector{Ifaces: []string{b.Iface}, From: b.Start, To: b.Start + 1})
	if err != nil || len(metas) != 1 {
		return -1
	}
	var n int64
	for _, c := range metas[0].Chunks {
		n += c.Length
	}
	return n
}

// storedEnd returns where the store's data of iface ends (unix seconds),
// 0 when it holds none: a capture starting inside that block begins after
// it (ingest.LiveOptions.StoredEnd).
func storedEnd(ctx context.Context, db *columnar.DB) func(string) int64 {
	return func(iface string) int64 {
		metas, _ := db.Blocks(ctx, columnar.Selector{Ifaces: []string{iface}, From: time.Now().Add(-48 * time.Hour).Unix()})
		if len(metas) == 0 { // damaged entries are skipped, the rest returned
			return 0
		}
		return metas[len(metas)-1].End
	}
}
