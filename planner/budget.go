package planner

import (
	"fmt"
	"github.com/flowsql/flowsql/internal/units"
	"sync/atomic"
)

// budget accounts the memory of one query across its workers. Reservations
// are made before the memory is allocated, so a query stops with
// ErrMemoryBudget instead of exhausting the machine. A nil *budget is
// unlimited.
type budget struct {
	limit int64 // bytes; <= 0 unlimited
	used  atomic.Int64
	peak  atomic.Int64
}

func newBudget(limit int64) *budget { return &budget{limit: limit} }

// reserve accounts n more bytes for what, failing when the total would pass
// the limit (the reservation is then not made).
func (b *budget) reserve(n int64, what string) error {
	if b == nil || n <= 0 {
		return nil
	}
	used := b.used.Add(n)
	if b.limit > 0 && used > b.limit {
		b.used.Add(-n)
		return fmt.Errorf("%w: %s needs %s more, the query already holds %s of its budget of %s (Options.MemoryBudget); narrow the time range or the grouping, or raise the budget",
			ErrMemoryBudget, what, units.Bytes(uint64(n)), units.Bytes(uint64(used-n)), units.Bytes(uint64(b.limit)))
	}
	for {
		p := b.peak.Load()
		if used <= p || b.peak.CompareAndSwap(p, used) {
			break
		}
	}
	return nil
}

// release returns n bytes reserved earlier.
func (b *budget) release(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}
