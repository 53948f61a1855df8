#!/usr/bin/env bash
# `make test`: build everything, then unit tests, fuzzers (bounded) and the
# system tests on both back ends (QEMU: AMD-V, Bochs: VT-x). Prints a
# timestamped line per step so a slow step shows in CI logs.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
step() { printf '\n=== [%4ds] %s\n' "$(($(date +%s) - start))" "$*"; }

step "build: hypervisor, loader, test guests"
make -s all
step "layer rules (tests/layers.sh)"
tests/layers.sh
step "format (make format-check)"
make -s format-check
step "unit tests"
make -s unit
step "fuzzers (${FUZZ_RUNS:=1000000} executions or ${FUZZ_SECONDS:=180}s each, ${FUZZ_JOBS:-$(nproc)} at a time)"
make -s fuzz FUZZ_SECONDS="$FUZZ_SECONDS" FUZZ_RUNS="$FUZZ_RUNS"
step "system tests: QEMU + OVMF (AMD-V, SVM with nested paging)"
BACKENDS=qemu tests/system/run.sh
step "system tests: Bochs + OVMF (VT-x, VMX with EPT)"
BACKENDS=bochs tests/system/run.sh
step "done"
