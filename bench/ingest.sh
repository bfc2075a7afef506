#!/usr/bin/env bash
# End-to-end ingest throughput: `flowsql ingest` of a large uncompressed pcap
# that sits in the page cache, against `tcpdump -r FILE -w /dev/null` (which
# only reads and rewrites the records) on the same file in the same run.
#
#   bench/ingest.sh [REPEAT]     (default 130 copies of goprobe_default ≈ 5M packets)
#
# Prints packets, seconds and packets per second for both, and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat="${1:-130}"
data="${FLOWSQL_TESTDATA:-$(cd .. && pwd)/shared/testdata}/pcap/goprobe_default.pcap.gz"
[ -f "$data" ] || { echo "missing $data (set FLOWSQL_TESTDATA)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/flowsql" ./cmd/flowsql
go build -o "$tmp/mkpcap" ./bench/cmd/mkpcap
"$tmp/mkpcap" -src "$data" -repeat "$repeat" -out "$tmp/big.pcap" >/dev/null
packets=$("$tmp/mkpcap" -src "$data" -repeat 1 -out "$tmp/one.pcap" | awk '{print $2}')
packets=$((packets * repeat))
cat "$tmp/big.pcap" >/dev/null # into the page cache

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.2f", n / s / 1e6 }'; }

best_f=999999; best_t=999999
for i in 1 2 3; do
	rm -rf "$tmp/db"
	t0=$(now); "$tmp/flowsql" --db "$tmp/db" ingest --iface eth0 "$tmp/big.pcap" >/dev/null; t1=$(now)
	f=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	best_f=$(awk -v a="$f" -v b="$best_f" 'BEGIN { print (a < b) ? a : b }')
	if command -v tcpdump >/dev/null; then
		t0=$(now); tcpdump -r "$tmp/big.pcap" -w /dev/null 2>/dev/null; t1=$(now)
		t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
		best_t=$(awk -v a="$t" -v b="$best_t" 'BEGIN { print (a < b) ? a : b }')
	fi
done
echo "packets: $packets ($(stat -c %s "$tmp/big.pcap") bytes), best of 3 runs"
echo "flowsql ingest:          ${best_f}s  $(rate "$packets" "$best_f") Mpps"
if command -v tcpdump >/dev/null; then
	echo "tcpdump -r -w /dev/null: ${best_t}s  $(rate "$packets" "$best_t") Mpps"
	awk -v f="$best_f" -v t="$best_t" 'BEGIN { printf "ratio flowsql/tcpdump time: %.2f\n", f / t }'
fi
