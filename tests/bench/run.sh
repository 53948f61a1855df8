#!/usr/bin/env bash
# make bench: see bench.py (settings: BACKENDS, BENCH_LINUX_BACKENDS,
# BENCH_ONLY, e.g. BENCH_ONLY=network for just those figures, BENCH_REPEAT,
# BENCH_KEEP, BOCHS_IPS).
set -euo pipefail
cd "$(dirname "$0")"
# Debian's python3 has pexpect (python3-pexpect); a pyenv one on PATH does not.
python=/usr/bin/python3
if ! "$python" -c 'import pexpect' 2>/dev/null; then
	echo "bench: error: $python cannot import pexpect (Debian package python3-pexpect; make deps)" >&2
	exit 2
fi
exec "$python" bench.py "$@"
