#!/usr/bin/env bash
# `make test`: build everything, then unit tests, fuzzers (short), system
# tests on both back ends. Prints a timestamped line per step so a slow step
# shows in CI logs.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
step() { printf '\n=== [%4ds] %s\n' "$(( $(date +%s) - start ))" "$*"; }

step "build"
make -s all
step "unit tests"
make -s unit
step "fuzzers (${FUZZ_SECONDS:=15}s each)"
make -s fuzz FUZZ_SECONDS="$FUZZ_SECONDS"
step "system tests (${BACKENDS:=qemu,bochs})"
BACKENDS="$BACKENDS" tests/system/run.sh
step "all tests passed"
