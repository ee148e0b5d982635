#!/usr/bin/env bash
# bench/proxy.sh: issue 5's benchmark of `cfst proxy`. It runs BenchmarkProxy
# (internal/cli/proxy_bench_test.go), which sends the same GETs from the same number of
# concurrent clients to the same emulator origin three ways, in alternating rounds so that
# all see the same machine load:
#
#   direct  the client sends the credentials itself
#   bare    an httputil.ReverseProxy that only adds the two headers, with cfst proxy's
#           upstream transport and buffer pool: the ceiling of a proxy built on it
#   proxy   cfst proxy, writing its access log to a file
#
# in two settings:
#
#   near    the origin answers at once. Clients, proxies and emulator share this machine's
#           CPUs, so the proxy's extra hop costs throughput: this measures the proxy's own
#           cost, and bare shows how much of it any proxy pays.
#   far     the origin answers after BENCH_DELAY, as an upstream across a network does:
#           what a client of the proxy sees. No bare side; a tenth of the requests.
#
# It prints, for every run, requests per second, the shares of direct throughput, and
# latency percentiles with the latency the proxy adds (proxy p50 minus direct p50), then
# the medians over the runs. Goal: proxy at least 80% of direct.
#
#   bench/proxy.sh                       # BENCH_TIME=20000x BENCH_COUNT=3
#   BENCH_CONCURRENCY=64 BENCH_DELAY=50ms BENCH_COUNT=5 bench/proxy.sh
#
# BENCH_TIME is the number of requests a side sends in the near setting (Nx).
set -euo pipefail

benchtime=${BENCH_TIME:-20000x}
count=${BENCH_COUNT:-3}
concurrency=${BENCH_CONCURRENCY:-16}
delay=${BENCH_DELAY:-20ms}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cfst-proxy-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "building the cli test binary..." >&2
(cd "$repo" && go test -c -o "$work/cli.test" ./internal/cli)
echo "BenchmarkProxy: $count runs of $benchtime requests a side, $concurrency clients," \
	"far origin delay $delay" >&2
(cd "$repo/internal/cli" && PROXY_BENCH_CONCURRENCY=$concurrency PROXY_BENCH_DELAY=$delay \
	"$work/cli.test" -test.run '^$' -test.bench '^BenchmarkProxy$' \
	-test.benchtime "$benchtime" -test.count "$count") |
	tee "$work/runs.txt" | grep -E '^Benchmark' >&2 || {
	echo "proxy.sh: the benchmark failed" >&2
	exit 1
}

awk -v delay="$delay" '
function median(list, n,    i, j, v, sorted) {
	n = split(list, sorted, " ")
	for (i = 2; i <= n; i++) {
		v = sorted[i] + 0
		for (j = i - 1; j >= 1 && sorted[j] + 0 > v; j--) sorted[j + 1] = sorted[j]
		sorted[j + 1] = v
	}
	return n % 2 ? sorted[(n + 1) / 2] : (sorted[n / 2] + sorted[n / 2 + 1]) / 2
}
function keep(name, value) { kept[name] = kept[name] " " value }
BEGIN {
	printf "%-6s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s\n", "", "direct", "proxy",
		"proxy/", "bare/", "proxy/", "p50 ms", "", "added", "p99 ms", ""
	printf "%-6s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s\n", "run", "req/s", "req/s",
		"direct", "direct", "bare", "direct", "proxy", "p50 ms", "direct", "proxy"
}
/^BenchmarkProxy/ {
	run++
	for (i = 3; i < NF; i += 2) v[$(i + 1)] = $i
	for (s = 1; s <= 2; s++) {
		setting = s == 1 ? "near" : "far"
		p = setting "_"
		added = v[p "proxy_p50_ms"] - v[p "direct_p50_ms"]
		bare = "-"
		barePart = "-"
		if ((p "bare_%_of_direct") in v) {
			bare = sprintf("%.1f%%", v[p "bare_%_of_direct"])
			barePart = sprintf("%.1f%%", 100 * v[p "proxy_req/s"] / v[p "bare_req/s"])
			keep(p "bare", v[p "bare_%_of_direct"])
			keep(p "of_bare", 100 * v[p "proxy_req/s"] / v[p "bare_req/s"])
		}
		printf "%-6s %7.0f %7.0f %6.1f%% %7s %7s %7.2f %7.2f %+7.2f %7.2f %7.2f\n",
			setting " " run, v[p "direct_req/s"], v[p "proxy_req/s"],
			v[p "proxy_%_of_direct"], bare, barePart, v[p "direct_p50_ms"],
			v[p "proxy_p50_ms"], added, v[p "direct_p99_ms"], v[p "proxy_p99_ms"]
		keep(p "share", v[p "proxy_%_of_direct"])
		keep(p "added", sprintf("%.2f", added))
		keep(p "added99", sprintf("%.2f", v[p "proxy_p99_ms"] - v[p "direct_p99_ms"]))
	}
	delete v
}
END {
	if (!run) exit 1
	printf "\nmedian of %d runs (goal: proxy at least 80%% of direct):\n", run
	printf "  %-18s proxy %.1f%% of direct, p50 %+.2f ms, p99 %+.2f ms\n", "near, CPU-bound",
		median(kept["near_share"]), median(kept["near_added"]), median(kept["near_added99"])
	printf "  %-18s bare ReverseProxy %.1f%% of direct; cfst proxy %.1f%% of bare\n", "",
		median(kept["near_bare"]), median(kept["near_of_bare"])
	printf "  %-18s proxy %.1f%% of direct, p50 %+.2f ms, p99 %+.2f ms\n",
		"far, origin +" delay, median(kept["far_share"]), median(kept["far_added"]),
		median(kept["far_added99"])
}' "$work/runs.txt"
