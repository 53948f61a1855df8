#!/usr/bin/env bash
# `make test`: build, then unit tests, fuzzers (short) and — once the
# hypervisor image links — the system tests on both back ends. Prints a
# timestamped line per step so a slow step shows in CI logs.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
step() { printf '\n=== [%4ds] %s\n' "$(( $(date +%s) - start ))" "$*"; }

step "build: loader and test guests"
make -s build/BOOTX64.EFI guests
step "unit tests"
make -s unit
step "fuzzers (${FUZZ_SECONDS:=15}s each)"
make -s fuzz FUZZ_SECONDS="$FUZZ_SECONDS"
# The hypervisor image (kernel/ + arch/) does not link yet: the config
# parser, page allocator, page-table builder and the newlib build are still
# being written (issue 3). Its system tests in tests/system/ join this run
# when it does; until then they are not run, and this says so.
step "system tests: NOT RUN (bulkhead.elf does not link yet; see issue 3 note)"
step "done"
