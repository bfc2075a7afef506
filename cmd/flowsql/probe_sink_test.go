package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowsql/flowsql/columnar"
)

// syncWriter serializes writes of the logger's goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// The probe's sink logs one line per block with its size on disk and asks
// for retention, which then drops the days past the policy.
func TestProbeSinkAndRetention(t *testing.T) {
	ctx := context.Background()
	db, err := columnar.Open(ctx, t.TempDir(), &columnar.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	logs := &syncWriter{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	due := make(chan struct{}, 1)
	sink := &probeSink{db: db, log: log, retain: due}
	block := func(start int64) *columnar.Block {
		b := &columnar.Block{Iface: "eth0", Start: start, End: start + 300}
		a := netip.MustParseAddr("10.0.0.1").As16()
		b.Append(a, netip.MustParseAddr("10.0.0.2").As16(), 443, 6, 100, 200, 1, 2)
		return b
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	now := time.Now().Unix() / 300 * 300
	for _, start := range []int64{old, now} {
		if err := sink.Write(ctx, block(start)); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(logs.String(), `msg="block written" iface=eth0`) || strings.Contains(logs.String(), "bytes=-1") {
		t.Errorf("rotation log:\n%s", logs.String())
	}
	if end := storedEnd(ctx, db)("eth0"); end != now+300 {
		t.Errorf("stored end %d, want %d", end, now+300)
	}
	select {
	case <-due:
	default:
		t.Fatal("no retention run requested")
	}

	p := &probeRun{db: db, log: log}
	p.policy.Store(&columnar.RetentionPolicy{MaxAge: 30 * 24 * time.Hour})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.retentionLoop(rctx, due) }()
	due <- struct{}{}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "retention dropped days") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	metas, err := db.Blocks(ctx, columnar.Selector{})
	if err != nil || len(metas) != 1 || metas[0].Start != now {
		t.Errorf("after retention: %v %+v", err, metas)
	}
}
