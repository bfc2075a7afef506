package planner

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/flowsql/flowsql/columnar"
)

// benchStores holds the generated benchmark store, built once per process
// in a temporary folder and removed by TestMain.
var benchStores benchStore

type benchStore struct {
	once     sync.Once
	dir      string
	external bool // dir is FLOWSQL_BENCH_DB: not ours to remove
	db       *columnar.DB
	err      error
}

func (s *benchStore) cleanup() {
	if s.db != nil {
		s.db.Close()
	}
	if s.dir != "" && !s.external {
		os.RemoveAll(s.dir)
	}
}

// benchConfig is the benchmark data set: 24 hours of one interface,
// 20,000 flows per 5-minute block (288 blocks, about 5.8M rows), ~5k
// clients, ~20k servers, 300k recurring conversations.
func benchConfig() genConfig {
	return genConfig{
		ifaces: []string{"eth0"}, start: testStart.Unix(), blockLen: 300,
		blocks: 288, flows: 20000, sips: 5000, dips: 20000, seed: 42, pool: 300000,
	}
}

// benchDB returns the benchmark store, generating it on first use. When
// FLOWSQL_BENCH_DB names a store (bench/read.sh KEEP=DIR leaves one in
// DIR/db), the benchmarks read that one instead, read-only: profiles of
// the in-process planner then see the data the CLI benchmark sees.
func benchDB(b testing.TB) *columnar.DB {
	s := &benchStores
	s.once.Do(func() {
		if dir := os.Getenv("FLOWSQL_BENCH_DB"); dir != "" {
			s.dir, s.external = dir, true
			s.db, s.err = columnar.Open(context.Background(), dir, &columnar.Options{ReadOnly: true})
			return
		}
		s.dir, s.err = os.MkdirTemp("", "flowsql-planner-bench-")
		if s.err != nil {
			return
		}
		s.db, s.err = columnar.Open(context.Background(), s.dir, &columnar.Options{NoSync: true})
		if s.err != nil {
			return
		}
		genStore(b, s.db, benchConfig())
	})
	if s.err != nil {
		b.Fatal(s.err)
	}
	return s.db
}
