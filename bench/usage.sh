#!/usr/bin/env bash
# bench/usage.sh: issue 7's benchmark of `cfst usage` over login events served by the
# emulator's GraphQL Analytics API: wall time and cfst's peak memory at 100k and 1M events,
# and the ratio between them. Goals at 1M: under 10 s, under 200 MB, memory flat.
#
#   bench/usage.sh
#
# Settings (environment): BENCH_SIZES (100000,1000000) the numbers of events,
# BENCH_REPEATS (3) runs of cfst at each size (the median time counts), BENCH_TOKENS (50),
# BENCH_APPS (7) and BENCH_ADDRESSES (20 per token) the spread of the events.
# The work is in bench/usage/main.go; this script only runs it from the repository root.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
exec go run ./bench/usage \
	-n "${BENCH_SIZES:-100000,1000000}" \
	-repeats "${BENCH_REPEATS:-3}" \
	-tokens "${BENCH_TOKENS:-50}" \
	-apps "${BENCH_APPS:-7}" \
	-addresses "${BENCH_ADDRESSES:-20}"
