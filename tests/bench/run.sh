#!/usr/bin/env bash
# make bench: see bench.py.
set -euo pipefail
cd "$(dirname "$0")"
exec /usr/bin/python3 bench.py "$@"
