package planner

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DefaultMemoryBudget is the per-query memory budget when
// Options.MemoryBudget is zero: 1 GiB.
const DefaultMemoryBudget = 1 << 30

// DefaultBatchBytes bounds the Arrow record batches of results and partial
// aggregates when no other bound is given: 1 MiB, well under the 4 MiB
// message limit of Go gRPC clients (DESIGN §5).
const DefaultBatchBytes = 1 << 20

// Options configures Prepare. A nil *Options means the defaults of every
// field.
type Options struct {
	// Now gives the time relative times (time >= -24h) are measured from;
	// Prepare calls it once. Nil means time.Now.
	Now func() time.Time

	// MemoryBudget bounds the memory of one query in bytes: hash tables,
	// aggregate states, listed rows and the column chunks being read. A
	// query that needs more stops with ErrMemoryBudget. Zero means
	// DefaultMemoryBudget; negative means unlimited.
	MemoryBudget int64

	// Parallelism is the number of workers, each reading whole blocks with
	// its own partial hash table. Zero means runtime.GOMAXPROCS(0).
	Parallelism int

	// Host is the value of the host column. Empty means os.Hostname().
	Host string

	// Allocator provides the Arrow memory of column chunks and of record
	// batches. Nil means memory.DefaultAllocator.
	Allocator memory.Allocator
}

// resolve returns a copy of o with every default filled in.
func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.MemoryBudget == 0 {
		r.MemoryBudget = DefaultMemoryBudget
	}
	if r.Parallelism < 0 {
		return r, fmt.Errorf("planner: options: parallelism %d is negative", r.Parallelism)
	}
	if r.Parallelism == 0 {
		r.Parallelism = runtime.GOMAXPROCS(0)
	}
	if r.Host == "" {
		h, err := os.Hostname()
		if err != nil {
			return r, fmt.Errorf("planner: options: host name: %w", err)
		}
		r.Host = h
	}
	if r.Allocator == nil {
		r.Allocator = memory.DefaultAllocator
	}
	return r, nil
}
