#!/usr/bin/env bash
# bench/test-vs-curl.sh: issue 4's benchmark. It starts the emulator with N hostnames whose
# origins answer after 100 ms and times, in one run:
#
#   at N = 100:   `cfst test` over every host against the how-to's sequential curl loop;
#                 goal: cfst at least 30x faster;
#   at N = 1000:  `cfst test` against the ideal, one origin latency plus the handshakes
#                 (measured: `cfst test` over 1000 hosts whose origin answers at once);
#                 goal: within 3x of the ideal, and peak memory under 100 MB.
#
# Run it from anywhere on a machine with Go, curl (7.55 or newer) and bash:
#
#   bench/test-vs-curl.sh
#
# Settings (environment): BENCH_REPEATS (3) runs of each timed command, the median
# counts; BENCH_SMALL (100) and BENCH_LARGE (1000) the two sizes; BENCH_LATENCY (100ms)
# the origin latency; BENCH_PER_APP (5) hostnames per Access application (Cloudflare allows
# 5 domains per application and 500 applications per account); BENCH_CONCURRENCY_SMALL
# ("default 100") and BENCH_CONCURRENCY_LARGE ("default 256") the --concurrency values of
# cfst test at each size, "default" meaning no flag (cfst's default, 32). Needs bash 4.3+.
set -euo pipefail

repeats=${BENCH_REPEATS:-3}
small=${BENCH_SMALL:-100}
large=${BENCH_LARGE:-1000}
latency=${BENCH_LATENCY:-100ms}
per_app=${BENCH_PER_APP:-5}
read -r -a small_settings <<<"${BENCH_CONCURRENCY_SMALL:-default 100}"
read -r -a large_settings <<<"${BENCH_CONCURRENCY_LARGE:-default 256}"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cfst-bench.XXXXXX")
emulator_pid=

cleanup() {
	stop_emulator
	rm -rf "$work"
}
trap cleanup EXIT

die() {
	echo "test-vs-curl: $*" >&2
	exit 1
}

# build compiles cfst and the two helpers into the work directory.
build() {
	echo "building cfst, worldgen and peakmem..." >&2
	(cd "$repo" && go build -o "$work/bin/" ./cmd/cfst ./bench/worldgen ./bench/peakmem)
}

# check_curl refuses a curl too old for -H @file (7.55), which keeps the secret out of argv.
check_curl() {
	local version major minor
	version=$(curl --version | awk 'NR == 1 { print $2 }')
	IFS=. read -r major minor _ <<<"$version"
	if ((major < 7 || (major == 7 && minor < 55))); then
		die "curl $version is too old; -H @file needs 7.55 or newer"
	fi
}

# start_emulator NAME N ORIGIN starts an emulator with N services in $work/NAME, creates a
# service token into $work/NAME/.env, and writes the curl header file next to it.
start_emulator() {
	local name=$1 count=$2 origin=$3
	local dir=$work/$name
	mkdir -p "$dir"
	"$work/bin/worldgen" -n "$count" -per-app "$per_app" -origin "$origin" \
		-hosts "$dir/hosts.txt" >"$dir/world.yaml"
	"$work/bin/cfst" emulate --world "$dir/world.yaml" --listen 127.0.0.1:0 \
		--info-file "$dir/info.json" --ca-file "$dir/ca.pem" \
		>"$dir/emulator-env.sh" 2>"$dir/emulator.log" &
	emulator_pid=$!
	wait_for_info "$dir"
	create_token "$dir"
}

# wait_for_info waits until the emulator has written its complete info file.
wait_for_info() {
	local dir=$1 tries=0
	until [[ -s $dir/info.json ]] && grep -q '^}' "$dir/info.json"; do
		if ! kill -0 "$emulator_pid" 2>/dev/null; then
			cat "$dir/emulator.log" >&2
			die "the emulator exited before writing its info file"
		fi
		((++tries <= 300)) || die "the emulator wrote no info file within 30s"
		sleep 0.1
	done
}

# create_token makes a service token with cfst create, then puts its headers into a 0600
# file for curl's -H @file, so no secret appears in any process's arguments.
create_token() {
	local dir=$1
	(
		cd "$dir"
		# shellcheck source=/dev/null
		source ./emulator-env.sh
		"$work/bin/cfst" create bench --duration 1d >/dev/null 2>create.log
		# shellcheck source=/dev/null
		source ./.env
		umask 077
		printf 'CF-Access-Client-Id: %s\nCF-Access-Client-Secret: %s\n' \
			"$CF_SERVICE_TOKEN_CLIENT_ID" "$CF_SERVICE_TOKEN_CLIENT_SECRET" >headers.txt
	)
}

