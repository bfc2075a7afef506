// Package planner plans and runs the flowsql query dialect (DESIGN §4) over
// a columnar store: semantic checks, pruning, vectorized filters, a hash
// group-by into mergeable partial aggregates, merge, order and limit.
//
//	stmt, _ := sql.Parse("SELECT dip, sum(bytes) AS b WHERE sip = 10.1.2.3 GROUP BY dip ORDER BY b DESC LIMIT 10")
//	plan, err := planner.Prepare(stmt, nil)        // *sql.Error with a position on bad queries
//	res, err := plan.Execute(ctx, db)              // = ExecutePartial + Finish
//	text, err := plan.Explain(ctx, db)             // the plan and its pruning on db
//
// For fan-out, each host runs ExecutePartial and ships ToRecords; the
// coordinator prepares the same SQL, decodes with MergeRecords, combines
// with Merge and calls Finish.
//
// # Semantics
//
// Rows carry their block start as time, so a time condition selects whole
// blocks: time >= -1h keeps blocks starting at or after now-1h (now is
// Options.Now when the plan is prepared). bucket(time, d) rounds the block
// start down to a multiple of d counted from the Unix epoch (UTC midnight
// for days); buckets not wider than a block are block starts. iface is the
// block's interface and host is Options.Host. Ordering comparisons of
// addresses (<, <=, >, >=, BETWEEN) only match addresses of the literal's
// family, so sip < 10.0.0.5 means IPv4 addresses below it; = matches as
// expected, and a prefix matches only addresses of its own family, as in
// net/netip (sip IN ::/0 is all IPv6, 0.0.0.0/0 all IPv4, although IPv4 is
// stored IPv4-mapped); != and NOT negate. sum and count are
// uint64, avg a float64 (sum/count), min and max keep the column's type,
// count(DISTINCT x) is exact up to 256 values per group and a HyperLogLog
// estimate (4096 registers, about 1.6% standard error) beyond. A query with
// aggregates and no GROUP BY returns one row even when no row matches (null
// min, max and avg). ORDER BY names items by expression, alias or 1-based
// position; ties are broken by every group key (listing: every column)
// ascending. Without ORDER BY, listings keep storage order (interface,
// block start, row), aggregates come in no particular order, and LIMIT on
// an unordered aggregate keeps the first groups by key.
//
// # Execution
//
// Prepare checks the query (types, grouping, positions, bucket widths) and
// compiles the WHERE tree to per-column span sets (pred.go). Execution
// lists the candidate blocks from the index for the FROM interfaces and
// the time hull of the condition, then folds the condition over each
// block's metadata in three-valued logic (prune.go): by block start,
// interface and host, statistics (dport and proto ranges, counter totals),
// and, reading only the sorted dictionaries, address conditions (a missing
// address or an empty prefix range skips the block without reading rows).
// Surviving blocks are spread over Options.Parallelism workers, each with
// its own hash table. A worker reads only the chunks of the columns still
// needed (bytes and packets read their in and out halves; time, iface and
// host come from metadata), narrows rows of blocks sorted by sip to the
// code range of a sip condition by binary search (reading the sip column
// first, then the others for that run of rows only), evaluates the remaining
// condition on column vectors into bitmaps, packs group keys into words
// (addresses as ids interned once per dictionary entry used, not per row)
// and applies aggregate kernels to whole batches. A worker's hash table
// that outgrows the CPU caches (65536 groups) moves into one table shared
// by all workers, split into 256 partitions by hash (each under its own
// lock) and presized from the groups per row seen so far; rows are then
// buffered per partition, whole rows in fixed regions, and folded in 4096
// at a time into one cache-sized partition. Each group is thus added once,
// not once per worker, and only tables that never grew that large are
// merged at the end, partition by partition in parallel. When sip is a
// group key over many sorted blocks, rows are instead partitioned by sip
// address range, wave by wave, each range folded alone (sippart.go).
// Execute drops the hash slots before building the result, which needs
// only keys and states. Dictionaries are probed alone while that prunes at least a
// quarter of the blocks; otherwise the address column is read whole and
// its own dictionary decides. Blocks that need no row filter and whose
// aggregates follow from the index (count, sums, dport and proto ranges,
// time) are answered without reading any chunk. Chunk buffers are recycled
// between the blocks of a worker.
//
// Every query has a memory budget (Options.MemoryBudget): hash tables,
// sketches, listed rows and the chunks being read are reserved before they
// are allocated, and a query that would pass the budget stops with
// ErrMemoryBudget naming it. The context is checked for every block and
// every 65536 rows. A damaged chunk skips its block and is reported in
// Stats.Warnings (file, offset, error); the query goes on.
//
// # Partial aggregates on the wire
//
// ToRecords encodes a Partial as Arrow record batches with one column per
// group key, then one per aggregate state, and no nulls:
//
//	column              Arrow type              content
//	<key expression>    int64                   time, bucket(time, d): unix seconds
//	                    utf8                    iface, host
//	                    fixed_size_binary(16)   sip, dip: 16-byte form, IPv4 as ::ffff:a.b.c.d
//	                    uint16 / uint8          dport / proto
//	                    uint64                  counters
//	state:count(*)      uint64                  rows of the group
//	state:sum(c)        uint64                  sum of c (avg(c) is sum(c) / count(*))
//	state:min(c)        uint64                  minimum of c (time as unix seconds)
//	state:max(c)        uint64                  maximum of c
//	state:distinct(c)   binary                  HyperLogLog sketch of c (hll.go)
//
// Key columns come in GROUP BY order, followed by ORDER BY expressions not
// selected; states are deduplicated (sum(bytes) and avg(bytes) share
// state:sum(bytes)). A listing's partial has the row columns and no
// states. The schema metadata holds flowsql.partial (the plan signature:
// version, keys and states; MergeRecords refuses batches of another),
// flowsql.sketch (hll-p12-v1: hash functions and sketch encoding) and
// flowsql.stats (the producer's Stats as JSON).
package planner
