#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS RUNS BIN...: run each libFuzzer harness on a
# scratch copy of its seed corpus for RUNS executions (0: no limit), or
# SECONDS if they come first; fail on any crash or on an input that takes
# over 10 s (a hang), printing the input found. FUZZ_JOBS harnesses run at
# a time (default: one per CPU); each one's lines are printed when it ends.
set -euo pipefail
secs=$1
runs=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
jobs=${FUZZ_JOBS:-$(nproc)}

# One harness; its report goes to $work.report, its status is its exit code.
one() {
	local bin=$1 name work start done_runs a
	name=$(basename "$bin")
	work="$root/build/fuzz/work/$name"
	rm -rf "$work" && mkdir -p "$work"
	local seeds="$root/tests/fuzz/corpus/${name#fuzz_}"
	[[ -d $seeds ]] && cp -r "$seeds"/. "$work"/
	start=$SECONDS
	exec >"$work.report" 2>&1
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
		return 1
	}
	done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log")
	echo "fuzz: $name: $done_runs executions in $((SECONDS - start))s, no crash"
	if ((runs && done_runs < runs)); then
		echo "fuzz: $name: NOTE: the time limit came first ($done_runs of $runs executions)"
	fi
}

report() {
	cat "$root/build/fuzz/work/$(basename "$1").report"
}

echo "fuzz: $# harnesses, $runs executions or ${secs}s each, $jobs at a time"
mkdir -p "$root/build/fuzz/work"
failed=0
declare -A pid_of=()
for bin in "$@"; do
	while ((${#pid_of[@]} >= jobs)); do
		set +e
		wait -n -p done_pid
		rc=$?
		set -e
		report "${pid_of[$done_pid]}"
		((rc == 0)) || failed=1
		unset "pid_of[$done_pid]"
	done
	one "$bin" &
	pid_of[$!]=$bin
done
for p in "${!pid_of[@]}"; do
	rc=0
	wait "$p" || rc=$?
	report "${pid_of[$p]}"
	((rc == 0)) || failed=1
done
exit $failed
