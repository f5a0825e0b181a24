#!/usr/bin/env bash
# Runs the benchmark harness: every section, side by side, printed as ratios.
#   scripts/bench.sh                 full run
#   scripts/bench.sh --quick         quick mode (under 2 minutes); or XMMAP_BENCH_QUICK=1
#   scripts/bench.sh scan map        only the sections whose names start so
# XMMAP_BENCH_SIZE=BYTES sets the size of the big scan file (default 1 GiB).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench -q -p xmmap-bench --bench harness -- "$@"
