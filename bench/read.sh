#!/usr/bin/env bash
# Read-path benchmark: five queries on a day of generated flows (one
# interface, 20,000 flows per 5-minute block: about 5.8M rows), through the
# real binary, against DuckDB over the same data exported to Parquet.
#
#   bench/read.sh            RUNS=5 by default; KEEP=DIR keeps the store and Parquet file there
#
# flowsql: each query runs RUNS times as `flowsql query --format csv >
# /dev/null` (process start included), best and median; planner ms is the
# median in-process time of plan.Execute from --stats; peak RSS from one
# more run under GNU time (else VmHWM polled from /proc); bytes read from
# --stats. DuckDB: bench/duckdb_compare.py, one process, 2 threads, warm
# (one run before timing), best and median of RUNS, over the Parquet file.
# ratio = flowsql best / DuckDB best. Installs nothing: what is missing
# is reported and its columns are left empty.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-5}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
work="${KEEP:-$tmp}"
mkdir -p "$work"

py="${FLOWSQL_PYTHON:-}"
if [ -z "$py" ] && [ -x .venv/bin/python ]; then py=.venv/bin/python; fi
if [ -n "$py" ] && ! "$py" -c 'import duckdb' 2>/dev/null; then
	echo "note: $py cannot import duckdb: DuckDB columns left empty (scripts/venv creates .venv)"
	py=""
elif [ -z "$py" ]; then
	echo "note: no Python with duckdb (set FLOWSQL_PYTHON; scripts/venv creates .venv): DuckDB columns left empty"
fi
gnutime=""
if /usr/bin/time -f %M true >/dev/null 2>&1; then gnutime=/usr/bin/time; else
	echo "note: GNU time (/usr/bin/time, apt package time) missing: peak RSS polled from /proc VmHWM, a lower bound"
fi

bin="$tmp/flowsql"
CGO_ENABLED=0 go build -o "$bin" ./cmd/flowsql # static, as README installs it
db="$work/db"
if [ ! -f "$db/index.db" ]; then
	echo "== generating the dataset"
	"$bin" --db "$db" gen --hours 24 --ifaces eth0 --flows 20000 --seed 1 --nosync
fi
pq="$work/flows.parquet"
if [ ! -f "$pq" ]; then
	echo "== exporting it to Parquet"
	if [ -n "$gnutime" ]; then
		$gnutime -f "export peak RSS %M KiB, %e s" "$bin" --db "$db" export "$pq"
	else
		"$bin" --db "$db" export "$pq"
	fi
