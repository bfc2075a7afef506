#!/usr/bin/env bash
# Write-path benchmarks (issue: foundation and the offline write path), each
# beside its baseline in the same process, then end-to-end ingest against
# tcpdump (bench/ingest.sh). Results go to stdout; copy the table into
# bench/RESULTS.md with the date and the machine.
#
#   bench/write.sh [BENCHTIME]     (default 1s; COUNT=3 runs each)
set -euo pipefail
cd "$(dirname "$0")/.."
bt="${1:-1s}"
count="${COUNT:-3}"
export FLOWSQL_TESTDATA="${FLOWSQL_TESTDATA:-$(cd .. && pwd)/shared/testdata}"
run() { go test -run '^$' -benchmem -benchtime "$bt" -count "$count" "$@" | grep -E '^(Benchmark|ok|FAIL)' ; }

echo "## decode + flow table, per packet (one core: GOMAXPROCS=1)"
GOMAXPROCS=1 run -bench 'BenchmarkDecodeAggregate|BenchmarkDecode$|BenchmarkFlowUpdate|BenchmarkAggregatorAdd' ./ingest
echo "## capture file reading"
run -bench 'BenchmarkReadPcap|BenchmarkNaiveRead$' ./capture
echo "## store: write a 100k-flow block (codecs none/lz4/zstd/default), bytes on disk per row"
run -bench 'BenchmarkWriteBlock' ./columnar
COUNT=1 run -bench 'BenchmarkStoreBytesPerRow' ./bench/gen
echo "## end to end"
bench/ingest.sh
