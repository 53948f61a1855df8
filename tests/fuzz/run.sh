#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS RUNS BIN...: run each libFuzzer harness on a
# scratch copy of its seed corpus for RUNS executions (0: no limit), or
# SECONDS if they come first; fail on any crash or on an input that takes
# over 10 s (a hang), printing the input found.
set -euo pipefail
secs=$1
runs=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
for bin in "$@"; do
	name=$(basename "$bin")
	work="$root/build/fuzz/work/$name"
	rm -rf "$work" && mkdir -p "$work"
	seeds="$root/tests/fuzz/corpus/${name#fuzz_}"
	[[ -d $seeds ]] && cp -r "$seeds"/. "$work"/
	echo "fuzz: $name: $runs executions or ${secs}s"
	start=$SECONDS
	"$bin" -runs="$runs" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$work." "$work" >"$work.log" 2>&1 || {
		tail -40 "$work.log"
		for a in "$work".crash-* "$work".timeout-* "$work".oom-* "$work".leak-*; do
			[[ -f $a ]] || continue
			echo "fuzz: the input, $(basename "$a") (hex; xxd -r -p makes it again):"
			od -An -v -tx1 "$a" | tr -d ' \n' | fold -w 96
			echo
		done
		echo "fuzz: $name FAILED"
		exit 1
	}
	done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log")
	echo "fuzz: $name: $done_runs executions in $((SECONDS - start))s, no crash"
	if ((runs && done_runs < runs)); then
		echo "fuzz: $name: NOTE: the time limit came first ($done_runs of $runs executions)"
	fi
done