fi
cat "$db"/data/*/* "$pq" >/dev/null # into the page cache

talker=$("$bin" --db "$db" query --format csv "SELECT sip, sum(bytes) AS b GROUP BY sip ORDER BY b DESC LIMIT 1" | tail -n 1 | cut -d, -f1)
echo "top talker for Q2: $talker"

names=(Q1 Q2 Q3 Q4 Q5)
declare -A fq dq target
fq[Q1]="SELECT sip, dip, dport, proto, sum(bytes) AS b GROUP BY sip, dip, dport, proto ORDER BY b DESC LIMIT 10"
fq[Q2]="SELECT dip, sum(bytes) WHERE sip = $talker GROUP BY dip"
fq[Q3]="SELECT dport, proto, sum(packets) WHERE dip IN 10.0.0.0/8 GROUP BY dport, proto"
fq[Q4]="SELECT bucket(time, 1h) AS t, sum(bytes) GROUP BY t ORDER BY t"
fq[Q5]="SELECT sip, dip, dport, proto, sum(bytes), sum(packets) GROUP BY sip, dip, dport, proto"
# DuckDB: the same questions over the Parquet view (duckdb_compare.py); an
# IPv4 /8 is a text prefix, since the inet extension needs a download.
dq[Q1]="SELECT sip, dip, dport, proto, sum(bytes) AS b FROM flows GROUP BY ALL ORDER BY b DESC LIMIT 10"
dq[Q2]="SELECT dip, sum(bytes) FROM flows WHERE sip = '$talker' GROUP BY dip"
dq[Q3]="SELECT dport, proto, sum(packets) FROM flows WHERE dip LIKE '10.%' GROUP BY dport, proto"
dq[Q4]="SELECT t // 3600 * 3600 AS h, sum(bytes) FROM flows GROUP BY h ORDER BY h"
dq[Q5]="COPY:SELECT sip, dip, dport, proto, sum(bytes), sum(packets) FROM flows GROUP BY ALL"
target=([Q1]="150 ms" [Q2]="20 ms" [Q3]="60 ms" [Q4]="150 ms" [Q5]="1500 ms, 500 MB")

# qstat NAME FIELD: a number field of the --stats JSON line in $tmp/NAME.stats
qstat() { grep -o "\"$2\":[0-9.]*" "$tmp/$1.stats" | tail -n 1 | cut -d: -f2; }
best_median() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f\n", v[1], m }'; }

# peak_kib CMD...: runs CMD with stdout to /dev/null and prints its peak RSS in KiB.
peak_kib() {
	if [ -n "$gnutime" ]; then
		$gnutime -f %M -o "$tmp/rss" "$@" >/dev/null 2>"$tmp/rss.err"
		tail -n 1 "$tmp/rss"
		return
	fi
	"$@" >/dev/null 2>"$tmp/rss.err" &
	local pid=$! hwm=0 v
	while kill -0 "$pid" 2>/dev/null; do
		v=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
		[ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
		sleep 0.002
	done
	wait "$pid"
	echo "$hwm"
}

declare -A fbest fmed pms peak bread rows
for q in "${names[@]}"; do
	echo "== $q: ${fq[$q]}"
	: >"$tmp/$q.times"
	: >"$tmp/$q.pms"
	for i in $(seq "$runs"); do
		# bash reads the clock itself (EPOCHREALTIME): no fork of date(1)
		# lands inside the timed interval.
		t0=$EPOCHREALTIME
		"$bin" --db "$db" query --format csv --stats "${fq[$q]}" >/dev/null 2>"$tmp/$q.stats"
		t1=$EPOCHREALTIME
		awk -v a="${t0/,/.}" -v b="${t1/,/.}" 'BEGIN { printf "%.3f\n", (b - a) * 1e3 }' >>"$tmp/$q.times"
		qstat "$q" planner_ms >>"$tmp/$q.pms"
	done
	read -r fbest[$q] fmed[$q] < <(best_median <"$tmp/$q.times")
	read -r _ pms[$q] < <(best_median <"$tmp/$q.pms")
	bread[$q]=$(qstat "$q" bytes_read)
	rows[$q]=$(qstat "$q" rows)
	peak[$q]=$(peak_kib "$bin" --db "$db" query --format csv "${fq[$q]}")
done

declare -A dbest dmed drows
if [ -n "$py" ]; then
	echo "== DuckDB $("$py" -c 'import duckdb; print(duckdb.__version__)') over $(du -h "$pq" | cut -f1) of Parquet"
	json="{"
	for q in "${names[@]}"; do
		json+="\"$q\": $(printf '%s' "${dq[$q]}" | "$py" -c 'import json, sys; print(json.dumps(sys.stdin.read()))'),"
	done
	json="${json%,}}"
	printf '%s' "$json" | "$py" bench/duckdb_compare.py "$pq" "$runs" >"$tmp/duck.json"
	for q in "${names[@]}"; do
		read -r dbest[$q] dmed[$q] drows[$q] < <("$py" -c "import json; d = json.load(open('$tmp/duck.json'))['$q']; print('%.1f %.1f %d' % (d['best_ms'], d['median_ms'], d['rows']))")
	done
fi

echo
echo "rows: $("$bin" --db "$db" query --format csv "SELECT count(*)" | tail -n 1), $runs runs each, $(nproc) CPUs"
printf "%-5s | %-21s | %-10s | %-7s | %-10s | %-21s | %-6s | %-9s | %s\n" query "flowsql ms best/med" "planner ms" "peak MB" "bytes read" "duckdb ms best/med" ratio rows target
for q in "${names[@]}"; do
	ratio=""
	[ -n "${dbest[$q]:-}" ] && ratio=$(awk -v f="${fbest[$q]}" -v d="${dbest[$q]}" 'BEGIN { printf "%.2f", f / d }')
	printf "%-5s | %9s / %-9s | %10s | %7s | %10s | %9s / %-9s | %6s | %9s | %s\n" "$q" "${fbest[$q]}" "${fmed[$q]}" "${pms[$q]}" \
		"$(awk -v k="${peak[$q]}" 'BEGIN { printf "%.0f", k / 1024 }')" "$(awk -v b="${bread[$q]}" 'BEGIN { printf "%.1fM", b / 1048576 }')" \
		"${dbest[$q]:-}" "${dmed[$q]:-}" "$ratio" "${rows[$q]}" "${target[$q]}"
done
