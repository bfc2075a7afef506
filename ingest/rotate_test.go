package ingest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flowsql/flowsql/columnar"
)

// gateSink blocks every Write until release is closed (or, when honourCtx
// is set, until the context is done).
type gateSink struct {
	blockSink
	release   chan struct{}
	honourCtx bool
	entered   chan struct{} // receives once per Write call
}

func newGateSink() *gateSink {
	return &gateSink{release: make(chan struct{}), entered: make(chan struct{}, 100)}
}

func (s *gateSink) Write(ctx context.Context, b *columnar.Block) error {
	s.entered <- struct{}{}
	if s.honourCtx {
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	} else {
		<-s.release
	}
	return s.blockSink.Write(ctx, b)
}

// addAsync runs a.Add for block number blk (1 s interval) in a goroutine
// and returns a channel that receives its result.
func addAsync(a *Aggregator, blk int64) <-chan error {
	ch := make(chan error, 1)
	go func() {
		p := udp4("10.0.0.1", "10.0.0.2", 40000, 53)
		ch <- a.Add(blk*1e9, &p)
	}()
	return ch
}

// mustReturn waits for an Add that must not wait for the writer.
func mustReturn(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still waiting for the writer", what)
	}
}

// mustWait checks that an Add is waiting for the writer.
func mustWait(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		t.Fatalf("%s returned (%v) while the writer was stuck", what, err)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestRotationBackpressure: with files, reading waits when the writer is a
// whole block behind; in live mode only when MaxPendingBlocks blocks are
// pending. Nothing is lost either way.
func TestRotationBackpressure(t *testing.T) {
	for _, c := range []struct {
		name     string
		opts     Options
		freeRuns int64 // rotations that must not wait with the writer stuck
	}{
		{"file", Options{Interval: time.Second}, 1},
		{"live", Options{Interval: time.Second, Live: true, MaxPendingBlocks: 3}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := newGateSink()
			a, err := NewAggregator(context.Background(), "eth0", sink, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			mustReturn(t, addAsync(a, 0), "first packet")
			for blk := int64(1); blk <= c.freeRuns; blk++ {
				mustReturn(t, addAsync(a, blk), "rotation")
			}
			<-sink.entered // the writer is inside Write of block 0
			blocked := addAsync(a, c.freeRuns+1)
			mustWait(t, blocked, "rotation beyond the bound")
			close(sink.release)
			mustReturn(t, blocked, "rotation after the writer caught up")
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if got, want := len(sink.got()), int(c.freeRuns+2); got != want {
				t.Errorf("%d blocks written, want %d", got, want)
			}
		})
	}
}

// TestRotationWaitCancelled: a rotation waiting for a stuck writer gives
// up when the context is cancelled.
func TestRotationWaitCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sink := newGateSink()
	sink.honourCtx = true
	a, err := NewAggregator(ctx, "eth0", sink, Options{Interval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mustReturn(t, addAsync(a, 0), "first packet")
	mustReturn(t, addAsync(a, 1), "rotation")
	<-sink.entered
	blocked := addAsync(a, 2)
	mustWait(t, blocked, "second rotation")
	cancel()
	select {
	case err := <-blocked:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Add: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Add still waiting after cancel")
	}
	if err := a.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close: %v, want context.Canceled", err)
	}
	if n := len(sink.got()); n != 0 {
		t.Errorf("%d blocks written after cancellation", n)
	}
}

// TestPrevTableReadConcurrently: the aggregator reads the previous block's
// table for orientation while the writer exports it; run with -race.
func TestPrevTableReadConcurrently(t *testing.T) {
	slow := &funcSink{write: func(b *columnar.Block) error {
		time.Sleep(time.Millisecond)
		return nil
	}}
	a, err := NewAggregator(context.Background(), "eth0", slow, Options{Interval: time.Second, Live: true})
	if err != nil {
		t.Fatal(err)
	}
	g := newStreamGen(5, 1)
	for range 20_000 {
		ev := g.next()
		if ev.res == ResultIP {
			if err := a.Add(ev.ts, &ev.p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}

type funcSink struct{ write func(*columnar.Block) error }

func (s *funcSink) Write(_ context.Context, b *columnar.Block) error { return s.write(b) }
