package gen_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flowsql/flowsql/bench/gen"
	"github.com/flowsql/flowsql/columnar"
)

// FuzzConfig builds generators from arbitrary configurations: each either
// fails with ErrInvalidConfig or ErrKeySpace, or makes blocks of distinct
// keys, of the promised times and sizes, and never panics.
func FuzzConfig(f *testing.F) {
	// seed, flows, clients, servers, zipf, v6, diurnal, persist, interval s, duration s
	f.Add(uint64(1), 200, 50, 100, 1.1, 0.3, 0.5, 0.25, 300, 1200)
	f.Add(uint64(2), 1, 1, 1, 4.0, 1.0, 0.95, 0.6, 1, 3)
	f.Add(uint64(3), 3000, 2, 2, 0.01, -1.0, -1.0, -1.0, 86400, 86400)
	f.Add(uint64(4), -1, 0, 0, 0.0, 0.0, 0.0, 0.0, 0, 0)
	f.Fuzz(func(t *testing.T, seed uint64, flows, clients, servers int, zipf, v6, diurnal, persist float64, ivSec, durSec int) {
		cfg := gen.Config{
			Seed: seed, FlowsPerBlock: flows % 3001, Clients: clients % 3001, Servers: servers % 3001,
			ZipfS: zipf, IPv6Share: v6, Diurnal: diurnal, Persist: persist,
			Interval: time.Duration(ivSec%100_000) * time.Second, Duration: time.Duration(durSec%100_000) * time.Second,
			Ifaces: []string{"a", "b"},
		}
		g, err := gen.New(cfg)
		if err != nil {
			if !errors.Is(err, gen.ErrInvalidConfig) {
				t.Fatalf("New(%+v): %v, want ErrInvalidConfig", cfg, err)
			}
			return
		}
		c := g.Config()
		w := &collector{}
		_, err = gen.Generate(context.Background(), limitWriter{w, 6}, cfg, nil)
		if err != nil && !errors.Is(err, gen.ErrKeySpace) && !errors.Is(err, errEnough) {
			t.Fatalf("Generate(%+v): %v", cfg, err)
		}
		for i, b := range w.blocks {
			if b.End-b.Start != int64(c.Interval/time.Second) || b.Start%int64(c.Interval/time.Second) != 0 {
				t.Fatalf("block %d: [%d, %d) for interval %v", i, b.Start, b.End, c.Interval)
			}
			if b.Len() < 1 || b.Len() > g.MaxRows() {
				t.Fatalf("block %d: %d rows, want 1..%d", i, b.Len(), g.MaxRows())
			}
			seen := make(map[rowKey]bool, b.Len())
			for r := range b.Len() {
				if k := keyOf(b, r); seen[k] {
					t.Fatalf("block %d row %d repeats %v", i, r, k)
				} else {
					seen[k] = true
				}
			}
		}
	})
}

var errEnough = errors.New("enough blocks")

// limitWriter passes n blocks on, then stops the generator.
type limitWriter struct {
	w *collector
	n int
}

func (l limitWriter) Write(ctx context.Context, b *columnar.Block) error {
	if len(l.w.blocks) >= l.n {
		return errEnough
	}
	return l.w.Write(ctx, b)
}
