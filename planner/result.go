package planner

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/flowsql/flowsql/sql"
)

// Result is the answer of a query: typed columns of equal length, named
// after the select items, in the query's order, plus the work done.
type Result struct {
	Columns []Column
	Stats   Stats
}

// NumRows returns the number of result rows.
func (r *Result) NumRows() int {
	if len(r.Columns) == 0 {
		return 0
	}
	return r.Columns[0].Len()
}

// Column is one result column. Exactly the slice of its Type is set:
//
//	TypeTime                      Times (unix seconds)
//	TypeString                    Strings
//	TypeAddr                      Addrs (IPv4 unmapped)
//	TypePort, TypeProto, TypeUint Uints
//	TypeFloat                     Floats
//
// Null is nil unless some rows have no value: min, max and avg of an
// aggregate without GROUP BY over no rows.
type Column struct {
	Name    string
	Type    Type
	Times   []int64
	Strings []string
	Addrs   []netip.Addr
	Uints   []uint64
	Floats  []float64
	Null    []bool
}

// Len returns the number of values.
func (c *Column) Len() int {
	switch c.Type {
	case TypeTime:
		return len(c.Times)
	case TypeString:
		return len(c.Strings)
	case TypeAddr:
		return len(c.Addrs)
	case TypeFloat:
		return len(c.Floats)
	}
	return len(c.Uints)
}

// IsNull reports whether row i has no value.
func (c *Column) IsNull(i int) bool { return c.Null != nil && c.Null[i] }

// Value returns row i as time.Time (UTC), string, netip.Addr, uint64 or
// float64; nil for a null.
func (c *Column) Value(i int) any {
	if c.IsNull(i) {
		return nil
	}
	switch c.Type {
	case TypeTime:
		return time.Unix(c.Times[i], 0).UTC()
	case TypeString:
		return c.Strings[i]
	case TypeAddr:
		return c.Addrs[i]
	case TypeFloat:
		return c.Floats[i]
	}
	return c.Uints[i]
}

// Text returns row i as text: RFC 3339 times, addresses, decimal numbers
// (protocols as numbers; see ProtoName for names); "" for a null.
func (c *Column) Text(i int) string {
	if c.IsNull(i) {
		return ""
	}
	switch c.Type {
	case TypeTime:
		return time.Unix(c.Times[i], 0).UTC().Format(time.RFC3339)
	case TypeString:
		return c.Strings[i]
	case TypeAddr:
		return c.Addrs[i].String()
	case TypeFloat:
		return strconv.FormatFloat(c.Floats[i], 'f', -1, 64)
	}
	return strconv.FormatUint(c.Uints[i], 10)
}

// ProtoName returns the name of an IP protocol number as the dialect writes
// it (tcp, udp, icmpv6, ...), or the number.
func ProtoName(p uint64) string {
	if p > 255 {
		return strconv.FormatUint(p, 10)
	}
	return sql.ProtoName(uint8(p))
}

// Stats describes the work of a query. Block counts partition the
// candidate blocks: BlocksTotal = BlocksRead + BlocksFromStats +
// BlocksDamaged + the four Pruned counts.
type Stats struct {
	// From and To bound the starts and ends of the blocks that contributed
	// (read or answered from statistics); zero when none did.
	From, To time.Time
	// Interfaces lists the interfaces of the candidate blocks.
	Interfaces []string

	// BlocksTotal counts the candidate blocks: those the index holds for
	// the FROM interfaces within the time range of the condition.
	BlocksTotal int
	// BlocksRead counts blocks whose rows were read.
	BlocksRead int
	// BlocksFromStats counts blocks answered from their index statistics
	// (row count, totals, ranges) without reading a chunk.
	BlocksFromStats int
	// Pruned* count blocks skipped without reading rows: by the time
	// condition, the interface or host condition, the block statistics
	// (ranges of dport and proto, counter totals, empty blocks) and the
	// address dictionaries.
	PrunedTime, PrunedIface, PrunedStats, PrunedDict int
	// BlocksDamaged counts blocks skipped because a chunk is damaged; see
	// Warnings.
	BlocksDamaged int
	// PastLimit counts blocks a listing with LIMIT and no ORDER BY did
	// not read because the blocks before them already held LIMIT rows.
	PastLimit int

	ChunksRead  int      // column chunks read (dictionaries and values)
	BytesRead   int64    // bytes of those chunks on disk
	ColumnsRead []string // stored columns read at least once, storage order
	RowsScanned int64    // rows of read blocks the filter looked at
	RowsMatched int64    // rows that passed the filter
	Groups      int      // groups (aggregates) or rows (listings) before LIMIT
	// TopN says the query ran as a threshold top-N (planner/topk.go): it
	// bounded the totals instead of counting every group, so Groups is
	// the number of groups the bound left, not of all groups.
	TopN       bool
	PeakMemory int64 // highest memory accounted against the budget
	Elapsed    time.Duration
	Warnings   []Warning
}

// Warning records a damaged block the query skipped.
type Warning struct {
	Iface  string
	Start  time.Time
	File   string // data file, when known
	Offset int64  // offset of the damaged chunk; -1 when unknown
	Err    error
}

// String describes the warning.
func (w Warning) String() string {
	return fmt.Sprintf("block %s@%s skipped: %v", w.Iface, w.Start.UTC().Format(time.RFC3339), w.Err)
}

// add folds the counts of o into s.
func (s *Stats) add(o *Stats) {
	if !o.From.IsZero() && (s.From.IsZero() || o.From.Before(s.From)) {
		s.From = o.From
	}
	if o.To.After(s.To) {
		s.To = o.To
	}
	s.Interfaces = mergeSorted(s.Interfaces, o.Interfaces)
	s.BlocksTotal += o.BlocksTotal
	s.BlocksRead += o.BlocksRead
	s.BlocksFromStats += o.BlocksFromStats
	s.PrunedTime += o.PrunedTime
	s.PrunedIface += o.PrunedIface
	s.PrunedStats += o.PrunedStats
	s.PrunedDict += o.PrunedDict
	s.BlocksDamaged += o.BlocksDamaged
	s.PastLimit += o.PastLimit
	s.ChunksRead += o.ChunksRead
	s.BytesRead += o.BytesRead
	s.ColumnsRead = mergeColumnNames(s.ColumnsRead, o.ColumnsRead)
	s.RowsScanned += o.RowsScanned
	s.RowsMatched += o.RowsMatched
	s.PeakMemory = max(s.PeakMemory, o.PeakMemory)
	s.Elapsed = max(s.Elapsed, o.Elapsed)
	s.Warnings = append(s.Warnings, o.Warnings...)
}

func mergeSorted(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// mergeColumnNames unites column name lists, keeping storage order.
func mergeColumnNames(a, b []string) []string {
	var out []string
	for _, c := range sql.Columns() {
		if slices.Contains(a, c.Name()) || slices.Contains(b, c.Name()) {
			out = append(out, c.Name())
		}
	}
	return out
}