stop_emulator() {
	if [[ -n $emulator_pid ]]; then
		kill "$emulator_pid" 2>/dev/null || true
		wait "$emulator_pid" 2>/dev/null || true
		emulator_pid=
	fi
}

# run_cfst DIR RESULT [FLAG...] runs cfst test over every host of DIR under peakmem and
# fails unless every target is ok.
run_cfst() {
	local dir=$1 result=$2
	shift 2
	local count
	count=$(wc -l <"$dir/hosts.txt")
	(
		cd "$dir"
		# shellcheck source=/dev/null
		source ./emulator-env.sh
		"$work/bin/peakmem" -o "$result" -- \
			"$work/bin/cfst" test "$@" --services hosts.txt >cfst-test.out 2>cfst-test.err
	) || {
		tail -n 3 "$dir/cfst-test.out" "$dir/cfst-test.err" >&2
		die "cfst test failed in $dir"
	}
	local passed
	passed=$(grep -c '^✓' "$dir/cfst-test.out" || true)
	((passed == count)) || die "cfst test: $passed of $count targets ok"
}

# run_curl_loop DIR RESULT runs the how-to's loop: one curl after the other, each reading
# only the status code. It fails unless every answer is 200.
run_curl_loop() {
	local dir=$1 result=$2 connect_to
	connect_to=$(sed -n 's/^  "CFST_CONNECT_TO": "\(.*\)"$/\1/p' "$dir/info.json")
	"$work/bin/peakmem" -o "$result" -- bash "$work/curl-loop.sh" "$dir/hosts.txt" \
		"$connect_to" "$dir/ca.pem" "$dir/headers.txt" >"$dir/curl-loop.out"
	local count
	count=$(wc -l <"$dir/hosts.txt")
	grep -qx "$count/$count" "$dir/curl-loop.out" ||
		die "curl loop: $(cat "$dir/curl-loop.out") answers were 200"
}

write_curl_loop() {
	cat >"$work/curl-loop.sh" <<'EOF'
set -euo pipefail
hosts=$1 connect_to=$2 ca=$3 headers=$4
ok=0 total=0
while read -r host; do
	status=$(curl -s -o /dev/null -w '%{http_code}' --connect-to "$connect_to" \
		--cacert "$ca" -H @"$headers" "https://$host")
	total=$((total + 1))
	if [[ $status == 200 ]]; then ok=$((ok + 1)); fi
done <"$hosts"
echo "$ok/$total"
EOF
}

# field FILE KEY prints KEY's value from a peakmem report.
field() {
	sed -n "s/.*$2=\([0-9]*\).*/\1/p" "$1"
}

# median prints the median of its arguments (the lower middle for an even count).
median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# repeat NAME KIND [ARG...] runs KIND (cfst or curl) BENCH_REPEATS times and sets
# wall_ms (the median), walls (each run) and peak_kb (the largest peak memory).
repeat() {
	local name=$1 kind=$2
	shift 2
	local i walls_list=() peaks=()
	for ((i = 1; i <= repeats; i++)); do
		local result=$work/$name/result-$kind-$i.txt
		if [[ $kind == cfst ]]; then
			run_cfst "$work/$name" "$result" "$@"
		else
			run_curl_loop "$work/$name" "$result"
		fi
		walls_list+=("$(field "$result" wall_ms)")
		peaks+=("$(field "$result" maxrss_kb)")
	done
	wall_ms=$(median "${walls_list[@]}")
	walls="${walls_list[*]}"
	peak_kb=$(printf '%s\n' "${peaks[@]}" | sort -n | tail -n 1)
}

# ratio A B prints A/B with one decimal.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'
}

# seconds MS prints milliseconds as seconds with two decimals.
seconds() {
	awk -v ms="$1" 'BEGIN { printf "%.2fs", ms / 1000 }'
}

# latency_ms prints BENCH_LATENCY in milliseconds (it takes ms or s).
latency_ms() {
	case $latency in
	*ms) echo "${latency%ms}" ;;
	*s) awk -v s="${latency%s}" 'BEGIN { print s * 1000 }' ;;
	*) die "BENCH_LATENCY must end in ms or s, got $latency" ;;
	esac
}

