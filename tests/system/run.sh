#!/usr/bin/env bash
# System tests: pytest + pexpect boot the real image in QEMU and Bochs.
# BACKENDS=qemu or BACKENDS=bochs narrows the run; extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
export BACKENDS="${BACKENDS:-qemu,bochs}"
# Debian's python3 has pytest and pexpect (PyPI is not reachable); a pyenv one on PATH does not.
exec /usr/bin/python3 -m pytest -v -rA -p no:cacheprovider --durations=0 "$@" .
