#!/usr/bin/env bash
# bench/edge.sh: issue 2's edge benchmark. It runs BenchmarkEdgeRequests
# (emulator/edge_load_test.go), which sends admitted requests through the emulator's Access
# edge to an "ok" origin and, in the same run, the same requests from the same client to a
# plain httptest TLS server that answers 200 and does nothing else. It prints requests per
# second for both, serial (one client) and parallel (one client per GOMAXPROCS goroutine),
# as the median of BENCH_COUNT runs, and the edge's share of the baseline.
#
#   bench/edge.sh                        # BENCH_TIME=2s BENCH_COUNT=3
#   BENCH_TIME=5s BENCH_COUNT=5 bench/edge.sh
set -euo pipefail

benchtime=${BENCH_TIME:-2s}
count=${BENCH_COUNT:-3}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cfst-edge-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=$work/all-runs.txt

echo "building the emulator's test binary..." >&2
(cd "$repo" && go test -c -o "$work/emulator.test" ./emulator)
# One process per run, edge and baseline back to back, so that both see the same load.
for ((i = 1; i <= count; i++)); do
	echo "run $i of $count: BenchmarkEdgeRequests -benchtime $benchtime" >&2
	(cd "$repo/emulator" && "$work/emulator.test" -test.run '^$' \
		-test.bench '^BenchmarkEdgeRequests$' -test.benchtime "$benchtime") >"$work/run-$i.txt" || {
		cat "$work/run-$i.txt" >&2
		echo "edge.sh: the benchmark failed" >&2
		exit 1
	}
done
cat "$work"/run-*.txt >"$out"

# rate FILE NAME prints the req/s of sub-benchmark NAME (edge/serial, ...) in FILE.
rate() {
	awk -v name="BenchmarkEdgeRequests/$2" '
		index($1, name) == 1 { for (i = 2; i < NF; i++) if ($(i + 1) == "req/s") print $i }
	' "$1"
}

# median prints the median of the numbers on stdin (the lower middle for an even count).
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# report MODE prints the median rates of edge and baseline, and the median of the ratios
# of each run.
report() {
	local mode=$1 i edge baseline share
	for ((i = 1; i <= count; i++)); do
		edge=$(rate "$work/run-$i.txt" "edge/$mode")
		baseline=$(rate "$work/run-$i.txt" "baseline/$mode")
		if [[ -z $edge || -z $baseline ]]; then
			cat "$work/run-$i.txt" >&2
			echo "edge.sh: no req/s figure for $mode in run $i" >&2
			exit 1
		fi
		awk -v e="$edge" -v b="$baseline" 'BEGIN { print 100 * e / b }' >>"$work/share-$mode"
	done
	edge=$(rate "$out" "edge/$mode" | median)
	baseline=$(rate "$out" "baseline/$mode" | median)
	share=$(median <"$work/share-$mode")
	awk -v mode="$mode" -v e="$edge" -v b="$baseline" -v s="$share" 'BEGIN {
		printf "  %-9s edge %7.0f req/s   baseline %7.0f req/s   edge/baseline %.0f%%\n",
			mode, e, b, s
	}'
}

grep -m 3 -E '^(goos|goarch|cpu):' "$out" | tr '\n' ' '
echo "cores: $(getconf _NPROCESSORS_ONLN)"
echo "BenchmarkEdgeRequests, median of $count runs of $benchtime each"
report serial
report parallel
