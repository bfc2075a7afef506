package planner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/columnar"
)

// TestCorruptChunk damages one chunk on disk: the query reports the block
// (file, offset) in its warnings and answers from the other blocks.
func TestCorruptChunk(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := columnar.Open(ctx, dir, &columnar.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	genStore(t, db, smallConfig())
	metas, err := db.Blocks(ctx, columnar.Selector{Ifaces: []string{"eth1"}})
	if err != nil {
		t.Fatal(err)
	}
	victim := metas[10]
	ref, _ := victim.Chunk(columnar.ColBytesIn, columnar.PartValues)
	f, err := os.OpenFile(filepath.Join(dir, victim.File), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	off := ref.Offset + ref.Length/2
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	f.Close()

	// Every other block, for the slow evaluator.
	rows := slowRowsSkipping(t, db, victim.Iface, victim.Start)
	q := "SELECT dport, sum(bytes), count(*) GROUP BY dport ORDER BY dport"
	opts := testOptions(t)
	p := prepare(t, q, opts)
	res, err := p.Execute(ctx, db)
	if err != nil {
		t.Fatalf("query failed instead of skipping the damaged block: %v", err)
	}
	st := res.Stats
	if st.BlocksDamaged != 1 || len(st.Warnings) != 1 {
		t.Fatalf("damaged %d, warnings %v", st.BlocksDamaged, st.Warnings)
	}
	w := st.Warnings[0]
	if w.Iface != "eth1" || w.Start.Unix() != victim.Start || w.Offset != ref.Offset || !strings.HasSuffix(w.File, victim.File) ||
		!errors.Is(w.Err, columnar.ErrCorrupt) {
		t.Fatalf("warning %+v, want eth1@%d at offset %d of %s", w, victim.Start, ref.Offset, victim.File)
	}
	compareRows(t, q, rowsOf(res), slowQuery(p.Statement(), rows, testNow), distinctItems(p.Statement()), false)

	// A threshold top-N meets the damage in both of its passes and
	// reports it once.
	q = "SELECT sip, dip, dport, proto, sum(bytes) AS b, count(*) GROUP BY sip, dip, dport, proto ORDER BY b DESC LIMIT 7"
	p = prepare(t, q, testOptions(t))
	if res, err = p.Execute(ctx, db); err != nil {
		t.Fatalf("top-N failed instead of skipping the damaged block: %v", err)
	}
	if st := res.Stats; !st.TopN || st.BlocksDamaged != 1 || len(st.Warnings) != 1 || st.Warnings[0].Start.Unix() != victim.Start {
		t.Fatalf("top-N %v, damaged %d, warnings %v", st.TopN, st.BlocksDamaged, st.Warnings)
	}
	compareRows(t, q, rowsOf(res), slowQuery(p.Statement(), rows, testNow), distinctItems(p.Statement()), false)
}

// slowRowsSkipping reads every row but those of one block.
func slowRowsSkipping(t *testing.T, db *columnar.DB, iface string, start int64) []slowRow {
	var out []slowRow
	for _, r := range slowRowsTolerant(t, db) {
		if r.iface != iface || r.start != start {
			out = append(out, r)
		}
	}
	return out
}

// slowRowsTolerant is slowRows skipping blocks that fail to read.
func slowRowsTolerant(t *testing.T, db *columnar.DB) []slowRow {
	ctx := context.Background()
	metas, err := db.Blocks(ctx, columnar.Selector{})
	if err != nil {
		t.Fatal(err)
	}
	var out []slowRow
	for i := range metas {
		b, err := db.ReadBlock(ctx, &metas[i], nil)
		if err != nil {
			continue
		}
		out = append(out, slowBlockRows(b)...)
	}
	return out
}

// TestMemoryBudget runs a wide grouping under a tiny budget: the query
// stops with ErrMemoryBudget naming the budget, and frees everything.
func TestMemoryBudget(t *testing.T) {
	db := openSmall(t)
	opts := testOptions(t)
	opts.MemoryBudget = 64 << 10
	for _, q := range []string{
		"SELECT sip, dip, dport, proto, sum(bytes) GROUP BY sip, dip, dport, proto",
		"SELECT sip, dip, bytes ORDER BY bytes",
		"SELECT dport, count(DISTINCT dip) GROUP BY dport",
	} {
		_, err := prepare(t, q, opts).Execute(context.Background(), db)
		if !errors.Is(err, ErrMemoryBudget) || !strings.Contains(err.Error(), "64.0 KiB") || !strings.Contains(err.Error(), "Options.MemoryBudget") {
			t.Errorf("%s: got %v, want ErrMemoryBudget naming the 64 KiB budget", q, err)
		}
	}
	// The same queries pass with the default budget.
	opts.MemoryBudget = 0
	run(t, db, "SELECT sip, dip, dport, proto, sum(bytes) GROUP BY sip, dip, dport, proto", opts)
}

// cancelAlloc cancels a context at its n-th allocation: a deterministic
// way to cancel a query in the middle of its reads.
type cancelAlloc struct {
	memory.Allocator
	calls  atomic.Int64
	at     int64
	cancel context.CancelFunc
}

func (a *cancelAlloc) Allocate(size int) []byte {
	if a.calls.Add(1) == a.at {
		a.cancel()
	}
	return a.Allocator.Allocate(size)
}

// TestCancel cancels running queries: they stop promptly with
// context.Canceled and release every buffer.
func TestCancel(t *testing.T) {
	db := openSmall(t)
	for _, q := range []string{
		"SELECT sip, dip, dport, proto, sum(bytes) GROUP BY sip, dip, dport, proto",
		"SELECT sip, bytes WHERE dport != 1 ORDER BY bytes DESC LIMIT 5",
	} {
		ctx, cancel := context.WithCancel(context.Background())
		opts := testOptions(t)
		ca := &cancelAlloc{Allocator: opts.Allocator, at: 40, cancel: cancel}
		opts.Allocator = ca
		p := prepare(t, q, opts)
		start := time.Now()
		_, err := p.Execute(ctx, db)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: got %v, want context.Canceled", q, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("%s: took %v to stop", q, d)
		}
		cancel()
	}
	// Cancelled from another goroutine while running.
	ctx, cancel := context.WithCancel(context.Background())
	p := prepare(t, "SELECT sip, dip, dport, count(DISTINCT proto) GROUP BY sip, dip, dport", testOptions(t))
	done := make(chan error, 1)
	go func() {
		_, err := p.Execute(ctx, db)
		done <- err
	}()
	time.Sleep(time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("query did not stop within 1s of cancellation")
	}
}
