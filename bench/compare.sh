#!/usr/bin/env bash
# Compare the benchmarks of two git revisions with benchstat (pinned in
# go.mod as a tool): bench/compare.sh [BASE_REF] [PKGS...]
# It checks BASE_REF out in a temporary worktree, runs the same benchmarks
# there and here, alternating, COUNT times each (default 6), and prints
# benchstat's table. Both runs share this machine and this moment, so their
# ratio means something even where absolute times do not.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:-HEAD}"; shift || true
pkgs=("${@:-./...}")
count="${COUNT:-6}"
bench="${BENCH:-.}"
out=$(mktemp -d)
trap 'git worktree remove --force "$out/base" >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
git worktree add --detach "$out/base" "$base" >/dev/null
for i in $(seq "$count"); do
	(cd "$out/base" && go test -run='^$' -bench="$bench" -benchmem -count=1 "${pkgs[@]}") >>"$out/old.txt"
	go test -run='^$' -bench="$bench" -benchmem -count=1 "${pkgs[@]}" >>"$out/new.txt"
done
go tool benchstat "$out/old.txt" "$out/new.txt"
