#!/usr/bin/env bash
# Live capture benchmark: `flowsql probe` and `tcpdump -w /dev/null` capture
# the same veth interface at the same time while bench/cmd/blast sends
# 60-byte UDP frames from a second namespace at increasing rates. For each
# rate it prints what each capturer saw, what the kernel dropped for it and
# its CPU time per million packets, then the highest rate each held with
# zero kernel drops, and the probe's longest rotation stall (blocks of 2 s,
# so several rotations happen under load).
#
#   sudo bench/live.sh [RATE ...]      (default 50000 100000 200000 400000 800000 0; 0 = flat out)
#
# Needs root, iproute2 and tcpdump. Everything happens in two throw-away
# namespaces (deleted on exit); no traffic leaves them.
set -euo pipefail
cd "$(dirname "$0")/.."
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(50000 100000 200000 400000 800000 0)
secs=${SECS:-5}
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
command -v tcpdump >/dev/null || { echo "needs tcpdump"; exit 1; }

tmp=$(mktemp -d)
nsA="fsqbench-a-$$"; nsB="fsqbench-b-$$"
cleanup() {
	[ -n "${probe:-}" ] && kill "$probe" 2>/dev/null || true
	[ -n "${dump:-}" ] && kill "$dump" 2>/dev/null || true
	ip netns del "$nsA" 2>/dev/null || true
	ip netns del "$nsB" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$tmp/flowsql" ./cmd/flowsql
go build -o "$tmp/blast" ./bench/cmd/blast

ip netns add "$nsA"; ip netns add "$nsB"
ip -n "$nsA" link add vethA type veth peer name vethB netns "$nsB"
ip -n "$nsA" link set vethA up; ip -n "$nsB" link set vethB up
ip -n "$nsA" link set lo up
macA=$(ip netns exec "$nsA" cat /sys/class/net/vethA/address)

# cpu PID: user+system CPU time in clock ticks.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# field FILE KEY: a number from the probe's status JSON.
field() { grep -o "\"$2\": [0-9.]*" "$1" | head -1 | awk '{ print $2 }'; }

printf "%-9s %-9s | %-9s %-7s %-9s %-11s | %-9s %-7s %-9s\n" rate sent probe drops probe_ms ms/Mpkt tcpdump drops ms/Mpkt
best_p=0; best_t=0; stall=0
for rate in "${rates[@]}"; do
	db="$tmp/db-$rate"
	ip netns exec "$nsA" "$tmp/flowsql" --db "$db" probe -i vethA --interval 2s --metrics "" 2>"$tmp/probe.log" &
	probe=$!
	for _ in $(seq 100); do
		[ -f "$db/probe.status.json" ] && grep -q '"running": true' "$db/probe.status.json" && break
		sleep 0.1
	done
	ip netns exec "$nsA" tcpdump -i vethA -n -B 8192 -w /dev/null 2>"$tmp/dump.log" &
	dump=$!
	for _ in $(seq 100); do grep -q "listening on" "$tmp/dump.log" && break; sleep 0.05; done
	sleep 0.3
	p0=$(cpu "$probe"); t0=$(cpu "$dump")
	sent=$(ip netns exec "$nsB" "$tmp/blast" -iface vethB -dstmac "$macA" -rate "$rate" -duration "${secs}s" | awk '{ print $2 }')
	sleep 1.5
	p1=$(cpu "$probe"); t1=$(cpu "$dump")
	cp "$db/probe.status.json" "$tmp/st.json"
	kill -INT "$dump"; wait "$dump" || true; dump=
	kill -TERM "$probe"; wait "$probe"; probe=
	pk=$(field "$tmp/st.json" packets); pd=$(field "$tmp/st.json" kernel_drops)
	ps=$(field "$tmp/st.json" max_rotation_stall_us)
	tc=$(awk '/packets captured/ { print $1 }' "$tmp/dump.log"); td=$(awk '/dropped by kernel/ { print $1 }' "$tmp/dump.log")
	pms=$(( (p1 - p0) * 1000 / hz )); tms=$(( (t1 - t0) * 1000 / hz ))
	ppm=$(awk -v ms="$pms" -v n="$pk" 'BEGIN { printf "%.0f", n ? ms * 1e6 / n : 0 }')
	tpm=$(awk -v ms="$tms" -v n="$tc" 'BEGIN { printf "%.0f", n ? ms * 1e6 / n : 0 }')
	label=$rate; [ "$rate" = 0 ] && label=max
	printf "%-9s %-9s | %-9s %-7s %-9s %-11s | %-9s %-7s %-9s\n" "$label" "$sent" "$pk" "$pd" "$pms" "$ppm" "$tc" "$td" "$tpm"
	[ "$pd" = 0 ] && [ "$pk" -ge "$sent" ] && [ "$sent" -gt "$best_p" ] && best_p=$sent
	[ "$td" = 0 ] && [ "$tc" -ge "$sent" ] && [ "$sent" -gt "$best_t" ] && best_t=$sent
	stall=$(awk -v a="$stall" -v b="$ps" 'BEGIN { print (b > a) ? b : a }')
done
echo "highest rate with zero kernel drops over ${secs}s: probe $((best_p / secs)) packets/s, tcpdump $((best_t / secs)) packets/s"
echo "probe: longest rotation stall ${stall} µs (2 s blocks)"
