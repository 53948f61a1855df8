#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS BIN...: run each libFuzzer harness for a bounded
# time on a scratch copy of its seed corpus; fail on any crash.
set -euo pipefail
secs=$1
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
for bin in "$@"; do
	name=$(basename "$bin")
	work="$root/build/fuzz/work/$name"
	rm -rf "$work" && mkdir -p "$work"
	seeds="$root/tests/fuzz/corpus/${name#fuzz_}"
	[[ -d $seeds ]] && cp -r "$seeds"/. "$work"/
	echo "fuzz: $name for ${secs}s"
	"$bin" -max_total_time="$secs" -print_final_stats=1 "$work" >"$work.log" 2>&1 || {
		tail -40 "$work.log"
		echo "fuzz: $name FAILED"
		exit 1
	}
	grep -E 'stat::number_of_executed_units' "$work.log" | sed "s/^/fuzz: $name /"
done
