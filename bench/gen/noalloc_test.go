package gen_test

import (
	"testing"
	"time"

	"github.com/flowsql/flowsql/bench/gen"
	"github.com/flowsql/flowsql/columnar"
)

// TestNoAllocs checks that making a block allocates nothing once the
// generator and the block have their buffers: the cost of a dataset is
// the rows, not garbage.
func TestNoAllocs(t *testing.T) {
	g, err := gen.New(gen.Config{Seed: 1, Duration: 24 * time.Hour, FlowsPerBlock: 2000, Ifaces: []string{"eth0", "eth1"}})
	if err != nil {
		t.Fatal(err)
	}
	b := &columnar.Block{}
	if _, err := g.Next(b); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if ok, err := g.Next(b); !ok || err != nil {
			t.Fatalf("Next: %v, %v", ok, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Next allocates %.1f times per block, want 0", allocs)
	}
}
