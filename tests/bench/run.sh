#!/usr/bin/env bash
# make bench: see bench.py.
set -euo pipefail
cd "$(dirname "$0")"
exec python3 bench.py "$@"