# time_cfst NAME LABEL C... times cfst test at each concurrency C ("default" passes no
# flag) and sets cfst_ms[C], cfst_walls[C] and cfst_peak[C].
declare -A cfst_ms cfst_walls cfst_peak
time_cfst() {
	local name=$1 c
	shift
	for c in "$@"; do
		local flags=()
		if [[ $c != default ]]; then flags=(--concurrency "$c"); fi
		repeat "$name" cfst "${flags[@]}"
		cfst_ms[$name.$c]=$wall_ms cfst_walls[$name.$c]=$walls cfst_peak[$name.$c]=$peak_kb
	done
}

# label C names a concurrency setting for the report.
label() {
	if [[ $1 == default ]]; then echo "default (32)"; else echo "--concurrency $1"; fi
}

mb() {
	awk -v kb="$1" 'BEGIN { printf "%.1f MB", kb / 1024 }'
}

# warm_up runs cfst test once, untimed by the report: the emulator issues each hostname's
# certificate on its first handshake. It prints how long that cold run took.
warm_up() {
	run_cfst "$work/$1" "$work/$1/warmup.txt" --concurrency "$2"
	printf '  (cold first run, certificates issued: %s)\n' \
		"$(seconds "$(field "$work/$1/warmup.txt" wall_ms)")" >&2
}

bench_small() {
	echo "N=$small: emulator with $small services, origin slow:$latency" >&2
	start_emulator small "$small" "slow:$latency"
	warm_up small "$small"
	time_cfst small "${small_settings[@]}"
	repeat small curl
	local curl_ms=$wall_ms curl_walls=$walls c
	stop_emulator

	report+=$'\n'"N=$small hosts, origin slow:$latency, median of $repeats runs (ms of each run)"
	report+=$'\n'"$(printf '  %-38s %8s  (%s)' "sequential curl loop" "$(seconds "$curl_ms")" \
		"$curl_walls")"
	for c in "${small_settings[@]}"; do
		local ms=${cfst_ms[small.$c]}
		report+=$'\n'"$(printf '  %-38s %8s  (%s)  %sx faster than curl (goal >= 30x)' \
			"cfst test $(label "$c")" "$(seconds "$ms")" "${cfst_walls[small.$c]}" \
			"$(ratio "$curl_ms" "$ms")")"
	done
}

bench_large() {
	local c best=
	echo "N=$large: emulator with $large services, origin answering at once" >&2
	start_emulator instant "$large" ok
	warm_up instant "${large_settings[-1]/default/32}"
	time_cfst instant "${large_settings[@]}"
	stop_emulator
	for c in "${large_settings[@]}"; do
		local ms=${cfst_ms[instant.$c]}
		if [[ -z $best ]] || ((ms < best)); then best=$ms; fi
	done
	local ideal_ms=$(($(latency_ms) + best))

	echo "N=$large: emulator with $large services, origin slow:$latency" >&2
	start_emulator large "$large" "slow:$latency"
	warm_up large "${large_settings[-1]/default/32}"
	time_cfst large "${large_settings[@]}"
	stop_emulator

	report+=$'\n\n'"N=$large hosts, median of $repeats runs (ms of each run)"
	for c in "${large_settings[@]}"; do
		report+=$'\n'"$(printf '  %-38s %8s  (%s)' "origin at once, $(label "$c")" \
			"$(seconds "${cfst_ms[instant.$c]}")" "${cfst_walls[instant.$c]}")"
	done
	report+=$'\n'"$(printf '  %-38s %8s  (%s + the fastest run above)' \
		"ideal: latency + handshakes" "$(seconds "$ideal_ms")" "$latency")"
	for c in "${large_settings[@]}"; do
		local ms=${cfst_ms[large.$c]}
		report+=$'\n'"$(printf '  %-38s %8s  (%s)  %sx the ideal (goal <= 3x), peak %s' \
			"origin slow:$latency, $(label "$c")" "$(seconds "$ms")" \
			"${cfst_walls[large.$c]}" "$(ratio "$ms" "$ideal_ms")" \
			"$(mb "${cfst_peak[large.$c]}")")"
	done
	report+=$'\n'"  goal for peak memory (maximum RSS of cfst test): under 100 MB"
}

main() {
	check_curl
	build
	write_curl_loop
	report=
	bench_small
	bench_large
	printf '%s\n' "$report"
}

main "$@"
